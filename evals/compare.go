package evals

import (
	"cmp"
	"math"
	"slices"

	"llmops/evals/metrics"
	"llmops/store"
)

// Comparison is run B (new) against run A (baseline), paired by case ID.
type Comparison struct {
	Deltas  []Delta     `json:"deltas"`
	Cases   []CaseDelta `json:"cases"`
	Matched int         `json:"matched"` // cases in both runs
	OnlyA   int         `json:"only_a"`
	OnlyB   int         `json:"only_b"`
}

// Delta is one metric compared.
type Delta struct {
	Metric
	A             float64 `json:"a"` // means over each run's applicable cases
	B             float64 `json:"b"`
	NA            int     `json:"n_a"`
	NB            int     `json:"n_b"`
	metrics.Delta         // paired: B − A over cases scored in both
	Regressed     bool    `json:"regressed"` // significantly worse, direction-aware
	Improved      bool    `json:"improved"`
}

// CaseDelta is one case in both runs.
type CaseDelta struct {
	CaseID string            `json:"case_id"`
	A, B   *store.CaseResult `json:"-"`
	// Delta is B − A of the sort metric, sign flipped for lower-is-better
	// metrics so that > 0 is always better; HasDelta is false when the
	// metric does not apply to the case in both runs.
	Delta    float64 `json:"delta"`
	HasDelta bool    `json:"has_delta"`
	Verdict  string  `json:"verdict"` // win, loss, tie, "" without a delta
}

// bootstrap settings: fixed so a comparison reads the same every time.
// From normalFrom values on, the mean's interval is the normal one
// (mean ± 1.96 standard errors): the bootstrap converges to it there, and
// its cost (iterations × values × metrics) would make a page of a
// 100,000-case run take seconds.
const (
	bootstrapIters = 2000
	bootstrapSeed  = 20261127
	confidence     = 0.95
	normalFrom     = 1000
	z95            = 1.959963984540054
)

// meanCI is the 95 % interval of the mean of xs.
func meanCI(xs []float64) (lo, hi float64) {
	if len(xs) < normalFrom {
		return metrics.BootstrapCI(xs, bootstrapIters, confidence, bootstrapSeed)
	}
	m, se := meanSE(xs)
	return m - z95*se, m + z95*se
}

// pairedDelta compares b with a pair by pair (metrics.PairedDelta, or the
// normal interval for many pairs).
func pairedDelta(a, b []float64) metrics.Delta {
	if len(a) < normalFrom {
		return metrics.PairedDelta(a, b, bootstrapIters, confidence, bootstrapSeed)
	}
	ds := make([]float64, len(a))
	out := metrics.Delta{N: len(a)}
	for i := range a {
		ds[i] = b[i] - a[i]
		switch {
		case ds[i] > metrics.TieEpsilon:
			out.Wins++
		case ds[i] < -metrics.TieEpsilon:
			out.Losses++
		default:
			out.Ties++
		}
	}
	m, se := meanSE(ds)
	out.Mean, out.Lo, out.Hi = m, m-z95*se, m+z95*se
	return out
}

// meanSE is the mean and its standard error.
func meanSE(xs []float64) (float64, float64) {
	m := metrics.Mean(xs)
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss/float64(len(xs)-1)) / math.Sqrt(float64(len(xs)))
}

// Compare pairs the results of a and b by case ID (those with tag, when
// tag is set) and compares every metric either run has; cases are sorted
// by the biggest change of sortBy (default: the first metric of
// HeadlineMetrics both runs have), losses first.
func Compare(ra, rb []store.CaseResult, tag, sortBy string) *Comparison {
	ra, rb = withTag(ra, tag), withTag(rb, tag)
	byID := make(map[string]*store.CaseResult, len(ra))
	for i := range ra {
		byID[ra[i].CaseID] = &ra[i]
	}
	c := &Comparison{}
	var pairs [][2]*store.CaseResult
	seen := map[string]bool{}
	for i := range rb {
		b := &rb[i]
		if a, ok := byID[b.CaseID]; ok {
			pairs = append(pairs, [2]*store.CaseResult{a, b})
			seen[b.CaseID] = true
		} else {
			c.OnlyB++
		}
	}
	c.Matched = len(pairs)
	c.OnlyA = len(ra) - len(seen)

	keys := metricKeys(ra, rb)
	for _, key := range keys {
		m := MetricByKey(key)
		d := Delta{Metric: m}
		d.A, d.NA = meanOf(ra, key)
		d.B, d.NB = meanOf(rb, key)
		var xa, xb []float64
		for _, p := range pairs {
			va, oka := p[0].Metrics[key]
			vb, okb := p[1].Metrics[key]
			if oka && okb {
				xa, xb = append(xa, va), append(xb, vb)
			}
		}
		d.Delta = pairedDelta(xa, xb)
		if m.LowerIsBetter {
			d.Wins, d.Losses = d.Losses, d.Wins
		}
		if d.Significant() {
			better := d.Mean > 0 != m.LowerIsBetter
			d.Improved, d.Regressed = better, !better
		}
		c.Deltas = append(c.Deltas, d)
	}

	if sortBy == "" {
		for _, k := range HeadlineMetrics {
			if slices.Contains(keys, k) {
				sortBy = k
				break
			}
		}
	}
	lower := MetricByKey(sortBy).LowerIsBetter
	for _, p := range pairs {
		cd := CaseDelta{CaseID: p[1].CaseID, A: p[0], B: p[1]}
		va, oka := p[0].Metrics[sortBy]
		vb, okb := p[1].Metrics[sortBy]
		if oka && okb {
			cd.HasDelta = true
			cd.Delta = vb - va
			if lower {
				cd.Delta = -cd.Delta
			}
			switch {
			case cd.Delta > 1e-9:
				cd.Verdict = "win"
			case cd.Delta < -1e-9:
				cd.Verdict = "loss"
			default:
				cd.Verdict = "tie"
			}
		}
		c.Cases = append(c.Cases, cd)
	}
	// Biggest change first, losses before wins of the same size; cases
	// without a delta last.
	slices.SortStableFunc(c.Cases, func(x, y CaseDelta) int {
		if x.HasDelta != y.HasDelta {
			if x.HasDelta {
				return -1
			}
			return 1
		}
		if r := cmp.Compare(math.Abs(y.Delta), math.Abs(x.Delta)); r != 0 {
			return r
		}
		return cmp.Compare(x.Delta, y.Delta)
	})
	return c
}

// Regressions are the metrics that got significantly worse.
func (c *Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Regressed {
			out = append(out, d)
		}
	}
	return out
}

func withTag(rs []store.CaseResult, tag string) []store.CaseResult {
	if tag == "" {
		return rs
	}
	var out []store.CaseResult
	for _, r := range rs {
		if slices.Contains(r.Tags, tag) {
			out = append(out, r)
		}
	}
	return out
}

// metricKeys lists the metrics either run has, in catalogue order, then
// unknown ones by name.
func metricKeys(runs ...[]store.CaseResult) []string {
	have := map[string]bool{}
	for _, rs := range runs {
		for _, r := range rs {
			for k := range r.Metrics {
				have[k] = true
			}
		}
	}
	var keys []string
	for _, m := range Metrics {
		if have[m.Key] {
			keys = append(keys, m.Key)
			delete(have, m.Key)
		}
	}
	var rest []string
	for k := range have {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// meanOf is the mean of key over the results it applies to.
func meanOf(rs []store.CaseResult, key string) (float64, int) {
	var sum float64
	n := 0
	for _, r := range rs {
		if v, ok := r.Metrics[key]; ok {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// Summary is one metric of one run with its bootstrap CI.
type Summary struct {
	Metric
	Mean float64 `json:"mean"`
	N    int     `json:"n"`
	Lo   float64 `json:"ci_low"` // 95 % bootstrap interval of the mean
	Hi   float64 `json:"ci_high"`
}

// Summarize returns every metric of results (those with tag, when set)
// with a 95 % bootstrap CI of its mean.
func Summarize(results []store.CaseResult, tag string) []Summary {
	results = withTag(results, tag)
	var out []Summary
	for _, key := range metricKeys(results) {
		var xs []float64
		for _, r := range results {
			if v, ok := r.Metrics[key]; ok {
				xs = append(xs, v)
			}
		}
		lo, hi := meanCI(xs)
		out = append(out, Summary{Metric: MetricByKey(key), Mean: metrics.Mean(xs), N: len(xs), Lo: lo, Hi: hi})
	}
	return out
}
