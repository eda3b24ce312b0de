package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAxisTicks(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		total time.Duration
		want  string // label@percent, …
	}{
		{5 * ms, "0@0 1ms@20 2ms@40 3ms@60 4ms@80 5ms@100"},
		{9 * ms, "0@0 2ms@22.2 4ms@44.4 6ms@66.7 8ms@88.9"},
		{10 * ms, "0@0 2ms@20 4ms@40 6ms@60 8ms@80 10ms@100"},
		{1100 * ms, "0@0 500ms@45.5 1.0s@90.9"},
		{1500 * ms, "0@0 500ms@33.3 1.0s@66.7 1.5s@100"},
		{3 * ms, "0@0 1ms@33.3 2ms@66.7 3ms@100"},
		{850 * time.Microsecond, "0@0 200µs@23.5 400µs@47.1 600µs@70.6 800µs@94.1"},
		{2 * time.Minute, "0@0 50.0s@41.7 1m 40s@83.3"},
		{3 * time.Microsecond, "0@0 1µs@33.3 2µs@66.7 3µs@100"},
		{500 * time.Nanosecond, "0@0"},
		{0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.total.String(), func(t *testing.T) {
			var got []string
			for _, tk := range AxisTicks(tt.total) {
				got = append(got, tk.Label+"@"+strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", tk.Pct), "0"), "."))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("AxisTicks(%v) = %q, want %q", tt.total, g, tt.want)
			}
		})
	}
}

// Every label stands where its time is: the label parsed back is the
// tick's share of the axis.
func TestAxisTicksAreExact(t *testing.T) {
	t.Parallel()
	for total := time.Millisecond; total < 20*time.Second; total = total*13/10 + time.Microsecond {
		ticks := AxisTicks(total)
		if len(ticks) < 2 || len(ticks) > 11 {
			t.Fatalf("AxisTicks(%v) has %d ticks", total, len(ticks))
		}
		for _, tk := range ticks[1:] {
			at := time.Duration(tk.Pct / 100 * float64(total))
			d, err := time.ParseDuration(strings.ReplaceAll(tk.Label, "µs", "us"))
			if err != nil {
				continue // minutes ("1m 40s") are checked in the table above
			}
			if diff := (d - at).Abs(); float64(diff) > 0.001*float64(total)+float64(time.Microsecond) {
				t.Errorf("AxisTicks(%v): label %s at %.2f%% (= %v)", total, tk.Label, tk.Pct, at)
			}
		}
	}
}
