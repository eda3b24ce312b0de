package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"
)

const tol = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

// scoreFn is the shape of every retrieval metric with a cutoff.
type scoreFn func(ranked []string, rels map[string]float64, k int) (float64, bool)

type atCase struct {
	name   string
	ranked []string
	rels   map[string]float64
	k      int
	want   float64
	wantOK bool
}

func runAt(t *testing.T, fn scoreFn, cases []atCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := fn(tc.ranked, tc.rels, tc.k)
			if ok != tc.wantOK || !near(got, tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
			if math.IsNaN(got) {
				t.Errorf("got NaN")
			}
		})
	}
}

// The shared retrieval example: b and d are relevant and retrieved at ranks
// 2 and 4, x is relevant but never retrieved, z is judged not relevant.
var (
	ranked = []string{"a", "b", "c", "d", "e"}
	rels   = map[string]float64{"b": 1, "d": 1, "x": 1, "z": 0}
	// noRel has judgements but nothing relevant: every metric is n/a.
	noRel = map[string]float64{"z": 0, "y": -1}
)

func TestHitAt(t *testing.T) {
	t.Parallel()
	runAt(t, HitAt, []atCase{
		{"top 1 misses", ranked, rels, 1, 0, true},
		{"top 2 hits b", ranked, rels, 2, 1, true},
		{"k beyond the list", ranked, rels, 100, 1, true},
		{"empty ranking", nil, rels, 5, 0, true},
		{"no relevant IDs", ranked, noRel, 5, 0, false},
		{"nil rels", ranked, nil, 5, 0, false},
		{"k = 0", ranked, rels, 0, 0, false},
	})
}

func TestRecallAt(t *testing.T) {
	t.Parallel()
	runAt(t, RecallAt, []atCase{
		{"top 1: none of 3", ranked, rels, 1, 0, true},
		{"top 2: b of b,d,x", ranked, rels, 2, 1.0 / 3, true},
		{"top 5: b,d of b,d,x", ranked, rels, 5, 2.0 / 3, true},
		{"k beyond the list", ranked, rels, 100, 2.0 / 3, true},
		{"all found", []string{"x", "d", "b"}, rels, 3, 1, true},
		{"no relevant IDs", ranked, noRel, 5, 0, false},
		{"k < 1", ranked, rels, -1, 0, false},
		// Not deduplicated: b counts once, so 1 of 2, never 3 of 2.
		{"repeats count once", []string{"b", "b", "b"}, map[string]float64{"b": 1, "c": 1}, 3, 0.5, true},
	})
}

func TestMRRAt(t *testing.T) {
	t.Parallel()
	runAt(t, MRRAt, []atCase{
		{"first relevant at rank 2", ranked, rels, 10, 0.5, true},
		{"cut before it", ranked, rels, 1, 0, true},
		{"first relevant at rank 1", []string{"d", "b"}, rels, 10, 1, true},
		{"rank 4", []string{"a", "c", "e", "d"}, rels, 10, 0.25, true},
		{"none relevant", []string{"a", "c"}, rels, 10, 0, true},
		{"no relevant IDs", ranked, noRel, 10, 0, false},
		{"k = 0", ranked, rels, 0, 0, false},
	})
}

func TestNDCGAt(t *testing.T) {
	t.Parallel()
	// Graded example: ranked d1 d2 d3 d4; grades d1=1, d2=0, d3=2, d5=3.
	//   DCG@4  = 1/log2(2) + 0/log2(3) + 2/log2(4) + 0/log2(5) = 1 + 0 + 1 + 0 = 2
	//   IDCG@4 = grades 3,2,1 = 3/log2(2) + 2/log2(3) + 1/log2(4)
	//          = 3 + 1.2618595071 + 0.5 = 4.7618595071
	//   nDCG@4 = 2 / 4.7618595071 = 0.4200039915
	//   nDCG@1 = (1/1) / (3/1) = 1/3
	//   nDCG@2 = 1 / (3 + 2/log2(3)) = 1 / 4.2618595071 = 0.2346393630
	// IDCG@10 has only three grades to add, so nDCG@10 = nDCG@4.
	graded := []string{"d1", "d2", "d3", "d4"}
	grades := map[string]float64{"d1": 1, "d2": 0, "d3": 2, "d5": 3}
	// Duplicates: ranked a b b c with b, c relevant (grade 1).
	//   raw @4:     b at 2 → 1/log2(3); the second b earns 0; c at 4 → 1/log2(5)
	//               DCG = 0.6309297536 + 0.4306765581 = 1.0616063117
	//               IDCG = 1 + 1/log2(3) = 1.6309297536 → 0.6509209298
	//   Dedupe @4:  a b c → b at 2, c at 3 → (0.6309297536 + 0.5) / 1.6309297536
	//               = 0.6934264036
	dup := []string{"a", "b", "b", "c"}
	bc := map[string]float64{"b": 1, "c": 1}
	runAt(t, NDCGAt, []atCase{
		{"graded @4", graded, grades, 4, 0.42000399150792816, true},
		{"graded @1", graded, grades, 1, 1.0 / 3, true},
		{"graded @2", graded, grades, 2, 0.23463936301137822, true},
		{"graded, k beyond the list", graded, grades, 10, 0.42000399150792816, true},
		{"ideal order", []string{"d5", "d3", "d1"}, grades, 10, 1, true},
		{"binary perfect", []string{"b", "d", "x"}, rels, 3, 1, true},
		{"nothing relevant retrieved", []string{"a", "c"}, rels, 10, 0, true},
		{"duplicates raw", dup, bc, 4, 0.6509209298071326, true},
		{"duplicates via Dedupe", Dedupe(dup), bc, 4, 0.6934264036172708, true},
		{"repeat earns nothing twice", []string{"b", "b"}, map[string]float64{"b": 1}, 2, 1, true},
		{"no relevant IDs", graded, noRel, 10, 0, false},
		{"k = 0", graded, grades, 0, 0, false},
	})
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want []string
	}{
		{nil, []string{}},
		{[]string{"a"}, []string{"a"}},
		{[]string{"a", "b", "a", "c", "b", "a"}, []string{"a", "b", "c"}},
		{[]string{"c", "c", "c"}, []string{"c"}},
	} {
		in := slices.Clone(tc.in)
		if got := Dedupe(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Dedupe(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Dedupe modified its input: %q, want %q", tc.in, in)
		}
	}
}

func TestContextPrecisionRecall(t *testing.T) {
	t.Parallel()
	rel := map[string]float64{"b": 1, "d": 2, "x": 1}
	for _, tc := range []struct {
		name      string
		retrieved []string
		rels      map[string]float64
		wantP     float64
		wantPOK   bool
		wantR     float64
		wantROK   bool
	}{
		// b, d of a b c d are relevant: P = 2/4; relevant b d x: R = 2/3.
		{"half precise", []string{"a", "b", "c", "d"}, rel, 0.5, true, 2.0 / 3, true},
		{"all relevant", []string{"x", "b", "d"}, rel, 1, true, 1, true},
		{"none relevant", []string{"a", "c"}, rel, 0, true, 0, true},
		// A set, as in RAGAS: b b a is {a, b}, so P = 1/2, R = 1/3.
		{"repeats count once", []string{"b", "b", "a"}, rel, 0.5, true, 1.0 / 3, true},
		{"nothing retrieved", nil, rel, 0, false, 0, true},
		{"no relevant IDs", []string{"a"}, noRel, 0, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if p, ok := ContextPrecision(tc.retrieved, tc.rels); ok != tc.wantPOK || !near(p, tc.wantP) {
				t.Errorf("ContextPrecision = %v, %v; want %v, %v", p, ok, tc.wantP, tc.wantPOK)
			}
			if r, ok := ContextRecall(tc.retrieved, tc.rels); ok != tc.wantROK || !near(r, tc.wantR) {
				t.Errorf("ContextRecall = %v, %v; want %v, %v", r, ok, tc.wantR, tc.wantROK)
			}
		})
	}
}

func TestStripCitations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Shifts swap [1][2].", "Shifts swap."},
		{"Shifts swap [1] [2] today.", "Shifts swap today."},
		{"see [1, 2] and [3-4] or [5;6] here", "see and or here"},
		{"done.[1]Next", "done. Next"},
		{"【1】Start", "Start"},
		{"in [2022] and [x]", "in [2022] and [x]"},
		{"no markers", "no markers"},
		{"", ""},
	} {
		if got := StripCitations(tc.in); got != tc.want {
			t.Errorf("StripCitations(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"The cat sat on a mat.", []string{"cat", "sat", "on", "mat"}},
		{"Don't stop, U.S.A.!", []string{"dont", "stop", "usa"}},
		// ’ is dropped like '; — separates; “ ” go; the citation goes.
		{"Don’t stop—the “rocks” [3]", []string{"dont", "stop", "rocks"}},
		// Hyphens go without a gap, as in SQuAD; "the" inside a word stays.
		{"state-of-the-art theory", []string{"stateoftheart", "theory"}},
		{"AN Apple", []string{"apple"}},
		{"  ", nil},
	} {
		if got := Normalize(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type textCase struct {
	name              string
	answer, reference string
	want              float64
	wantOK            bool
}

func runText(t *testing.T, fn func(a, r string) (float64, bool), cases []textCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := fn(tc.answer, tc.reference)
			if ok != tc.wantOK || !near(got, tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestTokenF1(t *testing.T) {
	t.Parallel()
	runText(t, TokenF1, []textCase{
		// answer:    refunds take 5 business days                       (5)
		// reference: refunds are processed within 5 business days       (7)
		// shared:    refunds 5 business days = 4
		// P = 4/5, R = 4/7, F1 = 2PR/(P+R) = (32/35)/(48/35) = 2/3
		{"partial overlap", "Refunds take 5 business days [1].", "Refunds are processed within 5 business days.", 2.0 / 3, true},
		{"articles and case ignored", "The cat sat on the mat.", "A cat sat on a mat", 1, true},
		// answer go go go home (4), reference go home (2); shared go×1 + home = 2
		// P = 2/4, R = 2/2, F1 = 2·0.5·1/1.5 = 2/3
		{"repeats clipped", "go go go home", "go home", 2.0 / 3, true},
		// Order does not matter to F1: 3 shared of 3 and 5, P = 1, R = 3/5,
		// F1 = 2·0.6/1.6 = 0.75
		{"bag of words", "police killed the gunman", "the gunman was killed by police", 0.75, true},
		{"citation markers ignored", "Refunds take 5 days [1][2].", "Refunds take 5 days", 1, true},
		{"other marker styles ignored", "Refunds [1, 2] take 【3】 5 days [4-5]", "refunds take 5 days", 1, true},
		{"nothing shared", "yes", "no", 0, true},
		{"empty answer", "", "refunds take 5 days", 0, true},
		{"answer only markers", "[1]", "refunds", 0, true},
		{"empty reference", "anything", "", 0, false},
		{"reference only articles", "anything", "The.", 0, false},
	})
}

func TestRougeL(t *testing.T) {
	t.Parallel()
	runText(t, RougeL, []textCase{
		// answer police killed gunman (3), reference gunman was killed by
		// police (5): the order is reversed, so LCS = 1.
		// P = 1/3, R = 1/5, F = 2·(1/15)/(8/15) = 0.25
		{"order matters", "police killed the gunman", "the gunman was killed by police", 0.25, true},
		// answer w x y z, reference w y q z: LCS = w y z = 3
		// P = 3/4, R = 3/4, F = 0.75
		{"gapped subsequence", "w x y z", "w y q z", 0.75, true},
		// answer refunds take 5 business days, reference refunds are
		// processed within 5 business days: LCS = refunds 5 business days = 4
		// P = 4/5, R = 4/7, F = 2/3
		{"partial overlap", "Refunds take 5 business days [1].", "Refunds are processed within 5 business days.", 2.0 / 3, true},
		{"identical after normalising", "The cat [2] sat.", "cat sat", 1, true},
		{"empty answer", "", "cat sat", 0, true},
		{"empty reference", "cat", " [1] ", 0, false},
	})
}

func TestLCS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"a b c d", "a c d", 3},
		{"a c d", "a b c d", 3},
		{"a b", "c d", 0},
		{"", "a", 0},
		{"a b a b", "b a b a", 3},
	} {
		if got := lcs(strings.Fields(tc.a), strings.Fields(tc.b)); got != tc.want {
			t.Errorf("lcs(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCosineSimilarity(t *testing.T) {
	t.Parallel()
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name   string
		a, b   []float32
		cos    float64
		sim    float64
		wantOK bool
	}{
		{"same", []float32{1, 0}, []float32{1, 0}, 1, 1, true},
		{"parallel", []float32{1, 2, 3}, []float32{2, 4, 6}, 1, 1, true},
		{"orthogonal", []float32{1, 0}, []float32{0, 1}, 0, 0, true},
		{"opposite", []float32{1, 0}, []float32{-1, 0}, -1, 0, true},
		// (1·1 + 1·0) / (√2 · 1) = 1/√2
		{"45 degrees", []float32{1, 1}, []float32{1, 0}, 1 / math.Sqrt2, 1 / math.Sqrt2, true},
		{"zero vector", []float32{0, 0}, []float32{1, 0}, 0, 0, false},
		{"both zero", []float32{0, 0}, []float32{0, 0}, 0, 0, false},
		{"mismatched lengths", []float32{1, 0}, []float32{1, 0, 0}, 0, 0, false},
		{"empty", nil, nil, 0, 0, false},
		{"NaN", []float32{nan, 1}, []float32{1, 1}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Cosine(tc.a, tc.b); !near(got, tc.cos) {
				t.Errorf("Cosine = %v, want %v", got, tc.cos)
			}
			if got, ok := Similarity(tc.a, tc.b); ok != tc.wantOK || !near(got, tc.sim) {
				t.Errorf("Similarity = %v, %v; want %v, %v", got, ok, tc.sim, tc.wantOK)
			}
		})
	}
}

func TestMean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.5}, 0.5},
		{[]float64{0, 1, 1, 0}, 0.5},
		{[]float64{0.2, 0.4, 0.9}, 0.5},
	} {
		if got := Mean(tc.xs); !near(got, tc.want) {
			t.Errorf("Mean(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

// pattern returns n scores cycling through 0, 0.25, 0.5, 0.75, 1 (mean
// 0.5 when n is a multiple of 5).
func pattern(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i%5) / 4
	}
	return xs
}

func TestBootstrapCI(t *testing.T) {
	t.Parallel()
	t.Run("edge sizes", func(t *testing.T) {
		t.Parallel()
		if lo, hi := BootstrapCI(nil, 100, 0.95, 1); lo != 0 || hi != 0 {
			t.Errorf("empty: got %v, %v; want 0, 0", lo, hi)
		}
		if lo, hi := BootstrapCI([]float64{0.7}, 100, 0.95, 1); lo != 0.7 || hi != 0.7 {
			t.Errorf("one value: got %v, %v; want 0.7, 0.7", lo, hi)
		}
	})
	t.Run("constant data has zero width", func(t *testing.T) {
		t.Parallel()
		xs := slices.Repeat([]float64{0.3}, 50)
		lo, hi := BootstrapCI(xs, 500, 0.95, 1)
		if lo != hi || !near(lo, 0.3) {
			t.Errorf("got %v, %v; want 0.3, 0.3", lo, hi)
		}
	})
	t.Run("contains the mean", func(t *testing.T) {
		t.Parallel()
		for _, n := range []int{5, 20, 200} {
			xs := pattern(n)
			m := Mean(xs)
			lo, hi := BootstrapCI(xs, 0, 0, 7)
			if !(lo < m && m < hi) {
				t.Errorf("n=%d: interval [%v, %v] does not contain the mean %v", n, lo, hi, m)
			}
		}
	})
	t.Run("narrows as n grows", func(t *testing.T) {
		t.Parallel()
		// The standard error falls as 1/√n: 100× the data, ~10× narrower.
		lo20, hi20 := BootstrapCI(pattern(20), 0, 0, 3)
		lo2k, hi2k := BootstrapCI(pattern(2000), 0, 0, 3)
		if w20, w2k := hi20-lo20, hi2k-lo2k; !(w2k < w20/5) {
			t.Errorf("width with 2000 samples %v, want under a fifth of the width with 20, %v", w2k, w20)
		}
	})
	t.Run("deterministic for a seed", func(t *testing.T) {
		t.Parallel()
		xs := pattern(37)
		lo1, hi1 := BootstrapCI(xs, 1000, 0.9, 42)
		lo2, hi2 := BootstrapCI(xs, 1000, 0.9, 42)
		if lo1 != lo2 || hi1 != hi2 {
			t.Errorf("same seed: [%v, %v] then [%v, %v]", lo1, hi1, lo2, hi2)
		}
		if lo3, hi3 := BootstrapCI(xs, 1000, 0.9, 43); lo3 == lo1 && hi3 == hi1 {
			t.Errorf("seeds 42 and 43 gave the same interval [%v, %v]", lo1, hi1)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		xs := pattern(30)
		wantLo, wantHi := BootstrapCI(xs, DefaultIters, DefaultConfidence, 9)
		for _, c := range []struct {
			iters int
			conf  float64
		}{{0, 0}, {-5, 1}, {0, 1.5}, {DefaultIters, -0.2}, {0, math.NaN()}} {
			if lo, hi := BootstrapCI(xs, c.iters, c.conf, 9); lo != wantLo || hi != wantHi {
				t.Errorf("iters %d, confidence %v: got [%v, %v], want the defaults' [%v, %v]", c.iters, c.conf, lo, hi, wantLo, wantHi)
			}
		}
	})
	t.Run("higher confidence is wider", func(t *testing.T) {
		t.Parallel()
		xs := pattern(30)
		lo95, hi95 := BootstrapCI(xs, 0, 0.95, 5)
		lo99, hi99 := BootstrapCI(xs, 0, 0.99, 5)
		if !(lo99 <= lo95 && hi95 <= hi99 && hi99-lo99 > hi95-lo95) {
			t.Errorf("99%% [%v, %v] does not contain 95%% [%v, %v]", lo99, hi99, lo95, hi95)
		}
	})
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	sorted := []float64{0, 1, 2, 3, 4}
	for _, tc := range []struct{ q, want float64 }{
		{0, 0}, {1, 4}, {0.5, 2}, {0.125, 0.5}, {0.975, 3.9},
	} {
		if got := quantile(sorted, tc.q); !near(got, tc.want) {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestPairedDelta(t *testing.T) {
	t.Parallel()
	base := pattern(40)
	shift := func(xs []float64, by float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x + by
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		a, b        []float64
		want        Delta // Lo and Hi are checked separately
		significant bool
	}{
		{"identical runs", base, slices.Clone(base), Delta{N: 40, Ties: 40}, false},
		{"consistently +0.2", base, shift(base, 0.2), Delta{Mean: 0.2, N: 40, Wins: 40}, true},
		{"consistently −0.3", base, shift(base, -0.3), Delta{Mean: -0.3, N: 40, Losses: 40}, true},
		// d = +1, 0, −1, 0: mean 0, one win, one loss, two ties.
		{"mixed", []float64{0, 0, 1, 1}, []float64{1, 0, 0, 1}, Delta{N: 4, Wins: 1, Losses: 1, Ties: 2}, false},
		// Only the first two pairs count: d = 0.5, 0.5.
		{"lengths differ", []float64{0, 0, 1}, []float64{0.5, 0.5}, Delta{Mean: 0.5, N: 2, Wins: 2}, true},
		// Differences within ε are ties.
		{"rounding noise", []float64{0.1, 0.7}, []float64{0.1 + 1e-12, 0.7 - 1e-12}, Delta{N: 2, Ties: 2}, false},
		{"no pairs", nil, []float64{1}, Delta{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := PairedDelta(tc.a, tc.b, 0, 0, 1)
			if !near(got.Mean, tc.want.Mean) || got.N != tc.want.N ||
				got.Wins != tc.want.Wins || got.Losses != tc.want.Losses || got.Ties != tc.want.Ties {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if !(got.Lo <= got.Mean+tol && got.Mean <= got.Hi+tol) {
				t.Errorf("interval [%v, %v] does not contain the mean %v", got.Lo, got.Hi, got.Mean)
			}
			if got.Significant() != tc.significant {
				t.Errorf("Significant() = %v, want %v (interval [%v, %v])", got.Significant(), tc.significant, got.Lo, got.Hi)
			}
		})
	}
}

func TestPairedDeltaMatchesBootstrapCI(t *testing.T) {
	t.Parallel()
	a := pattern(25)
	b := make([]float64, len(a))
	for i := range b {
		b[i] = pattern(26)[i+1]
	}
	d := make([]float64, len(a))
	for i := range d {
		d[i] = b[i] - a[i]
	}
	got := PairedDelta(a, b, 500, 0.9, 11)
	lo, hi := BootstrapCI(d, 500, 0.9, 11)
	if got.Lo != lo || got.Hi != hi {
		t.Errorf("PairedDelta interval [%v, %v], want BootstrapCI's [%v, %v]", got.Lo, got.Hi, lo, hi)
	}
}

func BenchmarkNDCGAt(b *testing.B) {
	ranked := make([]string, 100)
	rels := make(map[string]float64)
	for i := range ranked {
		ranked[i] = "doc-" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		if i%9 == 0 {
			rels[ranked[i]] = float64(1 + i%3)
		}
	}
	for b.Loop() {
		NDCGAt(ranked, rels, 10)
	}
}

func BenchmarkRougeL(b *testing.B) {
	answer := strings.Repeat("Refunds are processed within five business days of the request [1]. ", 8)
	reference := strings.Repeat("A refund is processed in 5 business days after you request it. ", 8)
	for b.Loop() {
		RougeL(answer, reference)
	}
}

func BenchmarkBootstrapCI(b *testing.B) {
	xs := pattern(200)
	for b.Loop() {
		BootstrapCI(xs, DefaultIters, DefaultConfidence, 1)
	}
}
