package store

import (
	"math"
	"slices"
)

// Sketch is a mergeable quantile sketch over positive values (latencies in
// milliseconds): fixed logarithmic bins in the manner of DDSketch. Bin i
// holds values in (γ^(i-1), γ^i] and reports 2γ^i/(γ+1), so every quantile
// it returns is within SketchRelativeError of the exact nearest-rank value.
// Values at or below SketchZero (0.01 ms) fall in a zero bin reported as
// 0. Counts only add and subtract, so sketches merge exactly: a day's
// sketch is the sum of its minutes', and a replaced trace is taken back
// out.
type Sketch struct {
	Zero int64           `json:"z,omitempty"`
	Bins map[int32]int64 `json:"b,omitempty"`
}

// SketchRelativeError is the largest relative error of Sketch.Quantile.
const SketchRelativeError = 0.01

// SketchZero is the largest value counted in the zero bin.
const SketchZero = 0.01

var (
	sketchGamma    = (1 + SketchRelativeError) / (1 - SketchRelativeError)
	sketchLogGamma = math.Log(sketchGamma)
)

// Add counts v n times (n < 0 takes it back out).
func (s *Sketch) Add(v float64, n int64) {
	if math.IsNaN(v) || v <= SketchZero {
		s.Zero += n
		return
	}
	i := int32(math.Ceil(math.Log(v) / sketchLogGamma))
	if s.Bins == nil {
		s.Bins = map[int32]int64{}
	}
	if s.Bins[i] += n; s.Bins[i] == 0 {
		delete(s.Bins, i)
	}
}

// Merge adds o's counts, times sign (1 or -1).
func (s *Sketch) Merge(o *Sketch, sign int64) {
	s.Zero += sign * o.Zero
	for i, n := range o.Bins {
		if s.Bins == nil {
			s.Bins = map[int32]int64{}
		}
		if s.Bins[i] += sign * n; s.Bins[i] == 0 {
			delete(s.Bins, i)
		}
	}
}

// Count is how many values the sketch holds.
func (s *Sketch) Count() int64 {
	n := s.Zero
	for _, c := range s.Bins {
		n += c
	}
	return n
}

// Quantile returns the q-quantile (0 < q ≤ 1) by nearest rank: the value
// whose rank is ⌈q·n⌉. It returns 0 for an empty sketch.
func (s *Sketch) Quantile(q float64) float64 {
	n := s.Count()
	if n <= 0 {
		return 0
	}
	rank := max(int64(math.Ceil(q*float64(n))), 1)
	if rank <= s.Zero {
		return 0
	}
	seen := s.Zero
	keys := make([]int32, 0, len(s.Bins))
	for i := range s.Bins {
		keys = append(keys, i)
	}
	slices.Sort(keys)
	for _, i := range keys {
		if seen += s.Bins[i]; seen >= rank {
			return 2 * math.Pow(sketchGamma, float64(i)) / (sketchGamma + 1)
		}
	}
	return 2 * math.Pow(sketchGamma, float64(keys[len(keys)-1])) / (sketchGamma + 1)
}
