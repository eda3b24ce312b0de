package retrieve

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	sampledata "llmops/sample-data"
)

// sampleSet is the sample help centre's answerable questions; a question's
// relevant documents are the ones its reference answer comes from.
func sampleSet(tb testing.TB, t *testKB) evalSet {
	tb.Helper()
	qs, err := sampledata.Questions()
	if err != nil {
		tb.Fatal(err)
	}
	set := evalSet{doc: t.doc}
	for _, q := range qs {
		if !q.Answerable || len(q.DocumentIDs) == 0 {
			continue
		}
		rels := map[string]float64{}
		for _, id := range q.DocumentIDs {
			rels[id] = 1
		}
		set.queries = append(set.queries, evalQuery{id: q.ID, text: q.Question, rels: rels})
	}
	return set
}

// TestSampleDataQuality measures hit@5 (a hit when one of the top 5 chunks
// comes from a relevant document) and document-level nDCG@10 on the
// sample help centre, through the Retriever with its defaults, for BM25
// alone, vectors alone, hybrid and hybrid + rerank.
//
//	go test ./rag/retrieve -run TestSampleDataQuality -v
//
// LLMOPS_RETRIEVE_SWEEP=1 also runs the fusion, gate and reranker variants
// the defaults were chosen from, with the learned vectors and two weak
// embedders (=fusion, =rerank or =stats for a part of it;
// LLMOPS_RETRIEVE_EMBEDDERS=learned,hashed,random picks embedders).
func TestSampleDataQuality(t *testing.T) {
	start := time.Now()
	kb := sampleKB(t)
	ingested := time.Since(start)
	set := sampleSet(t, kb)
	got := evaluate(t, kb.kb, set, Options{TopK: 10})
	t.Logf("ingest %v, %d retrievals %v", ingested.Round(time.Millisecond), len(set.queries), (time.Since(start) - ingested).Round(time.Millisecond))
	t.Logf("%d questions; hit@5/nDCG@10", len(set.queries))
	for i, n := range stages {
		t.Logf("  %-14s hit@5 %.3f  nDCG@10 %.4f", n, got.hit5[i], got.ndcg[i])
	}
	bm, hybrid, reranked := got.hit5[0], got.hit5[2], got.hit5[3]
	if reranked < 0.9 {
		t.Errorf("hybrid+rerank hit@5 = %.3f, want at least 0.9", reranked)
	}
	if hybrid < bm-0.01 {
		t.Errorf("hybrid hit@5 = %.3f, below BM25's %.3f", hybrid, bm)
	}
	if got.ndcg[2] < got.ndcg[0]-0.01 {
		t.Errorf("hybrid nDCG@10 = %.4f, below BM25's %.4f", got.ndcg[2], got.ndcg[0])
	}
	if os.Getenv("LLMOPS_RETRIEVE_SWEEP") != "" {
		sweep(t, kb, set, 10)
	}
}

// sweep prints every variant × embedder on set.
func sweep(t *testing.T, kb *testKB, set evalSet, topK int) {
	embedders := []struct {
		name string
		s    Searcher
	}{
		{"learned", newCachedSearcher(kb.kb)},
		{"hashed", newCachedSearcher(newHashedVectors(t, kb.kb, kb.st))},
		{"random", newCachedSearcher(newRandomVectors(t, kb.kb, kb.st))},
	}
	only := os.Getenv("LLMOPS_RETRIEVE_EMBEDDERS")
	for _, e := range embedders {
		if only != "" && !strings.Contains(only, e.name) {
			continue
		}
		t.Logf("== %s vectors", e.name)
		agreementStats(t, e.s, set)
		if os.Getenv("LLMOPS_RETRIEVE_SWEEP") == "stats" {
			continue
		}
		for _, v := range variants(topK) {
			t.Logf("%-34s %s", v.name, evaluate(t, e.s, set, v.opts))
		}
	}
}

type variant struct {
	name string
	opts Options
}

// variants are the fusion, gate and reranker designs measured.
func variants(topK int) []variant {
	base := Options{TopK: topK}
	with := func(f func(*Options)) Options {
		o := base
		f(&o)
		return o
	}
	lex := func(w lexWeights) Reranker { return LexicalReranker{w: &w} }
	d := defaultLexWeights
	without := func(f func(*lexWeights)) Reranker {
		w := d
		f(&w)
		return lex(w)
	}
	gate := func(floor, full float64) func(*Options) {
		return func(o *Options) { o.agree = &agreementParams{10, 10, floor, full} }
	}
	fusion := []variant{
		{"rrf, no gate", with(func(o *Options) { o.Gate = GateNone })},
		{"rrf, vec×0.5, no gate", with(func(o *Options) { o.Gate = GateNone; o.VectorWeight = 0.5 })},
		{"rrf, vec×2, no gate", with(func(o *Options) { o.Gate = GateNone; o.VectorWeight = 2 })},
		{"rrf, agreement 0→.5", with(gate(0, 0.5))},
		{"rrf, agreement 0→1", with(gate(0, 1))},
		{"rrf, agreement .1→.5", with(gate(0.1, 0.5))},
		{"rrf, agreement .2→.8", with(gate(0.2, 0.8))},
		{"rrf, agreement .3→.8 (default)", base},
		{"rrf, 20 candidates", with(func(o *Options) { o.Candidates = 20 })},
		{"rrf, 100 candidates", with(func(o *Options) { o.Candidates = 100 })},
		{"rrf vec×0.5, agreement .3→.8", with(func(o *Options) { o.VectorWeight = 0.5 })},
		{"rrf vec×2, agreement .3→.8", with(func(o *Options) { o.VectorWeight = 2 })},
		{"convex, no gate", with(func(o *Options) { o.Fusion = FusionConvex; o.Gate = GateNone })},
		{"convex, agreement .3→.8", with(func(o *Options) { o.Fusion = FusionConvex })},
		{"convex 0.3/0.7, no gate", with(func(o *Options) {
			o.Fusion = FusionConvex
			o.Gate = GateNone
			o.KeywordWeight = 0.3
			o.VectorWeight = 0.7
		})},
		{"convex 0.3/0.7, agreement .3→.8", with(func(o *Options) { o.Fusion = FusionConvex; o.KeywordWeight = 0.3; o.VectorWeight = 0.7 })},
	}
	rerank := []variant{
		{"no rerank", with(func(o *Options) { o.NoRerank = true })},
		{"rerank (default)", base},
		{"rerank: prior only", with(func(o *Options) { o.Reranker = lex(lexWeights{prior: 1}) })},
		{"rerank: no heading", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.heading = 0 }) })},
		{"rerank: no sentence", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.sentence = 0 }) })},
		{"rerank: no phrase", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.phrase = 0 }) })},
		{"rerank: + idf", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.idf = true }) })},
		{"rerank: prior×2", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.prior = 2 }) })},
		{"rerank: prior×0.5", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.prior = 0.5 }) })},
		{"rerank: any query length", with(func(o *Options) { o.Reranker = without(func(w *lexWeights) { w.maxTerms = 0 }) })},
		{"rerank: depth 10", with(func(o *Options) { o.RerankDepth = 10 })},
		{"rerank: depth 30", with(func(o *Options) { o.RerankDepth = 30 })},
	}
	switch os.Getenv("LLMOPS_RETRIEVE_SWEEP") {
	case "fusion":
		return fusion
	case "rerank":
		return rerank
	}
	return append(fusion, rerank...)
}

// agreementStats prints quantiles of agreement statistics over set's
// queries, to see how they separate good vectors from poor ones.
func agreementStats(t *testing.T, s Searcher, set evalSet) {
	r := New(s, Options{Gate: GateNone, NoRerank: true})
	in50 := make([]float64, len(set.queries))
	ov10 := make([]float64, len(set.queries))
	err := forEachParallel(len(set.queries), func(i int) error {
		res, err := r.Retrieve(t.Context(), set.queries[i].text, nil)
		if err != nil {
			return err
		}
		in50[i] = agreementParams{Top: 10, Against: 50}.agreement(res.Keyword, res.Vector)
		ov10[i] = agreementParams{Top: 10, Against: 10}.agreement(res.Keyword, res.Vector)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := func(xs []float64) string {
		s := slices.Clone(xs)
		slices.Sort(s)
		var mean float64
		for _, x := range s {
			mean += x / float64(len(s))
		}
		return fmt.Sprintf("mean %.2f  p10 %.2f  p25 %.2f  p50 %.2f  p75 %.2f", mean, s[len(s)/10], s[len(s)/4], s[len(s)/2], s[3*len(s)/4])
	}
	t.Logf("  vec top-10 in BM25 top-50: %s", q(in50))
	t.Logf("  vec top-10 in BM25 top-10: %s", q(ov10))
}
