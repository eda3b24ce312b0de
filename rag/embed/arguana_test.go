package embed

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"llmops/evals/beir"
)

// arguanaDir is where the BEIR ArguAna copy lives, relative to this
// package (LLMOPS_BEIR_DIR overrides).
func arguanaDir() string {
	if d := os.Getenv("LLMOPS_BEIR_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets", "arguana")
}

// loadArguAna reads the corpus (title and text as one), the queries and
// the test qrels through the BEIR loader evals uses.
func loadArguAna(tb testing.TB, dir string) ([]evalDoc, []evalQuery) {
	tb.Helper()
	ds, err := beir.Load(dir, beir.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	docs := make([]evalDoc, len(ds.Docs))
	for i, d := range ds.Docs {
		docs[i] = evalDoc{d.ID, strings.TrimSpace(d.Title + " " + d.Text)}
	}
	queries := make([]evalQuery, len(ds.Queries))
	for i, q := range ds.Queries {
		queries[i] = evalQuery{id: q.ID, text: q.Text, rels: q.Rels}
	}
	return docs, queries
}

// TestArguAna measures nDCG@10 on BEIR ArguAna for bleve BM25, the Local
// embedder alone and their fusions. It takes about a minute, so it runs
// only with LLMOPS_BEIR=1:
//
//	LLMOPS_BEIR=1 go test ./rag/embed -run TestArguAna -v -timeout 30m
//
// LLMOPS_BEIR_SWEEP=1 also runs the design variants recorded in
// docs/BENCHMARKS.md.
func TestArguAna(t *testing.T) {
	if os.Getenv("LLMOPS_BEIR") == "" {
		t.Skip("set LLMOPS_BEIR=1 to run the ArguAna evaluation")
	}
	dir := arguanaDir()
	if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl.gz")); err != nil {
		t.Skipf("ArguAna not found: %v", err)
	}
	docs, queries := loadArguAna(t, dir)
	t.Logf("%d docs, %d queries", len(docs), len(queries))
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.text
	}
	const depth = 100
	start := time.Now()
	bm := cachedBM25(t, dir, docs, queries, depth)
	bmIDs := make([][]string, len(bm))
	for i, r := range bm {
		bmIDs[i] = r.ids()
	}
	bmScore := meanNDCG(bmIDs, queries)
	t.Logf("bleve BM25 (en, k1=1.2, b=0.75): nDCG@10 %.4f (%v)", bmScore, time.Since(start).Round(time.Millisecond))

	variants := []struct {
		name string
		opts TrainOptions
	}{{"default", TrainOptions{}}}
	if os.Getenv("LLMOPS_BEIR_SWEEP") != "" {
		variants = append(variants, sweepVariants()...)
	}
	for _, v := range variants {
		start := time.Now()
		l, err := Train(context.Background(), texts, v.opts)
		if err != nil {
			t.Fatal(err)
		}
		trainTime := time.Since(start)
		dn := denseRankings(t, l, docs, queries, depth)
		row := evaluateFusions(bm, dn, queries)
		t.Logf("%-28s train %6v  dense %.4f | %s", v.name, trainTime.Round(time.Millisecond), row.dense, row)
		if v.name != "default" {
			continue
		}
		// The product's bar: the embedded default's best pipeline reaches
		// 0.50, and no hybrid falls below BM25 alone.
		best := 0.0
		for i, n := range row.names {
			best = max(best, row.vals[i])
			if row.vals[i] < bmScore {
				t.Errorf("%s: nDCG@10 %.4f is below BM25's %.4f", n, row.vals[i], bmScore)
			}
		}
		if best < 0.50 {
			t.Errorf("best hybrid nDCG@10 %.4f, want at least 0.50", best)
		}
	}
}

type fusionRow struct {
	dense float64
	names []string
	vals  []float64
}

func (r fusionRow) String() string {
	var b strings.Builder
	for i, n := range r.names {
		fmt.Fprintf(&b, "%s %.4f  ", n, r.vals[i])
	}
	return b.String()
}

func evaluateFusions(bm, dn []ranking, queries []evalQuery) fusionRow {
	n := len(queries)
	dnIDs := make([][]string, n)
	bmIDs := make([][]string, n)
	for i := range n {
		dnIDs[i], bmIDs[i] = dn[i].ids(), bm[i].ids()
	}
	row := fusionRow{dense: meanNDCG(dnIDs, queries)}
	add := func(name string, fn func(i int) []string) {
		fused := make([][]string, n)
		for i := range n {
			fused[i] = fn(i)
		}
		row.names = append(row.names, name)
		row.vals = append(row.vals, meanNDCG(fused, queries))
	}
	for _, w := range []float64{1, 0.5, 2} {
		add(fmt.Sprintf("rrf(w=%.1f)", w), func(i int) []string {
			return RRF([][]string{bmIDs[i], dnIDs[i]}, []float64{1, w}, 60)
		})
	}
	for _, a := range []float64{0.5, 0.3, 0.2} {
		add(fmt.Sprintf("cvx(a=%.1f)", a), func(i int) []string { return convexFusion(bm[i], dn[i], a) })
	}
	add("rrf(len-gated)", func(i int) []string {
		return RRF([][]string{bmIDs[i], dnIDs[i]}, []float64{1, lengthGate(queries[i].text)}, 60)
	})
	return row
}

// cachedBM25 keeps the BM25 rankings (two minutes of long bleve queries)
// in the temp dir between sweep runs; LLMOPS_BEIR_FRESH=1 recomputes.
func cachedBM25(tb testing.TB, dir string, docs []evalDoc, queries []evalQuery, depth int) []ranking {
	st, err := os.Stat(filepath.Join(dir, "corpus.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("llmops-arguana-bm25-%d-%d-%d.json", st.Size(), st.ModTime().Unix(), depth))
	type hit struct {
		ID    string
		Score float64
	}
	if os.Getenv("LLMOPS_BEIR_FRESH") == "" {
		if data, err := os.ReadFile(path); err == nil {
			var cached [][]hit
			if json.Unmarshal(data, &cached) == nil && len(cached) == len(queries) {
				out := make([]ranking, len(cached))
				for i, r := range cached {
					for _, h := range r {
						out[i] = append(out[i], scored{h.ID, h.Score})
					}
				}
				return out
			}
		}
	}
	out := bm25Rankings(tb, docs, queries, depth)
	cached := make([][]hit, len(out))
	for i, r := range out {
		for _, s := range r {
			cached[i] = append(cached[i], hit{s.id, s.score})
		}
	}
	if data, err := json.Marshal(cached); err == nil {
		_ = os.WriteFile(path, data, 0o644)
	}
	return out
}

// lengthGate is the dense list's RRF weight for a query: a query of n
// content words gets n/10, clamped to [0.5, 2]. Long queries give the LSA
// fold-in enough terms to place them well; short ones rely on exact words.
func lengthGate(q string) float64 {
	n := 0
	forEachToken(q, nil, func(tok []byte) {
		if !isStopWord(tok) {
			n++
		}
	})
	return min(2, max(0.5, float64(n)/10))
}

func sweepVariants() []struct {
	name string
	opts TrainOptions
} {
	return []struct {
		name string
		opts TrainOptions
	}{
		{"hashed only (trap)", TrainOptions{hashDims: 256}},
		{"hashed only, 384", TrainOptions{Dim: 384, hashDims: 384}},
		{"classic LSA (tf-idf, Σ¹)", TrainOptions{tfidf: true, flatten: 1, keepFirst: true}},
		{"tf-idf", TrainOptions{tfidf: true}},
		{"Σ¹, keep first", TrainOptions{flatten: 1, keepFirst: true}},
		{"Σ¹", TrainOptions{flatten: 1}},
		{"keep first", TrainOptions{keepFirst: true}},
		{"Σ⁰", TrainOptions{flatten: 1e-9}},
		{"dim 128", TrainOptions{Dim: 128}},
		{"dim 384", TrainOptions{Dim: 384}},
		{"vocab 8k", TrainOptions{MaxVocab: 8192}},
		{"vocab 32k", TrainOptions{MaxVocab: 32768}},
		{"minDF 1", TrainOptions{MinDF: 1}},
		{"1 power iteration", TrainOptions{PowerIters: 1}},
		{"6 power iterations", TrainOptions{PowerIters: 6}},
		{"SVD on 4,000 docs", TrainOptions{MaxDocs: 4000}},
		{"64 hashed + 192 LSA", TrainOptions{hashDims: 64}},
		{"seed 2", TrainOptions{Seed: 2}},
		{"dim 384, minDF 1", TrainOptions{Dim: 384, MinDF: 1}},
	}
}
