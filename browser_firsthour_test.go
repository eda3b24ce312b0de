package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// topmost is JavaScript that reports whether the element sel (inside the
// shadow root root, when given) is what a mouse hits at its own centre,
// after scrolling it into view the way a person would.
func topmost(root, sel string) string {
	scope := "document"
	if root != "" {
		scope = root
	}
	return fmt.Sprintf(`(() => { const s = %s, e = s.querySelector(%q); if (!e) return "missing";
		const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
		if (y < 0 || y > innerHeight || x < 0 || x > innerWidth) return "off screen at " + Math.round(x) + "," + Math.round(y);
		const hit = s.elementFromPoint(x, y);
		return hit && (hit === e || e.contains(hit)) ? "ok" : "covered by " + (hit ? hit.outerHTML.slice(0, 120) : "nothing"); })()`, scope, sel)
}

// traceFeedback reads the feedback stored on a trace through the API, with
// the browser's session.
func traceFeedback(t *testing.T, ctx context.Context, traceID string) []struct {
	Value   int
	Comment string
} {
	t.Helper()
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
	if err := json.Unmarshal([]byte(body), &tr); err != nil {
		t.Fatalf("trace %s: %v: %s", traceID, err, body)
	}
	return tr.Feedback
}

// checklist returns the overview's getting-started steps with a ✓ or ·.
func checklist(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="getting-started"]`))); err != nil {
		t.Fatal(err)
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid="getting-started"] li')].map(li =>
		(li.querySelector(".check.done") ? "✓ " : "· ") + li.querySelector(".title").textContent.trim()).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBrowserFeedbackOnEveryScreen is a new user's first answers on a
// laptop and on a phone: the thumbs-down comment form opens clear of the
// composer (its Send button is what the mouse hits), the comment reaches
// the trace, and the overview then ticks "Ask the assistant"; it never
// counts the widget's key as an API key (server/pages_test.go checks the
// "Create an API key" step, which the sample fixture's CLI key ticks).
func TestBrowserFeedbackOnEveryScreen(t *testing.T) {
	t.Parallel()
	ctx := newBrowserFor(t, 10*time.Minute)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	// A widget key is not an API key: the count stays as it was.
	apiKeys := func() string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="stats"]`))); err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid="stats"] .stat')].find(s => s.querySelector(".label").textContent === "API keys").querySelector(".value").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := apiKeys()
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/widget"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="name"]`), "Help centre"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="origins"]`), "https://help.rosterly.example"),
		chromedp.Click(chromedp.CSS(`[data-testid="widget-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-widget-key"]`)),
	)
	if err != nil {
		t.Fatalf("widget key: %v", err)
	}
	if after := apiKeys(); after != before {
		t.Errorf("the overview counts %s API keys after a widget key was made, %s before", after, before)
	}
	if steps := checklist(t, ctx, inst.url); !strings.Contains(steps, "· Ask the assistant") {
		t.Errorf("before any question the checklist ticks asking:\n%s", steps)
	}

	for _, vp := range tourViewports {
		t.Run(vp.name, func(t *testing.T) {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(vp.width, vp.height),
				chromedp.Navigate(inst.url+"/chat"),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			if vp.name == "390" {
				// On a phone the sidebar is a drawer behind the menu button.
				visible := `getComputedStyle(document.getElementById("sidebar")).visibility === "visible" && document.getElementById("sidebar").getBoundingClientRect().left >= 0`
				if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](visible)); ok {
					t.Fatal("the sidebar shows on a phone before the menu button is pressed")
				}
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="menu"]`))); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](visible)); err != nil {
					t.Fatalf("the menu button does not open the drawer: %v", err)
				}
				if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](topmost("", `[data-testid="nav-knowledge"]`))); got != "ok" {
					t.Errorf("Knowledge in the open drawer: %s", got)
				}
				shot(t, ctx, "drawer-390")
				if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`getComputedStyle(document.getElementById("sidebar")).visibility === "hidden"`)); err != nil {
					t.Fatalf("Escape does not close the drawer: %v", err)
				}
			}
			// Two answers, so the second ends right above the composer.
			for i, q := range []string{"How do I export timesheets?", "How do I reset my password?"} {
				err := chromedp.Do(ctx,
					chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), q),
					chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
				)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelectorAll('[data-testid="chat-answer"][data-state="done"]').length === %d`, i+1))); err != nil {
					t.Fatalf("answer %d: %v", i+1, err)
				}
			}
			last := `[data-testid="chat-answer"]:last-of-type`
			traceID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+last+`').dataset.traceId`))
			if err != nil || traceID == "" {
				t.Fatalf("no trace ID on the answer (%v)", err)
			}
			if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](topmost("", last+` [data-testid="thumbs-down"]`))); got != "ok" {
				t.Fatalf("thumbs down: %s", got)
			}
			err = chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(last+` [data-testid="thumbs-down"]`)),
				chromedp.WaitVisible(chromedp.CSS(last+` [data-testid="feedback-comment"]`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			for _, sel := range []string{`[data-testid="feedback-comment"]`, `[data-testid="feedback-send"]`, `.feedback-form .link`} {
				if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](topmost("", last+" "+sel))); got != "ok" {
					t.Errorf("%s at %s: %s", sel, vp.name, got)
				}
			}
			shot(t, ctx, "feedback-form-"+vp.name)
			comment := "Say where the export button is (" + vp.name + ")"
			// Typed into the comment box, sent with the mouse.
			err = chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS(last+` [data-testid="feedback-comment"]`), comment),
				chromedp.Click(chromedp.CSS(last+` [data-testid="feedback-send"]`)),
				chromedp.WaitVisible(chromedp.CSS(last+` [data-testid="feedback-thanks"]`)),
			)
			if err != nil {
				t.Fatalf("send the comment: %v", err)
			}
			fb := traceFeedback(t, ctx, traceID)
			if len(fb) != 1 || fb[0].Value != -1 || fb[0].Comment != comment {
				t.Errorf("trace feedback = %+v, want one thumbs down with %q", fb, comment)
			}
		})
	}

	if steps := checklist(t, ctx, inst.url); !strings.Contains(steps, "✓ Ask the assistant") {
		t.Errorf("after questions the checklist does not tick asking:\n%s", steps)
	}

	// A question the docs do not cover: the fallback names the closest
	// articles, each a link to its document.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "Can I migrate our existing schedules from When I Work into Rosterly?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-answer"][data-state="done"]`)),
	)
	if err != nil {
		t.Fatalf("off-topic question: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="chat-fallback"]').length`)); n != 1 {
		t.Fatalf("the off-topic question did not fall back:\n%s", text(t, ctx, `[data-testid="chat-answer"]`))
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="chat-answer"] .answer-body a[data-testid="closest-link"]')].map(a => a.getAttribute("href") + " " + a.textContent)`))
	if err != nil || len(links) == 0 {
		t.Fatalf("the fallback's closest articles are not links (%v):\n%s", err, text(t, ctx, `[data-testid="chat-answer"]`))
	}
	for _, l := range links {
		if !strings.HasPrefix(l, "/knowledge/") {
			t.Errorf("closest article link %q, want a document page", l)
		}
	}
	shot(t, ctx, "chat-fallback-links")
}

// TestBrowserWidgetFeedbackForm opens the widget's thumbs-down comment
// form on a phone-sized and a laptop-sized help page: its buttons are in
// view and on top, and the comment reaches the trace.
func TestBrowserWidgetFeedbackForm(t *testing.T) {
	t.Parallel()
	ctx := newBrowserFor(t, 10*time.Minute)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var key string
	help := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Rosterly Help</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Rosterly Help Centre</h1><script src="%s/widget.js" data-key="%s" data-open="true" async></script></body></html>`, inst.url, key)
	})}
	go help.Serve(ln)
	t.Cleanup(func() { help.Close() })

	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/widget"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="name"]`), "Help centre"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="origins"]`), site),
		chromedp.Click(chromedp.CSS(`[data-testid="widget-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-widget-key"]`)),
	)
	if err != nil {
		t.Fatalf("create widget key: %v", err)
	}
	key = regexp.MustCompile(`llmops_pk_[A-Za-z0-9_-]+`).FindString(text(t, ctx, `[data-testid="new-widget-key"]`))
	if key == "" {
		t.Fatal("no widget key shown")
	}

	root := `document.getElementById("llmops-widget").shadowRoot`
	for _, vp := range tourViewports {
		t.Run(vp.name, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height), chromedp.Navigate(site+"/")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!(document.getElementById("llmops-widget") && `+root+` && `+root+`.querySelector('[data-testid="chat-input"]'))`)); err != nil {
				t.Fatalf("widget did not mount: %v", err)
			}
			for i, q := range []string{"How do I export timesheets?", "How do I reset my password?"} {
				ask := fmt.Sprintf(`(() => { const r = %s; const i = r.querySelector('[data-testid="chat-input"]');
					i.value = %q; i.dispatchEvent(new Event("input", {bubbles: true}));
					r.querySelector('[data-testid="chat-send"]').click(); return true })()`, root, q)
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](ask)); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`%s.querySelectorAll('[data-testid="chat-answer"][data-state="done"]').length === %d`, root, i+1))); err != nil {
					t.Fatalf("answer %d: %v", i+1, err)
				}
			}
			last := `[data-testid="chat-answer"]:last-of-type`
			traceID, err := chromedp.Run(ctx, chromedp.Evaluate[string](root+`.querySelector('`+last+`').dataset.traceId`))
			if err != nil || traceID == "" {
				t.Fatalf("no trace ID on the widget's answer (%v)", err)
			}
			open := fmt.Sprintf(`(() => { const b = %s.querySelector('%s [data-testid="thumbs-down"]'); b.scrollIntoView({block: "nearest"}); b.click(); return true })()`, root, last)
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](open)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!`+root+`.querySelector('`+last+` [data-testid="feedback-comment"]')`)); err != nil {
				t.Fatal(err)
			}
			for _, sel := range []string{`[data-testid="feedback-comment"]`, `[data-testid="feedback-send"]`} {
				if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](topmost(root, last+" "+sel))); got != "ok" {
					t.Errorf("widget %s at %s: %s", sel, vp.name, got)
				}
			}
			shot(t, ctx, "widget-feedback-form-"+vp.name)
			comment := "Widget comment at " + vp.name
			// A real mouse click where the Send button shows.
			send := fmt.Sprintf(`(() => { const s = %s, ta = s.querySelector('%s [data-testid="feedback-comment"]'); ta.value = %q;
				const r = s.querySelector('%s [data-testid="feedback-send"]').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2] })()`, root, last, comment, last)
			xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](send))
			if err != nil || len(xy) != 2 {
				t.Fatalf("find Send: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.MouseClickXY(xy[0], xy[1])); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!`+root+`.querySelector('`+last+` [data-testid="feedback-thanks"]')`)); err != nil {
				t.Fatalf("the widget never thanked for the comment: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/")); err != nil {
				t.Fatal(err)
			}
			fb := traceFeedback(t, ctx, traceID)
			if len(fb) != 1 || fb[0].Value != -1 || fb[0].Comment != comment {
				t.Errorf("trace feedback = %+v, want one thumbs down with %q", fb, comment)
			}
		})
	}
}

// TestBrowserWidgetWrongSite: on a site that is not one of the key's
// origins the widget checks first and shows no bubble, and says why in the
// console for the site's owner; the widget settings show the key's snippet
// again after the page is reloaded.
func TestBrowserWidgetWrongSite(t *testing.T) {
	t.Parallel()
	ctx := newBrowserFor(t, 5*time.Minute)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var key string
	help := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Other site</title>
<script>window.warnings = []; console.warn = function (m) { window.warnings.push(String(m)); };</script></head>
<body><h1>Not an allowed origin</h1><script src="%s/widget.js" data-key="%s" async></script></body></html>`, inst.url, key)
	})}
	go help.Serve(ln)
	t.Cleanup(func() { help.Close() })

	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/widget"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="name"]`), "Help centre"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="origins"]`), "https://help.rosterly.example"),
		chromedp.Click(chromedp.CSS(`[data-testid="widget-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-widget-key"]`)),
	)
	if err != nil {
		t.Fatalf("create widget key: %v", err)
	}
	key = regexp.MustCompile(`llmops_pk_[A-Za-z0-9_-]+`).FindString(text(t, ctx, `[data-testid="widget-snippet"]`))
	if key == "" {
		t.Fatal("no widget key in the snippet")
	}
	if strings.Contains(text(t, ctx, `[data-testid="new-widget-key"]`), "not see this key again") {
		t.Error("a publishable key is said to be shown once")
	}
	// Later, on the same page: the snippet is still there, in the key's row.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/widget"),
		chromedp.Click(chromedp.CSS(`[data-testid="widget-key-snippet"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="widget-key-snippet"] code`)),
	)
	if err != nil {
		t.Fatalf("open the key's snippet: %v", err)
	}
	if got := text(t, ctx, `[data-testid="widget-key-snippet"] code`); !strings.Contains(got, `data-key="`+key+`"`) {
		t.Errorf("the key's row snippet %q lacks the key", got)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	warned, err := chromedp.Run(ctx, chromedp.Poll[string](`window.warnings.length ? window.warnings.join("\n") : ""`))
	if err != nil {
		t.Fatalf("no console warning on a site that is not allowed: %v", err)
	}
	if !strings.Contains(warned, "not allowed") || !strings.Contains(warned, "Settings → Chat widget") {
		t.Errorf("console warning %q does not tell the owner what to do", warned)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#llmops-widget").length`)); n != 0 {
		t.Error("the widget shows its bubble on a site that is not allowed")
	}
}

// TestBrowserFirstHourLeftovers: an admin pins chat suggestions from the
// chat page and sees them first; the empty chat fits a 1440×900 window
// without scrolling; the sample ingest's trace draws the shared batch once,
// marks no file as slow and shows no feedback counter.
func TestBrowserFirstHourLeftovers(t *testing.T) {
	t.Parallel()
	ctx := newBrowserFor(t, 5*time.Minute)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-suggestion"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if fits, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollHeight <= innerHeight`)); !fits {
		t.Errorf("the empty chat is taller than a 1440×900 window: %s", must(chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.scrollHeight + " > " + innerHeight`))))
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="pin-suggestions"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#pinned`)),
		chromedp.SendKeys(chromedp.CSS(`#pinned`), "how do i clock in from my phone\nWhat does Pro cost?"),
		// The old page shows suggestions until the redirect lands: mark it,
		// and wait for suggestions on a page without the mark.
		chromedp.Evaluate[chromedp.Void](`(() => { document.body.dataset.old = "1"; return {} })()`),
		chromedp.Click(chromedp.CSS(`[data-testid="pin-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-old]) [data-testid="chat-suggestion"]`)),
	)
	if err != nil {
		t.Fatalf("pin suggestions: %v", err)
	}
	chips, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="chat-suggestion"]')].map(b => b.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(chips) < 2 || chips[0] != "How do I clock in from my phone?" || chips[1] != "What does Pro cost?" {
		t.Errorf("suggestions after pinning = %q, want the two pinned first", chips)
	}
	if got := text(t, ctx, `[data-testid="pin-suggestions"] summary`); got != "Pinned suggestions (2)" {
		t.Errorf("pin form summary = %q", got)
	}

	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/v1/traces?kind=ingest", {headers: {Accept: "application/json"}}).then(r => r.json()).then(r => r.traces[0].id)`, chromedp.EvalAwaitPromise))
	if err != nil || id == "" {
		t.Fatalf("no sample ingest trace: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/traces/"+id), chromedp.WaitVisible(chromedp.CSS(`[data-testid="waterfall"]`))); err != nil {
		t.Fatal(err)
	}
	batch, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="span-row"] .span-link')].map(a => a.textContent).filter(n => /batch|store and index|^embed$/.test(n))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != 2 || batch[0] != "embed batch · 46 files" || batch[1] != "store and index · 46 files" {
		t.Errorf("the ingest's shared spans = %q, want one embed batch and one store and index for 46 files", batch)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.heat-sign').length`)); n != 0 {
		t.Errorf("%d slow markers on the sample ingest", n)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="feedback"], [data-testid="feedback-summary"]').length`)); n != 0 {
		t.Error("the ingest trace shows a feedback counter")
	}
}
