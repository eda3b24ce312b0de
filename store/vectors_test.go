package store

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHalfFloatRoundTrip(t *testing.T) {
	t.Parallel()
	exact := []float32{0, 1, -1, 0.5, 2, 65504, -65504, 6.103515625e-05, 5.960464477539063e-08, float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, x := range exact {
		if got := fromHalf(toHalf(x)); got != x {
			t.Errorf("%g → %g, want exact", x, got)
		}
	}
	if got := fromHalf(toHalf(1e6)); !math.IsInf(float64(got), 1) {
		t.Errorf("1e6 → %g, want +Inf", got)
	}
	if got := fromHalf(toHalf(float32(math.NaN()))); !math.IsNaN(float64(got)) {
		t.Errorf("NaN → %g", got)
	}
	if got := fromHalf(toHalf(1e-9)); got != 0 {
		t.Errorf("1e-9 → %g, want 0", got)
	}
	// Every half value survives half → float32 → half.
	for h := range uint16(0xffff) {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN payloads
		}
		if back := toHalf(fromHalf(h)); back != h {
			t.Fatalf("half %#04x → %g → %#04x", h, fromHalf(h), back)
		}
	}
	// Unit-vector components keep ~3 decimal digits.
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, 256)
	for i := range v {
		v[i] = float32(rng.NormFloat64() / 16)
	}
	got := DecodeVector(EncodeVector(v))
	for i := range v {
		if d := math.Abs(float64(got[i] - v[i])); d > 1e-3*math.Abs(float64(v[i]))+1e-7 {
			t.Fatalf("component %d: %g → %g", i, v[i], got[i])
		}
	}
}

func TestDecodeLegacyFloat32(t *testing.T) {
	t.Parallel()
	b := make([]byte, 8)
	copy(b, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}) // 1, -2
	if got := DecodeVector(b); len(got) != 2 || got[0] != 1 || got[1] != -2 {
		t.Errorf("legacy decode = %v", got)
	}
}
