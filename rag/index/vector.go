package index

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	chromem "github.com/philippgille/chromem-go"

	"llmops/store"
)

// Vectors is the in-memory vector index (chromem-go) of one embedding
// model. It is loaded from the store at start-up: chromem's own
// persistence writes a file per document without fsync (chromem-go #120),
// so bbolt keeps the vectors instead.
type Vectors struct {
	mu    sync.RWMutex
	col   *chromem.Collection
	model string
}

// NewVectors returns an empty index for model.
func NewVectors(model string) (*Vectors, error) {
	db := chromem.NewDB()
	// Vectors are always given; the embedding func must never be called.
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, fmt.Errorf("vector index: text given without a vector")
	}
	col, err := db.CreateCollection("chunks", nil, noEmbed)
	if err != nil {
		return nil, err
	}
	return &Vectors{col: col, model: model}, nil
}

// Model is the embedding model whose vectors this index holds.
func (v *Vectors) Model() string { return v.model }

func metadataOf(e Entry) map[string]string {
	m := map[string]string{}
	if e.Category != "" {
		m[store.MetaCategory] = e.Category
	}
	if e.ProductVersion != "" {
		m[store.MetaProductVersion] = e.ProductVersion
	}
	// chromem filters by metadata equality, so each tag is its own key.
	for _, t := range e.Tags {
		m[store.MetaTag+":"+t] = "1"
	}
	return m
}

// Apply removes and adds vectors. vecs[i] belongs to add[i].
func (v *Vectors) Apply(ctx context.Context, remove []string, add []Entry, vecs [][]float32) error {
	if len(add) != len(vecs) {
		return fmt.Errorf("vector index: %d vectors for %d entries", len(vecs), len(add))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(remove) > 0 {
		if err := v.col.Delete(ctx, nil, nil, remove...); err != nil {
			return err
		}
	}
	if len(add) == 0 {
		return nil
	}
	docs := make([]chromem.Document, len(add))
	for i, e := range add {
		docs[i] = chromem.Document{ID: e.ID, Metadata: metadataOf(e), Embedding: vecs[i]}
	}
	return v.col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0))
}

// Count returns how many vectors the index holds.
func (v *Vectors) Count() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.col.Count()
}

// Search returns the n chunks nearest to vec (cosine), within filter f.
func (v *Vectors) Search(ctx context.Context, vec []float32, n int, f Filter) ([]Hit, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if c := v.col.Count(); n > c {
		n = c
	}
	if n == 0 {
		return nil, nil
	}
	// chromem filters by equality only, so "any of" is a query per
	// combination. Each returns its own top n; the best n of their union
	// are the best n overall, as every one of those is in the top n of a
	// combination it matches.
	conj := f.normalized().conjunctions()
	if len(conj) == 1 {
		return v.query(ctx, vec, n, conj[0])
	}
	var hits []Hit
	seen := map[string]bool{}
	for _, g := range conj {
		hs, err := v.query(ctx, vec, n, g)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			if !seen[h.ID] {
				seen[h.ID] = true
				hits = append(hits, h)
			}
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.ID, b.ID))
	})
	return hits[:min(n, len(hits))], nil
}

// query is one chromem search within an equality-only filter. v.mu is
// held.
func (v *Vectors) query(ctx context.Context, vec []float32, n int, f Filter) ([]Hit, error) {
	var where map[string]string
	if !f.Empty() {
		where = metadataOf(Entry{Category: f.Category, ProductVersion: f.ProductVersion, Tags: f.Tags})
	}
	res, err := v.col.QueryEmbedding(ctx, vec, n, where, nil)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, len(res))
	for i, r := range res {
		hits[i] = Hit{ID: r.ID, Score: float64(r.Similarity)}
	}
	return hits, nil
}
