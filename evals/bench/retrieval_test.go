package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tinyDir is the loader's 16-document fixture (see evals/beir).
var tinyDir = filepath.Join("..", "beir", "testdata", "tiny")

func TestRetrievalTiny(t *testing.T) {
	// The run must leave nothing behind in the temp dir.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	var progress bytes.Buffer
	rep, err := Retrieval(t.Context(), RetrievalOptions{Dir: tinyDir, IgnoreIdenticalIDs: true, Concurrency: 2}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", &progress)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the temp dir still holds %v", left)
	}

	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(top), []string{"dataset", "docs", "ingest_chunks_per_s", "pipelines", "queries"}; !slices.Equal(got, want) {
		t.Errorf("JSON keys: got %q, want %q\n%s", got, want, data)
	}
	var head struct {
		Dataset      string  `json:"dataset"`
		Docs         int     `json:"docs"`
		Queries      int     `json:"queries"`
		ChunksPerSec float64 `json:"ingest_chunks_per_s"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatal(err)
	}
	if head.Dataset != "tiny" || head.Docs != 16 || head.Queries != 6 || head.ChunksPerSec <= 0 {
		t.Errorf("got %+v, want tiny, 16 docs, 6 queries, a positive ingest rate", head)
	}
	var pipes map[string]map[string]float64
	if err := json.Unmarshal(top["pipelines"], &pipes); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(pipes), []string{"bm25", "hybrid", "hybrid+rerank", "vector"}; !slices.Equal(got, want) {
		t.Errorf("pipelines: got %q, want %q", got, want)
	}
	// The order the lead's example shows is kept.
	if i := strings.Index(string(data), `"bm25"`); i < 0 || !(i < strings.Index(string(data), `"vector"`) &&
		strings.Index(string(data), `"vector"`) < strings.Index(string(data), `"hybrid"`)) {
		t.Errorf("pipelines out of order: %s", data)
	}
	for name, m := range pipes {
		if got, want := keys(m), []string{"mrr@10", "ndcg@10", "p50_ms", "p95_ms", "recall@100"}; !slices.Equal(got, want) {
			t.Errorf("%s: got keys %q, want %q", name, got, want)
		}
		for _, k := range []string{"ndcg@10", "recall@100", "mrr@10"} {
			if v := m[k]; v < 0 || v > 1 {
				t.Errorf("%s %s: got %v, want 0..1", name, k, v)
			}
		}
		if m["p50_ms"] <= 0 || m["p50_ms"] > m["p95_ms"] {
			t.Errorf("%s: got p50 %v ms, p95 %v ms; want 0 < p50 ≤ p95", name, m["p50_ms"], m["p95_ms"])
		}
	}
	// Every question of the fixture names its answer: BM25 finds them.
	// q-bike's third judgement (d99) is not in the corpus, so recall can
	// still be 1.
	if m := rep.Pipelines.BM25; m.NDCG10 < 0.8 || m.Recall100 != 1 {
		t.Errorf("bm25: got nDCG@10 %.3f, recall@100 %.3f; want ≥ 0.8 and 1", m.NDCG10, m.Recall100)
	}
	if rep.Pipelines.Hybrid.NDCG10 < rep.Pipelines.BM25.NDCG10 {
		t.Errorf("hybrid nDCG@10 %.3f is below bm25's %.3f", rep.Pipelines.Hybrid.NDCG10, rep.Pipelines.BM25.NDCG10)
	}
	if rep.MissingDocs != 1 || rep.MissingQueries != 1 || rep.Chunks < 16 || rep.VectorErrors != 0 || rep.IngestFailed != 0 {
		t.Errorf("got %d missing docs, %d missing queries, %d chunks, %d vector errors, %d failed; want 1, 1, ≥ 16, 0, 0",
			rep.MissingDocs, rep.MissingQueries, rep.Chunks, rep.VectorErrors, rep.IngestFailed)
	}
	for _, want := range []string{"bm25: 6/6 queries", "hybrid+rerank: nDCG@10", "qrels dropped: 1 naming documents missing from the corpus", "ingest: 16 docs → 16 chunks"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q", want)
		}
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", &text)
	for _, want := range []string{"BEIR tiny: 16 docs", "identical IDs ignored", "qrels dropped: 1 naming documents missing from the corpus", "hybrid+rerank", "recall@100", "p95 ms"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

// TestRetrievalIdenticalIDs keeps q-tea's own document (the fixture's
// fifth query, whose text is corpus document q-tea): it then ranks first,
// ahead of the relevant one.
func TestRetrievalIdenticalIDs(t *testing.T) {
	t.Parallel()
	rep, err := Retrieval(t.Context(), RetrievalOptions{Dir: tinyDir, Limit: 5, Concurrency: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Queries != 5 {
		t.Errorf("got %d queries, want 5 (the limit)", rep.Queries)
	}
	// Four queries find their document first; q-tea finds it second.
	if got, want := rep.Pipelines.BM25.MRR10, (4+0.5)/5; got != want {
		t.Errorf("bm25 MRR@10: got %.4f, want %.4f", got, want)
	}
}

// TestRetrievalDuplicateText: the knowledge base stores identical texts
// once, and a hit on it must stand for every corpus document with that
// text, in corpus order, or the later ones could never be found.
func TestRetrievalDuplicateText(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := `{"_id":"d1","title":"Apples","text":"Apples are red and crisp."}
{"_id":"d2","title":"Bananas","text":"Bananas are yellow and soft."}
{"_id":"d3","title":"Cherries","text":"Cherries are small, red and sweet."}
{"_id":"d4","title":"Apples again","text":"Apples are red and crisp."}
`
	files := map[string]string{
		"corpus.jsonl":   corpus,
		"queries.jsonl":  `{"_id":"q1","text":"crisp red apples"}` + "\n",
		"qrels/test.tsv": "q1\td4\t1\n",
	}
	for name, body := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Retrieval(t.Context(), RetrievalOptions{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Duplicates != 1 || rep.Chunks != 3 {
		t.Errorf("got %d duplicates, %d chunks; want 1, 3", rep.Duplicates, rep.Chunks)
	}
	if m := rep.Pipelines.BM25; m.MRR10 != 0.5 || m.Recall100 != 1 {
		t.Errorf("bm25: got MRR@10 %.3f, recall@100 %.3f; want 0.5 (d4 right after d1), 1", m.MRR10, m.Recall100)
	}
}

func TestRetrievalErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Retrieval(ctx, RetrievalOptions{Dir: tinyDir}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	if _, err := Retrieval(t.Context(), RetrievalOptions{Dir: t.TempDir()}, nil); err == nil || !strings.Contains(err.Error(), "qrels") {
		t.Errorf("empty dir: got %v, want an error naming the qrels", err)
	}
}

func keys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// arguanaDir is the BEIR ArguAna copy, ../shared/datasets/arguana from the
// repository root; LLMOPS_BEIR_DIR overrides.
func arguanaDir() string {
	if d := os.Getenv("LLMOPS_BEIR_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets", "arguana")
}

// TestRetrievalArguAna runs `llmops bench retrieval` on BEIR ArguAna
// (8,674 docs, 1,406 queries, identical IDs ignored). It takes minutes, so
// it runs only with LLMOPS_BEIR=1:
//
//	LLMOPS_BEIR=1 go test ./evals/bench -run ArguAna -v -timeout 30m
func TestRetrievalArguAna(t *testing.T) {
	if os.Getenv("LLMOPS_BEIR") == "" {
		t.Skip("set LLMOPS_BEIR=1 to run the ArguAna benchmark")
	}
	dir := arguanaDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("ArguAna not found: %v", err)
	}
	start := time.Now()
	rep, err := Retrieval(t.Context(), RetrievalOptions{Dir: dir, IgnoreIdenticalIDs: true}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	data, _ := json.Marshal(rep)
	t.Logf("took %s\n%s\n%s", time.Since(start).Round(time.Second), &text, data)

	if rep.Docs != 8674 || rep.Queries != 1406 || rep.MissingDocs != 5 {
		t.Errorf("got %d docs, %d queries, %d missing docs; want 8674, 1406, 5", rep.Docs, rep.Queries, rep.MissingDocs)
	}
	p := rep.Pipelines
	if best := max(p.BM25.NDCG10, p.Vector.NDCG10, p.Hybrid.NDCG10, p.HybridRerank.NDCG10); best < 0.50 {
		t.Errorf("best pipeline nDCG@10 %.4f, want at least 0.50", best)
	}
	for name, m := range map[string]Metrics{"hybrid": p.Hybrid, "hybrid+rerank": p.HybridRerank} {
		if m.NDCG10 < p.BM25.NDCG10 {
			t.Errorf("%s: nDCG@10 %.4f is below bm25's %.4f", name, m.NDCG10, p.BM25.NDCG10)
		}
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
