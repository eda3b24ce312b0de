package retrieve

import (
	"math"
	"testing"
)

// list builds a ranked list from IDs and scores.
func list(pairs ...any) []Hit {
	var out []Hit
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Hit{ID: pairs[i].(string), Score: pairs[i+1].(float64), Rank: len(out) + 1})
	}
	return out
}

type fusedWant struct {
	id      string
	score   float64
	kwRank  int
	vecRank int
}

func checkFused(t *testing.T, got []Hit, want []fusedWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d hits, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || math.Abs(g.Score-w.score) > 1e-9 || g.KeywordRank != w.kwRank || g.VectorRank != w.vecRank || g.Rank != i+1 {
			t.Errorf("position %d: got %s score %.9f ranks kw %d vec %d rank %d; want %s %.9f kw %d vec %d rank %d",
				i+1, g.ID, g.Score, g.KeywordRank, g.VectorRank, g.Rank, w.id, w.score, w.kwRank, w.vecRank, i+1)
		}
	}
}

func TestRRF(t *testing.T) {
	kw := list("a", 12.0, "b", 9.0, "c", 1.0)
	vec := list("b", 0.9, "d", 0.8, "a", 0.7)
	t.Run("equal weights", func(t *testing.T) {
		// a: 1/61 + 1/63, b: 1/62 + 1/61, c: 1/63, d: 1/62.
		checkFused(t, fuseRRF(kw, vec, 1, 1, 60), []fusedWant{
			{id: "b", score: 1.0/62 + 1.0/61, kwRank: 2, vecRank: 1},
			{id: "a", score: 1.0/61 + 1.0/63, kwRank: 1, vecRank: 3},
			{id: "d", score: 1.0 / 62, vecRank: 2},
			{id: "c", score: 1.0 / 63, kwRank: 3},
		})
	})
	t.Run("vector weight 0.5", func(t *testing.T) {
		// a: 1/61 + .5/63 = .0243297 beats b: 1/62 + .5/61 = .0243258.
		checkFused(t, fuseRRF(kw, vec, 1, 0.5, 60), []fusedWant{
			{id: "a", score: 1.0/61 + 0.5/63, kwRank: 1, vecRank: 3},
			{id: "b", score: 1.0/62 + 0.5/61, kwRank: 2, vecRank: 1},
			{id: "c", score: 1.0 / 63, kwRank: 3},
			{id: "d", score: 0.5 / 62, vecRank: 2},
		})
	})
	t.Run("vector weight 0 keeps BM25's order", func(t *testing.T) {
		got := fuseRRF(kw, vec, 1, 0, 60)
		for i, id := range []string{"a", "b", "c", "d"} {
			if got[i].ID != id {
				t.Errorf("position %d = %s, want %s", i+1, got[i].ID, id)
			}
		}
	})
	t.Run("k=0", func(t *testing.T) {
		checkFused(t, fuseRRF(kw, vec, 1, 1, 0), []fusedWant{
			{id: "b", score: 1.0/2 + 1, kwRank: 2, vecRank: 1},
			{id: "a", score: 1 + 1.0/3, kwRank: 1, vecRank: 3},
			{id: "d", score: 1.0 / 2, vecRank: 2},
			{id: "c", score: 1.0 / 3, kwRank: 3},
		})
	})
}

func TestFusionTiesAreDeterministic(t *testing.T) {
	tests := []struct {
		name    string
		kw, vec []Hit
		want    []string
	}{
		// Same score, same best rank: the one BM25 found first.
		{"keyword before vector-only", list("x", 1.0), list("y", 1.0), []string{"x", "y"}},
		{"keyword before vector-only, reversed IDs", list("y", 1.0), list("x", 1.0), []string{"y", "x"}},
		// Same score, same best rank, both in both lists: by ID.
		{"swapped lists tie by ID", list("q", 2.0, "p", 1.0), list("p", 2.0, "q", 1.0), []string{"p", "q"}},
		// Same score, different best rank: the better best rank.
		{"better best rank", list("m", 3.0, "n", 2.0, "o", 1.0), list("o", 3.0, "z", 2.0, "m", 1.0), []string{"m", "o", "n", "z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // would catch map-order dependence
				got := fuseRRF(tc.kw, tc.vec, 1, 1, 60)
				for i, id := range tc.want {
					if got[i].ID != id {
						t.Fatalf("order %v, want %v", ids(got), tc.want)
					}
				}
			}
		})
	}
}

func TestConvex(t *testing.T) {
	kw := list("a", 10.0, "b", 6.0, "c", 2.0)
	vec := list("b", 0.9, "d", 0.5, "a", 0.1)
	t.Run("equal weights", func(t *testing.T) {
		// min-max: BM25 a 1, b .5, c 0; cosine b 1, d .5, a 0.
		checkFused(t, fuseConvex(kw, vec, 1, 1), []fusedWant{
			{id: "b", score: 0.75, kwRank: 2, vecRank: 1},
			{id: "a", score: 0.5, kwRank: 1, vecRank: 3},
			{id: "d", score: 0.25, vecRank: 2},
			{id: "c", score: 0, kwRank: 3},
		})
	})
	t.Run("0.3 BM25 + 0.7 cosine", func(t *testing.T) {
		checkFused(t, fuseConvex(kw, vec, 0.3, 0.7), []fusedWant{
			{id: "b", score: 0.15 + 0.7, kwRank: 2, vecRank: 1},
			{id: "d", score: 0.35, vecRank: 2},
			{id: "a", score: 0.3, kwRank: 1, vecRank: 3},
			{id: "c", score: 0, kwRank: 3},
		})
	})
	t.Run("a flat list normalises to 1", func(t *testing.T) {
		// (1·1 + 1·0) / 2: an empty vector list scores 0 for everyone.
		checkFused(t, fuseConvex(list("a", 5.0, "b", 5.0), nil, 1, 1), []fusedWant{
			{id: "a", score: 0.5, kwRank: 1},
			{id: "b", score: 0.5, kwRank: 2},
		})
	})
	t.Run("no lists", func(t *testing.T) {
		if got := fuseConvex(nil, nil, 1, 1); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}

func TestAgreementGate(t *testing.T) {
	kw := list("a", 9.0, "b", 8.0, "c", 7.0, "d", 6.0, "e", 5.0, "f", 4.0, "g", 3.0, "h", 2.0, "i", 1.5, "j", 1.0, "k", 0.5)
	tests := []struct {
		name string
		vec  []Hit
		want float64
	}{
		{"all of BM25's top 10", list("j", .9, "i", .8, "h", .7, "g", .6, "f", .5, "e", .4, "d", .3, "c", .2, "b", .1, "a", .05), 1},
		{"8 of 10 is full weight", list("a", .9, "b", .8, "c", .7, "d", .6, "e", .5, "f", .4, "g", .3, "h", .2, "x", .1, "y", .05), 1},
		// (0.5 − 0.3) / (0.8 − 0.3) = 0.4
		{"5 of 10", list("a", .9, "v", .85, "b", .8, "w", .75, "c", .7, "x", .65, "d", .6, "y", .55, "e", .5, "z", .45), 0.4},
		{"3 of 10 is chance", list("a", .9, "b", .8, "c", .7, "u", .6, "v", .5, "w", .4, "x", .3, "y", .2, "z", .1, "zz", .05), 0},
		{"k is 11th for BM25: not counted", list("k", .9), 0},
		{"no vectors", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultAgreement.gate(kw, tc.vec); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("gate = %.3f, want %.3f", got, tc.want)
			}
		})
	}
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestZScore(t *testing.T) {
	// z of each score against its own list (population sd).
	z := func(s float64, xs ...float64) float64 {
		var m, v float64
		for _, x := range xs {
			m += x / float64(len(xs))
		}
		for _, x := range xs {
			v += (x - m) * (x - m) / float64(len(xs))
		}
		return (s - m) / math.Sqrt(v)
	}
	kw := list("a", 12.0, "b", 9.0, "c", 1.0)
	vec := list("b", 0.9, "d", 0.8, "a", 0.7)
	zk := func(s float64) float64 { return z(s, 12, 9, 1) }
	zv := func(s float64) float64 { return z(s, 0.9, 0.8, 0.7) }
	t.Run("equal weights; a chunk missing from a list takes its lowest z", func(t *testing.T) {
		checkFused(t, fuseZScore(kw, vec, 1, 1), []fusedWant{
			{id: "b", score: zk(9) + zv(0.9), kwRank: 2, vecRank: 1},
			{id: "a", score: zk(12) + zv(0.7), kwRank: 1, vecRank: 3},
			{id: "d", score: zk(1) + zv(0.8), vecRank: 2},
			{id: "c", score: zk(1) + zv(0.7), kwRank: 3},
		})
	})
	t.Run("vector weight 0 keeps BM25's order", func(t *testing.T) {
		// d, found by vectors alone, ties with BM25's last (both take
		// BM25's lowest z) and goes first on its better rank: weight 0
		// keeps BM25's hits in BM25's order, and a vector-only hit can at
		// most tie with BM25's last.
		got := fuseZScore(kw, vec, 1, 0)
		for i, id := range []string{"a", "b", "d", "c"} {
			if got[i].ID != id {
				t.Errorf("position %d = %s, want %s", i+1, got[i].ID, id)
			}
		}
	})
	t.Run("a BM25 top far ahead stays on top of flat vectors", func(t *testing.T) {
		// RRF puts b first (1/62 + 1/61 > 1/61 + 1/63): it reads only ranks.
		kw := list("a", 30.0, "b", 5.0, "c", 4.0, "d", 3.0)
		vec := list("b", 0.81, "c", 0.80, "a", 0.79, "d", 0.78)
		if got := fuseRRF(kw, vec, 1, 1, 60)[0].ID; got != "b" {
			t.Fatalf("RRF put %s first; the case assumes b", got)
		}
		if got := fuseZScore(kw, vec, 1, 1)[0].ID; got != "a" {
			t.Errorf("z-score fusion put %s first, want a", got)
		}
	})
	t.Run("a flat or one-hit list scores 0", func(t *testing.T) {
		for _, hits := range [][]Hit{list("a", 1.0), list("a", 2.0, "b", 2.0)} {
			for _, s := range zScores(hits) {
				if s != 0 {
					t.Errorf("zScores(%v) has %v, want all 0", hits, s)
				}
			}
		}
	})
}
