package ui

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct{ name, got, want string }{
		{"latency µs", Latency(420 * time.Microsecond), "420µs"},
		{"latency ms", Latency(850 * time.Millisecond), "850ms"},
		{"latency s", Latency(1240 * time.Millisecond), "1.2s"},
		{"latency m", Latency(3*time.Minute + 5*time.Second), "3m 5s"},
		{"latency missing", Latency(0), "--"},
		{"cost zero", Cost(0), "$0"},
		{"cost tiny", Cost(0.004), "<$0.01"},
		{"cost", Cost(1234.5), "$1,234.50"},
		{"count", Count(1234567 - 1000000), "234,567"},
		{"count M", Count(1_234_567), "1.2M"},
		{"count small", Count(7), "7"},
		{"count negative", Count(-4321), "-4,321"},
		{"tokens", Tokens(1200, 340), "1,200 → 340 (Σ 1,540)"},
		{"tokens missing", Tokens(0, 0), "--"},
		{"ago now", Ago(now.Add(-10*time.Second), now), "just now"},
		{"ago min", Ago(now.Add(-5*time.Minute), now), "5m ago"},
		{"ago h", Ago(now.Add(-3*time.Hour), now), "3h ago"},
		{"ago d", Ago(now.Add(-50*time.Hour), now), "2d ago"},
		{"ago date", Ago(now.Add(-90*24*time.Hour), now), "29 Aug 2026"},
		{"ago zero", Ago(time.Time{}, now), "--"},
		{"or", Or("  "), "--"},
		{"initials", Viewer{Name: "Maya Chen"}.Initials(), "MC"},
		{"initials email", Viewer{Name: "ada@example.com"}.Initials(), "ae"},
		{"initials empty", Viewer{}.Initials(), "?"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestGroundednessBand(t *testing.T) {
	tests := []struct {
		g, threshold float64
		want         string
	}{
		{0.59, 0.6, "error"}, {0.6, 0.6, "warn"}, {0.79, 0.6, "warn"}, {0.8, 0.6, "ok"},
		{0, 0, "warn"}, {0.5, 0, "ok"},
		{0.94, 0.9, "warn"}, {0.95, 0.9, "ok"}, {0.89, 0.9, "error"},
		{1, 1, "ok"}, {0.99, 1, "error"},
	}
	for _, tt := range tests {
		if got := GroundednessBand(tt.g, tt.threshold); got != tt.want {
			t.Errorf("GroundednessBand(%v, %v) = %q, want %q", tt.g, tt.threshold, got, tt.want)
		}
	}
}
