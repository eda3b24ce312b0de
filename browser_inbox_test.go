package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserEscalationInbox: a help-site visitor whose question the docs
// do not cover leaves an email in the widget; the conversation appears in
// the escalation inbox with it, and a reviewer resolves it with a note.
func TestBrowserEscalationInbox(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	// A reviewer joins through an invite link.
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/users"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-form"]`)),
		chromedp.SendKeys(chromedp.CSS("#u-name"), "Rae Okafor"),
		chromedp.SendKeys(chromedp.CSS("#u-email"), "rae@rosterly.example"),
		chromedp.SetValue(chromedp.CSS("#u-role"), "reviewer"),
		chromedp.Click(chromedp.CSS(`[data-testid="user-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-link-url"]`)),
	)
	if err != nil {
		t.Fatalf("invite the reviewer: %v", err)
	}
	link := text(t, ctx, `[data-testid="new-link-url"]`)
	rae := otherBrowser(t, ctx)
	err = chromedp.Do(rae,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="set-password-form"]`)),
		chromedp.SendKeys(chromedp.CSS("#password"), "rae's own password"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "rae's own password"),
		chromedp.Click(chromedp.CSS(`[data-testid="set-password-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="viewer"]`)),
	)
	if err != nil {
		t.Fatalf("reviewer signs in: %v", err)
	}

	// The help site, on another origin, with a widget key for it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var key string
	help := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Rosterly Help</title></head>
<body><h1>Rosterly Help Centre</h1><script src="%s/widget.js" data-key="%s" data-title="Rosterly help" data-open="true" async></script></body></html>`, inst.url, key)
	})}
	go help.Serve(ln)
	t.Cleanup(func() { help.Close() })
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/widget"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="widget-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="name"]`), "Help centre"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="origins"]`), site),
		chromedp.Click(chromedp.CSS(`[data-testid="widget-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-widget-key"]`)),
	)
	if err != nil {
		t.Fatalf("create widget key: %v", err)
	}
	key = regexp.MustCompile(`llmops_pk_[A-Za-z0-9_-]+`).FindString(text(t, ctx, `[data-testid="new-widget-key"]`))

	// A visitor (a browser with no llmops session) asks what the docs do
	// not cover.
	visitor := otherBrowser(t, ctx)
	root := `document.getElementById("llmops-widget").shadowRoot`
	if err := chromedp.Do(visitor, chromedp.EmulateViewport(1280, 860), chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(visitor, chromedp.Poll[bool](`!!(document.getElementById("llmops-widget") && `+root+` && `+root+`.querySelector('[data-testid="chat-input"]'))`)); err != nil {
		t.Fatalf("widget did not mount: %v", err)
	}
	ask := fmt.Sprintf(`(() => { const r = %s; const i = r.querySelector('[data-testid="chat-input"]');
		i.value = "What is the airspeed velocity of an unladen swallow?"; i.dispatchEvent(new Event("input", {bubbles: true}));
		r.querySelector('[data-testid="chat-send"]').click(); return true })()`, root)
	if _, err := chromedp.Run(visitor, chromedp.Evaluate[bool](ask)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(visitor, chromedp.Poll[bool]("!!"+root+`.querySelector('[data-testid="chat-answer"][data-state="done"] [data-testid="contact-open"]')`)); err != nil {
		t.Fatalf("the escalated answer offers no contact form: %v", err)
	}
	open := fmt.Sprintf(`(() => { %s.querySelector('[data-testid="contact-open"]').click(); return true })()`, root)
	if _, err := chromedp.Run(visitor, chromedp.Evaluate[bool](open)); err != nil {
		t.Fatal(err)
	}
	fill := fmt.Sprintf(`(() => { const r = %s;
		r.querySelector('[data-testid="contact-email"]').value = "ada@customer.example";
		r.querySelector('[data-testid="contact-name"]').value = "Ada Lovelace";
		r.querySelector('[data-testid="contact-message"]').value = "Please call me back about this.";
		return true })()`, root)
	if _, err := chromedp.Run(visitor, chromedp.Evaluate[bool](fill)); err != nil {
		t.Fatal(err)
	}
	shot(t, visitor, "60-widget-contact-form")
	if err := chromedp.Do(visitor, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	shot(t, visitor, "61-widget-contact-form-390")
	// At 390 px the form fits the panel: no field wider than the screen.
	if w, err := chromedp.Run(visitor, chromedp.Evaluate[float64](`Math.max(...[...`+root+`.querySelectorAll(".contact-form input, .contact-form textarea, .contact-form button")].map(e => e.getBoundingClientRect().right))`)); err != nil || w > 390 {
		t.Errorf("at 390 px the contact form reaches %.0f px (%v)", w, err)
	}
	send := fmt.Sprintf(`(() => { %s.querySelector('[data-testid="contact-send"]').click(); return true })()`, root)
	if _, err := chromedp.Run(visitor, chromedp.Evaluate[bool](send)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(visitor, chromedp.Poll[bool]("!!"+root+`.querySelector('[data-testid="contact-thanks"]')`)); err != nil {
		note, _ := chromedp.Run(visitor, chromedp.Evaluate[string](root+`.querySelector('[data-testid="contact-note"]')?.textContent || ""`))
		t.Fatalf("contact details not sent: %v %s", err, note)
	}
	shot(t, visitor, "62-widget-contact-sent-390")

	// The reviewer finds it in the inbox, with the email, and resolves it.
	err = chromedp.Do(rae,
		chromedp.Navigate(inst.url+"/escalations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="escalations-list"]`)),
	)
	if err != nil {
		t.Fatalf("inbox: %v", err)
	}
	if open := text(t, rae, `[data-testid="count-open"]`); open != "1" {
		t.Errorf("open count %q, want 1", open)
	}
	row := text(t, rae, `[data-testid="escalations-list"] li`)
	if !strings.Contains(row, "unladen swallow") || !strings.Contains(row, "contact left") || !strings.Contains(row, "widget") {
		t.Errorf("inbox row = %q", row)
	}
	shot(t, rae, "63-escalations")
	axe, err := os.ReadFile(filepath.Join("assets", "vendor", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	checkAxe(t, rae, "escalations", string(axe))
	err = chromedp.Do(rae,
		chromedp.Click(chromedp.CSS(`[data-testid="escalations-list"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="escalation-contact"]`)),
	)
	if err != nil {
		t.Fatalf("open the escalation: %v", err)
	}
	if email := text(t, rae, `[data-testid="contact-email"]`); email != "ada@customer.example" {
		t.Errorf("contact email %q", email)
	}
	if href, err := chromedp.Run(rae, chromedp.Evaluate[string](`document.querySelector('[data-testid="turn-trace"]').getAttribute("href")`)); err != nil || !strings.HasPrefix(href, "/traces/") {
		t.Errorf("turn trace link %q (%v)", href, err)
	}
	shot(t, rae, "64-escalation")
	checkAxe(t, rae, "escalation", string(axe))
	// At 390 px the page is one column and nothing is wider than the screen.
	if err := chromedp.Do(rae, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="escalation-contact"]`))); err != nil {
		t.Fatal(err)
	}
	if w, err := chromedp.Run(rae, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("escalation page at 390 px is %d px wide (%v)", w, err)
	}
	shot(t, rae, "64-escalation-390")
	if err := chromedp.Do(rae, chromedp.EmulateViewport(1360, 860)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(rae,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="note-input"]`), "Emailed Ada: we answer questions about Rosterly only."),
		chromedp.Click(chromedp.CSS(`[data-testid="resolve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="escalation-note"]`)),
	)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if st := text(t, rae, `[data-testid="escalation-status"] [data-testid="escalation-state"]`); !strings.Contains(st, "resolved") {
		t.Errorf("state after resolving %q", st)
	}
	if note := text(t, rae, `[data-testid="escalation-note"]`); !strings.Contains(note, "Rae Okafor") && !strings.Contains(note, "rae@rosterly.example") {
		t.Errorf("resolution note %q does not name the reviewer", note)
	}
	shot(t, rae, "65-escalation-resolved")
	err = chromedp.Do(rae,
		chromedp.Navigate(inst.url+"/escalations?state=open"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="escalations-empty"]`)),
	)
	if err != nil {
		t.Fatalf("open filter after resolving: %v", err)
	}
	if n := text(t, rae, `[data-testid="count-resolved"]`); n != "1" {
		t.Errorf("resolved count %q, want 1", n)
	}
}

// TestBrowserChatHistory: the chat page lists the user's past
// conversations and reopens one, answers with their citations and trace
// links; a trace links to its neighbours in the conversation.
func TestBrowserChatHistory(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	// asked waits for the nth answer to be done (answers are the log's
	// only articles).
	asked := func(n int) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#chat-log > article:nth-of-type(%d)[data-state="done"]`, n)))
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "how do I cancel my subscription?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		asked(1),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "and do I get a refund?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		asked(2),
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-history"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-history"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-history-item"]`)),
	)
	if err != nil {
		t.Fatalf("ask twice, then open the history: %v", err)
	}
	if item := text(t, ctx, `[data-testid="chat-history-item"]`); !strings.Contains(item, "how do I cancel my subscription?") || !strings.Contains(item, "2 questions") {
		t.Errorf("history item %q, want the first question and 2 questions", item)
	}
	shot(t, ctx, "66-chat-history")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="chat-history-item"]`)),
		asked(2),
	)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	log := text(t, ctx, `[data-testid="chat-log"]`)
	if !strings.Contains(log, "how do I cancel my subscription?") || !strings.Contains(log, "and do I get a refund?") || !strings.Contains(log, "Cancel subscription") {
		t.Errorf("reopened conversation:\n%s", log)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="chat-answer"] [data-testid="citation-marker"]').length`)); err != nil || n == 0 {
		t.Errorf("reopened answers carry no citation markers (%v)", err)
	}
	traces, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="view-trace"]')].map(a => a.getAttribute("href"))`))
	if err != nil || len(traces) != 2 {
		t.Fatalf("trace links %v (%v), want 2", traces, err)
	}
	shot(t, ctx, "67-chat-reopened")
	axe, err := os.ReadFile(filepath.Join("assets", "vendor", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	checkAxe(t, ctx, "chat-reopened", string(axe))

	// The conversation goes on from where it was.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "how long does a refund take?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		asked(3),
	)
	if err != nil {
		t.Fatalf("continue: %v", err)
	}
	// The third turn's trace is committed in the background (the trace
	// writer's group commit), a moment after its answer shows: on a busy
	// machine the second trace's page can open before it is stored, so
	// reload it until the conversation has its third turn (or a minute
	// has passed, and the check below says what it shows).
	var nav string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		err = chromedp.Do(ctx,
			chromedp.Navigate(inst.url+traces[1]),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="conversation-nav"]`)),
		)
		if err != nil {
			t.Fatalf("open the second trace: %v", err)
		}
		if nav = text(t, ctx, `[data-testid="conversation-nav"]`); strings.Contains(nav, "of 3") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(nav, "Turn 2 of 3") || !strings.Contains(nav, "previous") || !strings.Contains(nav, "next") {
		t.Errorf("conversation nav %q, want Turn 2 of 3 · previous · next", nav)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="turn-prev"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="conversation-nav"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if nav := text(t, ctx, `[data-testid="conversation-nav"]`); !strings.Contains(nav, "Turn 1 of 3") {
		t.Errorf("after previous: %q, want Turn 1 of 3", nav)
	}
}
