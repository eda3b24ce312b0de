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
	cookies := adminSession(t, s)
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

// adminSession sets up the first admin and signs them in.
func adminSession(t *testing.T, s *Server) []*http.Cookie {
	t.Helper()
	hash, _ := hashPassword("the right password")
	if err := s.store.CreateFirstAdmin(context.Background(), &store.User{Email: "lead@example.com", Name: "Lead", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	rec := postForm(s.http.Handler, "/login", url.Values{"email": {"lead@example.com"}, "password": {"the right password"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in: got %d", rec.Code)
	}
	return rec.Result().Cookies()
}

// TestListPricesPage: list prices show two decimals, and the spellings of
// one model share a row.
func TestListPricesPage(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	rec := call(s.http.Handler, http.MethodGet, "/settings/models", "", "", adminSession(t, s)...)
	if rec.Code != http.StatusOK {
		t.Fatalf("models page: got %d", rec.Code)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	haiku := 0
	doc.Find(`[data-testid="default-prices"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		row := strings.Join(strings.Fields(tr.Text()), " ")
		if strings.Contains(row, "haiku") {
			haiku++
		}
		if strings.HasPrefix(row, "gpt-4o ") && !strings.Contains(row, "$2.50$10.00") {
			t.Errorf("gpt-4o row %q, want $2.50 and $10.00", row)
		}
	})
	if haiku != 1 {
		t.Errorf("%d rows for Claude 3.5 Haiku, want one with its aliases", haiku)
	}
	if got := aliasKey("claude-haiku-3.5"); got != aliasKey("claude-3-5-haiku") || got == aliasKey("claude-3-haiku") {
		t.Errorf("aliasKey(claude-haiku-3.5) = %q", got)
	}
}

func TestAskedReadsAsAQuestion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"how do i export timesheets": "How do I export timesheets?",
		"can i'm and i've":           "Can I'm and I've?",
		"Can I pay by invoice?":      "Can I pay by invoice?",
		"  énergie plan  ":           "Énergie plan?",
		"Reset my password.":         "Reset my password.",
	} {
		if got := asked(in); got != want {
			t.Errorf("asked(%q) = %q, want %q", in, got, want)
		}
	}
}
