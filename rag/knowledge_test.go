package rag_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/rag"
	"llmops/rag/index"
	sampledata "llmops/sample-data"
	"llmops/store"
	"llmops/store/schema"
	"llmops/store/storetest"
)

var actor = store.Actor{Kind: store.ActorCLI, Name: "test"}

type fixture struct {
	dir string
	st  *store.Store
	kb  *rag.KnowledgeBase
}

// open opens (or reopens) a store and knowledge base in dir.
func open(t *testing.T, dir string) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kb, err := rag.Open(context.Background(), st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	f := &fixture{dir: dir, st: st, kb: kb}
	t.Cleanup(f.close)
	return f
}

func (f *fixture) close() {
	if f.kb != nil {
		f.kb.Close()
		f.kb = nil
	}
	if f.st != nil {
		f.st.Close()
		f.st = nil
	}
}

func sampleFiles(t testing.TB) []rag.File {
	t.Helper()
	files, err := readSample()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readSample() ([]rag.File, error) {
	docs, err := sampledata.Manifest()
	if err != nil {
		return nil, err
	}
	var files []rag.File
	for _, d := range docs {
		data, err := fs.ReadFile(sampledata.FS(), d.Path)
		if err != nil {
			return nil, err
		}
		files = append(files, rag.File{Name: d.Path, Data: data, Meta: rag.Meta{Category: d.Category, ProductVersion: d.ProductVersion, Tags: d.Tags}})
	}
	return files, nil
}

// Ingesting the 46 sample documents (learning the embedding model from
// them) is most of a test's time under -race. It runs once per test
// binary, into a template data dir that tests start from a copy of;
// sampleResults are that ingest's results, for tests to check.
var (
	sampleKB      = &storetest.Template{Build: ingestSample}
	sampleResults []rag.FileResult
)

func TestMain(m *testing.M) {
	storetest.StartAll(sampleKB)
	code := m.Run()
	sampleKB.Remove()
	os.Exit(code)
}

// ingestSample builds the template: the sample documents ingested into an
// empty data dir, closed again.
func ingestSample() (string, error) {
	dir, err := os.MkdirTemp("", "rag-test-sample-")
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return dir, err
	}
	defer st.Close()
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return dir, err
	}
	defer kb.Close()
	files, err := readSample()
	if err != nil {
		return dir, err
	}
	sampleResults = kb.Ingest(ctx, actor, files, nil)
	return dir, nil
}

// sampleKnowledge opens a copy of the template: the sample documents as
// one Ingest left them. It returns the files and that Ingest's results.
func sampleKnowledge(t *testing.T) (*fixture, []rag.File, []rag.FileResult) {
	t.Helper()
	dir := sampleKB.Copy(t)
	return open(t, dir), sampleFiles(t), sampleResults
}

func outcomes(results []rag.FileResult) map[schema.IngestOutcome]int {
	m := map[schema.IngestOutcome]int{}
	for _, r := range results {
		m[r.Outcome]++
	}
	return m
}

// topDocument returns the source of the document of the first hit.
func topSource(t *testing.T, f *fixture, hits []index.Hit) string {
	t.Helper()
	if len(hits) == 0 {
		return ""
	}
	docID := hits[0].ID[:strings.LastIndex(hits[0].ID, "-")]
	d, _, err := f.st.Document(context.Background(), docID)
	if err != nil {
		t.Fatalf("hit %s: %v", hits[0].ID, err)
	}
	return d.Source
}

func TestIngestUpdateDeleteReachEveryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, files, res := sampleKnowledge(t)
	if got := outcomes(res); got["created"] != len(files) {
		for _, r := range res {
			if r.Outcome == "failed" {
				t.Errorf("%s: %s", r.Name, r.Error)
			}
		}
		t.Fatalf("outcomes = %v, want %d created", got, len(files))
	}
	st, _ := f.kb.Stats(ctx)
	if st.Chunks == 0 || st.Vectors != st.Chunks || st.Model == "" {
		t.Fatalf("stats = %+v; want every chunk with a vector", st)
	}

	hits, err := f.kb.SearchKeyword(ctx, "connect Slack channel notifications", 5, index.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if src := topSource(t, f, hits); !strings.Contains(src, "slack") {
		t.Errorf("BM25 top hit for a Slack question is %s", src)
	}
	hits, _ = f.kb.SearchKeyword(ctx, "invoice", 50, index.Filter{Category: "Billing"})
	for _, h := range hits {
		d, _, _ := f.st.Document(ctx, h.ID[:strings.LastIndex(h.ID, "-")])
		if d.Category != "billing" {
			t.Errorf("category filter let through %s (%s)", d.Source, d.Category)
		}
	}
	vhits, err := f.kb.SearchVector(ctx, "how do I get my money back after cancelling", 5, index.Filter{})
	if err != nil || len(vhits) == 0 {
		t.Fatalf("vector search: %v, %d hits", err, len(vhits))
	}

	// Re-ingesting the same bytes changes nothing; new metadata updates.
	if got := outcomes(f.kb.Ingest(ctx, actor, files[:3], nil)); got["unchanged"] != 3 {
		t.Errorf("re-ingest outcomes = %v, want 3 unchanged", got)
	}
	retagged := files[1]
	retagged.Meta.Category = "archive"
	if res := f.kb.Ingest(ctx, actor, []rag.File{retagged}, nil); res[0].Outcome != "updated" {
		t.Errorf("same bytes with a new category: %+v, want updated", res[0])
	}
	if hits, _ := f.kb.SearchKeyword(ctx, "rosterly", 100, index.Filter{Category: "archive"}); len(hits) == 0 {
		t.Errorf("the new category is not searchable")
	}
	// Two files with one name in one upload: the second fails, the first lands.
	twin := []rag.File{{Name: "twin.md", Data: []byte("# One\n\nfirst body text here.\n")}, {Name: "twin.md", Data: []byte("# Two\n\nsecond body text.\n")}}
	if res := f.kb.Ingest(ctx, actor, twin, nil); res[0].Outcome != "created" || res[1].Outcome != "failed" {
		t.Errorf("same name twice: %+v", res)
	}

	// An update replaces the old chunks everywhere.
	upd := rag.File{Name: files[0].Name, Data: []byte("# Zebra policy\n\nOur xylophonequartz rule replaces everything that was here.\n")}
	res = f.kb.Ingest(ctx, actor, []rag.File{upd}, nil)
	if res[0].Outcome != "updated" {
		t.Fatalf("update outcome = %+v", res[0])
	}
	if hits, _ := f.kb.SearchKeyword(ctx, "xylophonequartz", 5, index.Filter{}); len(hits) != 1 {
		t.Errorf("new text: %d BM25 hits, want 1", len(hits))
	}
	doc, chunks, _ := f.st.Document(ctx, res[0].DocumentID)
	if len(chunks) != 1 || doc.Title != "Zebra policy" {
		t.Errorf("updated document = %q with %d chunks", doc.Title, len(chunks))
	}
	st2, _ := f.kb.Stats(ctx)
	if st2.Vectors != st2.Chunks {
		t.Errorf("after update %d vectors for %d chunks", st2.Vectors, st2.Chunks)
	}

	// Delete removes it from bbolt, bleve and the vector index at once.
	if _, err := f.kb.Delete(ctx, actor, res[0].DocumentID); err != nil {
		t.Fatal(err)
	}
	if hits, _ := f.kb.SearchKeyword(ctx, "xylophonequartz", 5, index.Filter{}); len(hits) != 0 {
		t.Errorf("deleted text still found by BM25: %v", hits)
	}
	vhits, _ = f.kb.SearchVector(ctx, "Zebra policy xylophonequartz rule", 100, index.Filter{})
	for _, h := range vhits {
		if strings.HasPrefix(h.ID, res[0].DocumentID) {
			t.Errorf("deleted chunk %s still in the vector index", h.ID)
		}
	}
	st3, _ := f.kb.Stats(ctx)
	if st3.Documents != len(files) || st3.Vectors != st3.Chunks { // one deleted, twin.md added
		t.Errorf("after delete: %+v", st3)
	}
}

func TestBadFilesFailAloneAndSayWhy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := open(t, t.TempDir())
	files := []rag.File{
		{Name: "good.md", Data: []byte("# Good\n\nThis document is fine and has enough words to be a chunk.\n")},
		{Name: "empty.txt", Data: nil},
		{Name: "broken.pdf", Data: []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")},
		{Name: "image.png", Data: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
	}
	res := f.kb.Ingest(ctx, actor, files, nil)
	if res[0].Outcome != "created" {
		t.Fatalf("good file: %+v", res[0])
	}
	for _, r := range res[1:] {
		if r.Outcome != "failed" || r.Error == "" {
			t.Errorf("%s: %+v, want failed with a reason", r.Name, r)
		}
	}
	if st, _ := f.kb.Stats(ctx); st.Documents != 1 {
		t.Errorf("documents = %d, want 1", st.Documents)
	}
}

func TestConcurrentSameUploadLandsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := open(t, t.TempDir())
	file := rag.File{Name: "same.md", Data: []byte("# Same\n\nTwo people dropped this file at the same moment.\n")}
	var wg sync.WaitGroup
	results := make([][]rag.FileResult, 4)
	for i := range results {
		wg.Go(func() { results[i] = f.kb.Ingest(ctx, actor, []rag.File{file}, nil) })
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		if r[0].Outcome == "created" {
			created++
		} else if r[0].Outcome != "unchanged" {
			t.Errorf("outcome %+v", r[0])
		}
	}
	if st, _ := f.kb.Stats(ctx); created != 1 || st.Documents != 1 {
		t.Errorf("created %d times, %d documents; want once", created, st.Documents)
	}
}

// TestIndexesAreCheckedAgainstTheStore simulates the two ways an index
// can fall behind: its files vanish, or a crash lands between the bbolt
// commit and the index update. Reopening detects both and rebuilds.
func TestIndexesAreCheckedAgainstTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	f := open(t, dir)
	f.kb.Ingest(ctx, actor, sampleFiles(t)[:10], nil)
	f.close()

	f = open(t, dir)
	if f.kb.Rebuilt() {
		t.Fatal("a clean restart rebuilt the keyword index")
	}
	// A document committed to bbolt alone, as if the process died before
	// touching the indexes.
	_, err := f.st.CommitDocuments(ctx, actor, []store.DocumentWrite{{
		Doc:    &store.Document{Source: "orphan.md", Title: "Orphan", Format: "markdown", Hash: "x"},
		Chunks: []store.Chunk{{Text: "quokkaflux only lives in the store", Tokens: 6}}, Vectors: [][]float32{make([]float32, 1)},
		Model: "stale-model",
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.close()

	f = open(t, dir)
	if !f.kb.Rebuilt() {
		t.Fatal("a missed write was not detected")
	}
	if hits, _ := f.kb.SearchKeyword(ctx, "quokkaflux", 5, index.Filter{}); len(hits) != 1 {
		t.Errorf("rebuilt index: %d hits for the orphan, want 1", len(hits))
	}
	f.close()

	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	f = open(t, dir)
	if !f.kb.Rebuilt() {
		t.Fatal("a missing index was not rebuilt")
	}
	if hits, _ := f.kb.SearchKeyword(ctx, "quokkaflux", 5, index.Filter{}); len(hits) != 1 {
		t.Errorf("recreated index: %d hits, want 1", len(hits))
	}
}

// TestReembedSwapsUnderQueries runs a re-embed job while searches keep
// coming: none may fail, and afterwards every chunk has a vector of the
// new model.
func TestReembedSwapsUnderQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := open(t, t.TempDir())
	// A quarter of the sample, as in TestReembedCancel: learning a model
	// from all of it under -race takes tens of seconds, and the queries
	// cross the swap whatever the job's length (they start before the job
	// and stop after it).
	f.kb.Ingest(ctx, actor, sampleFiles(t)[:12], nil)
	before, _ := f.kb.Stats(ctx)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var queries, failures int
	var mu sync.Mutex
	started := make(chan struct{}, 2)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				hits, err := f.kb.SearchVector(ctx, "how do refunds work", 5, index.Filter{})
				mu.Lock()
				queries++
				if err != nil || len(hits) == 0 {
					failures++
				}
				mu.Unlock()
				select {
				case started <- struct{}{}:
				default:
				}
				// Hundreds of queries a second are plenty to cross the
				// swap; back to back, under -race on two cores, they
				// starved the job they watch (50 s instead of 20).
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	<-started // queries are flowing before the job starts
	// A new document arrives mid-job: the final catch-up must embed it.
	job := f.kb.Reembed("test")
	f.kb.Ingest(ctx, actor, []rag.File{{Name: "late.md", Data: []byte("# Late\n\nThis arrived while the job was running.\n")}}, nil)
	job.Wait()
	close(stop)
	wg.Wait()

	js := job.Status()
	if js.State != schema.JobDone {
		t.Fatalf("job = %+v", js)
	}
	after, _ := f.kb.Stats(ctx)
	if after.Vectors != after.Chunks || after.Chunks != before.Chunks+1 {
		t.Errorf("after the swap: %+v (before %+v)", after, before)
	}
	if queries == 0 || failures > 0 {
		t.Errorf("%d of %d queries failed during the swap", failures, queries)
	}
	if n, _ := f.st.CountVectors(ctx, before.Model); n != 0 && before.Model != after.Model {
		t.Errorf("old model still has %d vectors", n)
	}
}

// fakeEmbeddings speaks the OpenAI /v1/embeddings wire format with
// deterministic 8-dimensional vectors (letter counts), so tests can run a
// knowledge base against an "API" model.
func fakeEmbeddings(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/v1/embeddings" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, in := range req.Input {
			v := make([]float32, 8)
			for _, r := range strings.ToLower(in) {
				if r >= 'a' && r <= 'z' {
					v[(r-'a')%8]++
				}
			}
			v[0] += 0.5
			data = append(data, item{"embedding", i, v})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": 10, "total_tokens": 10}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSwitchingEmbeddingModelReembeds: documents embedded by an API model
// are re-embedded with the local model when the API is no longer
// configured, by a background job that swaps when done.
func TestSwitchingEmbeddingModelReembeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	api := fakeEmbeddings(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: log,
		Remote: &rag.RemoteEmbedding{BaseURL: api.URL, APIKey: "k", Model: "fake-embed"}})
	if err != nil {
		t.Fatal(err)
	}
	kb.Ingest(ctx, actor, sampleFiles(t)[:8], nil)
	stats, _ := kb.Stats(ctx)
	if !strings.HasPrefix(stats.Model, "fake-embed@api/8") || stats.Vectors != stats.Chunks {
		t.Fatalf("with the API: %+v", stats)
	}
	kb.Close()
	st.Close()

	f := open(t, dir) // no API configured now
	job := f.kb.CurrentJob()
	if job == nil {
		t.Fatal("no re-embed job after the model changed")
	}
	job.Wait()
	if js := job.Status(); js.State != schema.JobDone || js.From != stats.Model {
		t.Fatalf("job = %+v", js)
	}
	after, _ := f.kb.Stats(ctx)
	if !strings.HasPrefix(after.Model, "llmops-lsa@") || after.Vectors != after.Chunks {
		t.Fatalf("after the switch: %+v", after)
	}
	if hits, err := f.kb.SearchVector(ctx, "refund", 3, index.Filter{}); err != nil || len(hits) == 0 {
		t.Errorf("vector search after the switch: %v, %d hits", err, len(hits))
	}
}

// BenchmarkIngestSampleData ingests the 46 sample documents end to end
// (parse, chunk, learn the model, embed, commit, index) into a fresh data
// dir per iteration.
func BenchmarkIngestSampleData(b *testing.B) {
	ctx := context.Background()
	files := sampleFiles(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	chunks := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		st, err := store.Open(ctx, dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, r := range kb.Ingest(ctx, actor, files, nil) {
			chunks += r.Chunks
		}
		b.StopTimer()
		kb.Close()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
}

func TestReembedCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := open(t, t.TempDir())
	// A quarter of the sample is a corpus like any other here; learning
	// the model from all of it under -race costs tens of seconds.
	f.kb.Ingest(ctx, actor, sampleFiles(t)[:12], nil)
	before, _ := f.kb.Stats(ctx)
	job := f.kb.Reembed("test")
	job.Cancel()
	job.Wait()
	if st := job.Status(); st.State != "cancelled" && st.State != "done" {
		t.Fatalf("job after cancel = %+v", st)
	}
	after, _ := f.kb.Stats(ctx)
	if job.Status().State == "cancelled" && after.Model != before.Model {
		t.Errorf("a cancelled job swapped the model: %s → %s", before.Model, after.Model)
	}
	if after.Vectors != after.Chunks {
		t.Errorf("after cancel %d vectors for %d chunks", after.Vectors, after.Chunks)
	}
	if to := job.Status().To; job.Status().State == "cancelled" && to != "" {
		if n, _ := f.st.CountVectors(ctx, to); n != 0 {
			t.Errorf("the cancelled model left %d vectors behind", n)
		}
	}
}
