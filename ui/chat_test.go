package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestChatPage(t *testing.T) {
	chrome := Chrome{Title: "Chat", Active: "chat", Viewer: admin}
	questions := []string{"How do I cancel my subscription?", "Can I export timesheets?", "How do I connect Slack?",
		"What does SSO cost?", "How do I reset 2FA?", "Where are invoices?", "A seventh question"}
	tests := []struct {
		name        string
		page        Chat
		suggestions int
		traces      string
		golden      string
	}{
		{name: "suggestions and traces", page: Chat{Chrome: chrome, Threshold: 0.6, Suggestions: questions, Categories: []string{"billing", "integrations"},
			Answerer: "Extractive answerer (offline)", CanViewTraces: true}, suggestions: maxSuggestions, traces: "true", golden: "chat"},
		{name: "bare", page: Chat{Chrome: chrome}, traces: "false", golden: "chat-bare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, html := renderDoc(t, ChatPage(tt.page))
			for _, id := range []string{"chat-input", "chat-send", "chat-new", "chat-log", "chat-empty"} {
				if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 1 {
					t.Errorf("%d elements with data-testid=%q, want 1", n, id)
				}
			}
			if got := doc.Find(`[data-testid="chat-input"]`).Is("textarea"); !got {
				t.Error("chat-input is not a textarea (Shift+Enter needs one)")
			}
			if got := doc.Find(`label[for="chat-input"]`).Length(); got != 1 {
				t.Errorf("%d labels for the chat input, want 1", got)
			}
			if got := doc.Find(`[data-testid="chat-send"]`).AttrOr("type", ""); got != "submit" {
				t.Errorf("chat-send type = %q, want submit", got)
			}
			if got := doc.Find(`[data-testid="chat-suggestion"]`).Length(); got != tt.suggestions {
				t.Errorf("%d suggestions, want %d", got, tt.suggestions)
			}
			if got := doc.Find(`[data-testid="chat"]`).AttrOr("data-traces", ""); got != tt.traces {
				t.Errorf("data-traces = %q, want %q", got, tt.traces)
			}
			if got, want := doc.Find(`[data-testid="chat-category"] option`).Length(), len(tt.page.Categories); want > 0 && got != want+1 {
				t.Errorf("%d category options, want %d and 'All categories'", got, want)
			} else if want == 0 && doc.Find(`[data-testid="chat-category"]`).Length() != 0 {
				t.Error("category filter shown without categories")
			}
			answerer := doc.Find(`[data-testid="chat-answerer"]`).Text()
			if tt.page.Answerer != "" && !strings.Contains(answerer, tt.page.Answerer) {
				t.Errorf("answerer line %q lacks %q", answerer, tt.page.Answerer)
			}
			// widget.js defines the shared conversation view; chat.js uses it.
			var scripts []string
			doc.Find("main script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.AttrOr("src", "")) })
			if len(scripts) != 2 || !strings.Contains(scripts[0], "/widget.") || !strings.Contains(scripts[1], "/chat.") {
				t.Errorf("page scripts = %q, want widget.js then chat.js", scripts)
			}
			golden(t, tt.golden, html)
		})
	}
}

func TestChatPageEscapesSuggestions(t *testing.T) {
	p := Chat{Chrome: Chrome{Title: "Chat", Active: "chat", Viewer: admin}, Suggestions: []string{`<img src=x onerror=alert(1)> "quoted"`}}
	doc, html := renderDoc(t, ChatPage(p))
	if strings.Contains(html, "<img src=x") {
		t.Error("suggestion not escaped")
	}
	s := doc.Find(`[data-testid="chat-suggestion"]`)
	if got := s.AttrOr("data-question", ""); got != p.Suggestions[0] {
		t.Errorf("data-question = %q, want %q", got, p.Suggestions[0])
	}
}

func TestWidgetSettingsPage(t *testing.T) {
	chrome := Chrome{Title: "Chat widget", Active: "settings", Viewer: admin}
	keys := []WidgetKey{
		{ID: "01KW", Name: "Help center", Hint: "llmops_pk_ab12", Origins: []string{"https://help.example.com"}, RatePerMinute: 20,
			Categories: []string{"billing", "getting-started"}, Tags: []string{"public"}, CreatedBy: "user:maya", CreatedAt: testNow.Add(-2 * time.Hour), LastUsedAt: testNow.Add(-5 * time.Minute)},
		{ID: "01KX", Name: "Docs", Hint: "llmops_pk_cd34", Origins: []string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example"},
			RatePerMinute: 5, CreatedBy: "user:maya", CreatedAt: testNow.Add(-72 * time.Hour)},
	}
	const secret = "llmops_pk_s3cret"

	t.Run("empty", func(t *testing.T) {
		doc, html := renderDoc(t, WidgetSettingsPage(WidgetSettings{Chrome: chrome, Now: testNow, ScriptURL: "http://127.0.0.1:8080/widget.js",
			Categories: []string{"billing", "integrations"}}))
		if doc.Find(`[data-testid="widget-keys-empty"]`).Length() != 1 {
			t.Error("no empty state without keys")
		}
		if got := doc.Find(`[data-testid="tab-widget"]`).AttrOr("aria-current", ""); got != "page" {
			t.Errorf("widget tab aria-current = %q, want page", got)
		}
		form := doc.Find(`form[data-testid="widget-form"]`)
		if got := form.AttrOr("action", ""); got != "/settings/widget" || form.AttrOr("method", "") != "post" {
			t.Errorf("create form posts to %q", got)
		}
		for _, field := range []string{`input[name="name"]`, `textarea[name="origins"]`, `input[name="rate_per_minute"][type="number"][value="20"]`,
			`input[name="categories"]:not([required])`, `input[name="tags"]:not([required])`} {
			if form.Find(field).Length() != 1 {
				t.Errorf("create form lacks %s", field)
			}
		}
		if got := doc.Find("#wk-categories-help").Text(); !strings.Contains(got, "billing, integrations") {
			t.Errorf("categories help %q does not offer the knowledge base's categories", got)
		}
		if !strings.Contains(doc.Find(".card .muted").First().Text(), "publishable key") {
			t.Error("the page does not say what a publishable key is")
		}
		golden(t, "widget-empty", html)
	})

	t.Run("snippet", func(t *testing.T) {
		// A kept publishable key shows its snippet in its row, any time.
		kept := slices.Clone(keys)
		kept[0].Key = secret
		doc, _ := renderDoc(t, WidgetSettingsPage(WidgetSettings{Chrome: chrome, Keys: kept, Now: testNow, ScriptURL: "http://127.0.0.1:8080/widget.js"}))
		rows := doc.Find(`[data-testid="widget-keys-table"] tbody tr`)
		want := `<script src="http://127.0.0.1:8080/widget.js" data-key="` + secret + `" async></script>`
		if got := rows.First().Find(`[data-testid="widget-key-snippet"] code`).Text(); got != want {
			t.Errorf("row snippet = %q, want %q", got, want)
		}
		if rows.Eq(1).Find(`[data-testid="widget-key-snippet"]`).Length() != 0 {
			t.Error("a key made before keys were kept shows a snippet")
		}
	})

	t.Run("keys", func(t *testing.T) {
		doc, html := renderDoc(t, WidgetSettingsPage(WidgetSettings{Chrome: chrome, Keys: keys, Now: testNow, Error: "Origin “help.example.com” needs a scheme."}))
		rows := doc.Find(`[data-testid="widget-keys-table"] tbody tr`)
		if rows.Length() != 2 {
			t.Fatalf("%d key rows, want 2", rows.Length())
		}
		first := rows.First().Text()
		for _, want := range []string{"Help center", "llmops_pk_ab12••••••••", "https://help.example.com", "20/min", "maya", "2h ago", "5m ago"} {
			if !strings.Contains(first, want) {
				t.Errorf("row %q lacks %q", first, want)
			}
		}
		if got := strings.Join(rows.First().Find(`[data-testid="widget-key-scope"] .chip`).Map(func(_ int, c *goquery.Selection) string { return c.Text() }), " "); got != "billing getting-started #public" {
			t.Errorf("scope chips %q, want billing getting-started #public", got)
		}
		second := rows.Eq(1)
		if got := second.Find(`[data-testid="widget-key-scope"]`).Text(); !strings.Contains(got, "all documents") {
			t.Errorf("unscoped key's scope %q, want all documents", got)
		}
		if got := second.Find(".chip").Length(); got != maxOriginChips+1 {
			t.Errorf("%d origin chips, want %d and +N", got, maxOriginChips)
		}
		if got := second.Find(".chip.more").Text(); got != "+2" {
			t.Errorf("overflow chip = %q, want +2", got)
		}
		if !strings.Contains(second.Text(), "never") {
			t.Error("an unused key does not say never")
		}
		del := rows.First().Find(`form[action$="/delete"]`)
		if got := del.AttrOr("action", ""); got != "/settings/widget/01KW/delete" {
			t.Errorf("delete action = %q", got)
		}
		if del.AttrOr("data-confirm", "") == "" {
			t.Error("delete does not confirm")
		}
		if got := doc.Find(`[data-testid="form-error"]`).Text(); !strings.Contains(got, "needs a scheme") {
			t.Errorf("error = %q", got)
		}
		if doc.Find(`[data-testid="widget-snippet"]`).Length() != 0 {
			t.Error("snippet shown without a new key")
		}
		golden(t, "widget-keys", html)
	})

	t.Run("created", func(t *testing.T) {
		p := WidgetSettings{Chrome: chrome, Keys: keys[:1], Now: testNow, ScriptURL: "http://127.0.0.1:8080/widget.js",
			Created: &WidgetKeyCreated{Name: "Help center", Secret: secret, Origins: []string{"https://help.example.com"}, Categories: []string{"billing"}}}
		doc, html := renderDoc(t, WidgetSettingsPage(p))
		want := `<script src="http://127.0.0.1:8080/widget.js" data-key="` + secret + `" async></script>`
		if got := doc.Find(`[data-testid="widget-snippet"]`).Text(); got != want {
			t.Errorf("snippet = %q, want %q", got, want)
		}
		if got := doc.Find(`[data-copy="#widget-snippet"]`).Length(); got != 1 {
			t.Errorf("%d copy buttons for the snippet, want 1", got)
		}
		if strings.Count(html, secret) != 1 {
			t.Error("the secret appears more than once on the page")
		}
		if got := doc.Find(`[data-testid="new-widget-key"]`).Text(); strings.Contains(got, "not see this key again") || !strings.Contains(got, "stays available") {
			t.Errorf("a publishable key's notice says it is shown once: %q", got)
		}
		if got := doc.Find(`[data-testid="new-widget-key-scope"]`).Text(); !strings.Contains(got, "billing") {
			t.Errorf("new key's scope %q lacks billing", got)
		}
		golden(t, "widget-created", html)
	})
}

// TestChatPagePinnedForm: only admins get the form to pin suggestions; a
// refused save reopens it with the reason and what they typed.
func TestChatPagePinnedForm(t *testing.T) {
	p := Chat{Chrome: Chrome{Title: "Chat", Active: "chat", Viewer: admin}}
	doc, _ := renderDoc(t, ChatPage(p))
	if doc.Find(`[data-testid="pin-form"]`).Length() != 0 {
		t.Error("a pin form without Pinned (not an admin)")
	}
	p.Pinned = &PinnedForm{Text: "a\nb", Count: 2, Error: "pinned: 7 questions, at most 6"}
	doc, _ = renderDoc(t, ChatPage(p))
	d := doc.Find(`[data-testid="pin-suggestions"]`)
	if _, open := d.Attr("open"); !open || d.Find(`form[action="/chat/suggestions"][method="post"]`).Length() != 1 {
		t.Error("a refused save does not reopen the pin form")
	}
	if got := d.Find("textarea").Text(); got != "a\nb" {
		t.Errorf("textarea = %q", got)
	}
	if got := strings.TrimSpace(d.Find("summary").Text()); got != "Pinned suggestions (2)" {
		t.Errorf("summary = %q", got)
	}
}
