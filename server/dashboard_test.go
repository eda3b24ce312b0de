package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"llmops/store"
	"llmops/store/schema"
)

// monitoringTraces writes a small, known traffic mix a few minutes ago and
// waits until it is committed and searchable.
func monitoringTraces(t *testing.T, s *Server) map[string]*store.Trace {
	t.Helper()
	ctx := context.Background()
	at := s.now().UTC().Add(-5 * time.Minute)
	mk := func(name string, kind schema.TraceKind, channel string, status schema.TraceStatus, latency time.Duration, q, answer string, attrs map[string]any) *store.Trace {
		tr := &store.Trace{ID: store.NewIDAt(at), Kind: kind, Name: name, Start: at, End: at.Add(latency), Status: status, Input: q, Output: answer,
			TokensIn: 100, TokensOut: 20, CostUSD: 0.001, UserID: "u-" + channel,
			Attributes: map[string]any{schema.AttrChannel: channel, schema.AttrQuestion: q, schema.AttrResponseModel: "gpt-4o-mini",
				schema.AttrPrompt: "support-answer@1", schema.AttrGroundedness: 0.9, schema.AttrThreshold: 0.5, schema.AttrTTFTMS: 50.0,
				schema.AttrRetrieved: []string{"c1"}, schema.AttrConversationID: "conv-" + name}}
		for k, v := range attrs {
			tr.Attributes[k] = v
		}
		at = at.Add(time.Second)
		return tr
	}
	traces := map[string]*store.Trace{
		"chat": mk("chat", schema.KindAsk, schema.ChannelChat, schema.StatusOK, 100*time.Millisecond, "How do I reset my password?", "Open Settings and choose Reset.", nil),
		"widget": mk("widget", schema.KindAsk, schema.ChannelWidget, schema.StatusFallback, 300*time.Millisecond, "Can I pay in bitcoin?", "I could not find that.", map[string]any{schema.AttrEscalated: true, schema.AttrGroundedness: 0.2,
			schema.AttrGuards: map[string]string{"input.scope": schema.GuardBlocked, "input.pii": schema.GuardRedacted}, schema.AttrGuardBlocked: true}),
		"api":   mk("api", schema.KindAsk, schema.ChannelAPI, schema.StatusError, 2*time.Second, "Export invoices as CSV?", "", map[string]any{schema.AttrResponseModel: "other-model", schema.AttrActor: "key:ci-bot"}),
		"shaky": mk("shaky", schema.KindAsk, schema.ChannelAPI, schema.StatusOK, 900*time.Millisecond, "Which plans include SSO?", "The Enterprise plan, mostly.", map[string]any{schema.AttrGroundedness: 0.3}),
		"eval": mk("eval", schema.KindEval, schema.ChannelEval, schema.StatusOK, 50*time.Millisecond, "How do I reset my password?", "Settings.",
			map[string]any{schema.AttrGuards: map[string]string{"input.pii": schema.GuardFlagged}}),
		"play":     mk("play", "playground", schema.ChannelChat, schema.StatusOK, 50*time.Millisecond, "Playground question", "x", nil),
		"gapAgain": mk("gapAgain", schema.KindAsk, schema.ChannelChat, schema.StatusFallback, 200*time.Millisecond, "can I pay in Bitcoin", "I could not find that.", nil),
	}
	for _, tr := range traces {
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.app.TraceSearch.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, fb := range []struct {
		id string
		v  int
	}{{"chat", 1}, {"shaky", -1}, {"eval", -1}} {
		if err := s.store.AddFeedback(ctx, store.Actor{Kind: store.ActorUser, Name: "ana"}, &store.Feedback{TraceID: traces[fb.id].ID, Value: fb.v}); err != nil {
			t.Fatal(err)
		}
	}
	return traces
}

func apiGet(t *testing.T, s *Server, key, path string, v any) int {
	t.Helper()
	rec := call(s.http.Handler, http.MethodGet, path, "", key)
	if rec.Code == http.StatusOK && v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, rec.Body)
		}
	}
	return rec.Code
}

func TestDashboardAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleViewer)
	monitoringTraces(t, s)

	var d Dashboard
	if code := apiGet(t, s, key, "/api/v1/dashboard?window=1h", &d); code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	// Traffic only: chat, widget, api ×2, gapAgain — not eval, playground
	// or the sample data's ingest traces.
	if d.Requests != 5 || d.Errors != 1 || d.Window != "1h" {
		t.Errorf("requests %d, errors %d, window %q; want 5, 1, 1h", d.Requests, d.Errors, d.Window)
	}
	if d.FallbackRate != 0.4 || d.EscalationRate != 0.2 || d.ErrorRate != 0.2 {
		t.Errorf("fallback %g, escalation %g, error %g; want 0.4, 0.2, 0.2", d.FallbackRate, d.EscalationRate, d.ErrorRate)
	}
	// The widget's ask was blocked by the scope guard: a fallback, a guard
	// block, and still a knowledge gap (checked below).
	if d.GuardBlocks != 1 || d.GuardBlockRate != 0.2 || len(d.Guards) != 2 || d.Guards["input.scope"].Blocked != 1 || d.Guards["input.pii"].Redacted != 1 {
		t.Errorf("guard blocks %d (rate %g), guards %+v; want 1 (0.2), scope blocked and pii redacted once", d.GuardBlocks, d.GuardBlockRate, d.Guards)
	}
	var blocks int64
	for _, p := range d.Series {
		blocks += p.GuardBlocks
	}
	if blocks != 1 {
		t.Errorf("series guard blocks add to %d, want 1", blocks)
	}
	if d.HallucinationRate != 0.5 { // shaky (0.3 < 0.5) of the two answers served
		t.Errorf("hallucination rate %g, want 0.5", d.HallucinationRate)
	}
	if d.Feedback.Up != 1 || d.Feedback.Down != 1 {
		t.Errorf("feedback %+v, want 1 up 1 down (the eval thumb is not traffic)", d.Feedback)
	}
	if d.TokensIn != 500 || d.TokensOut != 100 || d.CostUSD != 0.005 {
		t.Errorf("tokens %d/%d, cost %g; want 500/100, 0.005", d.TokensIn, d.TokensOut, d.CostUSD)
	}
	// Nearest rank over 100, 200, 300, 900, 2000 ms, within 1 %.
	for _, c := range []struct{ got, want float64 }{{d.LatencyMS.P50, 300}, {d.LatencyMS.P99, 2000}, {d.TTFTMS.P50, 50}} {
		if c.got < c.want*0.99 || c.got > c.want*1.01 {
			t.Errorf("quantile %g, want %g ± 1%%", c.got, c.want)
		}
	}
	if len(d.KnowledgeGaps) == 0 || d.KnowledgeGaps[0].Question != "can i pay in bitcoin" || d.KnowledgeGaps[0].Count != 2 {
		t.Errorf("knowledge gaps %+v, want 'can i pay in bitcoin' twice first", d.KnowledgeGaps)
	}
	var sum int64
	for _, p := range d.Series {
		sum += p.Requests
	}
	if sum != d.Requests || len(d.Series) < 60 || len(d.Series) > 61 {
		t.Errorf("series: %d points adding to %d; want 60-61 adding to %d", len(d.Series), sum, d.Requests)
	}
	if len(d.Breakdown) != 4 { // chat, widget, api×gpt-4o-mini, api×other-model
		t.Errorf("breakdown has %d slices, want 4: %+v", len(d.Breakdown), d.Breakdown)
	}

	// Filters: another channel, a model, a prompt.
	for _, c := range []struct {
		query string
		want  int64
	}{{"channel=eval", 1}, {"channel=widget,api", 3}, {"model=other-model", 1}, {"prompt=support-answer@1", 5}, {"prompt=nope@9", 0}, {"window=30d", 5}} {
		var d Dashboard
		if code := apiGet(t, s, key, "/api/v1/dashboard?"+c.query, &d); code != http.StatusOK || d.Requests != c.want {
			t.Errorf("%s: %d, %d requests; want 200, %d", c.query, code, d.Requests, c.want)
		}
	}
	// The Overview's request count is the same traffic, not every trace.
	rec := call(s.http.Handler, http.MethodGet, "/", "", key)
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("overview: %d %v", rec.Code, err)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="stats"] .value`).First().Text()); got != "5" {
		t.Errorf("overview requests in 24h = %q, want 5", got)
	}
	for _, bad := range []string{"window=0m", "window=500d", "window=soon"} {
		if code := apiGet(t, s, key, "/api/v1/dashboard?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", bad, code)
		}
	}
}

func TestTraceExplorerAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleViewer)
	traces := monitoringTraces(t, s)
	list := func(query string) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 100 {
			var page struct {
				Traces []store.Trace `json:"traces"`
				Next   string        `json:"next"`
			}
			q := query + "&limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			if code := apiGet(t, s, key, "/api/v1/traces?"+q, &page); code != http.StatusOK {
				t.Fatalf("%s: %d", q, code)
			}
			for _, tr := range page.Traces {
				ids = append(ids, tr.ID)
			}
			if cursor = page.Next; cursor == "" {
				return ids
			}
		}
		t.Fatalf("%s: pagination does not end", query)
		return nil
	}
	names := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			for name, tr := range traces {
				if tr.ID == id {
					out = append(out, name)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	since := url.QueryEscape(traces["chat"].Start.Add(-time.Second).Format(time.RFC3339Nano))
	cases := []struct {
		query string
		want  []string
	}{
		{"kind=ask&status=fallback", []string{"gapAgain", "widget"}},
		{"kind=ask&status=error", []string{"api"}},
		{"kind=ask&channel=api", []string{"api", "shaky"}},
		{"model=other-model", []string{"api"}},
		{"kind=ask&prompt=support-answer@1&channel=chat", []string{"chat", "gapAgain"}},
		{"user=u-widget", []string{"widget"}},
		{"key=ci-bot", []string{"api"}},
		{"conversation=conv-shaky", []string{"shaky"}},
		{"feedback=up", []string{"chat"}},
		{"feedback=down", []string{"eval", "shaky"}},
		{"feedback=none&kind=ask", []string{"api", "gapAgain", "widget"}},
		{"escalated=true", []string{"widget"}},
		{"min_latency_ms=800&from=" + since, []string{"api", "shaky"}},
		{"max_groundedness=0.3", []string{"shaky", "widget"}},
		{"q=bitcoin", []string{"gapAgain", "widget"}},
		{"q=reset+password&kind=ask", []string{"chat"}},
		{"q=password", []string{"chat", "eval"}},
		{"from=" + since + "&to=" + url.QueryEscape(traces["widget"].Start.Add(time.Millisecond).Format(time.RFC3339Nano)), []string{"chat", "widget"}},
	}
	for _, c := range cases {
		if got := names(list(c.query)); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
	}
	for _, bad := range []string{"status=great", "feedback=meh", "escalated=maybe", "min_latency_ms=-1", "max_groundedness=2", "from=yesterday", "format=xml", "limit=0"} {
		if code := apiGet(t, s, key, "/api/v1/traces?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", bad, code)
		}
	}

	// The Traces page is the explorer: the same filters narrow its rows,
	// and its export links carry them.
	rec := call(s.http.Handler, http.MethodGet, "/traces?kind=ask&q=bitcoin&status=fallback", "", key)
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("traces page: %d %v", rec.Code, err)
	}
	if n := doc.Find(`[data-testid="traces-table"] tbody tr`).Length(); n != 2 {
		t.Errorf("traces page with filters: %d rows, want 2", n)
	}
	if v, _ := doc.Find(`#tf-q`).Attr("value"); v != "bitcoin" {
		t.Errorf("search box holds %q, want bitcoin", v)
	}
	if href, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href"); !strings.Contains(href, "status=fallback") || !strings.Contains(href, "q=bitcoin") {
		t.Errorf("export link %q does not carry the filters", href)
	}
	if g := strings.TrimSpace(doc.Find(`[data-testid="trace-groundedness"]`).First().Text()); g != "0.90" && g != "0.20" {
		t.Errorf("groundedness cell %q, want 0.90 or 0.20", g)
	}
	rec = call(s.http.Handler, http.MethodGet, "/traces?q=nothingmatchesthis", "", key)
	if !strings.Contains(rec.Body.String(), `data-testid="traces-no-match"`) {
		t.Errorf("a filter matching nothing does not say so")
	}

	// Exports carry the filtered set.
	rec = call(s.http.Handler, http.MethodGet, "/api/v1/traces?kind=ask&channel=api&format=csv", "", key)
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil || rec.Code != http.StatusOK || len(rows) != 3 || rows[0][0] != "id" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv export: %d, %d rows, %v", rec.Code, len(rows), err)
	}
	if got := names([]string{rows[1][0], rows[2][0]}); !slices.Equal(got, []string{"api", "shaky"}) {
		t.Errorf("csv export rows %v, want api and shaky", got)
	}
	rec = call(s.http.Handler, http.MethodGet, "/api/v1/traces?status=fallback&kind=ask&format=jsonl", "", key)
	var n int
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		var tr store.Trace
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil || tr.Status != schema.StatusFallback {
			t.Errorf("jsonl line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("jsonl export: %d lines, want 2", n)
	}
}

func TestRetentionSettingAndPass(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	admin := keyFor(t, s, store.RoleAdmin)
	ctx := context.Background()
	var got map[string]int
	if code := apiGet(t, s, admin, "/api/v1/settings/retention", &got); code != http.StatusOK || got["retention_days"] != store.DefaultRetentionDays {
		t.Fatalf("default retention: %d %v", code, got)
	}
	if rec := call(s.http.Handler, http.MethodPut, "/api/v1/settings/retention", `{"retention_days":0}`, admin); rec.Code != http.StatusBadRequest {
		t.Errorf("retention 0: got %d, want 400", rec.Code)
	}
	if rec := call(s.http.Handler, http.MethodPut, "/api/v1/settings/retention", `{"retention_days":7}`, admin); rec.Code != http.StatusOK {
		t.Fatalf("retention 7: got %d %s", rec.Code, rec.Body)
	}
	old := &store.Trace{ID: store.NewIDAt(s.now().Add(-8 * 24 * time.Hour)), Kind: schema.KindAsk, Name: "ask", Start: s.now().Add(-8 * 24 * time.Hour),
		Status: schema.StatusOK, Input: "an ancient zebra question", Attributes: map[string]any{schema.AttrChannel: schema.ChannelChat}}
	recent := &store.Trace{ID: store.NewIDAt(s.now().Add(-6 * 24 * time.Hour)), Kind: schema.KindAsk, Name: "ask", Start: s.now().Add(-6 * 24 * time.Hour),
		Status: schema.StatusOK, Input: "a recent zebra question", Attributes: map[string]any{schema.AttrChannel: schema.ChannelChat}}
	for _, tr := range []*store.Trace{old, recent} {
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.app.TraceSearch.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.applyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.store.Trace(ctx, old.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("8-day-old trace: err %v, want not found", err)
	}
	if _, _, err := s.store.Trace(ctx, recent.ID); err != nil {
		t.Errorf("6-day-old trace: %v", err)
	}
	var page struct {
		Traces []store.Trace `json:"traces"`
	}
	if apiGet(t, s, admin, "/api/v1/traces?q=zebra", &page); len(page.Traces) != 1 || page.Traces[0].ID != recent.ID {
		t.Errorf("full-text after retention: %d traces, want the recent one", len(page.Traces))
	}
	var d Dashboard
	if apiGet(t, s, admin, "/api/v1/dashboard?window=30d", &d); d.Requests != 2 {
		t.Errorf("dashboard after retention: %d requests, want 2 (rollups are kept)", d.Requests)
	}
}
