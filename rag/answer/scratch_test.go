package answer

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"llmops/rag"
	"llmops/rag/index"
	sampledata "llmops/sample-data"
	"llmops/store"
)

func TestScratchDump(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Now()
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	docs, _ := sampledata.Manifest()
	var files []rag.File
	for _, d := range docs {
		data, _ := fs.ReadFile(sampledata.FS(), d.Path)
		files = append(files, rag.File{Name: d.Path, Data: data, Meta: rag.Meta{Category: d.Category, ProductVersion: d.ProductVersion, Tags: d.Tags}})
	}
	kb.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: "t"}, files, nil)
	t.Log("ingest", time.Since(t0))
	qs, _ := sampledata.Questions()
	out, _ := os.Create("/tmp/dump.txt")
	defer out.Close()
	for _, q := range qs {
		hits, _ := kb.SearchKeyword(ctx, q.Question, 5, index.Filter{})
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		refs, _ := kb.Chunks(ctx, ids)
		fmt.Fprintf(out, "=== %s %v %s\nREF: %s\nDOCS: %v\n", q.ID, q.Answerable, q.Question, q.ReferenceAnswer, q.DocumentIDs)
		for i, r := range refs {
			fmt.Fprintf(out, "--- [%d] %s | %s | %v | kind=%s\n%s\n", i+1, r.Chunk.ID, r.Document.Title, r.Chunk.Headings, r.Chunk.Kind, strings.TrimSpace(r.Chunk.Text))
		}
	}
	t.Log("total", time.Since(t0))
}
