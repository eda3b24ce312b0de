package metrics

import "math"

// Cosine is the cosine similarity of a and b, in [-1, 1], accumulated in
// float64. It is 0 when the lengths differ, a vector is empty or all
// zeros, or the inputs hold NaN or infinities.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	c := dot / math.Sqrt(na*nb)
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return 0
	}
	// Rounding can push parallel vectors a hair past ±1.
	return max(-1, min(1, c))
}

// Similarity is Cosine clipped to [0, 1], the scale of the embedding
// metrics (answer_relevancy, answer_similarity): opposite or unrelated
// vectors both score 0. ok=false when the vectors cannot be compared:
// either is empty or all zeros, or their lengths differ.
func Similarity(a, b []float32) (float64, bool) {
	if len(a) != len(b) || isZero(a) || isZero(b) {
		return 0, false
	}
	return max(0, Cosine(a, b)), true
}

// isZero reports whether v is empty or all zeros.
func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
