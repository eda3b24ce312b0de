package gate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// epsilon absorbs float noise in means, so a metric exactly at its
// threshold (0.8 computed as 0.7999999999999999) passes.
const epsilon = 1e-12

// Result is one threshold checked against a run.
type Result struct {
	Threshold
	Got         float64 `json:"got"`
	Baseline    float64 `json:"baseline"`
	HasBaseline bool    `json:"has_baseline"`
	Pass        bool    `json:"pass"`
	Message     string  `json:"message"` // "faithfulness 0.912 ≥ 0.900 ok"
}

// Check applies thresholds to a run's metrics. counts says how many cases
// each metric was computed on (a metric with count 0 is missing; a metric
// absent from counts but present in run, like cost_usd, is taken as is);
// baseline holds the metrics of the run max-drop thresholds compare with,
// and may be nil when there are none.
func Check(run map[string]float64, counts map[string]int, baseline map[string]float64, ths []Threshold) []Result {
	rs := make([]Result, 0, len(ths))
	for _, th := range ths {
		rs = append(rs, check(run, counts, baseline, th))
	}
	return rs
}

func check(run map[string]float64, counts map[string]int, baseline map[string]float64, th Threshold) Result {
	r := Result{Threshold: th}
	m := th.Metric
	got, ok := run[m]
	if n, counted := counts[m]; ok && counted && n == 0 {
		r.Message = fmt.Sprintf("metric %s was computed on no cases in this run: FAIL", m)
		return r
	}
	if !ok {
		r.Message = fmt.Sprintf("metric %s not in this run (known: %s): FAIL", m, known(run, counts))
		return r
	}
	r.Got = got
	if math.IsNaN(got) {
		r.Message = fmt.Sprintf("metric %s is NaN in this run: FAIL", m)
		return r
	}
	lower := LowerIsBetter(m)

	switch th.Kind {
	case KindMin:
		if lower {
			r.Pass = got <= th.Value+epsilon
		} else {
			r.Pass = got >= th.Value-epsilon
		}
		g, v := pair(m, got, th.Value, r.Pass)
		op := map[bool]string{true: "≥", false: "<"}[r.Pass]
		if lower {
			op = map[bool]string{true: "≤", false: ">"}[r.Pass]
		}
		r.Message = fmt.Sprintf("%s %s %s %s%s", m, g, op, v, verdict(r.Pass))

	case KindMaxDrop:
		base, ok := baseline[m]
		switch {
		case baseline == nil:
			r.Message = fmt.Sprintf("no baseline run to compare %s with: FAIL", m)
			return r
		case !ok:
			r.Message = fmt.Sprintf("metric %s not in the baseline run (known: %s): FAIL", m, known(baseline, nil))
			return r
		case math.IsNaN(base):
			r.Message = fmt.Sprintf("metric %s is NaN in the baseline run: FAIL", m)
			return r
		}
		r.Baseline, r.HasBaseline = base, true
		drop := base - got
		if lower {
			drop = got - base
		}
		r.Pass = drop <= th.Value+epsilon
		b, g := pair(m, base, got, true)
		d, v := pair(m, drop, th.Value, r.Pass)
		worse, notWorse := "dropped", "did not drop"
		if lower {
			worse, notWorse = "rose", "did not rise"
		}
		if drop > 0 {
			r.Message = fmt.Sprintf("%s %s %s (%s → %s), allowed %s%s", m, worse, d, b, g, v, verdict(r.Pass))
		} else {
			r.Message = fmt.Sprintf("%s %s (%s → %s), allowed %s%s", m, notWorse, b, g, v, verdict(r.Pass))
		}

	default:
		r.Message = fmt.Sprintf("unknown threshold kind %q for %s: FAIL", th.Kind, m)
	}
	return r
}

// Passed reports whether every result passed (true for none).
func Passed(rs []Result) bool {
	for _, r := range rs {
		if !r.Pass {
			return false
		}
	}
	return true
}

func verdict(pass bool) string {
	if pass {
		return " ok"
	}
	return ": FAIL"
}

// known lists the metrics a run has values for.
func known(run map[string]float64, counts map[string]int) string {
	var names []string
	for _, m := range slices.Sorted(maps.Keys(run)) {
		if n, counted := counts[m]; !counted || n > 0 {
			names = append(names, m)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// pair formats two numbers of a metric alike: whole milliseconds, cost to
// 4 places, scores to 3. When a failing comparison would print equal
// numbers ("0.900 < 0.900"), it adds places until they differ.
func pair(metric string, a, b float64, pass bool) (string, string) {
	p := 3
	switch {
	case strings.HasSuffix(metric, "_ms"):
		p = 0
	case metric == "cost_usd":
		p = 4
	}
	for {
		sa, sb := strconv.FormatFloat(a, 'f', p, 64), strconv.FormatFloat(b, 'f', p, 64)
		if pass || sa != sb || p >= 12 {
			return sa, sb
		}
		p++
	}
}
