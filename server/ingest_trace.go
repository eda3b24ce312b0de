package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"llmops/rag"
	"llmops/store"
	"llmops/store/schema"
)

// ingest runs kb.Ingest and records it as one trace: a span per file with
// a child span per stage (parse, chunk, embed, index), timed from the
// progress events, so slow or failing uploads show up on the Traces page.
func (s *Server) ingest(ctx context.Context, actor store.Actor, files []rag.File, progress func(rag.Progress)) []rag.FileResult {
	start := time.Now()
	trace := &store.Trace{ID: store.NewIDAt(start), Kind: schema.KindIngest, Start: start, UserID: actor.ID, Status: schema.StatusOK,
		Attributes: map[string]any{schema.AttrActor: actor.String(), schema.AttrFiles: len(files)}}
	if len(files) == 1 {
		trace.Name = files[0].Name
	} else {
		trace.Name = fmt.Sprintf("%d files", len(files))
	}
	type stamp struct {
		stage string
		at    time.Time
	}
	var mu sync.Mutex
	stages := map[string][]stamp{}
	results := s.kb.Ingest(ctx, actor, files, func(p rag.Progress) {
		mu.Lock()
		stages[p.File] = append(stages[p.File], stamp{p.Stage, time.Now()})
		mu.Unlock()
		if progress != nil {
			progress(p)
		}
	})
	trace.End = time.Now()

	var names []string
	counts := map[schema.IngestOutcome]int{}
	var spans []store.Span
	for _, r := range results {
		names = append(names, r.Name)
		outcome := r.Outcome
		counts[outcome]++
		fileSpan := store.Span{TraceID: trace.ID, ID: store.NewID(), Name: r.Name, Kind: schema.SpanKindChain, Start: start, End: trace.End,
			Status: schema.StatusOK, Attributes: map[string]any{schema.AttrOutcome: r.Outcome, schema.AttrChunks: r.Chunks,
				schema.AttrFormat: r.Format, schema.AttrDocumentID: r.DocumentID}}
		if outcome == schema.IngestFailed {
			fileSpan.Status, fileSpan.Error = schema.StatusError, r.Error
		}
		st := stages[r.Name]
		if len(st) > 0 {
			fileSpan.Start, fileSpan.End = st[0].at, st[len(st)-1].at
		}
		spans = append(spans, fileSpan)
		for i := 0; i+1 < len(st); i++ {
			kind := schema.SpanKindChain
			if st[i].stage == rag.StageEmbed {
				kind = schema.SpanKindEmbedding
			}
			spans = append(spans, store.Span{TraceID: trace.ID, ID: store.NewID(), ParentID: fileSpan.ID, Name: st[i].stage, Kind: kind,
				Start: st[i].at, End: st[i+1].at, Status: fileSpan.Status})
		}
	}
	if counts[schema.IngestFailed] > 0 {
		trace.Status, trace.Error = schema.StatusError, fmt.Sprintf("%d of %d files failed", counts[schema.IngestFailed], len(results))
	}
	trace.Input = store.Preview(strings.Join(names, "\n"), store.PreviewLen)
	var out []string
	for _, k := range schema.IngestOutcomes {
		if counts[k] > 0 {
			out = append(out, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	trace.Output = strings.Join(out, ", ")
	// The trace outlives the request: a client that went away still had
	// its files ingested.
	if err := s.traces.Write(context.WithoutCancel(ctx), trace, spans...); err != nil {
		s.log.Warn("ingest trace not recorded", "err", err)
	}
	return results
}
