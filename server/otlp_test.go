package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"llmops/store"
	"llmops/store/schema"
)

// collector is an OTLP/HTTP receiver that decodes with the official types.
type collector struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	headers []http.Header
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headers = append(c.headers, r.Header.Clone())
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func attrOf(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// Every committed trace reaches the collector as a root span with its
// steps under it and the GenAI attributes, with the configured headers.
func TestOTLPExport(t *testing.T) {
	t.Parallel()
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	s := mustServer(t, func(c *Config) {
		c.OTLPTracesURL, c.OTLPHeaders = srv.URL+"/v1/traces", map[string]string{"X-Tenant": "acme"}
	})
	start := time.Now()
	tr := &store.Trace{ID: store.NewIDAt(start), Kind: schema.KindAsk, Name: "ask", Start: start, End: start.Add(80 * time.Millisecond),
		Status: schema.StatusOK, TokensIn: 100, TokensOut: 20, CostUSD: 0.002,
		Attributes: map[string]any{schema.AttrChannel: schema.ChannelAPI, schema.AttrResponseModel: "gpt-4o-mini", schema.AttrGroundedness: 0.9}}
	llmSpan := store.Span{TraceID: tr.ID, ID: store.NewIDAt(start), Name: "llm", Kind: schema.SpanKindLLM, Start: start, End: start.Add(50 * time.Millisecond),
		Status: schema.StatusOK, Attributes: map[string]any{schema.AttrUsageInputTokens: 100, schema.AttrOperationName: schema.OperationChat}}
	if err := s.traces.Write(context.Background(), tr, llmSpan); err != nil {
		t.Fatal(err)
	}
	var spans []*tracepb.Span
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		col.mu.Lock()
		spans = append([]*tracepb.Span(nil), col.spans...)
		col.mu.Unlock()
		if len(spans) >= 2 {
			break
		}
	}
	if len(spans) != 2 {
		t.Fatalf("collector got %d spans; want 2", len(spans))
	}
	root, child := spans[0], spans[1]
	if len(root.ParentSpanId) != 0 {
		root, child = child, root
	}
	if root.Name != "ask" || !bytes.Equal(root.TraceId, otlpTraceID(tr.ID)) || !bytes.Equal(child.ParentSpanId, root.SpanId) || !bytes.Equal(child.TraceId, root.TraceId) {
		t.Fatalf("root %v / child %v: want the child under the root, one trace", root, child)
	}
	if v := attrOf(root.Attributes, "gen_ai.usage.input_tokens"); v.GetIntValue() != 100 {
		t.Errorf("root gen_ai.usage.input_tokens = %v; want 100", v)
	}
	if v := attrOf(root.Attributes, "gen_ai.request.model"); v.GetStringValue() != "gpt-4o-mini" {
		t.Errorf("root gen_ai.request.model = %v", v)
	}
	if v := attrOf(child.Attributes, "gen_ai.operation.name"); v.GetStringValue() != "chat" || child.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("llm span: operation %v, kind %v; want chat, client", v, child.Kind)
	}
	if root.EndTimeUnixNano-root.StartTimeUnixNano != uint64(80*time.Millisecond) {
		t.Errorf("root duration %d ns; want 80ms", root.EndTimeUnixNano-root.StartTimeUnixNano)
	}
	col.mu.Lock()
	h := col.headers[0]
	col.mu.Unlock()
	if h.Get("X-Tenant") != "acme" || h.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("headers %v; want X-Tenant and protobuf", h)
	}
	// The exporter counts a batch once the collector's response is read,
	// which can be after the collector has stored the spans.
	st := s.otlp.stats()
	for deadline := time.Now().Add(time.Minute); st.exported < 2 && time.Now().Before(deadline); st = s.otlp.stats() {
		time.Sleep(20 * time.Millisecond)
	}
	if st.exported != 2 || st.dropped != 0 {
		t.Errorf("exporter stats %+v; want 2 exported", st)
	}
}

// Spans made by the OpenTelemetry Go SDK and sent by its own OTLP/HTTP
// exporter (protobuf + gzip, then JSON) become llmops traces: channel
// otlp, service name kept, tokens from gen_ai.* and cost from the price
// table.
func TestOTLPIngestFromTheSDK(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	srv := httptest.NewServer(s.http.Handler)
	defer srv.Close()
	editor := keyFor(t, s, store.RoleEditor)
	ctx := context.Background()
	for _, enc := range []otlptracehttp.Encoding{otlptracehttp.EncodingProtobuf, otlptracehttp.EncodingJSON} {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"),
			otlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer " + editor}),
			otlptracehttp.WithCompression(otlptracehttp.GzipCompression), otlptracehttp.WithEncoding(enc))
		if err != nil {
			t.Fatal(err)
		}
		// WithSyncer sends each span as it ends: the llm span and the
		// root arrive in separate requests and must still make one trace.
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop-bot"))))
		tracer := tp.Tracer("shop")
		rctx, root := tracer.Start(ctx, "answer question")
		_, llm := tracer.Start(rctx, "chat gpt-4o-mini")
		llm.SetAttributes(attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.request.model", "gpt-4o-mini"),
			attribute.Int("gen_ai.usage.input_tokens", 1000), attribute.Int("gen_ai.usage.output_tokens", 200))
		llm.End()
		root.End()
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatalf("encoding %d: SDK export: %v", enc, err)
		}
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	list, _, err := s.store.ListTraces(ctx, store.TraceFilter{Kind: schema.KindAsk})
	if err != nil || len(list) != 2 {
		t.Fatalf("stored %d traces, %v; want 2", len(list), err)
	}
	want := s.app.Prices().Cost("gpt-4o-mini", 1000, 200)
	for _, tr := range list {
		full, spans, err := s.store.Trace(ctx, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Name != "answer question" || full.Attributes[schema.AttrChannel] != schema.ChannelOTLP || full.Attributes[schema.AttrServiceName] != "shop-bot" {
			t.Errorf("trace %+v; want channel otlp, service shop-bot", full)
		}
		if full.TokensIn != 1000 || full.TokensOut != 200 || want == 0 || full.CostUSD != want {
			t.Errorf("tokens %d → %d, cost %v; want 1000 → 200 at $%v", full.TokensIn, full.TokensOut, full.CostUSD, want)
		}
		byName := map[string]store.Span{}
		for _, sp := range spans {
			byName[sp.Name] = sp
		}
		root, llm := byName["answer question"], byName["chat gpt-4o-mini"]
		if len(spans) != 2 || root.ParentID != "" || llm.ParentID != root.ID || llm.Kind != schema.SpanKindLLM || full.Status != schema.StatusOK {
			t.Errorf("trace %s, spans %+v; want the llm span under the root span, status ok", full.Status, spans)
		}
	}
}

// Malformed payloads are 400 with the reason, a batch with invalid spans
// keeps the valid ones and reports the rejected count, and a body over
// the limit is 413.
func TestOTLPIngestBadInput(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	h := s.http.Handler
	editor := keyFor(t, s, store.RoleEditor)
	send := func(ct string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+editor)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send("application/x-protobuf", []byte{0xff, 0xff, 0xff}); rec.Code != 400 || !strings.Contains(errorMessage(t, rec), "malformed OTLP request") {
		t.Errorf("garbage protobuf: %d %s; want 400 with the reason", rec.Code, rec.Body)
	}
	if rec := send("application/json", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`)); rec.Code != 400 || !strings.Contains(errorMessage(t, rec), "traceId") {
		t.Errorf("bad JSON trace ID: %d %s; want 400 naming traceId", rec.Code, rec.Body)
	}
	now := uint64(time.Now().UnixNano())
	good := &tracepb.Span{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8), Name: "ok", StartTimeUnixNano: now, EndTimeUnixNano: now + 1000}
	bad := &tracepb.Span{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: []byte{3}, Name: "bad id", StartTimeUnixNano: now}
	body, _ := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{good, bad}}}}}})
	rec := send("application/x-protobuf", body)
	var resp coltracepb.ExportTraceServiceResponse
	if rec.Code != 200 || proto.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp.GetPartialSuccess().GetRejectedSpans() != 1 ||
		!strings.Contains(resp.GetPartialSuccess().GetErrorMessage(), "span_id") {
		t.Fatalf("one bad span of two: %d %v; want 200 with 1 rejected", rec.Code, resp.GetPartialSuccess())
	}
	// The same in OTLP/JSON (hex IDs), answered in JSON.
	js := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-app"}}]},"scopeSpans":[{"spans":[`+
		`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"ok","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d"},`+
		`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"","name":"no id","startTimeUnixNano":"%d"}]}]}]}`, now, now+1000, now)
	rec = send("application/json", []byte(js))
	resp.Reset()
	if rec.Code != 200 || protojson.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp.GetPartialSuccess().GetRejectedSpans() != 1 {
		t.Fatalf("JSON, one bad span of two: %d %s; want 200 with 1 rejected", rec.Code, rec.Body)
	}
	if err := s.traces.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.store.CountTraces(context.Background()); n != 2 {
		t.Errorf("stored %d traces; want the two valid ones", n)
	}
	if rec := send("application/x-protobuf", make([]byte, s.cfg.MaxBodyBytes+1)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d; want 413", rec.Code)
	}
}
