package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"llmops/store"
)

func entries(n int) []Entry {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("shift roster swap payroll export invoice refund plan seat admin manager employee schedule " +
		"slack teams calendar sync webhook token api rate limit page cursor error retry clock timesheet overtime location")
	out := make([]Entry, n)
	for i := range out {
		var b strings.Builder
		for range 100 {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		out[i] = Entry{ID: fmt.Sprintf("doc%05d-%05d", i/10, i%10), Text: b.String(), Category: []string{"billing", "admin"}[i%2], Tags: []string{"t1"}}
	}
	return out
}

func TestKeywordFilterAndFingerprint(t *testing.T) {
	k, err := OpenKeyword(filepath.Join(t.TempDir(), "kw"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	es := entries(20)
	fp := store.Fingerprint{1, 2, 3}
	if err := k.Apply(context.Background(), nil, es, fp); err != nil {
		t.Fatal(err)
	}
	got, n, err := k.Fingerprint()
	if err != nil || got != fp || n != 20 {
		t.Fatalf("fingerprint = %v, %d, %v", got, n, err)
	}
	hits, _ := k.Search(context.Background(), "refund invoice", 20, Filter{Category: "Billing"})
	if len(hits) != 10 {
		t.Errorf("category filter: %d hits, want the 10 billing entries", len(hits))
	}
	for _, h := range hits {
		if id := h.ID; id[len(id)-1]%2 == 1 {
			t.Errorf("admin entry %s passed a billing filter", id)
		}
	}
	if err := k.Apply(context.Background(), []string{es[0].ID}, nil, store.Fingerprint{}); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := k.Fingerprint(); n != 19 {
		t.Errorf("after a delete: %d docs", n)
	}
}

func TestVectorFilter(t *testing.T) {
	v, _ := NewVectors("m")
	es := entries(4)
	vecs := [][]float32{{1, 0}, {0.9, 0.1}, {0, 1}, {0.1, 0.9}}
	if err := v.Apply(context.Background(), nil, es, vecs); err != nil {
		t.Fatal(err)
	}
	hits, _ := v.Search(context.Background(), []float32{1, 0}, 10, Filter{Category: "admin"})
	if len(hits) != 2 || hits[0].ID != es[1].ID {
		t.Errorf("filtered vector hits = %+v", hits)
	}
	hits, _ = v.Search(context.Background(), []float32{1, 0}, 10, Filter{Tags: []string{"T1"}})
	if len(hits) != 4 {
		t.Errorf("tag filter: %d hits, want 4", len(hits))
	}
}

// scopedEntries are six chunks over three categories with mixed tags.
func scopedEntries() []Entry {
	return []Entry{
		{ID: "b-pub", Text: "refund invoice plan", Category: "billing", Tags: []string{"public"}},
		{ID: "b-int", Text: "refund invoice plan", Category: "billing", Tags: []string{"internal"}},
		{ID: "i-pub", Text: "refund invoice plan", Category: "integrations", Tags: []string{"public", "slack"}},
		{ID: "i-int", Text: "refund invoice plan", Category: "integrations", Tags: []string{"internal", "slack"}},
		{ID: "a-pub", Text: "refund invoice plan", Category: "admin", Tags: []string{"public"}},
		{ID: "a-none", Text: "refund invoice plan", Category: "admin"},
	}
}

// TestScopedFilters: AnyCategories and AnyTags narrow a filter the same
// way in both indexes, and a request's own fields cannot widen them.
func TestScopedFilters(t *testing.T) {
	es := scopedEntries()
	k, err := OpenKeyword(filepath.Join(t.TempDir(), "kw"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := k.Apply(context.Background(), nil, es, store.Fingerprint{}); err != nil {
		t.Fatal(err)
	}
	v, _ := NewVectors("m")
	vecs := make([][]float32, len(es))
	for i := range vecs {
		vecs[i] = []float32{1, float32(i) / 10} // a strict order: b-pub nearest
	}
	if err := v.Apply(context.Background(), nil, es, vecs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []string // in vector order
	}{
		{"categories", Filter{AnyCategories: []string{"Billing", "integrations"}}, []string{"b-pub", "b-int", "i-pub", "i-int"}},
		{"tags", Filter{AnyTags: []string{"public"}}, []string{"b-pub", "i-pub", "a-pub"}},
		{"categories and tags", Filter{AnyCategories: []string{"billing", "integrations"}, AnyTags: []string{"public", "slack"}}, []string{"b-pub", "i-pub", "i-int"}},
		{"request category inside", Filter{Category: "integrations", AnyCategories: []string{"billing", "integrations"}}, []string{"i-pub", "i-int"}},
		{"request category outside", Filter{Category: "admin", AnyCategories: []string{"billing"}}, nil},
		{"request tag outside", Filter{Tags: []string{"internal"}, AnyTags: []string{"public"}}, nil},
		{"request tag inside", Filter{Tags: []string{"slack"}, AnyTags: []string{"public"}}, []string{"i-pub"}},
		{"request tag is a scope tag", Filter{Tags: []string{"public"}, AnyTags: []string{"public", "slack"}}, []string{"b-pub", "i-pub", "a-pub"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := v.Search(context.Background(), []float32{1, 0}, 10, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := hitIDs(hits); !slices.Equal(got, tc.want) {
				t.Errorf("vector hits %v, want %v", got, tc.want)
			}
			if hits, _ := v.Search(context.Background(), []float32{1, 0}, 2, tc.f); len(tc.want) >= 2 && !slices.Equal(hitIDs(hits), tc.want[:2]) {
				t.Errorf("vector top 2 %v, want %v", hitIDs(hits), tc.want[:2])
			}
			kw, err := k.Search(context.Background(), "refund", 10, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(kw)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("keyword hits %v, want %v", got, want)
			}
		})
	}
}

func hitIDs(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

// BenchmarkKeywordIndexing compares the lean mapping with bleve's default
// (stored fields, term vectors, _all, doc values), batches of 1,000.
func BenchmarkKeywordIndexing(b *testing.B) {
	es := entries(10000)
	for _, tc := range []struct {
		name string
		m    func() mapping.IndexMapping
	}{
		{"lean", keywordMapping},
		{"default", func() mapping.IndexMapping {
			m := bleve.NewIndexMapping()
			m.ScoringModel = bleveindex.BM25Scoring
			return m
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				idx, err := bleve.New(filepath.Join(b.TempDir(), "kw"), tc.m())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for lo := 0; lo < len(es); lo += 1000 {
					batch := idx.NewBatch()
					for _, e := range es[lo : lo+1000] {
						batch.Index(e.ID, keywordDoc{Text: e.Text, Category: e.Category, Tags: e.Tags})
					}
					if err := idx.Batch(batch); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				idx.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(len(es)*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// TestVectorsReserveAndGrow: an index sized by Reserve allocates its
// halves once, and one grown batch by batch (removals included) ranks
// exactly as the reserved one does.
func TestVectorsReserveAndGrow(t *testing.T) {
	const rows, dim, batch = 3000, 16, 128
	rng := rand.New(rand.NewPCG(3, 4))
	es := make([]Entry, rows)
	vecs := make([][]float32, rows)
	for i := range es {
		es[i] = Entry{ID: fmt.Sprintf("d%05d-0", i), Category: []string{"a", "b"}[i%2]}
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = float32(rng.NormFloat64())
		}
	}
	ctx := context.Background()
	reserved, _ := NewVectors("m")
	reserved.Reserve(rows)
	grown, _ := NewVectors("m")
	gone := map[string]bool{}
	for lo := 0; lo < rows; lo += batch {
		hi := min(lo+batch, rows)
		if err := reserved.Apply(ctx, nil, es[lo:hi], vecs[lo:hi]); err != nil {
			t.Fatal(err)
		}
		// grown also loses, then gets back, a row of each batch.
		if err := grown.Apply(ctx, nil, es[lo:hi], vecs[lo:hi]); err != nil {
			t.Fatal(err)
		}
		if err := grown.Apply(ctx, []string{es[lo].ID}, nil, nil); err != nil {
			t.Fatal(err)
		}
		gone[es[lo].ID] = true
	}
	if got := cap(reserved.data); got != rows*dim {
		t.Errorf("reserved index: room for %d halves, want %d (allocated once)", got, rows*dim)
	}
	var back []Entry
	var backVecs [][]float32
	for i, e := range es {
		if gone[e.ID] {
			back, backVecs = append(back, e), append(backVecs, vecs[i])
		}
	}
	if err := grown.Apply(ctx, nil, back, backVecs); err != nil {
		t.Fatal(err)
	}
	if reserved.Count() != rows || grown.Count() != rows {
		t.Fatalf("counts %d and %d, want %d", reserved.Count(), grown.Count(), rows)
	}
	for q := range 20 {
		for _, f := range []Filter{{}, {Category: "b"}} {
			a, _ := reserved.Search(ctx, vecs[q*97], 10, f)
			b, _ := grown.Search(ctx, vecs[q*97], 10, f)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("query %d %+v: reserved %v, grown %v", q, f, a, b)
			}
			if f.Empty() && a[0].ID != es[q*97].ID {
				t.Errorf("query %d: nearest %s, want itself %s", q, a[0].ID, es[q*97].ID)
			}
		}
	}
}
