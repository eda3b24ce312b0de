package retrieve

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"llmops/rag"
	"llmops/store"
	"llmops/store/schema"
)

// The knowledge base is the Searcher retrieval is built for. (retrieve
// imports rag only in tests: rag must never import retrieve.)
var _ Searcher = (*rag.KnowledgeBase)(nil)

var testActor = store.Actor{Kind: store.ActorCLI, Name: "test"}

// testKB is a real knowledge base (bbolt, bleve, the vector index) in a temp
// dir, closed when the test ends.
type testKB struct {
	st *store.Store
	kb *rag.KnowledgeBase
	// docOf maps a stored document ID to the ID the test knows it by
	// (a sample-data manifest ID, an ArguAna corpus ID).
	docOf map[string]string
}

func mustOpenKB(tb testing.TB) *testKB {
	tb.Helper()
	dir := tb.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	t := &testKB{st: st, kb: kb, docOf: map[string]string{}}
	tb.Cleanup(func() {
		kb.Close()
		st.Close()
	})
	return t
}

// ingest adds files, named by ids (the test's own document IDs), and waits
// for the embedding model to have learned from all of them, as a
// long-running server's would.
func (t *testKB) ingest(tb testing.TB, files []rag.File, ids []string) {
	tb.Helper()
	t.add(tb, files, ids)
	ctx := context.Background()
	st, err := t.kb.Stats(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	// The first model learns from the first commit group only; retrain
	// on everything so the vectors are what a settled corpus has.
	if m, _ := t.st.ActiveEmbedModel(ctx); m != "" && st.Chunks > 2000 {
		t.kb.Reembed("test: learn from the whole corpus").Wait()
	}
}

// add ingests files and waits for any re-embed job it started.
func (t *testKB) add(tb testing.TB, files []rag.File, ids []string) {
	tb.Helper()
	ctx := context.Background()
	res := t.kb.Ingest(ctx, testActor, files, nil)
	failed := 0
	for i, r := range res {
		switch r.Outcome {
		case schema.IngestCreated, schema.IngestUpdated:
			t.docOf[r.DocumentID] = ids[i]
		case schema.IngestFailed:
			failed++
			if failed < 5 {
				tb.Errorf("ingest %s: %s", r.Name, r.Error)
			}
		}
	}
	if failed > 0 {
		tb.Fatalf("%d files failed", failed)
	}
	if j := t.kb.CurrentJob(); j != nil {
		j.Wait()
	}
}

// doc returns the test's document ID of a chunk ID.
func (t *testKB) doc(chunkID string) string {
	return t.docOf[chunkID[:strings.LastIndex(chunkID, "-")]]
}

var (
	sampleOnce  sync.Once
	sampleFiles []rag.File
	sampleIDs   []string
	sampleErr   error
)

// sampleCorpus is the embedded help centre as uploads named the way
// llmops serve loads them, with manifest metadata.
func sampleCorpus(tb testing.TB) ([]rag.File, []string) {
	tb.Helper()
	sampleOnce.Do(func() { sampleFiles, sampleIDs, sampleErr = rag.SampleFiles() })
	if sampleErr != nil {
		tb.Fatal(sampleErr)
	}
	return sampleFiles, sampleIDs
}

// sampleKB is a knowledge base of all 46 sample documents.
func sampleKB(tb testing.TB) *testKB {
	tb.Helper()
	t := mustOpenKB(tb)
	files, ids := sampleCorpus(tb)
	t.ingest(tb, files, ids)
	return t
}
