package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

func docWrite(source, hash string, texts ...string) store.DocumentWrite {
	w := store.DocumentWrite{Doc: &store.Document{Source: source, Title: source, Format: "markdown", Hash: hash, Category: "billing"}, Model: "m@1/2"}
	for _, t := range texts {
		w.Chunks = append(w.Chunks, store.Chunk{Text: t, Tokens: 3})
		w.Vectors = append(w.Vectors, []float32{0.6, 0.8})
	}
	return w
}

// recomputed is the fingerprint of the stored chunks computed from scratch.
func recomputed(t *testing.T, s *store.Store) store.Fingerprint {
	var fp store.Fingerprint
	if err := s.ForEachChunk(context.Background(), func(d *store.Document, c *store.Chunk) error { fp.Toggle(d, c); return nil }); err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestCommitUpdateDeleteDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	actor := store.Actor{Kind: store.ActorCLI, Name: "test"}

	res, err := s.CommitDocuments(ctx, actor, []store.DocumentWrite{
		docWrite("a.md", "h1", "alpha one", "alpha two"),
		docWrite("b.md", "h2", "beta"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != schema.IngestCreated || res[1].Outcome != schema.IngestCreated || res[0].Doc.Chunks != 2 || res[0].Doc.Tokens != 6 {
		t.Fatalf("results = %+v %+v", res[0], res[1])
	}
	a := res[0].Doc
	fp, n, _ := s.ChunkFingerprint(ctx)
	if n != 3 || fp != recomputed(t, s) {
		t.Fatalf("fingerprint after create: %d chunks, %v vs recomputed %v", n, fp, recomputed(t, s))
	}

	// Same bytes again: unchanged. Same bytes under another name: duplicate.
	res, _ = s.CommitDocuments(ctx, actor, []store.DocumentWrite{docWrite("a.md", "h1", "alpha one", "alpha two"), docWrite("copy.md", "h2", "beta")})
	if res[0].Outcome != schema.IngestUnchanged || res[1].Outcome != schema.IngestDuplicate || res[1].Doc.Source != "b.md" {
		t.Fatalf("re-upload outcomes = %s, %s (%s)", res[0].Outcome, res[1].Outcome, res[1].Doc.Source)
	}

	// Changed bytes: replaced in place, same ID, fewer chunks.
	res, err = s.CommitDocuments(ctx, actor, []store.DocumentWrite{docWrite("a.md", "h3", "alpha new")})
	if err != nil || res[0].Outcome != schema.IngestUpdated || res[0].Doc.ID != a.ID || len(res[0].RemovedChunks) != 2 {
		t.Fatalf("update = %+v, %v", res[0], err)
	}
	doc, chunks, err := s.Document(ctx, a.ID)
	if err != nil || len(chunks) != 1 || chunks[0].Text != "alpha new" || doc.Hash != "h3" || !doc.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("after update: %+v %+v %v", doc, chunks, err)
	}
	if n, _ := s.CountVectors(ctx, "m@1/2"); n != 2 {
		t.Errorf("vectors after update = %d, want 2 (stale ones removed)", n)
	}
	if fp, _, _ := s.ChunkFingerprint(ctx); fp != recomputed(t, s) {
		t.Errorf("fingerprint drifted after update")
	}

	removed, ids, err := s.DeleteDocument(ctx, actor, a.ID)
	if err != nil || removed.ID != a.ID || len(ids) != 1 {
		t.Fatalf("delete = %v, %v, %v", removed, ids, err)
	}
	if _, _, err := s.Document(ctx, a.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("deleted document still readable: %v", err)
	}
	if _, err := s.DocumentBySource(ctx, "a.md"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("source index still points at the deleted document")
	}
	st, _ := s.KnowledgeStats(ctx)
	if st.Documents != 1 || st.Chunks != 1 {
		t.Errorf("stats = %+v, want 1 document, 1 chunk", st)
	}
	if fp, _, _ := s.ChunkFingerprint(ctx); fp != recomputed(t, s) {
		t.Errorf("fingerprint drifted after delete")
	}
	// The same bytes may be uploaded again after a delete.
	res, _ = s.CommitDocuments(ctx, actor, []store.DocumentWrite{docWrite("a2.md", "h3", "alpha new")})
	if res[0].Outcome != schema.IngestCreated {
		t.Errorf("re-upload after delete = %s, want created", res[0].Outcome)
	}
	events, _, _ := s.ListAudit(ctx, store.Page{})
	got := map[string]int{}
	for _, e := range events {
		if e.Resource == "document" {
			got[e.Action]++
		}
	}
	if got["create"] != 3 || got["update"] != 1 || got["delete"] != 1 {
		t.Errorf("document audit = %v", got)
	}
}

func TestEmbedModelSwap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	actor := store.Actor{Kind: store.ActorSystem, Name: "test"}
	if err := s.PutEmbedModel(ctx, store.EmbedModel{ID: "m@1/2", Name: "m", Version: "1", Dim: 2, Kind: "local"}, []byte("blob1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SwapEmbedModel(ctx, actor, "m@1/2"); err != nil {
		t.Fatal(err)
	}
	res, _ := s.CommitDocuments(ctx, actor, []store.DocumentWrite{docWrite("a.md", "h1", "x", "y")})
	ids := []string{store.ChunkID(res[0].Doc.ID, 0), store.ChunkID(res[0].Doc.ID, 1)}

	if err := s.PutEmbedModel(ctx, store.EmbedModel{ID: "m@2/2", Name: "m", Version: "2", Dim: 2, Kind: "local"}, []byte("blob2")); err != nil {
		t.Fatal(err)
	}
	doc := res[0].Doc
	if n, err := s.PutVectors(ctx, "m@2/2", []store.VectorWrite{{ChunkID: ids[0], DocUpdated: doc.UpdatedAt, Vec: []float32{1, 0}}}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	// A vector computed before the document changed is refused.
	if n, _ := s.PutVectors(ctx, "m@2/2", []store.VectorWrite{{ChunkID: ids[1], DocUpdated: doc.UpdatedAt.Add(-time.Second), Vec: []float32{0, 1}}}); n != 0 {
		t.Errorf("stale vector stored")
	}
	if err := s.SwapEmbedModel(ctx, actor, "m@2/2"); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("swap with a missing vector: %v, want conflict", err)
	}
	s.PutVectors(ctx, "m@2/2", []store.VectorWrite{{ChunkID: ids[1], DocUpdated: doc.UpdatedAt, Vec: []float32{0, 1}}})
	if err := s.SwapEmbedModel(ctx, actor, "m@2/2"); err != nil {
		t.Fatal(err)
	}
	if active, _ := s.ActiveEmbedModel(ctx); active != "m@2/2" {
		t.Fatalf("active = %s", active)
	}
	if err := s.DeleteVectorModel(ctx, "m@2/2"); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("deleting the active model: %v, want conflict", err)
	}
	if err := s.DeleteVectorModel(ctx, "m@1/2"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountVectors(ctx, "m@1/2"); n != 0 {
		t.Errorf("old vectors left: %d", n)
	}
	_, blob, err := s.LoadEmbedModel(ctx, "m@2/2")
	if err != nil || string(blob) != "blob2" {
		t.Errorf("LoadEmbedModel = %q, %v", blob, err)
	}
	var got []string
	s.ForEachChunkVector(ctx, "m@2/2", func(_ *store.Document, c *store.Chunk, v []float32) error {
		got = append(got, fmt.Sprint(c.Index, v))
		return nil
	})
	if fmt.Sprint(got) != "[0 [1 0] 1 [0 1]]" {
		t.Errorf("chunk vectors = %v", got)
	}
}

func TestChunkConfigVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	actor := store.Actor{Kind: store.ActorSystem, Name: "test"}
	v1, _ := s.SaveChunkConfig(ctx, actor, []byte(`{"strategy":"heading","max_tokens":350}`))
	same, _ := s.SaveChunkConfig(ctx, actor, []byte(`{"max_tokens": 350, "strategy": "heading"}`))
	v2, _ := s.SaveChunkConfig(ctx, actor, []byte(`{"strategy":"fixed","max_tokens":200}`))
	if v1 != 1 || same != 1 || v2 != 2 {
		t.Fatalf("versions = %d, %d, %d; want 1, 1, 2", v1, same, v2)
	}
	cur, _ := s.CurrentChunkConfig(ctx)
	if cur.Version != 2 {
		t.Errorf("current = %+v", cur)
	}
}

func TestMarkOnce(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	first, _ := s.MarkOnce(context.Background(), "x")
	again, _ := s.MarkOnce(context.Background(), "x")
	if !first || again {
		t.Errorf("MarkOnce = %v then %v; want true then false", first, again)
	}
}
