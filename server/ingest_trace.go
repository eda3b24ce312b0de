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

// ingest runs kb.Ingest and records it as one trace. Each file's own work
// (parse, chunk) is a span with a child per stage; the embedding and the
// commit that files share are drawn once per batch, not as if each file
// had taken them, with the batch's files and chunks as attributes. Times
// come from the progress events, so slow or failing uploads show up on the
// Traces page.
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
	ready := map[string]time.Time{} // a file's own work done
	batchOf := map[string]int{}
	results := s.kb.Ingest(ctx, actor, files, func(p rag.Progress) {
		mu.Lock()
		stages[p.File] = append(stages[p.File], stamp{p.Stage, time.Now()})
		if p.Stage == rag.StageEmbed {
			ready[p.File], batchOf[p.File] = p.Prepared, p.Batch
		}
		mu.Unlock()
		if progress != nil {
			progress(p)
		}
	})
	trace.End = time.Now()

	// A batch: the files that shared one embedding call and commit.
	type batch struct {
		files, chunks, failed int
		embed, index, done    time.Time // first embed, first index (vectors ready), last done or failed
		err                   string
	}
	batches := map[int]*batch{}
	var order []int
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
		// The file's own stages end where the shared batch begins.
		var own []stamp
		for _, st := range stages[r.Name] {
			if st.stage == rag.StageEmbed || st.stage == rag.StageIndex {
				break
			}
			own = append(own, st)
		}
		if at, ok := ready[r.Name]; ok && !at.IsZero() {
			own = append(own, stamp{rag.StageEmbed, at})
		}
		if len(own) > 0 {
			fileSpan.Start, fileSpan.End = own[0].at, own[len(own)-1].at
		}
		if n, ok := batchOf[r.Name]; ok {
			fileSpan.Attributes[schema.AttrBatch] = n
			b := batches[n]
			if b == nil {
				b = &batch{}
				batches[n] = b
				order = append(order, n)
			}
			b.files++
			b.chunks += r.Chunks
			if outcome == schema.IngestFailed {
				b.failed++
				b.err = r.Error
			}
			for _, st := range stages[r.Name] {
				switch st.stage {
				case rag.StageEmbed:
					if b.embed.IsZero() || st.at.Before(b.embed) {
						b.embed = st.at
					}
				case rag.StageIndex:
					if b.index.IsZero() || st.at.Before(b.index) {
						b.index = st.at
					}
				case rag.StageDone, rag.StageFailed:
					if st.at.After(b.done) {
						b.done = st.at
					}
				}
			}
		}
		spans = append(spans, fileSpan)
		for i := 0; i+1 < len(own); i++ {
			spans = append(spans, store.Span{TraceID: trace.ID, ID: store.NewID(), ParentID: fileSpan.ID, Name: own[i].stage, Kind: schema.SpanKindChain,
				Start: own[i].at, End: own[i+1].at, Status: fileSpan.Status})
		}
	}
	for _, n := range order {
		b := batches[n]
		attrs := func() map[string]any {
			return map[string]any{schema.AttrBatch: n, schema.AttrBatchFiles: b.files, schema.AttrChunks: b.chunks}
		}
		status, msg := schema.StatusOK, ""
		if b.failed == b.files {
			status, msg = schema.StatusError, b.err
		}
		embedEnd := b.index
		if embedEnd.IsZero() { // the embedding failed: the batch ended there
			embedEnd = b.done
		}
		label := "embed batch · " + plural(b.files, "file")
		if !b.embed.IsZero() {
			sp := store.Span{TraceID: trace.ID, ID: store.NewID(), Name: label, Kind: schema.SpanKindEmbedding, Start: b.embed, End: embedEnd,
				Status: schema.StatusOK, Attributes: attrs()}
			if b.index.IsZero() {
				sp.Status, sp.Error = status, msg
			}
			spans = append(spans, sp)
		}
		if !b.index.IsZero() {
			spans = append(spans, store.Span{TraceID: trace.ID, ID: store.NewID(), Name: "store and index · " + plural(b.files, "file"),
				Kind: schema.SpanKindChain, Start: b.index, End: b.done, Status: status, Error: msg, Attributes: attrs()})
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

// plural is "1 file", "46 files".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
