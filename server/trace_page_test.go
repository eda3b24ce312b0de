package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"llmops/store"
	"llmops/store/schema"
)

// TestTracePage records an ask trace with spans and feedback through the
// trace writer, then opens its page as a viewer.
func TestTracePage(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleViewer)
	ctx := context.Background()

	start := time.Now().Add(-time.Minute).UTC()
	ms := func(n int) time.Time { return start.Add(time.Duration(n) * time.Millisecond) }
	tr := &store.Trace{ID: store.NewIDAt(start), Kind: schema.KindAsk, Name: "ask", Start: start, End: ms(1500), Status: schema.StatusOK,
		Input: "How do I connect Slack?", Output: "Open Settings → Integrations [1].", TokensIn: 900, TokensOut: 120, CostUSD: 0.002,
		Attributes: map[string]any{schema.AttrGroundedness: 0.91, schema.AttrFallback: false, schema.AttrResponseModel: "gpt-4o-mini",
			schema.AttrCitations: []map[string]any{{"n": 1, "title": "Slack integration", "source": "help/slack.md", "chunk_id": "c1", "document_id": "doc-slack"}}}}
	span := func(name string, kind schema.SpanKind, from, to int, attrs map[string]any) store.Span {
		return store.Span{TraceID: tr.ID, ID: store.NewID(), Name: name, Kind: kind, Start: ms(from), End: ms(to), Status: schema.StatusOK, Attributes: attrs}
	}
	spans := []store.Span{
		span(schema.SpanGuard, schema.SpanKindGuard, 0, 10, nil),
		span(schema.SpanRetrieveBM25, schema.SpanKindRetriever, 10, 60, map[string]any{schema.AttrHits: []map[string]any{{"chunk_id": "c1", "rank": 1, "score": 7.25}}}),
		span(schema.SpanLLM, schema.SpanKindLLM, 100, 1400, map[string]any{schema.AttrResponseModel: "gpt-4o-mini", schema.AttrTTFTMS: 260,
			schema.AttrUsageInputTokens: 900, schema.AttrUsageOutputTokens: 120, schema.AttrCostUSD: 0.002}),
		span("<script>alert(1)</script>", schema.SpanKindTool, 1400, 1450, nil),
	}
	if err := s.traces.Write(ctx, tr, spans...); err != nil {
		t.Fatal(err)
	}
	// An ask that fell back, a second later.
	fb := &store.Trace{ID: store.NewIDAt(ms(1000)), Kind: schema.KindAsk, Name: "ask", Start: ms(1000), End: ms(1200), Status: schema.StatusFallback,
		Input: "Can I pay in bitcoin?", Attributes: map[string]any{schema.AttrFallback: true}}
	if err := s.traces.Write(ctx, fb); err != nil {
		t.Fatal(err)
	}
	if err := s.traces.Close(ctx); err != nil { // flush
		t.Fatal(err)
	}
	if err := s.store.AddFeedback(ctx, store.Actor{Kind: store.ActorUser, ID: "u1", Name: "Maya Chen"}, &store.Feedback{TraceID: tr.ID, Value: -1, Comment: "outdated price"}); err != nil {
		t.Fatal(err)
	}

	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		s.http.Handler.ServeHTTP(rec, req)
		return rec
	}

	rec := get("/traces/" + tr.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /traces/ID: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a span name is not escaped")
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Find(`[data-testid="nav-traces"]`).AttrOr("aria-current", ""); got != "page" {
		t.Errorf("traces nav aria-current = %q", got)
	}
	var names []string
	doc.Find(`[data-testid="span-row"] .span-link`).Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
	if want := "guard retrieve.bm25 llm <script>alert(1)</script>"; strings.Join(names, " ") != want {
		t.Errorf("span rows = %q, want %q", strings.Join(names, " "), want)
	}
	if doc.Find(`[data-testid="ttft"]`).Length() != 1 {
		t.Error("the llm bar is not split at its first token")
	}
	for sel, want := range map[string]string{
		`[data-testid="trace-tokens"]`:                          "900 → 120 (Σ 1,020)",
		`[data-testid="trace-latency"]`:                         "1.5s",
		`[data-score="groundedness"] strong`:                    "91%",
		`[data-testid="citations"] tbody a`:                     "Slack integration",
		`[data-testid="feedback"] .fb-comment`:                  "outdated price",
		`[data-testid="feedback-summary"]`:                      "0 thumbs up 1 thumbs down",
		`[data-testid="spans"] [data-key="llmops.hits"] td.num`: "1",
	} {
		if got := strings.Join(strings.Fields(doc.Find(sel).First().Text()), " "); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if href := doc.Find(`[data-testid="citations"] tbody a`).AttrOr("href", ""); href != "/knowledge/doc-slack" {
		t.Errorf("citation links to %q", href)
	}
	if !strings.Contains(doc.Find(`[data-testid="feedback"] li`).Text(), "Maya Chen") {
		t.Error("feedback does not name who gave it")
	}

	// ?span=ID opens that span's details without JavaScript.
	llm := spans[2].ID
	doc2, err := goquery.NewDocumentFromReader(strings.NewReader(get("/traces/" + tr.ID + "?span=" + llm).Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc2.Find(`[data-span-panel]:not([hidden])`).AttrOr("data-span-panel", ""); got != llm {
		t.Errorf("?span shows panel %q, want %q", got, llm)
	}

	// The list links each row to its page, and shows a fallback as one
	// (amber, with its word), not as a green ok.
	list := pageDoc(t, get("/traces"))
	if got := list.Find(`[data-testid="trace-link"]`).Eq(1).AttrOr("href", ""); got != "/traces/"+tr.ID {
		t.Errorf("traces list links to %q", got)
	}
	badge := list.Find(`tbody tr`).First().Find(`.badge`).Last()
	if !badge.HasClass("warn") || strings.TrimSpace(badge.Text()) != "! fallback" {
		t.Errorf("fallback row badge %q class %q, want ! fallback, warn", badge.Text(), badge.AttrOr("class", ""))
	}

	// The body should be the HTML error page; it is checked loosely because
	// handleError renders it after the timeout middleware cancelled the
	// request context, and falls back to the bare message.
	if rec := get("/traces/01HZZZZZZZZZZZZZZZZZZZZZZZ"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "not found") || !strings.Contains(rec.Body.String(), `data-testid="error-page"`) {
		t.Errorf("unknown trace: %d %q, want the 404 error page", rec.Code, rec.Body)
	}
}

func pageDoc(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestTracePageNoSpans shows a trace recorded without spans.
func TestTracePageWithoutSpans(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleViewer)
	now := time.Now()
	tr := &store.Trace{ID: store.NewIDAt(now), Kind: schema.KindEval, Name: "case 1", Start: now, End: now.Add(time.Millisecond), Status: schema.StatusError, Error: "judge timed out"}
	s.traces.Write(context.Background(), tr)
	s.traces.Close(context.Background())
	req := httptest.NewRequest(http.MethodGet, "/traces/"+tr.ID, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	s.http.Handler.ServeHTTP(rec, req)
	doc := pageDoc(t, rec)
	if rec.Code != http.StatusOK || doc.Find(`[data-testid="spans-empty"]`).Length() != 1 {
		t.Errorf("got %d; empty-spans state shown: %v", rec.Code, doc.Find(`[data-testid="spans-empty"]`).Length() == 1)
	}
	if !strings.Contains(doc.Find(`[data-testid="trace-error"]`).Text(), "judge timed out") {
		t.Error("the trace's error is not shown")
	}
}
