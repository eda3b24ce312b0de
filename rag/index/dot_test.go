package index

import (
	"math"
	"math/rand/v2"
	"testing"

	"llmops/store"
)

// TestDotHalf: the dot product the scan uses (the assembly kernel where
// the CPU has one) equals a float64 reference within float32 rounding, at
// every length around the kernel's steps of 8 and 32, and for every kind
// of half: zero, subnormal, the largest, negative.
func TestDotHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []uint16{0x0000, 0x8000, 0x0001, 0x03ff, 0x8001, 0x7bff, 0xfbff, 0x3c00, 0xbc00}
	for n := 0; n <= 300; n++ {
		for trial := range 3 {
			q := make([]float32, n)
			row := make([]uint16, n)
			for i := range n {
				q[i] = float32(rng.NormFloat64())
				if trial == 2 && i%5 == 0 {
					row[i] = special[rng.IntN(len(special))]
				} else {
					row[i] = store.ToHalf(float32(rng.NormFloat64()))
				}
			}
			var want, mag float64
			for i := range n {
				p := float64(q[i]) * float64(store.FromHalf(row[i]))
				want += p
				mag += math.Abs(p)
			}
			tol := 1e-6*mag + 1e-30
			for _, simd := range []bool{false, true} {
				got := dotWith(simd, q, row)
				if math.Abs(float64(got)-want) > tol {
					t.Fatalf("n=%d trial %d simd=%v: dot = %g, want %g (±%g)", n, trial, simd, got, want, tol)
				}
			}
		}
	}
	// A row longer or shorter than the query: the common length counts.
	q := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	row := make([]uint16, 9)
	for i := range row {
		row[i] = store.ToHalf(1)
	}
	for _, simd := range []bool{false, true} {
		if got := dotWith(simd, q, row); got != 45 {
			t.Errorf("simd=%v: dot over 9 of 10 = %g, want 45", simd, got)
		}
	}
}

// dotWith runs dotHalf with the kernel on or off; off when the CPU has
// none, so both runs then test the Go loop.
func dotWith(simd bool, q []float32, row []uint16) float32 {
	was := simdHalf
	defer func() { simdHalf = was }()
	simdHalf = simd && was
	return dotHalf(q, row)
}
