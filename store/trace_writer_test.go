package store_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// newTrace builds a finished trace with n spans, as an ask would.
func newTrace(n int) (*store.Trace, []store.Span) {
	start := time.Now()
	t := &store.Trace{ID: store.NewIDAt(start), Kind: "ask", Name: "ask", Start: start, End: start.Add(12 * time.Millisecond),
		Status: schema.StatusOK, Input: "How do I connect Slack?", Output: "Open Settings → Integrations.", TokensIn: 120, TokensOut: 40}
	spans := make([]store.Span, n)
	for i := range spans {
		spans[i] = store.Span{TraceID: t.ID, ID: store.NewID(), Name: fmt.Sprintf("step%d", i), Kind: "retriever",
			Start: start, End: start.Add(time.Millisecond), Status: schema.StatusOK, Attributes: map[string]any{"k": 10, "hits": []string{"a", "b"}}}
	}
	return t, spans
}

func TestTraceWriterFlushesOnClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	// A long interval proves Close, not the timer, commits the tail.
	w := s.NewTraceWriter(store.TraceWriterOptions{Interval: time.Hour, MaxBatch: 1000})
	var ids []string
	for range 25 {
		tr, spans := newTrace(4)
		ids = append(ids, tr.ID)
		if err := w.Write(ctx, tr, spans...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Written != 125 || st.Dropped != 0 || st.Failed != 0 {
		t.Fatalf("stats = %+v; want 125 written, none lost", st)
	}
	if err := w.Write(ctx, &store.Trace{ID: store.NewID()}); err != store.ErrClosed {
		t.Errorf("write after close: err = %v, want ErrClosed", err)
	}
	if n, _ := s.CountTraces(ctx); n != 25 {
		t.Fatalf("stored traces = %d, want 25", n)
	}
	tr, spans, err := s.Trace(ctx, ids[3])
	if err != nil || tr.ID != ids[3] || len(spans) != 4 {
		t.Fatalf("Trace(%s) = %v, %d spans, %v; want it with 4 spans", ids[3], tr, len(spans), err)
	}
	list, next, err := s.ListTraces(ctx, store.TraceFilter{Page: store.Page{Limit: 10}})
	if err != nil || len(list) != 10 || next == "" || list[0].ID != ids[24] {
		t.Fatalf("ListTraces = %d traces, next %q, %v; want the newest 10", len(list), next, err)
	}
	if _, _, err := s.Trace(ctx, "missing"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("missing trace: err = %v, want not_found", err)
	}
}

func TestTraceWriterBackPressureIsCounted(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	w := s.NewTraceWriter(store.TraceWriterOptions{Buffer: 1, MaxBatch: 1, Interval: time.Millisecond})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				tr, spans := newTrace(1)
				if err := w.Write(context.Background(), tr, spans...); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// A writer whose context is already over gives up when the buffer is
	// full, and that loss is counted, never silent.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lost := 0
	for range 50 {
		tr, _ := newTrace(0)
		if w.Write(ctx, tr) != nil {
			lost++
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Stalls == 0 {
		t.Errorf("stats = %+v; want stalls counted with a 1-record buffer", st)
	}
	if st.Dropped != int64(lost) || st.Written != 800+int64(50-lost) {
		t.Errorf("stats = %+v with %d lost; want dropped = lost and the rest written", st, lost)
	}
}

// BenchmarkTraceWriter measures sustained group-commit throughput with real
// fsyncs: 8 concurrent requests each writing a trace with 10 spans.
func BenchmarkTraceWriter(b *testing.B) {
	s, err := store.Open(context.Background(), b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w := s.NewTraceWriter(store.TraceWriterOptions{})
	const spansPer = 10
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tr, spans := newTrace(spansPer)
			if err := w.Write(context.Background(), tr, spans...); err != nil {
				b.Error(err)
			}
		}
	})
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := w.Stats()
	b.ReportMetric(float64(st.Written-int64(b.N))/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(st.Stalls), "stalls")
	if st.Dropped+st.Failed > 0 {
		b.Fatalf("lost records: %+v", st)
	}
}

func TestTraceWriterLosesOnlyTheBadRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	w := s.NewTraceWriter(store.TraceWriterOptions{Interval: time.Hour})
	good, spans := newTrace(2)
	bad, _ := newTrace(0)
	bad.CostUSD = math.NaN() // JSON cannot encode it
	w.Write(ctx, good, spans...)
	w.Write(ctx, bad)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Written != 3 || st.Failed != 1 {
		t.Errorf("stats = %+v; want 3 written, 1 failed", st)
	}
	if _, _, err := s.Trace(ctx, good.ID); err != nil {
		t.Errorf("the good trace was lost with the bad one: %v", err)
	}
}
