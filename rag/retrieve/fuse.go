package retrieve

import (
	"cmp"
	"math"
	"slices"
)

// Fusion methods.
const (
	// FusionRRF is weighted reciprocal rank fusion (Cormack, Clarke &
	// Büttcher 2009): a chunk scores Σ wᵢ / (k + rankᵢ) over the lists it
	// is in. It needs no score calibration, so any embedder fits.
	FusionRRF = "rrf"
	// FusionConvex is a convex combination of min-max normalised scores:
	// (wₖ·bm25 + wᵥ·cos) / (wₖ + wᵥ), a chunk missing from a list scoring
	// that list's minimum (0). It uses how far apart the scores are, not
	// only their order.
	FusionConvex = "convex"
)

// DefaultFusion is the fusion a zero Options gets. Chosen by
// leave-one-dataset-out (llmops bench retrieval --leave-one-out): the
// best mean gain over BM25 on the sample help centre, NFCorpus and
// ArguAna (+0.026 nDCG@10; RRF +0.024, convex +0.025 but −0.002 on
// ArguAna), never below BM25 on any of them; and it is the fusion that
// reads each list's confidence, which RRF's ranks cannot (see
// docs/BENCHMARKS.md, "Retrieval that generalizes").
const DefaultFusion = FusionZScore

// fused is one chunk while lists are combined.
type fused struct {
	hit  Hit
	best int // best rank in any list, for ties
}

// fuseRRF combines the keyword and vector lists by weighted reciprocal
// rank fusion with constant k.
func fuseRRF(kw, vec []Hit, wk, wv, k float64) []Hit {
	return combine(kw, vec, func(h *Hit) float64 {
		var s float64
		if h.KeywordRank > 0 {
			s += wk / (k + float64(h.KeywordRank))
		}
		if h.VectorRank > 0 {
			s += wv / (k + float64(h.VectorRank))
		}
		return s
	})
}

// fuseConvex combines the two lists' min-max normalised scores, weighted
// wk and wv. Normalising over the returned candidates rather than
// theoretical bounds is what makes BM25's open-ended scores comparable
// with cosines.
func fuseConvex(kw, vec []Hit, wk, wv float64) []Hit {
	nk, nv := minMax(kw), minMax(vec)
	sum := wk + wv
	if sum == 0 {
		sum = 1
	}
	return combine(kw, vec, func(h *Hit) float64 {
		var s float64
		if h.KeywordRank > 0 {
			s += wk * nk[h.KeywordRank-1]
		}
		if h.VectorRank > 0 {
			s += wv * nv[h.VectorRank-1]
		}
		return s / sum
	})
}

// minMax returns the scores of hits scaled to [0, 1]; all 1 when they are
// equal (one hit, or a flat list).
func minMax(hits []Hit) []float64 {
	out := make([]float64, len(hits))
	if len(hits) == 0 {
		return out
	}
	lo, hi := hits[0].Score, hits[0].Score
	for _, h := range hits {
		lo, hi = min(lo, h.Score), max(hi, h.Score)
	}
	for i, h := range hits {
		if hi > lo {
			out[i] = (h.Score - lo) / (hi - lo)
		} else {
			out[i] = 1
		}
	}
	return out
}

// combine merges two ranked lists (ranks are positions, from 1), scores
// each chunk with score, and sorts best first. Ties go to the better best
// rank, then to the chunk BM25 found, then to the smaller ID, so the order
// never depends on map iteration or sort stability.
func combine(kw, vec []Hit, score func(*Hit) float64) []Hit {
	pos := make(map[string]int, len(kw)+len(vec))
	all := make([]fused, 0, len(kw)+len(vec))
	for i, h := range kw {
		if _, dup := pos[h.ID]; dup {
			continue // an index never returns a chunk twice; be safe anyway
		}
		pos[h.ID] = len(all)
		all = append(all, fused{hit: Hit{ID: h.ID, KeywordRank: i + 1}, best: i + 1})
	}
	for i, h := range vec {
		if j, ok := pos[h.ID]; ok {
			if all[j].hit.VectorRank == 0 {
				all[j].hit.VectorRank = i + 1
				all[j].best = min(all[j].best, i+1)
			}
			continue
		}
		pos[h.ID] = len(all)
		all = append(all, fused{hit: Hit{ID: h.ID, VectorRank: i + 1}, best: i + 1})
	}
	for i := range all {
		all[i].hit.Score = score(&all[i].hit)
	}
	slices.SortFunc(all, func(a, b fused) int {
		if c := cmp.Compare(b.hit.Score, a.hit.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.best, b.best); c != 0 {
			return c
		}
		if ak, bk := a.hit.KeywordRank > 0, b.hit.KeywordRank > 0; ak != bk {
			if ak {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.hit.ID, b.hit.ID)
	})
	out := make([]Hit, len(all))
	for i, f := range all {
		out[i] = f.hit
		out[i].Rank = i + 1
	}
	return out
}

// FusionZScore combines the two lists' scores standardised per query:
// each score becomes its distance from its list's mean in standard
// deviations (over the candidates returned), and a chunk scores
// wₖ·zₖ + wᵥ·zᵥ, a chunk missing from a list taking that list's lowest z.
// Unlike RRF it keeps how far a list's top stands out from the rest: a
// BM25 top hit far ahead of its runners-up stays on top unless the vector
// list is as sure of something else.
const FusionZScore = "zscore"

// fuseZScore is FusionZScore.
func fuseZScore(kw, vec []Hit, wk, wv float64) []Hit {
	zk, zv := zScores(kw), zScores(vec)
	lowK, lowV := lowest(zk), lowest(zv)
	return combine(kw, vec, func(h *Hit) float64 {
		s := wk * lowK
		if h.KeywordRank > 0 {
			s = wk * zk[h.KeywordRank-1]
		}
		if h.VectorRank > 0 {
			s += wv * zv[h.VectorRank-1]
		} else {
			s += wv * lowV
		}
		return s
	})
}

// zScores standardises hits' scores: (s − mean) / sd; all 0 when the list
// is flat or has fewer than two hits.
func zScores(hits []Hit) []float64 {
	out := make([]float64, len(hits))
	if len(hits) < 2 {
		return out
	}
	var mean float64
	for _, h := range hits {
		mean += h.Score
	}
	mean /= float64(len(hits))
	var v float64
	for _, h := range hits {
		v += (h.Score - mean) * (h.Score - mean)
	}
	sd := math.Sqrt(v / float64(len(hits)))
	if sd == 0 {
		return out
	}
	for i, h := range hits {
		out[i] = (h.Score - mean) / sd
	}
	return out
}

func lowest(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Min(xs)
}
