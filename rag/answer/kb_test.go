package answer

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"llmops/rag"
	"llmops/rag/index"
	sampledata "llmops/sample-data"
	"llmops/store"
)

// sampleKB is the sample help centre ingested into a knowledge base in a
// temp dir, as the server would load it.
type sampleKB struct {
	kb *rag.KnowledgeBase
}

// openSampleKB ingests the sample documents and extra. The answerer only needs BM25,
// so the knowledge base embeds with a fake API instead of learning the
// local model, which takes most of the ingest time under -race.
func openSampleKB(tb testing.TB, extra ...rag.File) *sampleKB {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	api := fakeEmbeddings(tb)
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	kb, err := rag.Open(ctx, st, rag.Options{
		IndexDir: filepath.Join(dir, "index"),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Remote:   &rag.RemoteEmbedding{BaseURL: api.URL, APIKey: "test", Model: "fake-embed"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { kb.Close() })
	docs, err := sampledata.Manifest()
	if err != nil {
		tb.Fatal(err)
	}
	var files []rag.File
	for _, d := range docs {
		data, err := fs.ReadFile(sampledata.FS(), d.Path)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, rag.File{Name: d.Path, Data: data, Meta: rag.Meta{Category: d.Category, ProductVersion: d.ProductVersion, Tags: d.Tags}})
	}
	files = append(files, extra...)
	for _, r := range kb.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, files, nil) {
		if r.Outcome == "failed" {
			tb.Fatalf("ingest %s: %s", r.Name, r.Error)
		}
	}
	return &sampleKB{kb: kb}
}

// retrieve returns the BM25 top k chunks for q, in rank order.
func (s *sampleKB) retrieve(tb testing.TB, q string, k int) []store.ChunkRef {
	tb.Helper()
	ctx := context.Background()
	hits, err := s.kb.SearchKeyword(ctx, q, k, index.Filter{})
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	refs, err := s.kb.Chunks(ctx, ids)
	if err != nil {
		tb.Fatal(err)
	}
	return refs
}

// fakeEmbeddings speaks the OpenAI /v1/embeddings wire format with
// deterministic 8-dimensional vectors (letter counts).
func fakeEmbeddings(tb testing.TB) *httptest.Server {
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
		data := make([]item, len(req.Input))
		for i, in := range req.Input {
			v := make([]float32, 8)
			for _, r := range strings.ToLower(in) {
				if r >= 'a' && r <= 'z' {
					v[(r-'a')%8]++
				}
			}
			v[0] += 0.5
			data[i] = item{"embedding", i, v}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": 10, "total_tokens": 10}})
	}))
	tb.Cleanup(srv.Close)
	return srv
}
