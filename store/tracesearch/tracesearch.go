// Package tracesearch is the full-text index of traces (bleve, on disk in
// its own directory): question and answer of every trace, for the trace
// explorer's q filter. bbolt stays the source of truth: the index is fed
// the traces each trace-writer commit wrote, records the newest trace ID
// it holds, catches up from the store when it opens, and is rebuilt from
// the store when it is missing or unreadable.
package tracesearch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"llmops/store"
)

// watermarkKey holds the newest trace ID the index has seen.
var watermarkKey = []byte("llmops.trace_watermark")

// catchUpMargin is how far before the watermark a catch-up starts: a
// trace's ID is its start time, and a long ask is committed after shorter
// ones that started later.
const catchUpMargin = 15 * time.Minute

// Index is the full-text index of traces.
type Index struct {
	idx  bleve.Index
	path string
	log  *slog.Logger

	queue chan queued
	done  chan struct{}
	once  sync.Once

	mu        sync.Mutex // guards watermark
	watermark string
}

func indexMapping() mapping.IndexMapping {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = en.AnalyzerName
	text.Store, text.IncludeTermVectors, text.IncludeInAll, text.DocValues = false, false, false, false
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("text", text)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m
}

// Open opens (or creates) the index at dir and brings it up to date with
// the store: from the watermark, or entirely when the index is new or
// could not be opened. It then indexes what Add is given, in the
// background, until Close.
func Open(ctx context.Context, dir string, s *store.Store, log *slog.Logger) (*Index, error) {
	if log == nil {
		log = slog.Default()
	}
	x := &Index{path: dir, log: log, queue: make(chan queued, 64), done: make(chan struct{})}
	var err error
	if _, statErr := os.Stat(dir); statErr == nil {
		if x.idx, err = bleve.OpenUsing(dir, map[string]any{"unsafe_batch": true}); err != nil {
			log.Warn("trace search index unreadable: rebuilding from the store", "dir", dir, "err", err)
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("remove unreadable trace index: %w", err)
			}
			x.idx = nil
		}
	}
	if x.idx == nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, err
		}
		// unsafe_batch: a batch is not fsynced on its own. A crash may
		// lose the newest batches, watermark included, and catchUp
		// indexes them again from the store.
		if x.idx, err = bleve.NewUsing(dir, indexMapping(), scorch.Name, scorch.Name, map[string]any{"unsafe_batch": true}); err != nil {
			return nil, fmt.Errorf("create trace index: %w", err)
		}
	}
	raw, err := x.idx.GetInternal(watermarkKey)
	if err != nil {
		x.idx.Close()
		return nil, err
	}
	x.watermark = string(raw)
	if err := x.catchUp(ctx, s); err != nil {
		x.idx.Close()
		return nil, fmt.Errorf("trace index catch-up: %w", err)
	}
	go x.run()
	return x, nil
}

// catchUp indexes the stored traces from the watermark (less a margin),
// or all of them on a new index.
func (x *Index) catchUp(ctx context.Context, s *store.Store) error {
	var since time.Time
	if t, ok := store.IDTime(x.watermark); ok {
		since = t.Add(-catchUpMargin)
	}
	after := ""
	n := 0
	for {
		batch, err := s.TracesSince(ctx, since, after, 2000)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		if err := x.apply(batch, nil); err != nil {
			return err
		}
		n += len(batch)
		after = batch[len(batch)-1].ID
	}
	if n > 0 {
		x.log.Info("trace search index caught up", "traces", n)
	}
	return nil
}

// queued is a batch of traces to index, or (flushed set) a Flush.
type queued struct {
	traces  []store.Trace
	flushed chan struct{}
}

func (x *Index) run() {
	defer close(x.done)
	for q := range x.queue {
		// Everything queued meanwhile goes into the same bleve batch:
		// fewer, larger segments keep up with the trace writer.
		var flushed []chan struct{}
		traces := q.traces
		if q.flushed != nil {
			flushed = append(flushed, q.flushed)
		}
	more:
		for len(traces) < maxIndexBatch {
			select {
			case q2, ok := <-x.queue:
				if !ok {
					break more
				}
				traces = append(traces, q2.traces...)
				if q2.flushed != nil {
					flushed = append(flushed, q2.flushed)
				}
			default:
				break more
			}
		}
		if len(traces) > 0 {
			if err := x.apply(traces, nil); err != nil {
				x.log.Error("trace search index: batch failed (it is rebuilt from the watermark at the next start)", "traces", len(traces), "err", err)
			}
		}
		for _, f := range flushed {
			close(f)
		}
	}
}

// maxIndexBatch bounds the traces one bleve batch indexes.
const maxIndexBatch = 10000

// Flush waits until everything Add was given before it is searchable.
func (x *Index) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case x.queue <- queued{flushed: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type doc struct {
	Text string `json:"text"`
}

// apply indexes traces and removes ids in one bleve batch, and moves the
// watermark.
func (x *Index) apply(traces []store.Trace, remove []string) error {
	b := x.idx.NewBatch()
	x.mu.Lock()
	wm := x.watermark
	x.mu.Unlock()
	for i := range traces {
		t := &traces[i]
		if err := b.Index(t.ID, doc{Text: t.Input + "\n" + t.Output}); err != nil {
			return fmt.Errorf("index trace %s: %w", t.ID, err)
		}
		wm = max(wm, t.ID)
	}
	for _, id := range remove {
		b.Delete(id)
	}
	b.SetInternal(watermarkKey, []byte(wm))
	if err := x.idx.Batch(b); err != nil {
		return err
	}
	x.mu.Lock()
	x.watermark = max(x.watermark, wm)
	x.mu.Unlock()
	return nil
}

// Add queues traces a commit wrote; it blocks when the indexer is 64
// batches behind (back-pressure on the trace writer, never a drop).
func (x *Index) Add(traces []store.Trace) {
	defer func() { _ = recover() }() // a commit racing Close: caught up at the next start
	x.queue <- queued{traces: traces}
}

// Delete removes traces (retention) from the index.
func (x *Index) Delete(ids []string) error { return x.apply(nil, ids) }

// Match returns a store.TraceMatcher for the words of q: traces whose
// question or answer has all of them, newest first.
func (x *Index) Match(q string) store.TraceMatcher {
	return func(ctx context.Context, before string, n int) ([]string, error) {
		mq := bleve.NewMatchQuery(q)
		mq.SetField("text")
		mq.SetOperator(query.MatchQueryOperatorAnd)
		req := bleve.NewSearchRequestOptions(mq, n, 0, false)
		req.SortBy([]string{"-_id"})
		if before != "" {
			req.SearchAfter = []string{before}
		}
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		return ids, nil
	}
}

// DocCount is how many traces the index holds.
func (x *Index) DocCount() (uint64, error) { return x.idx.DocCount() }

// Close indexes what is queued and closes the index. Close the trace
// writer first, so nothing is added after.
func (x *Index) Close() error {
	x.once.Do(func() { close(x.queue) })
	<-x.done
	err := x.idx.Close()
	if errors.Is(err, bleve.ErrorIndexClosed) {
		return nil
	}
	return err
}
