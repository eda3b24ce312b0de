package retrieve

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"llmops/rag/index"
	"llmops/store"
)

// evalQuery is one judged query.
type evalQuery struct {
	id, text string
	rels     map[string]float64 // document ID → graded relevance
}

// evalSet is a collection to measure retrieval on.
type evalSet struct {
	queries []evalQuery
	doc     func(chunkID string) string // chunk → the judged document ID
	// excludeSelf drops a query's own document from its rankings (BEIR's
	// ignore_identical_ids: ArguAna's queries are corpus documents).
	excludeSelf bool
}

// stages are the four pipelines one Retrieve call measures.
var stages = []string{"bm25", "vector", "hybrid", "hybrid+rerank"}

// scores are mean hit@5 (chunks) and nDCG@10 (documents) per stage.
type scores struct {
	hit5, ndcg [4]float64
	weight     float64 // mean vector weight after the gate
}

func (s scores) String() string {
	var b strings.Builder
	for i, n := range stages {
		fmt.Fprintf(&b, "%s %.3f/%.4f  ", n, s.hit5[i], s.ndcg[i])
	}
	fmt.Fprintf(&b, "(mean vector weight %.2f)", s.weight)
	return b.String()
}

// evaluate retrieves every query of set with opts (in parallel) and
// scores each stage.
func evaluate(tb testing.TB, s Searcher, set evalSet, opts Options) scores {
	tb.Helper()
	r := New(s, opts)
	per := make([][4][2]float64, len(set.queries))
	weights := make([]float64, len(set.queries))
	err := forEachParallel(len(set.queries), func(i int) error {
		q := set.queries[i]
		res, err := r.Retrieve(context.Background(), q.text, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", q.id, err)
		}
		weights[i] = res.VectorWeight
		for j, hits := range [][]Hit{res.Keyword, res.Vector, res.Fused, res.Hits} {
			// Every stage is cut to TopK chunks, as the final one is:
			// otherwise the longer lists would find more documents.
			hits = hits[:min(len(hits), r.opts.TopK)]
			ranked := make([]string, 0, len(hits))
			for _, h := range hits {
				if d := set.doc(h.ID); !set.excludeSelf || d != q.id {
					ranked = append(ranked, d)
				}
			}
			if hitAt(ranked, q.rels, 5) {
				per[i][j][0] = 1
			}
			per[i][j][1] = ndcgAt10(dedupe(ranked), q.rels)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var out scores
	n := float64(len(set.queries))
	for i := range per {
		for j := range 4 {
			out.hit5[j] += per[i][j][0] / n
			out.ndcg[j] += per[i][j][1] / n
		}
		out.weight += weights[i] / n
	}
	return out
}

// dedupe keeps each document at its best rank.
func dedupe(docs []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// ndcgAt10 is BEIR's nDCG@10 (pytrec_eval): gain = relevance, discount
// log2(rank+1), ideal from all judged documents.
func ndcgAt10(ranked []string, rels map[string]float64) float64 {
	var dcg float64
	for i, id := range ranked[:min(10, len(ranked))] {
		dcg += rels[id] / math.Log2(float64(i+2))
	}
	ideal := make([]float64, 0, len(rels))
	for _, g := range rels {
		ideal = append(ideal, g)
	}
	slices.Sort(ideal)
	slices.Reverse(ideal)
	var idcg float64
	for i, g := range ideal[:min(10, len(ideal))] {
		idcg += g / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// hitAt reports whether any of the first k entries is relevant.
func hitAt(ranked []string, rels map[string]float64, k int) bool {
	for _, id := range ranked[:min(k, len(ranked))] {
		if rels[id] > 0 {
			return true
		}
	}
	return false
}

func forEachParallel(n int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// cachedSearcher remembers what the indexes returned, so the variants of
// a sweep (which differ only in fusion, gate and reranking) replay the
// same searches instead of repeating them.
type cachedSearcher struct {
	Searcher
	mu     sync.Mutex
	kw     map[string][]index.Hit
	embeds map[string][]float32
	vec    map[string][]index.Hit
	chunks map[string]store.ChunkRef
}

func newCachedSearcher(s Searcher) *cachedSearcher {
	return &cachedSearcher{Searcher: s, kw: map[string][]index.Hit{}, embeds: map[string][]float32{},
		vec: map[string][]index.Hit{}, chunks: map[string]store.ChunkRef{}}
}

func cacheKey(q string, n int) string { return fmt.Sprintf("%d\x00%s", n, q) }

func (c *cachedSearcher) SearchKeyword(ctx context.Context, q string, n int, f index.Filter) ([]index.Hit, error) {
	k := cacheKey(q, n)
	c.mu.Lock()
	hits, ok := c.kw[k]
	c.mu.Unlock()
	if ok && f.Empty() {
		return hits, nil
	}
	hits, err := c.Searcher.SearchKeyword(ctx, q, n, f)
	if err == nil && f.Empty() {
		c.mu.Lock()
		c.kw[k] = hits
		c.mu.Unlock()
	}
	return hits, err
}

func (c *cachedSearcher) EmbedQuery(ctx context.Context, q string) ([]float32, error) {
	c.mu.Lock()
	v, ok := c.embeds[q]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.Searcher.EmbedQuery(ctx, q)
	if err == nil {
		c.mu.Lock()
		c.embeds[q] = v
		c.mu.Unlock()
	}
	return v, err
}

func vecKey(v []float32, n int) string {
	b := make([]byte, 4*len(v)+8)
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	binary.LittleEndian.PutUint64(b[4*len(v):], uint64(n))
	return string(b)
}

func (c *cachedSearcher) SearchEmbedding(ctx context.Context, v []float32, n int, f index.Filter) ([]index.Hit, error) {
	k := vecKey(v, n)
	c.mu.Lock()
	hits, ok := c.vec[k]
	c.mu.Unlock()
	if ok && f.Empty() {
		return hits, nil
	}
	hits, err := c.Searcher.SearchEmbedding(ctx, v, n, f)
	if err == nil && f.Empty() {
		c.mu.Lock()
		c.vec[k] = hits
		c.mu.Unlock()
	}
	return hits, err
}

func (c *cachedSearcher) Chunks(ctx context.Context, ids []string) ([]store.ChunkRef, error) {
	var missing []string
	c.mu.Lock()
	for _, id := range ids {
		if _, ok := c.chunks[id]; !ok {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) > 0 {
		refs, err := c.Searcher.Chunks(ctx, missing)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		for _, r := range refs {
			c.chunks[r.Chunk.ID] = r
		}
		c.mu.Unlock()
	}
	out := make([]store.ChunkRef, 0, len(ids))
	c.mu.Lock()
	for _, id := range ids {
		if r, ok := c.chunks[id]; ok {
			out = append(out, r)
		}
	}
	c.mu.Unlock()
	return out, nil
}

// Weak embedders, to check that fusion holds up when the vectors are poor.
// Both keep the knowledge base's BM25 and chunks and replace its vectors.

// hashedVectors embeds by feature hashing of stemmed words (no IDF, no
// learned semantics): the "hashed features only" trap, a lexical matcher
// with collisions.
type hashedVectors struct {
	Searcher
	ids  []string
	flat []float32
}

const hashedDim = 256

func newHashedVectors(tb testing.TB, s Searcher, st *store.Store) *hashedVectors {
	tb.Helper()
	h := &hashedVectors{Searcher: s}
	stem := newStemmer()
	err := st.ForEachChunk(context.Background(), func(d *store.Document, c *store.Chunk) error {
		h.ids = append(h.ids, c.ID)
		h.flat = append(h.flat, hashedEmbed(index.EntryOf(d, c).Text, stem)...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func hashedEmbed(text string, st *stemmer) []float32 {
	v := make([]float32, hashedDim)
	for _, t := range terms(text, st) {
		f := fnv.New32a()
		f.Write([]byte(t))
		x := f.Sum32()
		sign := float32(1)
		if x&1 == 1 {
			sign = -1
		}
		v[(x>>1)%hashedDim] += sign
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s > 0 {
		inv := float32(1 / math.Sqrt(s))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

func (h *hashedVectors) EmbedQuery(_ context.Context, q string) ([]float32, error) {
	return hashedEmbed(q, newStemmer()), nil
}

func (h *hashedVectors) SearchEmbedding(ctx context.Context, v []float32, n int, _ index.Filter) ([]index.Hit, error) {
	hits := make([]index.Hit, len(h.ids))
	for i, id := range h.ids {
		var s float32
		row := h.flat[i*hashedDim : (i+1)*hashedDim]
		for j, x := range v {
			s += x * row[j]
		}
		hits[i] = index.Hit{ID: id, Score: float64(s)}
	}
	return topHits(hits, n), ctx.Err()
}

func topHits(hits []index.Hit, n int) []index.Hit {
	slices.SortFunc(hits, func(a, b index.Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return hits[:min(n, len(hits))]
}

// randomVectors returns unrelated chunks: an embedder that knows nothing.
type randomVectors struct {
	Searcher
	ids []string
}

func newRandomVectors(tb testing.TB, s Searcher, st *store.Store) *randomVectors {
	tb.Helper()
	r := &randomVectors{Searcher: s}
	err := st.ForEachChunk(context.Background(), func(_ *store.Document, c *store.Chunk) error {
		r.ids = append(r.ids, c.ID)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func (r *randomVectors) EmbedQuery(_ context.Context, q string) ([]float32, error) {
	f := fnv.New32a()
	f.Write([]byte(q))
	return []float32{math.Float32frombits(f.Sum32() & 0x007fffff)}, nil
}

func (r *randomVectors) SearchEmbedding(_ context.Context, v []float32, n int, _ index.Filter) ([]index.Hit, error) {
	rng := rand.New(rand.NewPCG(uint64(math.Float32bits(v[0])), 7))
	perm := rng.Perm(len(r.ids))[:min(n, len(r.ids))]
	hits := make([]index.Hit, len(perm))
	for i, p := range perm {
		hits[i] = index.Hit{ID: r.ids[p], Score: 1 - float64(i)/float64(len(perm))}
	}
	return hits, nil
}

// EmbedTexts passes through to the searcher when it embeds passages.
func (c *cachedSearcher) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	pe, ok := c.Searcher.(PassageEmbedder)
	if !ok {
		return nil, fmt.Errorf("%T embeds no passages", c.Searcher)
	}
	return pe.EmbedTexts(ctx, texts)
}

func (h *hashedVectors) EmbedTexts(_ context.Context, texts []string) ([][]float32, error) {
	st := newStemmer()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = hashedEmbed(t, st)
	}
	return out, nil
}

func (r *randomVectors) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i], _ = r.EmbedQuery(ctx, t)
	}
	return out, nil
}

// KeywordTerms and SearchKeywordTerms pass through (BM25 feedback).
func (c *cachedSearcher) KeywordTerms(text string) []string {
	if ts, ok := c.Searcher.(TermSearcher); ok {
		return ts.KeywordTerms(text)
	}
	return nil
}

func (c *cachedSearcher) SearchKeywordTerms(ctx context.Context, terms []index.WeightedTerm, n int, f index.Filter) ([]index.Hit, error) {
	if ts, ok := c.Searcher.(TermSearcher); ok {
		return ts.SearchKeywordTerms(ctx, terms, n, f)
	}
	return nil, fmt.Errorf("%T takes no term queries", c.Searcher)
}

func (c *cachedSearcher) KeywordDocFreqs(ctx context.Context, terms []string) ([]uint64, uint64, error) {
	if ts, ok := c.Searcher.(TermSearcher); ok {
		return ts.KeywordDocFreqs(ctx, terms)
	}
	return nil, 0, fmt.Errorf("%T takes no term queries", c.Searcher)
}
