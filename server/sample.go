package server

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"llmops/rag"
	sampledata "llmops/sample-data"
	"llmops/store"
)

// sampleSourcePrefix starts the source of every sample document.
const sampleSourcePrefix = "sample-data/"

// loadSampleData ingests the embedded Rosterly help centre into a new data
// dir, once: deleting the documents later does not bring them back.
func (s *Server) loadSampleData(ctx context.Context) error {
	first, err := s.store.MarkOnce(ctx, "sample_data_loaded")
	if err != nil || !first {
		return err
	}
	st, err := s.kb.Stats(ctx)
	if err != nil || st.Documents > 0 {
		return err // an existing knowledge base is never mixed with samples
	}
	files, err := sampleFiles()
	if err != nil {
		return err
	}
	start := time.Now()
	results := s.ingest(ctx, store.Actor{Kind: store.ActorSystem, Name: "sample data"}, files, nil)
	chunks, failed := 0, 0
	for _, r := range results {
		chunks += r.Chunks
		if r.Outcome == "failed" {
			failed++
			s.log.Warn("sample document failed", "file", r.Name, "err", r.Error)
		}
	}
	s.log.Info("sample data loaded", "documents", len(results)-failed, "chunks", chunks, "failed", failed, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// sampleFiles turns the embedded manifest into uploads with metadata.
func sampleFiles() ([]rag.File, error) {
	docs, err := sampledata.Manifest()
	if err != nil {
		return nil, err
	}
	files := make([]rag.File, 0, len(docs))
	for _, d := range docs {
		data, err := fs.ReadFile(sampledata.FS(), d.Path)
		if err != nil {
			return nil, fmt.Errorf("sample data %s: %w", d.Path, err)
		}
		files = append(files, rag.File{Name: sampleSourcePrefix + d.Path, Data: data, Meta: rag.Meta{
			Title: d.Title, Category: d.Category, ProductVersion: d.ProductVersion, Tags: d.Tags, LastUpdated: d.LastUpdated,
		}})
	}
	return files, nil
}
