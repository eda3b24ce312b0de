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
