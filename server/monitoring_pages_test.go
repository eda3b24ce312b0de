package server

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"llmops/store"
	"llmops/store/schema"
)

func viewDoc(t *testing.T, s *Server, key, path string) *goquery.Document {
	t.Helper()
	rec := call(s.http.Handler, http.MethodGet, path, "", key)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func formRequest(method, path string, vals url.Values, key string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCostReport(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	viewer := keyFor(t, s, store.RoleViewer)
	monitoringTraces(t, s)
	var rep CostReport
	if code := apiGet(t, s, viewer, "/api/v1/cost?window=7d", &rep); code != http.StatusOK {
		t.Fatalf("GET /api/v1/cost: %d", code)
	}
	// Real traffic: chat, widget, api, shaky, gapAgain (not eval, not the playground).
	if rep.Requests != 5 || math.Abs(rep.CostUSD-0.005) > 1e-9 {
		t.Errorf("cost report: %d asks $%g, want 5 and $0.005", rep.Requests, rep.CostUSD)
	}
	if len(rep.Days) != 7 || rep.Days[6].Requests != 5 {
		t.Errorf("days: %d, last %+v; want 7 days with today's 5 asks", len(rep.Days), rep.Days[len(rep.Days)-1])
	}
	find := func(sl []CostSlice, key string) CostSlice {
		for _, x := range sl {
			if x.Key == key {
				return x
			}
		}
		return CostSlice{}
	}
	if m := find(rep.Models, "gpt-4o-mini"); m.Requests != 4 {
		t.Errorf("model gpt-4o-mini: %d asks, want 4 (%+v)", m.Requests, rep.Models)
	}
	if ch := find(rep.Channels, schema.ChannelAPI); ch.Requests != 2 {
		t.Errorf("channel api: %d asks, want 2", ch.Requests)
	}
	if u := find(rep.Users, "u-chat"); u.Requests != 2 || u.Up != 1 {
		t.Errorf("user u-chat: %+v, want 2 asks and 1 thumb up", u)
	}
	if k := find(rep.Keys, "ci-bot"); k.Requests != 1 {
		t.Errorf("key ci-bot: %+v, want 1 ask", k)
	}
	if rep.Month.SoFarUSD < 0.005-1e-9 || rep.Month.ProjectedUSD < rep.Month.SoFarUSD || rep.Month.Elapsed <= 0 || rep.Month.Elapsed > 1 {
		t.Errorf("month: %+v", rep.Month)
	}
	if code := apiGet(t, s, viewer, "/api/v1/cost?window=forever", nil); code != http.StatusBadRequest {
		t.Errorf("bad window: %d, want 400", code)
	}
	doc := viewDoc(t, s, viewer, "/cost?window=7d")
	if n := doc.Find(`[data-testid="cost-bar"]`).Length(); n != 7 {
		t.Errorf("cost page: %d day bars, want 7", n)
	}
	if got := doc.Find(`[data-testid="cost-total"]`).Text(); got != "<$0.01" {
		t.Errorf("cost total %q", got)
	}
	href, _ := doc.Find(`[data-testid="cost-keys"] a`).First().Attr("href")
	if u, _ := url.Parse(href); u == nil || u.Query().Get("key") != "ci-bot" {
		t.Errorf("per-key row links to %q, want the explorer filtered to key ci-bot", href)
	}
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	viewer := keyFor(t, s, store.RoleViewer)
	traces := monitoringTraces(t, s)
	ctx := context.Background()
	// A widget visitor with two asks.
	at := s.now().UTC().Add(-2 * time.Minute)
	for i := range 2 {
		tr := &store.Trace{ID: store.NewIDAt(at.Add(time.Duration(i) * time.Second)), Kind: schema.KindAsk, Start: at, End: at.Add(time.Second), Status: schema.StatusOK,
			UserID: "widget-key-id", CostUSD: 0.5, Attributes: map[string]any{schema.AttrChannel: schema.ChannelWidget, schema.AttrVisitor: "abc123"}}
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	doc := viewDoc(t, s, viewer, "/traces/users?window=1d")
	users := doc.Find(`[data-testid="users-table"] [data-testid="usage-row"]`)
	if users.Length() != 4 { // u-chat, u-widget, u-api, widget-key-id
		t.Errorf("users table: %d rows, want 4", users.Length())
	}
	first := users.First().Find("td")
	if first.Eq(0).Text() != "widget-key-id" || first.Eq(1).Text() != "2" || first.Eq(3).Text() != "$1.00" {
		t.Errorf("costliest row %q / %q / %q, want widget-key-id / 2 / $1.00", first.Eq(0).Text(), first.Eq(1).Text(), first.Eq(3).Text())
	}
	visitor := doc.Find(`[data-testid="visitors-table"] [data-testid="usage-link"]`)
	href, _ := visitor.Attr("href")
	if visitor.Length() != 1 || !strings.Contains(href, "user=visitor%3Aabc123") {
		t.Fatalf("visitors: %d rows, link %q", visitor.Length(), href)
	}
	// The link opens exactly that visitor's asks.
	var list struct{ Traces []store.Trace }
	if code := apiGet(t, s, viewer, "/api/v1/traces?user=visitor:abc123", &list); code != http.StatusOK || len(list.Traces) != 2 {
		t.Errorf("visitor filter: %d, %d traces, want 2", code, len(list.Traces))
	}
	_ = traces
}

func TestConversationPage(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	viewer := keyFor(t, s, store.RoleViewer)
	ctx := context.Background()
	at := s.now().UTC().Add(-10 * time.Minute)
	var ids []string
	for i, q := range []string{"How do I reset my password?", "And on mobile?", "Thanks, and 2FA?"} {
		g := 0.5 + float64(i)/10
		tr := &store.Trace{ID: store.NewIDAt(at.Add(time.Duration(i) * time.Minute)), Kind: schema.KindAsk, Start: at.Add(time.Duration(i) * time.Minute),
			End: at.Add(time.Duration(i)*time.Minute + 250*time.Millisecond), Status: schema.StatusOK, Input: q, Output: "answer " + q,
			TokensIn: 10, TokensOut: 5, CostUSD: 0.01, Attributes: map[string]any{schema.AttrChannel: schema.ChannelChat, schema.AttrQuestion: q,
				schema.AttrConversationID: "conv-1", schema.AttrGroundedness: g}}
		ids = append(ids, tr.ID)
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	other := &store.Trace{ID: store.NewIDAt(at), Kind: schema.KindAsk, Start: at, Status: schema.StatusOK, Attributes: map[string]any{schema.AttrConversationID: "conv-2"}}
	if err := s.traces.Write(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.store.AddFeedback(ctx, store.Actor{Kind: store.ActorUser, Name: "ana"}, &store.Feedback{TraceID: ids[1], Value: -1, Comment: "wrong app"}); err != nil {
		t.Fatal(err)
	}
	doc := viewDoc(t, s, viewer, "/conversations/conv-1")
	turns := doc.Find(`[data-testid="conversation-turn"]`)
	if turns.Length() != 3 {
		t.Fatalf("%d turns, want 3", turns.Length())
	}
	for i, id := range ids {
		turn := turns.Eq(i)
		if href, _ := turn.Find(`[data-testid="turn-trace"]`).Attr("href"); href != "/traces/"+id {
			t.Errorf("turn %d links to %q, want /traces/%s (oldest first)", i, href, id)
		}
	}
	if got := turns.Eq(1).Find(`[data-testid="turn-feedback"]`).Text(); !strings.Contains(got, "1") || !strings.Contains(turns.Eq(1).Text(), "wrong app") {
		t.Errorf("turn 2 feedback %q, want the thumb down and its comment", got)
	}
	if got := turns.Eq(2).Find(`[data-testid="turn-groundedness"]`).Text(); got != "grounded 0.70" {
		t.Errorf("turn 3 groundedness %q", got)
	}
	if rec := call(s.http.Handler, http.MethodGet, "/conversations/nope", "", viewer); rec.Code != http.StatusNotFound {
		t.Errorf("unknown conversation: %d, want 404", rec.Code)
	}
	// The trace page and the explorer link to the conversation.
	tp := viewDoc(t, s, viewer, "/traces/"+ids[0])
	if href, _ := tp.Find(`[data-testid="trace-conversation-link"]`).Attr("href"); href != "/conversations/conv-1" {
		t.Errorf("trace page links to %q", href)
	}
	ex := viewDoc(t, s, viewer, "/traces?conversation=conv-1")
	if n := ex.Find(`[data-testid="trace-link"]`).Length(); n != 3 {
		t.Errorf("explorer filtered to the conversation lists %d traces, want 3", n)
	}
	if href, _ := ex.Find(`[data-testid="conversation-filter-link"] a`).Attr("href"); href != "/conversations/conv-1" {
		t.Errorf("explorer's conversation link %q", href)
	}
}

func TestTraceViewsAPIAndForms(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ana, bo, admin := keyFor(t, s, store.RoleViewer), keyFor(t, s, store.RoleEditor), keyFor(t, s, store.RoleAdmin)
	h := s.http.Handler
	rec := call(h, http.MethodPost, "/api/v1/trace-views", `{"name":"Slow widget","query":"channel=widget&min_latency_ms=3000&cursor=x"}`, ana)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	rec = call(h, http.MethodPost, "/api/v1/trace-views", `{"name":"Thumbs down","query":"feedback=down","shared":true}`, ana)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create shared: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodPost, "/api/v1/trace-views", `{"name":"","query":"x=1"}`, ana); rec.Code != http.StatusBadRequest {
		t.Errorf("empty name: %d, want 400", rec.Code)
	}
	var list struct{ Views []store.TraceView }
	apiGet(t, s, ana, "/api/v1/trace-views", &list)
	if len(list.Views) != 2 || list.Views[0].Query != "channel=widget&min_latency_ms=3000" {
		t.Fatalf("ana's views: %+v", list.Views)
	}
	apiGet(t, s, bo, "/api/v1/trace-views", &list)
	if len(list.Views) != 1 || list.Views[0].Name != "Thumbs down" {
		t.Fatalf("bo sees %+v, want the shared view only", list.Views)
	}
	shared := list.Views[0].ID
	if rec := call(h, http.MethodDelete, "/api/v1/trace-views/"+shared, "", bo); rec.Code != http.StatusForbidden {
		t.Errorf("bo deleting ana's shared view: %d, want 403", rec.Code)
	}
	// The explorer shows the views and offers to save its filters.
	doc := viewDoc(t, s, ana, "/traces?channel=widget&min_latency_ms=3000")
	chips := doc.Find(`[data-testid="trace-view"]`)
	if chips.Length() != 2 || !chips.Eq(0).HasClass("current") {
		t.Errorf("explorer: %d view chips, first current %v", chips.Length(), chips.Eq(0).HasClass("current"))
	}
	if doc.Find(`[data-testid="trace-view-save"]`).Length() != 0 {
		t.Error("a save form for filters a view already holds")
	}
	doc = viewDoc(t, s, ana, "/traces?channel=widget&limit=5")
	if v, _ := doc.Find(`[data-testid="trace-view-save"] input[name="query"]`).Attr("value"); v != "channel=widget" {
		t.Errorf("save form query %q, want the filters without the page size", v)
	}
	// The form saves and lands on the view.
	form := url.Values{"name": {"errors"}, "query": {"status=error"}}
	req := formRequest(http.MethodPost, "/traces/views", form, ana)
	rec = serve(h, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/traces?status=error" {
		t.Errorf("save form: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = serve(h, formRequest(http.MethodPost, "/traces/views", url.Values{"name": {" "}, "query": {"status=error"}}, ana))
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.Contains(loc, "view_error=") {
		t.Errorf("refused save: %d to %q, want back to the explorer with view_error", rec.Code, loc)
	}
	if rec := serve(h, formRequest(http.MethodPost, "/traces/views/"+shared+"/delete", nil, admin)); rec.Code != http.StatusSeeOther {
		t.Errorf("admin deleting a shared view: %d", rec.Code)
	}
	apiGet(t, s, bo, "/api/v1/trace-views", &list)
	if len(list.Views) != 0 {
		t.Errorf("after the delete bo sees %+v", list.Views)
	}
}
