package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"sync"

	"llmops/rag"
	"llmops/rag/index"
	"llmops/rag/retrieve"
	"llmops/store"
)

// cachedSearcher remembers the knowledge base's searches, so candidates
// that differ only in fusion, feedback and reranking replay the same
// first searches instead of repeating them. Filters are never used here.
type cachedSearcher struct {
	kb     *rag.KnowledgeBase
	mu     sync.Mutex
	kw     map[string][]index.Hit
	embeds map[string][]float32
	vec    map[string][]index.Hit
}

var (
	_ retrieve.Searcher        = (*cachedSearcher)(nil)
	_ retrieve.PassageEmbedder = (*cachedSearcher)(nil)
	_ retrieve.TermSearcher    = (*cachedSearcher)(nil)
)

func newCachedSearcher(kb *rag.KnowledgeBase) *cachedSearcher {
	return &cachedSearcher{kb: kb, kw: map[string][]index.Hit{}, embeds: map[string][]float32{}, vec: map[string][]index.Hit{}}
}

// cached returns m[key], or computes, stores and returns it.
func cached[V any](c *cachedSearcher, m map[string]V, key string, compute func() (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := m[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compute()
	if err == nil {
		c.mu.Lock()
		m[key] = v
		c.mu.Unlock()
	}
	return v, err
}

var errFiltered = errors.New("bench: the search cache takes no filters")

func (c *cachedSearcher) SearchKeyword(ctx context.Context, q string, n int, f index.Filter) ([]index.Hit, error) {
	if !f.Empty() {
		return nil, errFiltered
	}
	return cached(c, c.kw, strconv.Itoa(n)+"\x00"+q, func() ([]index.Hit, error) { return c.kb.SearchKeyword(ctx, q, n, f) })
}

func (c *cachedSearcher) EmbedQuery(ctx context.Context, q string) ([]float32, error) {
	return cached(c, c.embeds, q, func() ([]float32, error) { return c.kb.EmbedQuery(ctx, q) })
}

func (c *cachedSearcher) SearchEmbedding(ctx context.Context, v []float32, n int, f index.Filter) ([]index.Hit, error) {
	if !f.Empty() {
		return nil, errFiltered
	}
	key := make([]byte, 4*len(v)+8)
	for i, x := range v {
		binary.LittleEndian.PutUint32(key[4*i:], math.Float32bits(x))
	}
	binary.LittleEndian.PutUint64(key[4*len(v):], uint64(n))
	return cached(c, c.vec, string(key), func() ([]index.Hit, error) { return c.kb.SearchEmbedding(ctx, v, n, f) })
}

func (c *cachedSearcher) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	return c.kb.EmbedTexts(ctx, texts)
}

func (c *cachedSearcher) Chunks(ctx context.Context, ids []string) ([]store.ChunkRef, error) {
	return c.kb.Chunks(ctx, ids)
}

// KeywordTerms and SearchKeywordTerms pass through (BM25 feedback); the
// expanded queries differ per question, so they are not cached.
func (c *cachedSearcher) KeywordTerms(text string) []string { return c.kb.KeywordTerms(text) }

func (c *cachedSearcher) SearchKeywordTerms(ctx context.Context, terms []index.WeightedTerm, n int, f index.Filter) ([]index.Hit, error) {
	if !f.Empty() {
		return nil, errFiltered
	}
	return c.kb.SearchKeywordTerms(ctx, terms, n, f)
}

func (c *cachedSearcher) KeywordDocFreqs(ctx context.Context, terms []string) ([]uint64, uint64, error) {
	return c.kb.KeywordDocFreqs(ctx, terms)
}
