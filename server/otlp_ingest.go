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
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
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
	var req coltracepb.ExportTraceServiceRequest
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
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: reason}
	}
	if isJSON {
		b, err := protojson.Marshal(resp)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "application/json", b)
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/x-protobuf", b)
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
func unmarshalOTLPJSON(body []byte, req *coltracepb.ExportTraceServiceRequest) error {
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

// otlpTrace is one OTLP trace turned into an llmops trace.
type otlpTrace struct {
	trace *store.Trace
	spans []store.Span
}

type otlpIn struct {
	span    *tracepb.Span
	service string
}

// otlpTraces groups valid spans by trace and converts each group.
func (s *Server) otlpTraces(req *coltracepb.ExportTraceServiceRequest) ([]otlpTrace, int64, string) {
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

// otlpConvert makes one trace of an OTLP trace's spans: the span without
// a parent in the group (the earliest, if several) is the trace.
func (s *Server) otlpConvert(traceID string, in []otlpIn) otlpTrace {
	sort.SliceStable(in, func(i, j int) bool { return in[i].span.StartTimeUnixNano < in[j].span.StartTimeUnixNano })
	present := map[string]bool{}
	for _, x := range in {
		present[string(x.span.SpanId)] = true
	}
	root := 0
	for i, x := range in {
		if len(x.span.ParentSpanId) == 0 || !present[string(x.span.ParentSpanId)] {
			root = i
			break
		}
	}
	rs := in[root].span
	start := time.Unix(0, int64(rs.StartTimeUnixNano)).UTC()
	end := otlpEnd(rs)
	t := &store.Trace{ID: store.NewIDAt(start), Kind: schema.KindAsk, Name: rs.Name, Start: start, End: end,
		Status: otlpStatusOf(rs), Error: rs.GetStatus().GetMessage(), Attributes: otlpAttrMap(rs.Attributes)}
	if t.Status != schema.StatusError {
		t.Error = ""
	}
	t.Attributes[schema.AttrChannel] = schema.ChannelOTLP
	t.Attributes[schema.AttrOTLPTraceID] = traceID
	if in[root].service != "" {
		t.Attributes[schema.AttrServiceName] = in[root].service
	}
	ids := map[string]string{string(rs.SpanId): ""} // OTLP span ID → stored span ID ("" for the root)
	for _, x := range in {
		if x.span != rs {
			ids[string(x.span.SpanId)] = store.NewIDAt(time.Unix(0, int64(x.span.StartTimeUnixNano)))
		}
	}
	prices := s.app.Prices()
	var spans []store.Span
	for _, x := range in {
		attrs := otlpAttrMap(x.span.Attributes)
		tin, tout := otlpTokens(attrs)
		t.TokensIn += tin
		t.TokensOut += tout
		model := firstString(attrs, schema.AttrResponseModel, schema.AttrRequestModel, "llm.model_name")
		if model != "" {
			if _, ok := t.Attributes[schema.AttrResponseModel]; !ok {
				t.Attributes[schema.AttrResponseModel] = model
			}
		}
		if c, ok := numberAttr(attrs, "gen_ai.usage.cost", "llm.cost.total", schema.AttrCostUSD); ok {
			t.CostUSD += c
		} else if model != "" && (tin > 0 || tout > 0) && prices != nil {
			c := prices.Cost(model, tin, tout)
			t.CostUSD += c
			if x.span != rs {
				attrs[schema.AttrCostUSD] = c
			}
		}
		if in := firstString(attrs, "gen_ai.prompt", "input.value", "llm.input_messages"); in != "" && t.Input == "" {
			t.Input = store.Preview(in, store.PreviewLen)
		}
		if out := firstString(attrs, "gen_ai.completion", "output.value", "llm.output_messages"); out != "" {
			t.Output = store.Preview(out, store.PreviewLen)
		}
		if x.span == rs {
			continue
		}
		spans = append(spans, store.Span{TraceID: t.ID, ID: ids[string(x.span.SpanId)], ParentID: ids[string(x.span.ParentSpanId)],
			Name: x.span.Name, Kind: otlpKindOf(attrs), Start: time.Unix(0, int64(x.span.StartTimeUnixNano)).UTC(), End: otlpEnd(x.span),
			Status: otlpStatusOf(x.span), Error: x.span.GetStatus().GetMessage(), Attributes: attrs})
	}
	return otlpTrace{t, spans}
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
