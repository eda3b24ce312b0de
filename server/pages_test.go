package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"llmops/store"
)

// TestOverviewChecklist: a widget key is not an API key (Settings lists
// them apart), and one question ticks "Ask the assistant".
func TestOverviewChecklist(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ctx := context.Background()
	h := s.http.Handler
	hash, _ := hashPassword("the right password")
	if err := s.store.CreateFirstAdmin(ctx, &store.User{Email: "lead@example.com", Name: "Lead", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	rec := postForm(h, "/login", url.Values{"email": {"lead@example.com"}, "password": {"the right password"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in: got %d", rec.Code)
	}
	cookies := rec.Result().Cookies()
	if _, _, err := s.store.CreatePublishableKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, "widget", []string{"https://help.example.com"}, 0, store.KeyScope{}); err != nil {
		t.Fatal(err)
	}
	overview := func() (keys string, steps map[string]bool) {
		t.Helper()
		rec := call(h, http.MethodGet, "/", "", "", cookies...)
		if rec.Code != http.StatusOK {
			t.Fatalf("overview: got %d", rec.Code)
		}
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		doc.Find(`[data-testid="stats"] .stat`).Each(func(_ int, st *goquery.Selection) {
			if st.Find(".label").Text() == "API keys" {
				keys = st.Find(".value").Text()
			}
		})
		steps = map[string]bool{}
		doc.Find(`[data-testid="getting-started"] li`).Each(func(_ int, li *goquery.Selection) {
			steps[strings.TrimSpace(li.Find(".title").Text())] = li.Find(".check.done").Length() == 1
		})
		return keys, steps
	}
	keys, steps := overview()
	if keys != "0" || steps["Create an API key"] || steps["Ask the assistant"] {
		t.Errorf("with only a widget key: API keys %q, steps %v; want 0 and neither ticked", keys, steps)
	}
	if rec := call(h, http.MethodPost, "/api/v1/ask", `{"question":"How do I export timesheets?"}`, "", cookies...); rec.Code != http.StatusOK {
		t.Fatalf("ask: got %d: %s", rec.Code, rec.Body)
	}
	if err := s.traces.Flush(ctx); err != nil { // traces are written in batches
		t.Fatal(err)
	}
	keyFor(t, s, store.RoleViewer)
	keys, steps = overview()
	if keys != "1" || !steps["Create an API key"] || !steps["Ask the assistant"] {
		t.Errorf("after a question and an API key: API keys %q, steps %v; want 1 and both ticked", keys, steps)
	}
}
