// Package gate decides whether an eval run passes a CI gate: minimum
// scores (--min faithfulness=0.9) and maximum drops against a baseline run
// (--max-drop ndcg@10=0.02), reported as text and as JUnit XML.
//
// A gate never passes by accident: a threshold on a metric the run did
// not produce, or the baseline lacks, fails.
package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Threshold kinds.
const (
	// KindMin: the metric must reach Value (stay at or under it for
	// lower-is-better metrics).
	KindMin = "min"
	// KindMaxDrop: the metric may worsen by at most Value from the baseline.
	KindMaxDrop = "max-drop"
)

// Threshold is one gate condition.
type Threshold struct {
	Metric string  `json:"metric"`
	Kind   string  `json:"kind"`
	Value  float64 `json:"value"`
}

// ParseThresholds reads "metric=value" specs given with the --min or
// --max-drop flag (kind). A spec may hold several, comma-separated
// ("faithfulness=0.9,recall@5=0.8"). Metric names are lower-cased and may
// hold a-z, 0-9 and @ _ . + -. A metric may appear once per kind, and a
// max-drop must not be negative.
func ParseThresholds(kind string, specs []string) ([]Threshold, error) {
	if kind != KindMin && kind != KindMaxDrop {
		return nil, fmt.Errorf("unknown threshold kind %q (want %s or %s)", kind, KindMin, KindMaxDrop)
	}
	flag := "--" + kind
	var out []Threshold
	seen := map[string]bool{}
	for _, spec := range specs {
		for part := range strings.SplitSeq(spec, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, val, ok := strings.Cut(part, "=")
			name, val = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(val)
			if !ok || name == "" || val == "" {
				return nil, fmt.Errorf("%s %s: want metric=value", flag, part)
			}
			if !validMetric(name) {
				return nil, fmt.Errorf("%s %s: metric %q may hold only a-z, 0-9 and @ _ . + -", flag, part, name)
			}
			v, err := strconv.ParseFloat(val, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s %s: %q is not a number", flag, part, val)
			}
			if kind == KindMaxDrop && v < 0 {
				return nil, fmt.Errorf("%s %s: the allowed drop must not be negative", flag, part)
			}
			if seen[name] {
				return nil, fmt.Errorf("%s %s: %s is given twice", flag, part, name)
			}
			seen[name] = true
			out = append(out, Threshold{Metric: name, Kind: kind, Value: v})
		}
	}
	return out, nil
}

func validMetric(name string) bool {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("@_.+-", r)) {
			return false
		}
	}
	return name != ""
}

// LowerIsBetter reports whether smaller values of a metric are better:
// false_refusal, cost_usd and latencies (names ending in _ms).
func LowerIsBetter(metric string) bool {
	return metric == "false_refusal" || metric == "cost_usd" || strings.HasSuffix(metric, "_ms")
}

// String is the threshold as a test name: "min faithfulness".
func (t Threshold) String() string { return t.Kind + " " + t.Metric }
