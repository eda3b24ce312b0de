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

func TestDevice(t *testing.T) {
	t.Parallel()
	tests := []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"curl/8.5.0", "curl"},
		{"Go-http-client/1.1", "Go-http-client"},
		{"", "Unknown device"},
		{"something odd (with spaces)", "Unknown device"},
	}
	for _, tt := range tests {
		if got := Device(tt.ua); got != tt.want {
			t.Errorf("Device(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		7 * 24 * time.Hour: "7 days", 24 * time.Hour: "1 day", 72 * time.Hour: "3 days",
		12 * time.Hour: "12 hours", 90 * time.Minute: "90 minutes", time.Minute: "1 minute",
	} {
		if got := Period(d); got != want {
			t.Errorf("Period(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestActorLabel(t *testing.T) {
	for in, want := range map[string]string{
		"user:ada@example.com": "ada@example.com",
		"key:CI gate":          "API key “CI gate”",
		"system:sample":        "sample (system)",
		"":                     "--",
		"unknown":              "unknown",
	} {
		if got := ActorLabel(in); got != want {
			t.Errorf("ActorLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
