package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Defaults of BootstrapCI and PairedDelta, and the margin below which a
// paired difference counts as a tie.
const (
	DefaultIters      = 2000
	DefaultConfidence = 0.95
	TieEpsilon        = 1e-9
)

// pcgStream is the second PCG seed word: callers give one seed, and a fixed
// stream keeps results reproducible across runs and machines.
const pcgStream = 0x9e3779b97f4a7c15

// Mean is the arithmetic mean of xs, 0 when xs is empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// BootstrapCI is the percentile bootstrap confidence interval of the mean
// of xs: it draws iters resamples of len(xs) values with replacement,
// takes each resample's mean, and returns the (1−confidence)/2 and
// (1+confidence)/2 quantiles of those means (linear interpolation between
// order statistics, as numpy.percentile does). The resampling uses
// math/rand/v2's PCG seeded with seed, so the same input and seed give
// the same interval. iters ≤ 0 means DefaultIters; a confidence outside
// (0, 1) means DefaultConfidence. An empty xs gives 0, 0 and a single
// value gives that value twice.
func BootstrapCI(xs []float64, iters int, confidence float64, seed uint64) (lo, hi float64) {
	switch len(xs) {
	case 0:
		return 0, 0
	case 1:
		return xs[0], xs[0]
	}
	if iters <= 0 {
		iters = DefaultIters
	}
	if !(confidence > 0 && confidence < 1) {
		confidence = DefaultConfidence
	}
	rng := rand.New(rand.NewPCG(seed, pcgStream))
	n := len(xs)
	means := make([]float64, iters)
	for i := range means {
		sum := 0.0
		for range n {
			sum += xs[rng.IntN(n)]
		}
		means[i] = sum / float64(n)
	}
	slices.Sort(means)
	alpha := (1 - confidence) / 2
	return quantile(means, alpha), quantile(means, 1-alpha)
}

// quantile returns the q-quantile of sorted, interpolating linearly
// between the two nearest order statistics.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	if frac == 0 {
		return sorted[i]
	}
	return sorted[i] + frac*(sorted[i+1]-sorted[i])
}

// Delta compares two runs case by case: the differences new − baseline,
// their mean with a bootstrap confidence interval, and how many cases
// improved, got worse or stayed the same.
type Delta struct {
	Mean   float64 `json:"mean"`   // mean difference
	Lo     float64 `json:"ci_low"` // and its confidence interval
	Hi     float64 `json:"ci_high"`
	N      int     `json:"n"`      // pairs compared
	Wins   int     `json:"wins"`   // pairs with difference > TieEpsilon
	Losses int     `json:"losses"` // pairs with difference < −TieEpsilon
	Ties   int     `json:"ties"`   // the rest
}

// PairedDelta compares a (the baseline) with b (the new run), where a[i]
// and b[i] score the same case; when the lengths differ only the first
// min(len(a), len(b)) pairs count. With d_i = b_i − a_i, Mean is the mean
// of d and Lo, Hi its percentile bootstrap interval over resampled pairs
// (BootstrapCI with the same iters, confidence and seed). No pairs give
// the zero Delta.
func PairedDelta(a, b []float64, iters int, confidence float64, seed uint64) Delta {
	n := min(len(a), len(b))
	d := make([]float64, n)
	var out Delta
	for i := range d {
		d[i] = b[i] - a[i]
		switch {
		case d[i] > TieEpsilon:
			out.Wins++
		case d[i] < -TieEpsilon:
			out.Losses++
		default:
			out.Ties++
		}
	}
	out.N = n
	out.Mean = Mean(d)
	out.Lo, out.Hi = BootstrapCI(d, iters, confidence, seed)
	return out
}

// Significant reports whether the confidence interval excludes 0, by more
// than TieEpsilon so that rounding noise between equal runs never counts.
func (d Delta) Significant() bool {
	return d.N > 0 && (d.Lo > TieEpsilon || d.Hi < -TieEpsilon)
}
