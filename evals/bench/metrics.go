package bench

import (
	"math"
	"slices"
	"time"
)

// The metrics are BEIR's (pytrec_eval's) over a ranked list of distinct
// document IDs: graded gains, log2 discounts, an ideal ranking built from
// every judged document, and relevance meaning a score above 0.

// ndcgAt is nDCG@k: gain = relevance, discount log2(rank+1).
func ndcgAt(ranked []string, rels map[string]float64, k int) float64 {
	var dcg float64
	for i, id := range ranked[:min(k, len(ranked))] {
		if g := rels[id]; g > 0 {
			dcg += g / math.Log2(float64(i+2))
		}
	}
	ideal := make([]float64, 0, len(rels))
	for _, g := range rels {
		if g > 0 {
			ideal = append(ideal, g)
		}
	}
	slices.Sort(ideal)
	slices.Reverse(ideal)
	var idcg float64
	for i, g := range ideal[:min(k, len(ideal))] {
		idcg += g / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// recallAt is the share of the relevant documents found in the first k.
func recallAt(ranked []string, rels map[string]float64, k int) float64 {
	relevant, found := 0, 0
	for _, g := range rels {
		if g > 0 {
			relevant++
		}
	}
	if relevant == 0 {
		return 0
	}
	for _, id := range ranked[:min(k, len(ranked))] {
		if rels[id] > 0 {
			found++
		}
	}
	return float64(found) / float64(relevant)
}

// mrrAt is the reciprocal rank of the first relevant document within the
// first k, 0 when there is none.
func mrrAt(ranked []string, rels map[string]float64, k int) float64 {
	for i, id := range ranked[:min(k, len(ranked))] {
		if rels[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// documentRanking turns a ranked list of chunks' document IDs into
// distinct documents at their best rank, leaving out skip (the query's
// own ID under ignore_identical_ids; "" skips nothing but unknown chunks).
// Dropping happens before any cut at k, as in BEIR.
func documentRanking(docs []string, skip string) []string {
	seen := make(map[string]bool, len(docs))
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		if d == "" || d == skip || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

// percentileMs is the nearest-rank p-th percentile (0 < p ≤ 1) in
// milliseconds; 0 for no samples.
func percentileMs(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[min(max(i, 0), len(s)-1)]) / float64(time.Millisecond)
}

// mean is the arithmetic mean; 0 for no values.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
