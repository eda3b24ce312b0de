package server

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"llmops/store"
	"llmops/store/schema"
)

// otlpTracesPath is OTLP/HTTP's standard traces path; its errors are
// JSON, like the API's.
const otlpTracesPath = "/v1/traces"

// otlpMaxExpansion bounds a gzipped OTLP body once decompressed, as a
// multiple of the body limit.
const otlpMaxExpansion = 16

// handleOTLPTraces is POST /v1/traces: OTLP/HTTP from another application
// (protobuf or JSON, optionally gzipped). Each OTLP trace in the request
// becomes one llmops trace (channel otlp, the sender's service.name
// kept): its root span is the trace, the others its spans, and tokens and
// cost come from the gen_ai.* attributes (cost from the price table when
// the spans carry none). Invalid spans are left out and counted in the
// partial-success answer; a body that cannot be decoded is 400.
func (s *Server) handleOTLPTraces(c echo.Context) error {
	r := c.Request()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := ct == "application/json"
	if !isJSON && ct != "application/x-protobuf" && ct != "application/protobuf" {
		return store.Errorf(store.EINVALID, "Content-Type %q: want application/x-protobuf or application/json", ct)
	}
	body, err := s.readOTLPBody(r)
	if err != nil {
		return err
	}
	// TracesData is wire- and JSON-compatible with ExportTraceServiceRequest
	// (see otlpRequest).
	var req tracepb.TracesData
	if isJSON {
		err = unmarshalOTLPJSON(body, &req)
	} else {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		return store.Errorf(store.EINVALID, "malformed OTLP request: %v", err)
	}
	traces, rejected, reason := s.otlpTraces(&req)
	ctx := r.Context()
	for _, t := range traces {
		if err := s.traces.Write(ctx, t.trace, t.spans...); err != nil {
			return err
		}
	}
	if isJSON {
		return c.JSON(http.StatusOK, otlpJSONResponse(rejected, reason))
	}
	return c.Blob(http.StatusOK, "application/x-protobuf", otlpProtoResponse(rejected, reason))
}

// otlpProtoResponse encodes an ExportTraceServiceResponse by hand (its
// generated type lives beside gRPC stubs): field 1, partial_success, with
// rejected_spans (1) and error_message (2), present only when spans were
// rejected.
func otlpProtoResponse(rejected int64, reason string) []byte {
	if rejected == 0 {
		return []byte{}
	}
	var ps []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, uint64(rejected))
	ps = protowire.AppendTag(ps, 2, protowire.BytesType)
	ps = protowire.AppendString(ps, reason)
	out := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(out, ps)
}

// otlpJSONResponse is ExportTraceServiceResponse in OTLP/JSON (int64 as a
// string, as proto3 JSON has it).
func otlpJSONResponse(rejected int64, reason string) any {
	type partial struct {
		RejectedSpans int64  `json:"rejectedSpans,string"`
		ErrorMessage  string `json:"errorMessage"`
	}
	if rejected == 0 {
		return struct{}{}
	}
	return struct {
		PartialSuccess partial `json:"partialSuccess"`
	}{partial{rejected, reason}}
}

// readOTLPBody reads the body (already capped by limitBody), gunzipping
// it within otlpMaxExpansion × the limit.
func (s *Server) readOTLPBody(r *http.Request) ([]byte, error) {
	tooLarge := func(err error) error {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return store.Errorf(store.ETOOLARGE, "request body is over the limit of %s", sizeText(s.cfg.MaxBodyBytes))
		}
		return err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, tooLarge(err)
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, store.Errorf(store.EINVALID, "malformed gzip body: %v", err)
		}
		limit := s.cfg.MaxBodyBytes * otlpMaxExpansion
		out, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, store.Errorf(store.EINVALID, "malformed gzip body: %v", err)
		}
		if int64(len(out)) > limit {
			return nil, store.Errorf(store.ETOOLARGE, "decompressed body is over the limit of %s", sizeText(limit))
		}
		return out, nil
	default:
		return nil, store.Errorf(store.EINVALID, "Content-Encoding %q: want gzip or none", enc)
	}
}

// unmarshalOTLPJSON decodes OTLP/JSON, whose trace and span IDs are hex
// (protojson expects base64 for bytes fields).
func unmarshalOTLPJSON(body []byte, req *tracepb.TracesData) error {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	if err := hexIDsToBase64(doc); err != nil {
		return err
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(fixed, req)
}

func hexIDsToBase64(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id":
				if s, ok := val.(string); ok && s != "" {
					b, err := hex.DecodeString(s)
					if err != nil {
						return fmt.Errorf("%s %q: want hex", k, s)
					}
					x[k] = base64.StdEncoding.EncodeToString(b)
				}
			default:
				if err := hexIDsToBase64(val); err != nil {
					return err
				}
			}
		}
	case []any:
		for _, e := range x {
			if err := hexIDsToBase64(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// otlpTrace is one OTLP trace's llmops trace and the spans to add to it.
type otlpTrace struct {
	trace *store.Trace
	spans []store.Span
}

type otlpIn struct {
	span    *tracepb.Span
	service string
}

// otlpIndex remembers the last otlpIndexSize OTLP traces, so spans of one
// trace that arrive in several requests (an SDK exports each span when it
// ends, or in timed batches) land in one llmops trace. Past it, or after
// a restart, late spans start a trace of their own.
type otlpIndex struct {
	mu    sync.Mutex
	byID  map[string]*otlpKnown // OTLP trace ID (hex) →
	order []string              // insertion order, for eviction
}

type otlpKnown struct {
	trace *store.Trace
	ids   map[string]string // OTLP span ID → stored span ID
	root  bool              // the local root span has arrived
}

const otlpIndexSize = 10000

// otlpTraces groups valid spans by trace and converts each group.
func (s *Server) otlpTraces(req *tracepb.TracesData) ([]otlpTrace, int64, string) {
	groups := map[string][]otlpIn{}
	var order []string
	var rejected int64
	reason := ""
	for _, rs := range req.ResourceSpans {
		service := ""
		if rs.Resource != nil {
			for _, kv := range rs.Resource.Attributes {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				if why := otlpInvalid(sp); why != "" {
					rejected++
					if reason == "" {
						reason = why
					}
					continue
				}
				id := hex.EncodeToString(sp.TraceId)
				if _, ok := groups[id]; !ok {
					order = append(order, id)
				}
				groups[id] = append(groups[id], otlpIn{sp, service})
			}
		}
	}
	out := make([]otlpTrace, 0, len(order))
	s.otlpSeen.mu.Lock()
	defer s.otlpSeen.mu.Unlock()
	for _, id := range order {
		out = append(out, s.otlpConvert(id, groups[id]))
	}
	return out, rejected, reason
}

// otlpInvalid says why a span cannot be stored ("" when it can).
func otlpInvalid(sp *tracepb.Span) string {
	switch {
	case len(sp.TraceId) != 16 || bytes.Equal(sp.TraceId, make([]byte, 16)):
		return "a span has no valid trace_id (16 bytes, not all zero)"
	case len(sp.SpanId) != 8 || bytes.Equal(sp.SpanId, make([]byte, 8)):
		return "a span has no valid span_id (8 bytes, not all zero)"
	case sp.StartTimeUnixNano == 0:
		return "a span has no start_time_unix_nano"
	case sp.EndTimeUnixNano != 0 && sp.EndTimeUnixNano < sp.StartTimeUnixNano:
		return "a span ends before it starts"
	case sp.Name == "":
		return "a span has no name"
	}
	return ""
}

// otlpLocalRoot reports whether sp is where the trace starts in this
// application: no parent, or a parent in another process.
func otlpLocalRoot(sp *tracepb.Span) bool {
	remote := tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK | tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
	return len(sp.ParentSpanId) == 0 || tracepb.SpanFlags(sp.Flags)&remote == remote
}

// otlpConvert adds an OTLP trace's spans to its llmops trace (made on
// its first spans). Every OTLP span is stored as a span; the trace holds
// the local root's name and status, the time from the first start to the
// last end, and the sums of tokens and cost. It stays running until the
// local root arrives, so alerts and /metrics count it once, finished.
// Called with s.otlpSeen.mu held.
func (s *Server) otlpConvert(traceID string, in []otlpIn) otlpTrace {
	idx := &s.otlpSeen
	k := idx.byID[traceID]
	if k == nil {
		first := in[0].span
		for _, x := range in {
			if x.span.StartTimeUnixNano < first.StartTimeUnixNano {
				first = x.span
			}
		}
		start := time.Unix(0, int64(first.StartTimeUnixNano)).UTC()
		k = &otlpKnown{ids: map[string]string{}, trace: &store.Trace{ID: store.NewIDAt(start), Kind: schema.KindAsk, Name: first.Name,
			Start: start, Status: schema.StatusRunning, Attributes: map[string]any{
				schema.AttrChannel: schema.ChannelOTLP, schema.AttrOTLPTraceID: traceID}}}
		if in[0].service != "" {
			k.trace.Attributes[schema.AttrServiceName] = in[0].service
		}
		if len(idx.order) >= otlpIndexSize {
			delete(idx.byID, idx.order[0])
			idx.order = idx.order[1:]
		}
		idx.byID[traceID] = k
		idx.order = append(idx.order, traceID)
	}
	// A copy: the one queued for the writer must not change under it.
	t := *k.trace
	t.Attributes = maps.Clone(k.trace.Attributes)
	idOf := func(otlpID []byte) string {
		if len(otlpID) == 0 {
			return ""
		}
		id, ok := k.ids[string(otlpID)]
		if !ok {
			id = store.NewID()
			k.ids[string(otlpID)] = id
		}
		return id
	}
	prices := s.app.Prices()
	var spans []store.Span
	for _, x := range in {
		sp := x.span
		attrs := otlpAttrMap(sp.Attributes)
		tin, tout := otlpTokens(attrs)
		t.TokensIn += tin
		t.TokensOut += tout
		model := firstString(attrs, schema.AttrResponseModel, schema.AttrRequestModel, "llm.model_name")
		if _, ok := t.Attributes[schema.AttrResponseModel]; !ok && model != "" {
			t.Attributes[schema.AttrResponseModel] = model
		}
		if c, ok := numberAttr(attrs, "gen_ai.usage.cost", "llm.cost.total", schema.AttrCostUSD); ok {
			t.CostUSD += c
		} else if model != "" && (tin > 0 || tout > 0) && prices != nil {
			c := prices.Cost(model, tin, tout)
			t.CostUSD += c
			attrs[schema.AttrCostUSD] = c
		}
		if in := firstString(attrs, "gen_ai.prompt", "input.value"); in != "" && t.Input == "" {
			t.Input = store.Preview(in, store.PreviewLen)
		}
		if out := firstString(attrs, "gen_ai.completion", "output.value"); out != "" {
			t.Output = store.Preview(out, store.PreviewLen)
		}
		start, end := time.Unix(0, int64(sp.StartTimeUnixNano)).UTC(), otlpEnd(sp)
		if start.Before(t.Start) {
			t.Start = start
		}
		status := otlpStatusOf(sp)
		if otlpLocalRoot(sp) {
			k.root = true
			t.Name = sp.Name
			for key, v := range attrs {
				if _, ok := t.Attributes[key]; !ok {
					t.Attributes[key] = v
				}
			}
			if status == schema.StatusError {
				t.Error = sp.GetStatus().GetMessage()
			}
		}
		if status == schema.StatusError {
			t.Status = schema.StatusError
		}
		if end.After(t.End) {
			t.End = end
		}
		parent := idOf(sp.ParentSpanId)
		if otlpLocalRoot(sp) {
			parent = ""
		}
		spans = append(spans, store.Span{TraceID: t.ID, ID: idOf(sp.SpanId), ParentID: parent, Name: sp.Name, Kind: otlpKindOf(attrs),
			Start: start, End: end, Status: status, Error: sp.GetStatus().GetMessage(), Attributes: attrs})
	}
	switch {
	case !k.root:
		t.Status, t.End = schema.StatusRunning, time.Time{}
	case t.Status != schema.StatusError:
		t.Status = schema.StatusOK
	}
	k.trace = &t
	return otlpTrace{&t, spans}
}

func otlpEnd(sp *tracepb.Span) time.Time {
	if sp.EndTimeUnixNano == 0 {
		return time.Unix(0, int64(sp.StartTimeUnixNano)).UTC()
	}
	return time.Unix(0, int64(sp.EndTimeUnixNano)).UTC()
}

func otlpStatusOf(sp *tracepb.Span) schema.TraceStatus {
	if sp.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		return schema.StatusError
	}
	return schema.StatusOK
}

// otlpKindOf picks the span kind from GenAI or OpenInference attributes.
func otlpKindOf(attrs map[string]any) schema.SpanKind {
	switch op, _ := attrs[schema.AttrOperationName].(string); op {
	case "chat", "text_completion", "generate_content":
		return schema.SpanKindLLM
	case "embeddings":
		return schema.SpanKindEmbedding
	case "execute_tool":
		return schema.SpanKindTool
	}
	switch k, _ := attrs["openinference.span.kind"].(string); strings.ToUpper(k) {
	case "LLM":
		return schema.SpanKindLLM
	case "RETRIEVER":
		return schema.SpanKindRetriever
	case "EMBEDDING":
		return schema.SpanKindEmbedding
	case "RERANKER":
		return schema.SpanKindReranker
	case "TOOL":
		return schema.SpanKindTool
	}
	return schema.SpanKindChain
}

// otlpTokens reads a span's token usage: the current GenAI names, the
// older prompt/completion ones, or OpenInference's.
func otlpTokens(attrs map[string]any) (in, out int) {
	i, _ := numberAttr(attrs, schema.AttrUsageInputTokens, "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
	o, _ := numberAttr(attrs, schema.AttrUsageOutputTokens, "gen_ai.usage.completion_tokens", "llm.token_count.completion")
	return int(i), int(o)
}

func numberAttr(attrs map[string]any, keys ...string) (float64, bool) {
	for _, k := range keys {
		switch v := attrs[k].(type) {
		case int64:
			return float64(v), true
		case float64:
			return v, true
		}
	}
	return 0, false
}

func firstString(attrs map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := attrs[k].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// otlpAttrMap turns OTLP attributes into trace attributes: scalars as
// themselves, string arrays as []string, anything else as JSON text.
func otlpAttrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs)+4)
	for _, kv := range kvs {
		if kv.Key == "" {
			continue
		}
		m[kv.Key] = otlpGo(kv.Value)
	}
	return m
}

func otlpGo(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return store.Preview(x.StringValue, store.PreviewLen)
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_ArrayValue:
		strs := make([]string, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			s, ok := e.GetValue().(*commonpb.AnyValue_StringValue)
			if !ok {
				b, _ := protojson.Marshal(x.ArrayValue)
				return string(b)
			}
			strs = append(strs, s.StringValue)
		}
		return strs
	case *commonpb.AnyValue_KvlistValue, *commonpb.AnyValue_BytesValue:
		b, _ := protojson.Marshal(v)
		return string(b)
	}
	return nil
}
