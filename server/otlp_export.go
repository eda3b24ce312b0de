package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	ulidpkg "github.com/oklog/ulid/v2"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"llmops/store"
	"llmops/store/schema"
)

// otlpExporter sends every committed trace to an OpenTelemetry collector
// over OTLP/HTTP protobuf: the trace becomes a root span, its steps child
// spans, with the GenAI semantic-convention attributes llmops records
// (gen_ai.request.model, gen_ai.usage.input_tokens, ...). It is fed by the
// trace writer's subscriber through a bounded queue: a slow or dead
// collector drops (counted) spans, never slows an answer.
type otlpExporter struct {
	url     string
	headers map[string]string
	client  *http.Client
	log     *slog.Logger
	q       chan []*tracepb.Span
	backoff []time.Duration

	exported, failed, dropped atomic.Int64

	ctx    context.Context // cancelled by close when its deadline passes
	cancel context.CancelFunc
	stopMu sync.Mutex
	closed bool
	done   chan struct{}
}

// Export batching: a request carries at most otlpBatch spans and waits at
// most otlpLinger for more.
const (
	otlpBatch  = 512
	otlpLinger = time.Second
	otlpQueue  = 256 // batches (one per trace-writer commit)
)

func newOTLPExporter(url string, headers map[string]string, log *slog.Logger) *otlpExporter {
	e := &otlpExporter{url: url, headers: headers, log: log, client: &http.Client{Timeout: 10 * time.Second},
		q: make(chan []*tracepb.Span, otlpQueue), backoff: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		done: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go e.run()
	return e
}

type otlpStats struct{ exported, failed, dropped int64 }

func (e *otlpExporter) stats() otlpStats {
	return otlpStats{e.exported.Load(), e.failed.Load(), e.dropped.Load()}
}

// enqueue converts a committed batch and queues it; it never blocks.
// Traces that came in over OTLP are not sent back out.
func (e *otlpExporter) enqueue(traces []store.Trace, spans []store.Span) {
	byTrace := map[string]*store.Trace{}
	var out []*tracepb.Span
	for i := range traces {
		t := &traces[i]
		if ch, _ := t.Attributes[schema.AttrChannel].(string); ch == schema.ChannelOTLP || t.Status == schema.StatusRunning {
			continue
		}
		byTrace[t.ID] = t
		out = append(out, otlpRootSpan(t))
	}
	for i := range spans {
		if byTrace[spans[i].TraceID] != nil {
			out = append(out, otlpSpan(&spans[i]))
		}
	}
	if len(out) == 0 {
		return
	}
	e.stopMu.Lock()
	defer e.stopMu.Unlock()
	if e.closed {
		e.dropped.Add(int64(len(out)))
		return
	}
	select {
	case e.q <- out:
	default:
		e.dropped.Add(int64(len(out)))
	}
}

// close sends what is queued, giving up when ctx ends.
func (e *otlpExporter) close(ctx context.Context) {
	e.stopMu.Lock()
	if !e.closed {
		e.closed = true
		close(e.q)
	}
	e.stopMu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel()
		<-e.done
	}
}

func (e *otlpExporter) run() {
	defer close(e.done)
	var batch []*tracepb.Span
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			e.send(batch)
			batch = nil
		}
	}
	for {
		select {
		case spans, ok := <-e.q:
			if !ok {
				flush()
				return
			}
			if len(batch) == 0 {
				timer.Reset(otlpLinger)
			}
			batch = append(batch, spans...)
			if len(batch) >= otlpBatch {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// send posts one ExportTraceServiceRequest, retrying on network errors,
// 429 and 5xx (OTLP/HTTP's retryable answers).
func (e *otlpExporter) send(spans []*tracepb.Span) {
	body, err := proto.Marshal(otlpRequest(spans))
	if err != nil {
		e.failed.Add(int64(len(spans)))
		e.log.Error("otlp export: encode", "err", err)
		return
	}
	for attempt := 0; ; attempt++ {
		retry, err := e.post(body)
		if err == nil {
			e.exported.Add(int64(len(spans)))
			return
		}
		if !retry || attempt >= len(e.backoff) {
			e.failed.Add(int64(len(spans)))
			e.log.Warn("otlp export failed", "spans", len(spans), "attempts", attempt+1, "err", err)
			return
		}
		select {
		case <-time.After(e.backoff[attempt]):
		case <-e.ctx.Done():
			e.failed.Add(int64(len(spans)))
			return
		}
	}
}

func (e *otlpExporter) post(body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return e.ctx.Err() == nil, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("collector answered %s", resp.Status)
	}
	return false, fmt.Errorf("collector answered %s", resp.Status)
}

// otlpRequest wraps spans in one resource (service.name llmops). It is a
// TracesData, which OTLP defines as wire-compatible with
// ExportTraceServiceRequest: the collector package would link gRPC into
// the binary for its service stubs.
func otlpRequest(spans []*tracepb.Span) *tracepb.TracesData {
	return &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			otlpKV("service.name", "llmops"), otlpKV("telemetry.sdk.name", "llmops"),
		}},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "llmops"}, Spans: spans}},
	}}}
}

// otlpTraceID is a trace's 16-byte OTLP ID: its ULID's bytes, or a hash
// of the ID when it is not a ULID.
func otlpTraceID(id string) []byte {
	if u, err := ulidpkg.ParseStrict(id); err == nil {
		return u[:]
	}
	h := sha256.Sum256([]byte(id))
	return h[:16]
}

// otlpSpanID is an 8-byte span ID derived from the trace and span IDs;
// the trace's own (root) span has span ID "".
func otlpSpanID(traceID, spanID string) []byte {
	h := sha256.Sum256([]byte(traceID + "/" + spanID))
	return h[:8]
}

func otlpTime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func otlpStatus(st schema.TraceStatus, msg string) *tracepb.Status {
	if st == schema.StatusError {
		return &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: msg}
	}
	return &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK}
}

// otlpRootSpan is the trace itself, with the GenAI usage attributes.
func otlpRootSpan(t *store.Trace) *tracepb.Span {
	end := t.End
	if end.IsZero() {
		end = t.Start
	}
	attrs := otlpAttrs(t.Attributes)
	attrs = append(attrs,
		otlpKV("llmops.trace_kind", string(t.Kind)), otlpKV("llmops.status", string(t.Status)),
		otlpKV(schema.AttrUsageInputTokens, int64(t.TokensIn)), otlpKV(schema.AttrUsageOutputTokens, int64(t.TokensOut)),
		otlpKV(schema.AttrCostUSD, t.CostUSD))
	if _, ok := t.Attributes[schema.AttrOperationName]; !ok && t.Kind != schema.KindIngest {
		attrs = append(attrs, otlpKV(schema.AttrOperationName, schema.OperationChat))
	}
	if m, ok := t.Attributes[schema.AttrResponseModel]; ok {
		if _, has := t.Attributes[schema.AttrRequestModel]; !has {
			attrs = append(attrs, otlpKV(schema.AttrRequestModel, m))
		}
	}
	if t.UserID != "" {
		attrs = append(attrs, otlpKV("user.id", t.UserID))
	}
	if t.SessionID != "" {
		attrs = append(attrs, otlpKV("session.id", t.SessionID))
	}
	return &tracepb.Span{
		TraceId: otlpTraceID(t.ID), SpanId: otlpSpanID(t.ID, ""), Name: t.Name, Kind: tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: otlpTime(t.Start), EndTimeUnixNano: otlpTime(end), Attributes: attrs,
		Status: otlpStatus(t.Status, t.Error),
	}
}

func otlpSpan(sp *store.Span) *tracepb.Span {
	end := sp.End
	if end.IsZero() {
		end = sp.Start
	}
	kind := tracepb.Span_SPAN_KIND_INTERNAL
	if sp.Kind == schema.SpanKindLLM || sp.Kind == schema.SpanKindEmbedding {
		kind = tracepb.Span_SPAN_KIND_CLIENT
	}
	attrs := append(otlpAttrs(sp.Attributes), otlpKV("llmops.span_kind", string(sp.Kind)))
	return &tracepb.Span{
		TraceId: otlpTraceID(sp.TraceID), SpanId: otlpSpanID(sp.TraceID, sp.ID), ParentSpanId: otlpSpanID(sp.TraceID, sp.ParentID),
		Name: sp.Name, Kind: kind, StartTimeUnixNano: otlpTime(sp.Start), EndTimeUnixNano: otlpTime(end),
		Attributes: attrs, Status: otlpStatus(sp.Status, sp.Error),
	}
}

func otlpAttrs(m map[string]any) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, 0, len(m)+8)
	for k, v := range m {
		out = append(out, otlpKV(k, v))
	}
	return out
}

func otlpKV(k string, v any) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: otlpValue(v)}
}

// otlpValue maps an attribute to an AnyValue: scalars as themselves,
// string lists as arrays, anything else (citations, hits) as JSON text.
func otlpValue(v any) *commonpb.AnyValue {
	switch x := v.(type) {
	case string:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: x}}
	case bool:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: x}}
	case int:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(x)}}
	case int64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: x}}
	case float64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: x}}
	case []string:
		vals := make([]*commonpb.AnyValue, len(x))
		for i, s := range x {
			vals[i] = otlpValue(s)
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprint(v))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(b)}}
}
