package retrieve

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"llmops/evals/beir"
	"llmops/rag"
)

// arguanaDir is the BEIR ArguAna copy, ../shared/datasets/arguana from
// the repository root (LLMOPS_BEIR_DIR overrides).
func arguanaDir() string {
	if d := os.Getenv("LLMOPS_BEIR_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets", "arguana")
}

type beirDoc struct{ id, title, text string }

// loadArguAna reads the corpus, the queries and the test qrels through
// the BEIR loader evals uses.
func loadArguAna(tb testing.TB, dir string) ([]beirDoc, []evalQuery) {
	tb.Helper()
	ds, err := beir.Load(dir, beir.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	docs := make([]beirDoc, len(ds.Docs))
	for i, d := range ds.Docs {
		docs[i] = beirDoc{d.ID, strings.TrimSpace(d.Title), strings.TrimSpace(d.Text)}
	}
	queries := make([]evalQuery, len(ds.Queries))
	for i, q := range ds.Queries {
		queries[i] = evalQuery{id: q.ID, text: q.Text, rels: q.Rels}
	}
	return docs, queries
}

// arguanaKB ingests the corpus, one text file per document. Files are
// named by position, not by corpus ID: the ID would otherwise become the
// title of untitled documents, and ArguAna's IDs name the debate a
// query and its counter-argument share.
func arguanaKB(tb testing.TB, docs []beirDoc) *testKB {
	tb.Helper()
	t := mustOpenKB(tb)
	files := make([]rag.File, len(docs))
	ids := make([]string, len(docs))
	for i, d := range docs {
		files[i] = rag.File{Name: fmt.Sprintf("arguana/%05d.txt", i), Data: []byte(d.text), Meta: rag.Meta{Title: d.title}}
		ids[i] = d.id
	}
	t.ingest(tb, files, ids)
	return t
}

// TestArguAna measures nDCG@10 on BEIR ArguAna (8,674 arguments, 1,406
// queries, identical IDs ignored) through the Retriever on a real
// knowledge base: BM25 alone, vectors alone, hybrid and hybrid + rerank.
// It takes about 40 s (the sweep about 3 minutes), so it runs only with
// LLMOPS_BEIR=1:
//
//	LLMOPS_BEIR=1 go test ./rag/retrieve -run TestArguAna -v -timeout 30m
//
// LLMOPS_RETRIEVE_SWEEP=1 also runs the design variants with the learned
// vectors and two weak embedders, as TestSampleDataQuality does.
func TestArguAna(t *testing.T) {
	if os.Getenv("LLMOPS_BEIR") == "" {
		t.Skip("set LLMOPS_BEIR=1 to run the ArguAna evaluation")
	}
	dir := arguanaDir()
	if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl.gz")); err != nil {
		t.Skipf("ArguAna not found: %v", err)
	}
	docs, queries := loadArguAna(t, dir)
	start := time.Now()
	kb := arguanaKB(t, docs)
	st, _ := kb.kb.Stats(t.Context())
	t.Logf("%d docs → %d documents, %d chunks (%s); %d queries", len(docs), st.Documents, st.Chunks, time.Since(start).Round(time.Millisecond), len(queries))
	set := evalSet{queries: queries, doc: kb.doc, excludeSelf: true}
	// 20 chunks leave at least 10 documents after dropping the query's
	// own and merging chunks of one document.
	const topK = 20
	start = time.Now()
	cached := newCachedSearcher(kb.kb)
	got := evaluate(t, cached, set, Options{TopK: topK})
	t.Logf("defaults (%s): nDCG@10", time.Since(start).Round(time.Millisecond))
	for i, n := range stages {
		t.Logf("  %-14s %.4f", n, got.ndcg[i])
	}
	bm := got.ndcg[0]
	for i, n := range stages[2:] {
		if v := got.ndcg[i+2]; v < bm {
			t.Errorf("%s: nDCG@10 %.4f is below BM25's %.4f", n, v, bm)
		}
	}
	if best := max(got.ndcg[2], got.ndcg[3]); best < 0.50 {
		t.Errorf("best pipeline nDCG@10 %.4f, want at least 0.50", best)
	}
	if os.Getenv("LLMOPS_RETRIEVE_SWEEP") != "" {
		sweep(t, kb, set, topK)
	}
}
