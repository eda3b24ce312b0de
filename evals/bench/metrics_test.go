package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	rels := map[string]float64{"a": 2, "b": 1, "z": 0}
	log2 := math.Log2
	tests := []struct {
		name              string
		ranked            []string
		rels              map[string]float64
		ndcg, recall, mrr float64
	}{
		{"ideal", []string{"a", "b", "x"}, rels, 1, 1, 1},
		{"swapped", []string{"b", "a"}, rels, (1 + 2/log2(3)) / (2 + 1/log2(3)), 1, 1},
		{"second at rank 3", []string{"x", "y", "b"}, rels, (1 / log2(4)) / (2 + 1/log2(3)), 0.5, 1.0 / 3},
		{"judged not relevant is no hit", []string{"z"}, rels, 0, 0, 0},
		{"beyond 10 counts for recall only", append(slices.Repeat([]string{""}, 10), "a"), rels, 0, 0.5, 0},
		{"nothing relevant judged", []string{"a"}, map[string]float64{}, 0, 0, 0},
		{"empty ranking", nil, rels, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ndcg10(tt.ranked, tt.rels); math.Abs(got-tt.ndcg) > 1e-12 {
				t.Errorf("nDCG@10: got %.6f, want %.6f", got, tt.ndcg)
			}
			if got := recall100(tt.ranked, tt.rels); math.Abs(got-tt.recall) > 1e-12 {
				t.Errorf("recall@100: got %.6f, want %.6f", got, tt.recall)
			}
			if got := mrr10(tt.ranked, tt.rels); math.Abs(got-tt.mrr) > 1e-12 {
				t.Errorf("MRR@10: got %.6f, want %.6f", got, tt.mrr)
			}
		})
	}
}

func TestDocumentRanking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		docs       []string
		skip       string
		want       []string
		wantNDCG10 float64 // against {"q": 1, "d": 1}
	}{
		// A document with several chunks counts once, at its best rank.
		{"dedupe", []string{"a", "b", "a", "c"}, "", []string{"a", "b", "c"}, 0},
		{"unknown chunks dropped", []string{"", "a", ""}, "", []string{"a"}, 0},
		// The query's own document goes before the cut at k, so the
		// document behind it moves up.
		{"identical ID dropped", []string{"q", "d", "q"}, "q", []string{"d"}, 1 / (1 + 1/math.Log2(3))},
		{"identical ID kept", []string{"q", "d"}, "", []string{"q", "d"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := documentRanking(tt.docs, tt.skip)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if n := ndcg10(got, map[string]float64{"q": 1, "d": 1}); math.Abs(n-tt.wantNDCG10) > 1e-12 {
				t.Errorf("nDCG@10: got %.6f, want %.6f", n, tt.wantNDCG10)
			}
		})
	}
}

func TestPercentileMs(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want float64
	}{{0.5, 50}, {0.95, 95}, {1, 100}, {0.001, 1}} {
		if got := percentileMs(ds, tt.p); got != tt.want {
			t.Errorf("p%v: got %v ms, want %v", tt.p*100, got, tt.want)
		}
	}
	if got := percentileMs(nil, 0.5); got != 0 {
		t.Errorf("no samples: got %v, want 0", got)
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("percentileMs sorted its argument in place")
	}
}
