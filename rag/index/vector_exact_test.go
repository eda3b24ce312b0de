package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"llmops/store"
)

// bruteForce is the reference the vector index must match: every stored
// vector (as the store keeps it, in half floats) scored by cosine in
// float64 (vecs holds them as the store returns them), filtered by testing each field, best first, ties by ID. It
// returns the IDs and every stored vector's cosine.
func bruteForce(stored map[string]Entry, vecs map[string][]float32, q []float32, n int, f Filter) ([]string, map[string]float64) {
	f = f.normalized()
	type sc struct {
		id string
		s  float64
	}
	var all []sc
	cos := map[string]float64{}
	for id, e := range stored {
		v := vecs[id]
		var dot, nq, nv float64
		for i := range v {
			dot += float64(q[i]) * float64(v[i])
			nq += float64(q[i]) * float64(q[i])
			nv += float64(v[i]) * float64(v[i])
		}
		cos[id] = dot / math.Sqrt(nq*nv)
		if matches(e, f) {
			all = append(all, sc{id, cos[id]})
		}
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	out := []string{}
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.id)
	}
	return out, cos
}

// matches is the filter's definition, field by field.
func matches(e Entry, f Filter) bool {
	has := func(t string) bool { return slices.Contains(e.Tags, t) }
	switch {
	case f.Category != "" && e.Category != f.Category,
		f.ProductVersion != "" && e.ProductVersion != f.ProductVersion,
		len(f.AnyCategories) > 0 && !slices.Contains(f.AnyCategories, e.Category),
		len(f.AnyTags) > 0 && !slices.ContainsFunc(f.AnyTags, has):
		return false
	}
	for _, t := range f.Tags {
		if !has(t) {
			return false
		}
	}
	return true
}

// TestVectorsExact: the scan returns exactly what a brute-force scan
// returns, with and without filters, on the one-goroutine and the
// parallel path, after replacements and deletions.
func TestVectorsExact(t *testing.T) {
	for _, tc := range []struct {
		name               string
		rows, dim, queries int
	}{
		{"small", 3000, 24, 20},
		{"parallel", 2*parallelRows + 17, 8, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.rows)))
			cats := []string{"billing", "admin", "integrations", ""}
			tags := []string{"public", "internal", "slack"}
			stored := map[string]Entry{}
			vecs := map[string][]float32{}
			mk := func(id string) (Entry, []float32) {
				e := Entry{ID: id, Category: cats[rng.IntN(len(cats))]}
				if rng.IntN(3) == 0 {
					e.ProductVersion = "v" + fmt.Sprint(rng.IntN(3))
				}
				for _, tg := range tags {
					if rng.IntN(2) == 0 {
						e.Tags = append(e.Tags, tg)
					}
				}
				v := make([]float32, tc.dim)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				return e, v
			}
			idx, _ := NewVectors("m")
			apply := func(remove []string, add []Entry, vs [][]float32) {
				t.Helper()
				if err := idx.Apply(context.Background(), remove, add, vs); err != nil {
					t.Fatal(err)
				}
				for _, id := range remove {
					delete(stored, id)
					delete(vecs, id)
				}
				for i, e := range add {
					stored[e.ID], vecs[e.ID] = e, store.DecodeVector(store.EncodeVector(vs[i]))
				}
			}
			var add []Entry
			var vs [][]float32
			for i := range tc.rows {
				e, v := mk(fmt.Sprintf("c%06d", i))
				add, vs = append(add, e), append(vs, v)
			}
			apply(nil, add, vs)
			// Replace some, delete some (the first, the last, the middle).
			var rem []string
			add, vs = nil, nil
			for i := 0; i < tc.rows; i += 97 {
				rem = append(rem, fmt.Sprintf("c%06d", i))
				e, v := mk(fmt.Sprintf("c%06d", i+1))
				add, vs = append(add, e), append(vs, v)
			}
			rem = append(rem, fmt.Sprintf("c%06d", tc.rows-1))
			apply(rem, add, vs)
			if got := idx.Count(); got != len(stored) {
				t.Fatalf("Count = %d, want %d", got, len(stored))
			}
			filters := []Filter{
				{},
				{Category: "Billing"},
				{Tags: []string{"public", "slack"}},
				{ProductVersion: "v1", Tags: []string{"internal"}},
				{AnyCategories: []string{"admin", "integrations"}, AnyTags: []string{"slack", "internal"}},
				{Category: "admin", AnyCategories: []string{"billing"}},
				{Category: "no-such-category"},
			}
			same, total := 0, 0
			for qi := range tc.queries {
				_, q := mk("q")
				for fi, f := range filters {
					for _, n := range []int{1, 10, 50} {
						hits, err := idx.Search(context.Background(), q, n, f)
						if err != nil {
							t.Fatal(err)
						}
						want, cos := bruteForce(stored, vecs, q, n, f)
						got := hitIDs(hits)
						if len(got) != len(want) {
							t.Fatalf("query %d, filter %d, top %d: %d hits, want %d", qi, fi, n, len(got), len(want))
						}
						// The scan sums in float32: two chunks whose cosines
						// differ by less than its rounding (~1e-7) may
						// swap. Anything else is a wrong result.
						for i := range got {
							if d := math.Abs(cos[got[i]] - cos[want[i]]); d > 1e-6 || !matches(stored[got[i]], f.normalized()) {
								t.Fatalf("query %d, filter %d, top %d, rank %d: got %s (cos %.7f), want %s (cos %.7f)\n got %v\nwant %v",
									qi, fi, n, i+1, got[i], cos[got[i]], want[i], cos[want[i]], got, want)
							}
							if got[i] == want[i] {
								same++
							}
							total++
						}
					}
				}
			}
			t.Logf("%d of %d ranks hold the brute-force ID; the rest are float32 ties", same, total)
			if same < total*98/100 {
				t.Errorf("only %d of %d ranks match the brute-force IDs", same, total)
			}
		})
	}
}
