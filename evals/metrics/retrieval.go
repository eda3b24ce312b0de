package metrics

import (
	"math"
	"slices"
)

// Dedupe returns ids without repeats, keeping each ID's first occurrence
// and the order. ids is not modified.
func Dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// HitAt is 1 when any of the first k ranked IDs is relevant, else 0.
// ok=false when k < 1 or rels has no relevant ID.
func HitAt(ranked []string, rels map[string]float64, k int) (float64, bool) {
	if k < 1 || countRelevant(rels) == 0 {
		return 0, false
	}
	for i := range min(k, len(ranked)) {
		if rels[ranked[i]] > 0 {
			return 1, true
		}
	}
	return 0, true
}

// RecallAt is the share of all relevant IDs found in the first k ranked
// IDs. ok=false when k < 1 or rels has no relevant ID.
func RecallAt(ranked []string, rels map[string]float64, k int) (float64, bool) {
	n := countRelevant(rels)
	if k < 1 || n == 0 {
		return 0, false
	}
	found := 0
	for i := range min(k, len(ranked)) {
		if isFirstRelevant(ranked, i, rels) {
			found++
		}
	}
	return float64(found) / float64(n), true
}

// MRRAt is 1/rank (ranks from 1) of the first relevant ID among the first
// k ranked IDs, or 0 when none is relevant. Averaged over queries it is the
// mean reciprocal rank. ok=false when k < 1 or rels has no relevant ID.
func MRRAt(ranked []string, rels map[string]float64, k int) (float64, bool) {
	if k < 1 || countRelevant(rels) == 0 {
		return 0, false
	}
	for i := range min(k, len(ranked)) {
		if rels[ranked[i]] > 0 {
			return 1 / float64(i+1), true
		}
	}
	return 0, true
}

// NDCGAt is the normalised discounted cumulative gain at k, defined as
// trec_eval's ndcg_cut (pytrec_eval, BEIR) defines it: the gain of an ID
// is its grade, so
//
//	DCG@k  = Σ_{i<k} rel_i / log2(i+2)   (i from 0, over ranked)
//	IDCG@k = the same sum over every relevant grade in rels, sorted
//	         descending and cut at k
//	nDCG@k = DCG@k / IDCG@k
//
// ok=false when k < 1 or rels has no relevant ID.
func NDCGAt(ranked []string, rels map[string]float64, k int) (float64, bool) {
	if k < 1 {
		return 0, false
	}
	grades := make([]float64, 0, len(rels))
	for _, g := range rels {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	if len(grades) == 0 {
		return 0, false
	}
	var dcg float64
	for i := range min(k, len(ranked)) {
		if isFirstRelevant(ranked, i, rels) {
			dcg += rels[ranked[i]] / math.Log2(float64(i+2))
		}
	}
	slices.Sort(grades)
	slices.Reverse(grades)
	var idcg float64
	for i, g := range grades[:min(k, len(grades))] {
		idcg += g / math.Log2(float64(i+2))
	}
	return dcg / idcg, true
}

// ContextPrecision is RAGAS's IDBasedContextPrecision: the share of the
// distinct retrieved IDs that are relevant, |retrieved ∩ relevant| ÷
// |retrieved|. Rank plays no part. ok=false when retrieved is empty or
// rels has no relevant ID.
func ContextPrecision(retrieved []string, rels map[string]float64) (float64, bool) {
	hits, distinct := overlap(retrieved, rels)
	if distinct == 0 || countRelevant(rels) == 0 {
		return 0, false
	}
	return float64(hits) / float64(distinct), true
}

// ContextRecall is RAGAS's IDBasedContextRecall: the share of the relevant
// IDs that were retrieved, |retrieved ∩ relevant| ÷ |relevant|. An empty
// retrieved list scores 0. ok=false when rels has no relevant ID.
func ContextRecall(retrieved []string, rels map[string]float64) (float64, bool) {
	n := countRelevant(rels)
	if n == 0 {
		return 0, false
	}
	hits, _ := overlap(retrieved, rels)
	return float64(hits) / float64(n), true
}

// overlap counts the distinct IDs of retrieved and how many of them are
// relevant.
func overlap(retrieved []string, rels map[string]float64) (hits, distinct int) {
	seen := make(map[string]struct{}, len(retrieved))
	for _, id := range retrieved {
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		if rels[id] > 0 {
			hits++
		}
	}
	return hits, len(seen)
}

func countRelevant(rels map[string]float64) int {
	n := 0
	for _, g := range rels {
		if g > 0 {
			n++
		}
	}
	return n
}

// isFirstRelevant reports whether ranked[i] is relevant and does not
// appear earlier in ranked. Only relevant IDs pay for the look-back, so a
// deduplicated list costs O(k · relevant hits) comparisons and nothing
// allocates.
func isFirstRelevant(ranked []string, i int, rels map[string]float64) bool {
	return rels[ranked[i]] > 0 && !slices.Contains(ranked[:i], ranked[i])
}
