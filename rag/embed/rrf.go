package embed

import (
	"cmp"
	"slices"
)

// RRF fuses ranked lists of IDs by weighted reciprocal rank fusion
// (Cormack, Clarke & Büttcher 2009): an ID scores Σ w_i / (k + rank_i),
// rank counted from 1, over the lists it appears in. weights may be nil
// (all 1) or give one weight per list; k is usually 60. Ties keep the
// order of first appearance, scanning the lists in turn, so the result is
// deterministic.
func RRF(rankings [][]string, weights []float64, k float64) []string {
	type entry struct {
		score float64
		first int
	}
	scores := make(map[string]*entry)
	var order []string
	for i, list := range rankings {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		for r, id := range list {
			e, ok := scores[id]
			if !ok {
				e = &entry{first: len(order)}
				scores[id] = e
				order = append(order, id)
			}
			e.score += w / (k + float64(r+1))
		}
	}
	slices.SortStableFunc(order, func(a, b string) int {
		ea, eb := scores[a], scores[b]
		if c := cmp.Compare(eb.score, ea.score); c != 0 {
			return c
		}
		return cmp.Compare(ea.first, eb.first)
	})
	return order
}
