package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserChat is the support lead's first conversation: ask a sample
// question on the Chat page, watch the cited answer stream in, open a
// citation, send thumbs down with a comment, find that feedback on the
// stored trace, and open the trace.
func TestBrowserChat(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-suggestion"]`)),
	)
	if err != nil {
		t.Fatalf("chat page: %v", err)
	}
	shot(t, ctx, "12-chat-empty")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "how do I cancel my subscription?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-answer"][data-state="done"]`)),
	)
	if err != nil {
		t.Fatalf("ask: %v", err)
	}
	answer := text(t, ctx, `[data-testid="chat-answer"]`)
	if !strings.Contains(answer, "Cancel subscription") {
		t.Errorf("answer does not say how to cancel:\n%s", answer)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="citation-marker"]').length`)); err != nil || n == 0 {
		t.Fatalf("no citation markers (%v)", err)
	} else if n > 3 {
		t.Errorf("%d citation markers: a run of steps from one article should carry one", n)
	}
	// The extractive answer is quoted, not a "100% grounded" verdict; its
	// relevance sits beside it.
	if g := text(t, ctx, `[data-testid="groundedness"]`); g != "Quoted from the sources" {
		t.Errorf("groundedness badge %q, want \"Quoted from the sources\"", g)
	}
	if r := text(t, ctx, `[data-testid="relevance"]`); !strings.HasSuffix(r, "% relevant") || strings.HasPrefix(r, "✕") {
		t.Errorf("relevance badge %q, want a passing \"n%% relevant\"", r)
	}
	err = chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`[data-testid="citation-marker"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="citation-card"]`)),
	)
	if err != nil {
		t.Fatalf("citation card: %v", err)
	}
	if card := text(t, ctx, `[data-testid="citation-card"]`); !strings.Contains(strings.ToLower(card), "cancel") {
		t.Errorf("citation card does not show the cancellation article:\n%s", card)
	}
	shot(t, ctx, "13-chat-answer")

	traceID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="chat-answer"]').dataset.traceId`))
	if err != nil || traceID == "" {
		t.Fatalf("answer has no trace ID (%v)", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="thumbs-down"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="feedback-comment"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="feedback-comment"]`), "Should mention refunds"),
		chromedp.Click(chromedp.CSS(`[data-testid="feedback-send"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="feedback-thanks"]`)),
	)
	if err != nil {
		t.Fatalf("feedback: %v", err)
	}
	// The feedback is on the stored trace.
	js := fmt.Sprintf(`fetch("/api/v1/traces/%s", {headers: {Accept: "application/json"}}).then(r => r.text())`, traceID)
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Feedback []struct {
			Value   int
			Comment string
		}
	}
	if err := json.Unmarshal([]byte(body), &tr); err != nil || len(tr.Feedback) != 1 || tr.Feedback[0].Value != -1 || tr.Feedback[0].Comment != "Should mention refunds" {
		t.Fatalf("trace feedback = %+v (%v) from %s", tr.Feedback, err, body)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="view-trace"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.waterfall, [data-testid="waterfall"]`)),
	)
	if err != nil {
		t.Fatalf("view trace: %v", err)
	}
	if page := text(t, ctx, "main"); !strings.Contains(page, "retrieve.bm25") || !strings.Contains(page, "Should mention refunds") {
		t.Errorf("trace page lacks its spans or feedback")
	}
	if page := text(t, ctx, "main"); !strings.Contains(page, "quoted") || !strings.Contains(page, "relevance") {
		t.Errorf("trace header lacks the quoted groundedness or the relevance score")
	}
	shot(t, ctx, "14-trace")
}

// TestBrowserWidget embeds the chat widget on a plain HTML page served
// from another origin, with a publishable key made in Settings, and asks
// it a question.
func TestBrowserWidget(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	// The help site: another origin (localhost vs 127.0.0.1, other port).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var key string
	help := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Rosterly Help</title><style>body{font:16px Georgia,serif;margin:40px;color:#222} h1{color:#b00}</style></head>
<body><h1>Rosterly Help Centre</h1><p>Browse the articles or ask the assistant in the corner.</p>
<script src="%s/widget.js" data-key="%s" data-title="Rosterly help" data-open="true" async></script></body></html>`, inst.url, key)
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
	card := text(t, ctx, `[data-testid="new-widget-key"]`)
	key = regexp.MustCompile(`llmops_pk_[A-Za-z0-9_-]+`).FindString(card)
	if key == "" || !strings.Contains(card, site) {
		t.Fatalf("new widget key card: %q", card)
	}
	shot(t, ctx, "15-widget-settings")
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/settings/models"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="prices-form"]`))); err != nil {
		t.Fatalf("models page: %v", err)
	}
	shot(t, ctx, "17-models")

	root := `document.getElementById("llmops-widget").shadowRoot`
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!(document.getElementById("llmops-widget") && `+root+` && `+root+`.querySelector('[data-testid="chat-input"]'))`)); err != nil {
		t.Fatalf("widget did not mount: %v", err)
	}
	ask := fmt.Sprintf(`(() => { const r = %s; const i = r.querySelector('[data-testid="chat-input"]');
		i.value = "How do I reset my password?"; i.dispatchEvent(new Event("input", {bubbles: true}));
		r.querySelector('[data-testid="chat-send"]').click(); return true })()`, root)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](ask)); err != nil {
		t.Fatal(err)
	}
	done := root + `.querySelector('[data-testid="chat-answer"][data-state="done"], [data-testid="chat-answer"][data-state="error"]')`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!"+done)); err != nil {
		t.Fatalf("no answer in the widget: %v", err)
	}
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](done+`.dataset.state`))
	answer, _ := chromedp.Run(ctx, chromedp.Evaluate[string](done+`.textContent`))
	if state != "done" || !strings.Contains(strings.ToLower(answer), "password") {
		t.Fatalf("widget answer (%s): %s", state, answer)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](root+`.querySelector('[data-testid="thumbs-up"]').click() || true`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!"+root+`.querySelector('[data-testid="feedback-thanks"]')`)); err != nil {
		t.Fatalf("widget feedback: %v", err)
	}
	shot(t, ctx, "16-widget")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](root+`.querySelectorAll("a").length`)); err != nil || n != 0 {
		t.Errorf("the widget links %d places for sources without a public address (%v)", n, err)
	}

	// An article the help site publishes: the widget links its citation to
	// that public address, and to nothing else.
	const articleURL = "https://help.example.com/billing/quokka-pass"
	upload := fmt.Sprintf(`(async () => { const f = new FormData(); f.append("source_url", %q); f.append("category", "billing");
		f.append("files", new Blob([%q], {type: "text/markdown"}), "quokka-pass.md");
		const r = await fetch("/api/v1/documents", {method: "POST", body: f, headers: {Accept: "application/json"}});
		await r.text(); return r.status })()`, articleURL,
		"# Quokka Pass billing\n\nThe Quokka Pass is a prepaid bundle of shift credits, billed once a year.\n\n"+
			"To buy a Quokka Pass, open Settings → Billing → Quokka Pass and choose how many credits you need.\n")
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/knowledge")); err != nil {
		t.Fatal(err)
	}
	if status, err := chromedp.Run(ctx, chromedp.Evaluate[int](upload, chromedp.EvalAwaitPromise)); err != nil || status >= 300 {
		t.Fatalf("upload the published article: %d %v", status, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!(document.getElementById("llmops-widget") && `+root+` && `+root+`.querySelector('[data-testid="chat-input"]'))`)); err != nil {
		t.Fatalf("widget did not mount again: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](strings.Replace(ask, "How do I reset my password?", "How do I buy a Quokka Pass?", 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!"+done)); err != nil {
		t.Fatalf("no answer in the widget: %v", err)
	}
	shot(t, ctx, "16-widget-source-link")
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...`+root+`.querySelectorAll("a")].map(a => a.href + " " + a.target)`))
	if err != nil || len(links) == 0 {
		t.Fatalf("no source link in the widget's answer (%v)", err)
	}
	for _, l := range links {
		if l != articleURL+" _blank" {
			t.Errorf("widget link %q, want only %s in a new tab", l, articleURL)
		}
	}
}
