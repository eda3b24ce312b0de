package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// writeAsks commits n finished ask traces on the API channel, errors
// of them failed.
func writeAsks(t *testing.T, s *Server, n, errors int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		start := time.Now()
		st := schema.StatusOK
		if i < errors {
			st = schema.StatusError
		}
		tr := &store.Trace{ID: store.NewIDAt(start), Kind: schema.KindAsk, Name: "ask", Start: start, End: start.Add(40 * time.Millisecond),
			Status: st, Attributes: map[string]any{schema.AttrChannel: schema.ChannelAPI, schema.AttrResponseModel: "gpt-4o-mini",
				schema.AttrPrompt: "support-answer@1", schema.AttrTTFTMS: int64(12)}, TokensIn: 100, TokensOut: 20, CostUSD: 0.001}
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.alerts.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

type webhookSink struct {
	mu   sync.Mutex
	got  []map[string]any
	seen chan struct{}
}

func (w *webhookSink) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	w.mu.Lock()
	w.got = append(w.got, m)
	w.mu.Unlock()
	w.seen <- struct{}{}
}

// The alerts API end to end: bad rules are 400 naming the field, a
// loopback webhook needs the allow-list, traces committed by the writer
// fire the alert, the webhook gets a Slack-style text, the banner and
// /metrics show it, editors may mute but not edit.
func TestAlertsAPI(t *testing.T) {
	t.Parallel()
	sink := &webhookSink{seen: make(chan struct{}, 10)}
	hook := httptest.NewServer(sink)
	defer hook.Close()

	refusing := mustServer(t)
	admin := keyFor(t, refusing, store.RoleAdmin)
	rule := `{"name":"Errors","metric":"error_rate","op":">","threshold":0.2,"window_count":10,"webhook_url":"` + hook.URL + `"}`
	if rec := call(refusing.http.Handler, "POST", "/api/v1/alerts", rule, admin); rec.Code != 400 || !strings.HasPrefix(errorMessage(t, rec), "webhook_url:") {
		t.Fatalf("loopback webhook without allow-list: %d %s; want 400 naming webhook_url", rec.Code, rec.Body)
	}

	s := mustServer(t, func(c *Config) { c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	h := s.http.Handler
	admin, editor := keyFor(t, s, store.RoleAdmin), keyFor(t, s, store.RoleEditor)
	for body, field := range map[string]string{
		`{"name":"x","metric":"vibes","op":">","threshold":1,"window":"10m"}`:          "metric:",
		`{"name":"x","metric":"error_rate","op":">","threshold":1,"window":"1s"}`:      "window:",
		`{"name":"x","metric":"error_rate","op":">","threshold":1,"window_count":0}`:   "window:",
		`{"name":"x","metric":"error_rate","op":"≥","threshold":1,"window_count":5}`:   "op:",
		`{"name":"x","metric":"error_rate","op":">","threshold":1,"window_count":1e6}`: "window_count:",
	} {
		if rec := call(h, "POST", "/api/v1/alerts", body, admin); rec.Code != 400 || !strings.HasPrefix(errorMessage(t, rec), field) {
			t.Errorf("POST %s: %d %s; want 400 naming %s", body, rec.Code, rec.Body, field)
		}
	}
	rec := call(h, "POST", "/api/v1/alerts", rule, admin)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created store.AlertRule
	_ = json.Unmarshal(rec.Body.Bytes(), &created)
	if rec := call(h, "POST", "/api/v1/alerts", rule, editor); rec.Code != http.StatusForbidden {
		t.Errorf("editor create: %d; want 403", rec.Code)
	}

	writeAsks(t, s, 10, 0)
	writeAsks(t, s, 10, 5) // the last 10: half failed
	select {
	case <-sink.seen:
	case <-time.After(time.Minute):
		t.Fatal("no webhook after the error rate crossed the threshold")
	}
	sink.mu.Lock()
	text, _ := sink.got[0]["text"].(string)
	sink.mu.Unlock()
	if !strings.Contains(text, "FIRING Errors: error_rate = 0.5 over the last 10") {
		t.Errorf("webhook text %q", text)
	}
	rec = call(h, "GET", "/api/v1/alerts", "", editor)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"state":"firing"`) {
		t.Fatalf("list: %d %s; want the alert firing", rec.Code, rec.Body)
	}
	rec = call(h, "GET", "/alerts/banner", "", editor)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `data-testid="alert-banner"`) || !strings.Contains(rec.Body.String(), "Errors") {
		t.Errorf("banner: %d %s; want the firing alert", rec.Code, rec.Body)
	}
	for deadline := time.Now().Add(time.Minute); s.webhooks.Stats().Delivered < 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the receiver has the body; the sender counts it when the answer arrives
	}
	rec = call(h, "GET", "/metrics", "", "")
	for _, want := range []string{"llmops_alerts_firing 1", "llmops_alert_webhooks_delivered_total 1",
		`llmops_asks_total{channel="api",model="gpt-4o-mini",prompt="support-answer",status="error"} 5`,
		`llmops_tokens_total{channel="api",direction="input",model="gpt-4o-mini",prompt="support-answer"} 2000`,
		`llmops_ask_ttft_seconds_count{channel="api",model="gpt-4o-mini",prompt="support-answer"} 20`,
		`llmops_ask_duration_seconds_bucket{channel="api",model="gpt-4o-mini",prompt="support-answer",le="0.05"} 20`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	if rec := call(h, "PATCH", "/api/v1/alerts/"+created.ID, `{"threshold":0.9}`, editor); rec.Code != http.StatusForbidden {
		t.Errorf("editor changing the threshold: %d; want 403", rec.Code)
	}
	if rec := call(h, "PATCH", "/api/v1/alerts/"+created.ID, `{"muted":true}`, editor); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"muted":true`) {
		t.Errorf("editor muting: %d %s", rec.Code, rec.Body)
	}
	writeAsks(t, s, 10, 0) // resolves, but muted: no delivery
	rec = call(h, "GET", "/api/v1/alerts", "", editor)
	if !strings.Contains(rec.Body.String(), `"state":"ok"`) {
		t.Errorf("after clean answers: %s; want ok", rec.Body)
	}
	if st := s.webhooks.Stats(); st.Delivered != 1 {
		t.Errorf("deliveries %+v; want only the firing one (the resolve was muted)", st)
	}
	if rec := call(h, "DELETE", "/api/v1/alerts/"+created.ID, "", admin); rec.Code != http.StatusNoContent {
		t.Errorf("delete: %d", rec.Code)
	}
}

// BenchmarkOnCommit is the trace writer's subscriber on a batch of 100
// answers with 5 alert rules and the OTLP exporter on: what monitoring
// adds to the writer's goroutine, per batch (never to the answer itself).
func BenchmarkOnCommit(b *testing.B) {
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer col.Close()
	s := mustServer(b, func(c *Config) { c.OTLPTracesURL = col.URL + "/v1/traces" })
	admin := store.Actor{Kind: store.ActorCLI, Name: "bench"}
	for _, m := range []string{"error_rate", "latency_p95_ms", "groundedness_mean", "fallback_rate", "cost_usd"} {
		r := &store.AlertRule{Name: m, Metric: m, Op: ">", Threshold: 1e9, WindowCount: 1000}
		if err := s.store.CreateAlert(context.Background(), admin, r); err != nil {
			b.Fatal(err)
		}
		s.alerts.Put(*r)
	}
	traces := make([]store.Trace, 100)
	var spans []store.Span
	for i := range traces {
		start := time.Now()
		traces[i] = store.Trace{ID: store.NewIDAt(start), Kind: schema.KindAsk, Name: "ask", Start: start, End: start.Add(time.Duration(i) * time.Millisecond),
			Status: schema.StatusOK, Attributes: map[string]any{schema.AttrChannel: schema.ChannelAPI, schema.AttrResponseModel: "gpt-4o-mini",
				schema.AttrPrompt: "support-answer@1", schema.AttrTTFTMS: int64(12), schema.AttrGroundedness: 0.8}, TokensIn: 100, TokensOut: 20}
		for j := range 6 {
			spans = append(spans, store.Span{TraceID: traces[i].ID, ID: store.NewID(), Name: fmt.Sprint("step", j), Kind: schema.SpanKindChain, Start: start, End: start})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.onCommit(traces, spans)
	}
	b.StopTimer()
	_ = s.alerts.Flush(context.Background())
}

// Thumbs given before a restart count in a thumbs-down ratio after it:
// the evaluator reloads them from the store with the recent answers.
func TestAlertThumbsSurviveRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testConfig(t)
	s1, err := New(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	writeAsks(t, s1, 8, 0)
	traces, _, err := s1.store.ListTraces(ctx, store.TraceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range traces {
		v := 1
		if i%4 == 0 { // 2 of 8 down
			v = -1
		}
		f := &store.Feedback{TraceID: tr.ID, Value: v}
		if err := s1.store.AddFeedback(ctx, store.Actor{Kind: store.ActorUser, Name: "ana"}, f); err != nil {
			t.Fatal(err)
		}
		s1.onFeedback(f)
	}
	rule := store.AlertRule{Name: "unhappy", Metric: "thumbs_down_ratio", Op: ">", Threshold: 0.2, WindowCount: 8}
	if err := s1.alerts.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok := s1.alerts.Value(&rule); !ok || v != 0.25 {
		t.Fatalf("before the restart: ratio %v (%v), want 0.25", v, ok)
	}
	if err := s1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s2, err := New(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s2.Shutdown(ctx) }()
	if v, ok := s2.alerts.Value(&rule); !ok || v != 0.25 {
		t.Errorf("after the restart: ratio %v (%v), want 0.25 from the stored thumbs", v, ok)
	}
}
