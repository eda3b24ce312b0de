package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TraceWriter persists traces and spans with group commit: writers hand
// records to a buffered channel and one goroutine commits them, up to
// MaxBatch records or every Interval, in one bbolt transaction. One fsync
// then covers thousands of spans instead of one. The next batch is
// gathered and JSON-encoded while one commits.
//
// When the buffer is full, Write blocks (back-pressure) and the stall is
// counted; a record is lost only when its caller's context ends while it
// waits, and that is counted and returned as an error. Nothing is dropped
// silently.
type TraceWriter struct {
	s         *Store
	log       *slog.Logger
	ch        chan traceRecord
	maxBatch  int
	interval  time.Duration
	committed func([]Trace)

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
	done   chan struct{}

	written, stalls, dropped, failed, flushes atomic.Int64

	subscriber atomic.Pointer[func([]Trace, []Span)] // see Subscribe
}

// traceRecord is a trace (nil when only spans are added) with its spans.
type traceRecord struct {
	trace *Trace
	spans []Span
	// flushed, when set, marks a Flush: it is closed once everything
	// queued before it is committed.
	flushed chan struct{}
}

// TraceWriterOptions tune a TraceWriter; zero values take the defaults.
type TraceWriterOptions struct {
	Buffer   int           // records the channel holds; default 4096
	MaxBatch int           // records per transaction at most; default 16384 (about 1,500 traces of 10 spans)
	Interval time.Duration // longest a record waits for its commit; default 20ms
	Logger   *slog.Logger
	// Committed, when set, is given the traces of each committed
	// transaction, from the writer's goroutine (the full-text index of
	// traces); it should hand them off rather than work long.
	Committed func([]Trace)
}

// TraceWriterStats counts what the writer did, for /metrics.
type TraceWriterStats struct {
	Written int64 // traces + spans committed
	Stalls  int64 // writes that found the buffer full and had to wait
	Dropped int64 // records abandoned because the caller gave up waiting
	Failed  int64 // records lost to a failed transaction
	Flushes int64 // transactions committed
	Queued  int   // records waiting now
}

// NewTraceWriter starts the writer's commit goroutine. Close it to flush.
func (s *Store) NewTraceWriter(opts TraceWriterOptions) *TraceWriter {
	if opts.Buffer <= 0 {
		opts.Buffer = 4096
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 16384
	}
	if opts.Interval <= 0 {
		opts.Interval = 20 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &TraceWriter{
		s: s, log: opts.Logger, ch: make(chan traceRecord, opts.Buffer),
		maxBatch: opts.MaxBatch, interval: opts.Interval, committed: opts.Committed, done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Write queues a trace and its spans (both may be updates of records
// written before: a later write of the same ID replaces the earlier one).
// It returns once the record is queued, not committed.
func (w *TraceWriter) Write(ctx context.Context, t *Trace, spans ...Span) error {
	if t == nil && len(spans) == 0 {
		return nil
	}
	if t != nil && t.ID == "" {
		return errors.New("trace without ID")
	}
	rec := traceRecord{trace: t, spans: spans}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return ErrClosed
	}
	select {
	case w.ch <- rec:
		return nil
	default:
	}
	w.stalls.Add(1)
	select {
	case w.ch <- rec:
		return nil
	case <-ctx.Done():
		w.dropped.Add(1)
		return fmt.Errorf("trace writer buffer full: %w", ctx.Err())
	}
}

// Flush waits until every record queued before the call is committed (or
// lost to a failed transaction, which Stats counts). Feedback on an
// answer that was just given uses it: the trace must exist to attach to.
func (w *TraceWriter) Flush(ctx context.Context) error {
	done := make(chan struct{})
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.ch <- traceRecord{flushed: done}:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the writer's counters.
func (w *TraceWriter) Stats() TraceWriterStats {
	return TraceWriterStats{
		Written: w.written.Load(), Stalls: w.stalls.Load(), Dropped: w.dropped.Load(),
		Failed: w.failed.Load(), Flushes: w.flushes.Load(), Queued: len(w.ch),
	}
}

// Close stops accepting writes and commits everything queued. It returns
// ctx's error if the flush does not finish in time.
func (w *TraceWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush traces: %w (%d records still queued)", ctx.Err(), len(w.ch))
	}
}

func (w *TraceWriter) run() {
	// Two stages: this goroutine batches and encodes while the committer
	// writes the previous batch, so JSON encoding overlaps the commit's
	// page writes and fsync instead of adding to them.
	commits := make(chan encodedBatch, 1)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for eb := range commits {
			if len(eb.batch) > 0 {
				w.commit(eb)
			}
			for _, f := range eb.flushed {
				close(f)
			}
		}
	}()
	defer func() {
		close(commits)
		<-committed
		close(w.done)
	}()
	batch := make([]traceRecord, 0, 256)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	size := 0
	flush := func(flushed chan struct{}) {
		if len(batch) == 0 && flushed == nil {
			return
		}
		eb := w.encode(batch, size)
		if flushed != nil {
			eb.flushed = []chan struct{}{flushed}
		}
		commits <- eb
		batch, size = make([]traceRecord, 0, 256), 0
	}
	for {
		select {
		case rec, ok := <-w.ch:
			if !ok {
				flush(nil)
				return
			}
			if rec.flushed != nil {
				timer.Stop()
				flush(rec.flushed)
				continue
			}
			if len(batch) == 0 {
				timer.Reset(w.interval)
			}
			batch = append(batch, rec)
			size += len(rec.spans)
			if rec.trace != nil {
				size++
			}
			if size >= w.maxBatch {
				timer.Stop()
				flush(nil)
			}
		case <-timer.C:
			flush(nil)
		}
	}
}

// encodedRecord is a trace or span ready to put.
type encodedRecord struct {
	span     bool
	key, val []byte
	rec      *traceRecord // for a trace: its record, for the derived data
}

// encodedBatch is a batch with its records encoded, and the Flush calls
// waiting for it.
type encodedBatch struct {
	batch   []traceRecord
	puts    []encodedRecord
	flushed []chan struct{}
}

// encode marshals a batch's records. One record that cannot be encoded
// (a NaN cost, say) is lost alone and counted, instead of failing the
// whole transaction.
func (w *TraceWriter) encode(batch []traceRecord, size int) encodedBatch {
	puts := make([]encodedRecord, 0, size)
	bad := 0
	for i, rec := range batch {
		if rec.trace != nil {
			if v, err := json.Marshal(rec.trace); err != nil {
				bad++
				w.log.Error("trace writer: cannot encode trace", "trace", rec.trace.ID, "err", err)
			} else {
				puts = append(puts, encodedRecord{false, []byte(rec.trace.ID), v, &batch[i]})
			}
		}
		for i := range rec.spans {
			sp := &rec.spans[i]
			if v, err := json.Marshal(sp); err != nil {
				bad++
				w.log.Error("trace writer: cannot encode span", "trace", sp.TraceID, "span", sp.ID, "err", err)
			} else {
				puts = append(puts, encodedRecord{true, spanKey(sp.TraceID, sp.ID), v, nil})
			}
		}
	}
	w.failed.Add(int64(bad))
	return encodedBatch{batch: batch, puts: puts}
}

func (w *TraceWriter) commit(eb encodedBatch) {
	batch, puts := eb.batch, eb.puts
	err := w.s.db.Update(func(tx *bolt.Tx) error {
		traces, spans := tx.Bucket(bucketTraces), tx.Bucket(bucketSpans)
		traces.FillPercent, spans.FillPercent = appendFill, appendFill
		changes := make([]traceChange, 0, len(batch))
		for _, p := range puts {
			b := traces
			if p.span {
				b = spans
			} else if ch, err := replacedTrace(traces, p.key, p.rec); err != nil {
				return err
			} else {
				changes = append(changes, ch)
			}
			if err := b.Put(p.key, p.val); err != nil {
				return err
			}
		}
		return deriveTraces(tx, changes)
	})
	if err != nil {
		w.failed.Add(int64(len(puts)))
		w.log.Error("trace writer: commit failed", "records", len(puts), "err", err)
		return
	}
	w.written.Add(int64(len(puts)))
	w.flushes.Add(1)
	w.notify(batch)
	w.notifyCommitted(batch)
}

// Subscribe makes fn see every committed batch's traces and spans (alerts,
// Prometheus, the OTLP exporter), after the commit, on the writer's
// goroutine: fn must not block (hand the batch to a bounded queue) and must
// not modify what it is given. One subscriber; a later call replaces it.
func (w *TraceWriter) Subscribe(fn func(traces []Trace, spans []Span)) {
	w.subscriber.Store(&fn)
}

// notify hands a committed batch to the subscriber, if any.
func (w *TraceWriter) notify(batch []traceRecord) {
	fn := w.subscriber.Load()
	if fn == nil {
		return
	}
	var traces []Trace
	var spans []Span
	for _, rec := range batch {
		if rec.trace != nil {
			traces = append(traces, *rec.trace)
		}
		spans = append(spans, rec.spans...)
	}
	(*fn)(traces, spans)
}

// notifyCommitted hands the committed traces to opts.Committed.
func (w *TraceWriter) notifyCommitted(batch []traceRecord) {
	if w.committed == nil {
		return
	}
	traces := make([]Trace, 0, len(batch))
	for _, rec := range batch {
		if rec.trace != nil {
			traces = append(traces, *rec.trace)
		}
	}
	if len(traces) > 0 {
		w.committed(traces)
	}
}

// replacedTrace pairs a trace about to be written with the version it
// replaces, if any, so deriveTraces can take the old one's index entries
// and rollup contribution out.
func replacedTrace(traces *bolt.Bucket, key []byte, rec *traceRecord) (traceChange, error) {
	ch := traceChange{new: rec.trace, spans: rec.spans}
	if v := traces.Get(key); v != nil {
		ch.old = &Trace{}
		if err := decode(v, ch.old); err != nil {
			return ch, err
		}
	}
	return ch, nil
}
