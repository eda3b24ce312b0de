// Package alerting evaluates alert rules on the answers llmops gives and
// delivers their changes: rules are checked against a sliding window of
// recent answers (the last N, or the last T of time) every time the trace
// writer commits and every few seconds, with hysteresis so a value
// hovering at the threshold does not flap; firing and resolved go to the
// log and, through a bounded queue with retries, to the rule's webhook.
// Outbound connections go through Outbound, which refuses internal
// addresses. server wires it; it imports only store.
package alerting

import (
	"math"
	"slices"
	"sort"
	"time"

	"llmops/store"
)

// Metric is a quantity a rule can watch.
type Metric struct {
	Name string
	Help string
	// Feedback metrics are windowed over rated answers, not answers.
	Feedback bool
	// Today metrics need no window: they run from midnight UTC.
	Today bool
	// value computes the metric; ok is false when there is no data.
	value func(obs []Observation, fb []Feedback) (v float64, ok bool)
}

// Metrics is the catalogue, by name.
var Metrics = catalogue()

// MetricNames lists the catalogue sorted, for forms and errors.
func MetricNames() []string {
	names := make([]string, 0, len(Metrics))
	for n := range Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func catalogue() map[string]Metric {
	out := map[string]Metric{}
	rate := func(pred func(Observation) bool) func([]Observation, []Feedback) (float64, bool) {
		return func(obs []Observation, _ []Feedback) (float64, bool) {
			if len(obs) == 0 {
				return 0, false
			}
			n := 0
			for _, o := range obs {
				if pred(o) {
					n++
				}
			}
			return float64(n) / float64(len(obs)), true
		}
	}
	pct := func(q float64, get func(Observation) (float64, bool)) func([]Observation, []Feedback) (float64, bool) {
		return func(obs []Observation, _ []Feedback) (float64, bool) {
			var xs []float64
			for _, o := range obs {
				if v, ok := get(o); ok {
					xs = append(xs, v)
				}
			}
			if len(xs) == 0 {
				return 0, false
			}
			slices.Sort(xs)
			// Nearest rank: the smallest value with at least q of the
			// sample at or below it.
			i := int(math.Ceil(q*float64(len(xs)))) - 1
			return xs[max(i, 0)], true
		}
	}
	latency := func(o Observation) (float64, bool) { return o.LatencyMS, true }
	ttft := func(o Observation) (float64, bool) { return o.TTFTMS, o.TTFTMS > 0 }
	cost := func(obs []Observation, _ []Feedback) (float64, bool) {
		sum := 0.0
		for _, o := range obs {
			sum += o.CostUSD
		}
		return sum, true
	}
	for _, m := range []Metric{
		{Name: "requests", Help: "answers in the window", value: func(obs []Observation, _ []Feedback) (float64, bool) {
			return float64(len(obs)), true
		}},
		{Name: "error_rate", Help: "share of answers that failed (0..1)", value: rate(func(o Observation) bool { return o.Error })},
		{Name: "fallback_rate", Help: "share of answers that fell back (0..1)", value: rate(func(o Observation) bool { return o.Fallback })},
		{Name: "escalation_rate", Help: "share of answers escalated to a person (0..1)", value: rate(func(o Observation) bool { return o.Escalated })},
		{Name: "groundedness_mean", Help: "mean groundedness of answers that have one (0..1)", value: func(obs []Observation, _ []Feedback) (float64, bool) {
			sum, n := 0.0, 0
			for _, o := range obs {
				if o.HasGroundedness {
					sum, n = sum+o.Groundedness, n+1
				}
			}
			return sum / float64(max(n, 1)), n > 0
		}},
		{Name: "latency_p50_ms", Help: "median answer latency, ms", value: pct(0.50, latency)},
		{Name: "latency_p95_ms", Help: "95th percentile answer latency, ms", value: pct(0.95, latency)},
		{Name: "ttft_p95_ms", Help: "95th percentile time to first token, ms", value: pct(0.95, ttft)},
		{Name: "cost_usd", Help: "cost of the answers in the window, USD", value: cost},
		{Name: "cost_today_usd", Help: "cost since midnight UTC, USD (no window)", Today: true, value: cost},
		{Name: "thumbs_down_ratio", Help: "share of rated answers rated down (0..1)", Feedback: true, value: func(_ []Observation, fb []Feedback) (float64, bool) {
			if len(fb) == 0 {
				return 0, false
			}
			down := 0
			for _, f := range fb {
				if !f.Up {
					down++
				}
			}
			return float64(down) / float64(len(fb)), true
		}},
	} {
		out[m.Name] = m
	}
	return out
}

// Limits of a rule's window.
const (
	MaxWindow      = 30 * 24 * time.Hour
	MaxWindowCount = 10000 // also how many answers and ratings the evaluator keeps
	// MinTimeSamples is the fewest answers (or ratings) a time window
	// needs before a rule is judged, so one slow answer at night does not
	// page anyone. A count window must be full.
	MinTimeSamples = 5
)

// Validate checks a rule as a user wrote it, naming the field at fault.
func Validate(r *store.AlertRule, out Outbound) error {
	if r.Name == "" || len(r.Name) > 200 {
		return store.Errorf(store.EINVALID, "name: give the alert a name of at most 200 characters")
	}
	m, ok := Metrics[r.Metric]
	if !ok {
		return store.Errorf(store.EINVALID, "metric: unknown metric %q; want one of %v", r.Metric, MetricNames())
	}
	if r.Op != "<" && r.Op != ">" {
		return store.Errorf(store.EINVALID, `op: want "<" or ">"`)
	}
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		return store.Errorf(store.EINVALID, "threshold: want a number")
	}
	switch {
	case r.Window != "" && r.WindowCount != 0:
		return store.Errorf(store.EINVALID, "window: give window or window_count, not both")
	case m.Today:
		if r.Window != "" || r.WindowCount != 0 {
			return store.Errorf(store.EINVALID, "window: %s runs from midnight UTC and takes no window", r.Metric)
		}
	case r.WindowCount != 0:
		if r.WindowCount < 1 || r.WindowCount > MaxWindowCount {
			return store.Errorf(store.EINVALID, "window_count: want 1 to %d", MaxWindowCount)
		}
	case r.Window != "":
		d, err := time.ParseDuration(r.Window)
		if err != nil || d < time.Minute || d > MaxWindow {
			return store.Errorf(store.EINVALID, "window: want a duration from 1m to 720h, such as 10m or 24h")
		}
	default:
		return store.Errorf(store.EINVALID, "window: give window (such as \"10m\") or window_count (such as 50)")
	}
	if r.WebhookURL != "" {
		if err := out.CheckURL(r.WebhookURL); err != nil {
			return err
		}
	}
	return nil
}

// Hysteresis is the band a firing alert's value must clear, past the
// threshold, to resolve: a tenth of the threshold (at least 1e-9). So an
// error-rate alert at > 0.05 fires above 0.05 and resolves at or below
// 0.045; a value wandering between the two changes nothing.
func Hysteresis(threshold float64) float64 {
	return max(math.Abs(threshold)*0.1, 1e-9)
}

// next is the state after seeing value v, with hysteresis.
func next(r *store.AlertRule, state store.AlertState, v float64) store.AlertState {
	band := Hysteresis(r.Threshold)
	if r.Op == ">" {
		if v > r.Threshold {
			return store.AlertFiring
		}
		if state == store.AlertFiring && v > r.Threshold-band {
			return store.AlertFiring
		}
		return store.AlertOK
	}
	if v < r.Threshold {
		return store.AlertFiring
	}
	if state == store.AlertFiring && v < r.Threshold+band {
		return store.AlertFiring
	}
	return store.AlertOK
}
