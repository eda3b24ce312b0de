package server

import (
	"context"
	"time"

	"llmops/rag"
	"llmops/store"
	"llmops/store/schema"
)

// sampleSourcePrefix starts the source of every sample document.
const sampleSourcePrefix = rag.SamplePrefix

// loadSampleData ingests the embedded Rosterly help centre into a new data
// dir, once: deleting the documents later does not bring them back. It
// reports whether it loaded them now.
func (s *Server) loadSampleData(ctx context.Context) (bool, error) {
	first, err := s.store.MarkOnce(ctx, "sample_data_loaded")
	if err != nil || !first {
		return false, err
	}
	st, err := s.kb.Stats(ctx)
	if err != nil || st.Documents > 0 {
		return false, err // an existing knowledge base is never mixed with samples
	}
	files, _, err := rag.SampleFiles()
	if err != nil {
		return false, err
	}
	start := time.Now()
	results := s.ingest(ctx, store.Actor{Kind: store.ActorSystem, Name: "sample data"}, files, nil)
	chunks, failed := 0, 0
	for _, r := range results {
		chunks += r.Chunks
		if r.Outcome == schema.IngestFailed {
			failed++
			s.log.Warn("sample document failed", "file", r.Name, "err", r.Error)
		}
	}
	s.log.Info("sample data loaded", "documents", len(results)-failed, "chunks", chunks, "failed", failed, "took", time.Since(start).Round(time.Millisecond))
	return true, nil
}
