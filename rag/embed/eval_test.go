package embed

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	index "github.com/blevesearch/bleve_index_api"
)

// evalDoc and evalQuery are one retrieval test collection in memory.
type evalDoc struct{ id, text string }

type evalQuery struct {
	id, text string
	rels     map[string]float64 // doc id → graded relevance
}

// ranking is one query's result list, best first.
type ranking []scored

type scored struct {
	id    string
	score float64
}

func (r ranking) ids() []string {
	out := make([]string, len(r))
	for i, s := range r {
		out[i] = s.id
	}
	return out
}

// ndcgAt10 is BEIR's nDCG@10 (pytrec_eval): gain = relevance, discount
// log2(rank+1), ideal from all judged documents, including ones the
// corpus lacks.
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

// hitAt reports whether any of the first k ids is relevant.
func hitAt(ranked []string, rels map[string]float64, k int) bool {
	for _, id := range ranked[:min(k, len(ranked))] {
		if rels[id] > 0 {
			return true
		}
	}
	return false
}

// bm25Rankings indexes docs in an in-memory bleve index with BM25 scoring,
// the English analyzer and a lean mapping (one text field, nothing stored),
// and returns the top depth hits of each query. Scores are bleve's.
func bm25Rankings(tb testing.TB, docs []evalDoc, queries []evalQuery, depth int) []ranking {
	tb.Helper()
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	im.DefaultAnalyzer = en.AnalyzerName
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	dm := bleve.NewDocumentStaticMapping()
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = en.AnalyzerName
	fm.Store = false
	fm.IncludeTermVectors = false
	fm.IncludeInAll = false
	fm.DocValues = false
	dm.AddFieldMappingsAt("text", fm)
	im.DefaultMapping = dm
	idx, err := bleve.NewMemOnly(im)
	if err != nil {
		tb.Fatal(err)
	}
	defer idx.Close()
	batch := idx.NewBatch()
	for i, d := range docs {
		if err := batch.Index(d.id, map[string]any{"text": d.text}); err != nil {
			tb.Fatal(err)
		}
		if batch.Size() == 1000 || i == len(docs)-1 {
			if err := idx.Batch(batch); err != nil {
				tb.Fatal(err)
			}
			batch.Reset()
		}
	}
	out := make([]ranking, len(queries))
	err = forEachParallel(len(queries), func(i int) error {
		q := bleve.NewMatchQuery(queries[i].text)
		q.SetField("text")
		q.Analyzer = en.AnalyzerName
		req := bleve.NewSearchRequestOptions(q, depth+1, 0, false)
		res, err := idx.Search(req)
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			if h.ID != queries[i].id { // BEIR ignore_identical_ids
				out[i] = append(out[i], scored{h.ID, h.Score})
			}
		}
		out[i] = out[i][:min(depth, len(out[i]))]
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// denseRankings embeds docs and queries and ranks by exact cosine (a flat
// loop over contiguous vectors), top depth per query.
func denseRankings(tb testing.TB, e Embedder, docs []evalDoc, queries []evalQuery, depth int) []ranking {
	tb.Helper()
	ctx := context.Background()
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.text
	}
	vecs, err := e.EmbedDocuments(ctx, texts)
	if err != nil {
		tb.Fatal(err)
	}
	dim := e.Model().Dim
	flat := make([]float32, 0, len(docs)*dim)
	for _, v := range vecs {
		flat = append(flat, v...)
	}
	out := make([]ranking, len(queries))
	err = forEachParallel(len(queries), func(i int) error {
		qv, err := e.EmbedQuery(ctx, queries[i].text)
		if err != nil {
			return err
		}
		all := make(ranking, 0, len(docs))
		for d := range docs {
			if docs[d].id == queries[i].id {
				continue
			}
			var s float32
			row := flat[d*dim : (d+1)*dim]
			for j, x := range qv {
				s += x * row[j]
			}
			all = append(all, scored{docs[d].id, float64(s)})
		}
		slices.SortFunc(all, func(a, b scored) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		out[i] = slices.Clone(all[:min(depth, len(all))])
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// convexFusion combines min-max normalised scores over each list's top
// hits: α·lexical + (1-α)·dense, a document missing from a list scoring 0
// there (that list's minimum).
func convexFusion(lex, dense ranking, alpha float64) []string {
	norm := func(r ranking) map[string]float64 {
		m := make(map[string]float64, len(r))
		if len(r) == 0 {
			return m
		}
		hi, lo := r[0].score, r[len(r)-1].score
		for _, s := range r {
			if hi > lo {
				m[s.id] = (s.score - lo) / (hi - lo)
			} else {
				m[s.id] = 1
			}
		}
		return m
	}
	ln, dn := norm(lex), norm(dense)
	var all ranking
	seen := map[string]bool{}
	for _, r := range []ranking{lex, dense} {
		for _, s := range r {
			if !seen[s.id] {
				seen[s.id] = true
				all = append(all, scored{s.id, alpha*ln[s.id] + (1-alpha)*dn[s.id]})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	return all.ids()
}

func meanNDCG(rankings [][]string, queries []evalQuery) float64 {
	var s float64
	for i, q := range queries {
		s += ndcgAt10(rankings[i], q.rels)
	}
	return s / float64(len(queries))
}

func forEachParallel(n int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
