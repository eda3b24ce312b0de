package bench

import (
	"math"
	"slices"
	"time"

	"llmops/evals/metrics"
)

// The ranking metrics are evals/metrics' (BEIR's, pytrec_eval's); a
// query without a judged document scores 0 there, as in BEIR.

func ndcg10(ranked []string, rels map[string]float64) float64 {
	v, _ := metrics.NDCGAt(ranked, rels, 10)
	return v
}

func mrr10(ranked []string, rels map[string]float64) float64 {
	v, _ := metrics.MRRAt(ranked, rels, 10)
	return v
}

func recall100(ranked []string, rels map[string]float64) float64 {
	v, _ := metrics.RecallAt(ranked, rels, 100)
	return v
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
