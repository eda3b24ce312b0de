package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tourViewports are the two screens every page must fit: a laptop and a
// phone (an iPhone 14's CSS size).
var tourViewports = []struct {
	name          string
	width, height int64
}{
	{"1440", 1440, 900},
	{"390", 390, 844},
}

// tourPage is one stop of the tour: its address and what shows when it
// has rendered.
type tourPage struct {
	name, path, ready string
}

// TestBrowserTour visits every page of an install with the sample data,
// after a question, a thumbs-down, an API key and a widget key, at 1440×900
// and 390×844, in the light and the dark theme. On each it checks that
// nothing is wider than the screen and that axe-core finds no serious or
// critical accessibility violation (axe runs at 1440, where it checks
// both themes; the theme changes no width, so only screenshots need 390
// in the dark). With LLMOPS_TOUR_SHOTS naming a folder
// (make screenshots) it saves a full-page screenshot of each.
func TestBrowserTour(t *testing.T) {
	t.Parallel()
	ctx := newBrowserFor(t, 20*time.Minute)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)
	axe, err := os.ReadFile(filepath.Join("assets", "vendor", "axe", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is vendored by make axe: %v", err)
	}

	// Something in every list: a question with feedback, a key of each kind,
	// a second eval run to compare with the sample one.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "How do I export timesheets?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-answer"][data-state="done"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="thumbs-down"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="feedback-comment"]`), "Mention the PDF export too"),
		chromedp.Click(chromedp.CSS(`[data-testid="feedback-send"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="feedback-thanks"]`)),
		chromedp.Navigate(inst.url+"/settings/keys"),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "CI eval gate"),
		chromedp.Click(chromedp.CSS(`[data-testid="key-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-secret"]`)),
		chromedp.Navigate(inst.url+"/settings/widget"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="name"]`), "Help centre"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="widget-form"] [name="origins"]`), "https://help.rosterly.example"),
		chromedp.Click(chromedp.CSS(`[data-testid="widget-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-widget-key"]`)),
		chromedp.Navigate(inst.url+"/evals"),
	)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	waitPage(t, ctx, "the sample run to finish", `document.readyState === "complete" && !!document.querySelector('[data-testid="run-row"]') && !document.querySelector('[data-testid="run-row"][data-running="true"]')`)
	first := func(sel string) string {
		t.Helper()
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).getAttribute ? document.querySelector(%q).getAttribute("href") : ""`, sel, sel)))
		if err != nil || href == "" {
			t.Fatalf("no link %s on %s (%v)", sel, must(chromedp.Run(ctx, chromedp.Location())), err)
		}
		return href
	}
	setHref := first(`a[href^="/evals/sets/"]`)
	runA := first(`[data-testid="run-row"] a[href^="/evals/runs/"]`)
	start := fmt.Sprintf(`fetch("/api/v1/evals/runs", {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
		body: JSON.stringify({set: %q, name: "Top-k 3", settings: {top_k: 3}})}).then(r => r.json()).then(r => r.id || "")`, strings.TrimPrefix(setHref, "/evals/sets/"))
	runB, err := chromedp.Run(ctx, chromedp.Evaluate[string](start, chromedp.EvalAwaitPromise))
	if err != nil || runB == "" {
		t.Fatalf("start a second run: %q %v", runB, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/evals/runs/"+runB)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the second run to finish", finishedRunPage)
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/knowledge"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="documents-table"]`))); err != nil {
		t.Fatal(err)
	}
	docHref := first(`#documents-table tbody a[href^="/knowledge/"]`)
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/traces"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="traces-table"]`))); err != nil {
		t.Fatal(err)
	}
	traces, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="traces-table"] tbody tr')].map(r => (r.querySelector('a[href^="/traces/"]') || {}).pathname + " " + r.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	var askTrace, ingestTrace string
	for _, r := range traces {
		path, rest, _ := strings.Cut(r, " ")
		switch {
		case strings.Contains(rest, "ingest") && ingestTrace == "":
			ingestTrace = path
		case strings.Contains(rest, "export timesheets") && askTrace == "":
			askTrace = path
		}
	}
	if askTrace == "" || ingestTrace == "" {
		t.Fatalf("traces lack the question or the sample ingest: %q", traces)
	}

	pages := []tourPage{
		{"overview", "/", `[data-testid="getting-started"]`},
		{"knowledge", "/knowledge", `[data-testid="documents-table"]`},
		{"document", docHref, `[data-testid="chunks"]`},
		{"chat", "/chat", `[data-testid="chat-input"]`},
		{"prompts", "/prompts", `main h1`},
		{"traces", "/traces", `[data-testid="traces-table"]`},
		{"trace-ask", askTrace, `[data-testid="waterfall"]`},
		{"trace-ingest", ingestTrace, `[data-testid="waterfall"]`},
		{"evals", "/evals", `[data-testid="runs"]`},
		{"test-set", setHref, `main h1`},
		{"run", "/evals/runs/" + runB, `[data-testid="run-page"] [data-testid="metric-card"]`},
		{"compare", "/evals/compare?a=" + strings.TrimPrefix(runA, "/evals/runs/") + "&b=" + runB, `[data-testid="compare-cases"]`},
		{"run-regressions", "/evals/runs/" + runB + "?show=regressions", `[data-testid="case-filter"]`},
		{"prompt", "/prompts/support-answer", `main h1`},
		{"prompt-version", "/prompts/support-answer/versions/1", `main h1`},
		{"playground", "/prompts/support-answer/playground", `main h1`},
		{"alerts", "/alerts", `main h1`},
		{"budgets", "/settings/budgets", `main h1`},
		{"review", "/review", `main h1`},
		{"inbox", "/escalations", `main h1`},
		{"guardrails", "/guardrails", `main h1`},
		{"cost", "/cost", `main h1`},
		{"traces-users", "/traces/users", `main h1`},
		{"review-report", "/review/report", `[data-testid="report-labelled"]`},
		{"settings", "/settings", `main h1`},
		{"sessions", "/settings/sessions", `main h1`},
		{"keys", "/settings/keys", `[data-testid="keys-table"]`},
		{"users", "/settings/users", `main h1`},
		{"audit", "/settings/audit", `[data-testid="audit-table"]`},
		{"models", "/settings/models", `[data-testid="prices-form"]`},
		{"widget", "/settings/widget", `[data-testid="widget-form"]`},
		{"not-found", "/no-such-page", `main h1`},
	}
	shots := os.Getenv("LLMOPS_TOUR_SHOTS")
	for _, vp := range tourViewports {
		for _, theme := range []string{"light", "dark"} {
			if vp.name == "390" && theme == "dark" && shots == "" {
				continue // the theme changes no width: only the screenshots need this pass
			}
			// Subtests share the one browser, one after the other.
			t.Run(vp.name+"-"+theme, func(t *testing.T) {
				err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height))
				if err == nil {
					_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`localStorage.setItem("llmops-theme", %q) || true`, theme)))
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pages {
					name := fmt.Sprintf("%s-%s-%s", p.name, vp.name, theme)
					err := chromedp.Do(ctx,
						chromedp.Navigate(inst.url+p.path),
						chromedp.WaitVisible(chromedp.CSS(p.ready)),
						chromedp.WaitVisible(chromedp.CSS(`:root[data-theme="`+theme+`"]`)),
					)
					if err != nil {
						t.Fatalf("%s: open %s: %v", name, p.path, err)
					}
					checkFits(t, ctx, name)
					// axe-core takes seconds a page on a busy machine: it
					// checks both themes at 1440 (the DOM is the same at
					// 390), every rule in the light theme and, in the dark
					// one, only the rules that read colours: the rest see
					// the same DOM twice.
					switch {
					case vp.name == "1440" && theme == "light":
						checkAxe(t, ctx, name, string(axe))
					case vp.name == "1440":
						checkAxe(t, ctx, name, string(axe), colourRules...)
					}
					if shots != "" {
						png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
						if err != nil {
							t.Fatalf("%s: screenshot: %v", name, err)
						}
						if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
			})
		}
	}
}

func must[T any](v T, _ error) T { return v }

// checkFits fails when the page is wider than the window, or when an
// element sticks out of its right edge (which a page clipped by
// overflow: hidden would hide from scrollWidth).
func checkFits(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// The elements that reach past the right edge (outermost first, none
	// inside a region that scrolls) name the culprit better than the
	// page's width alone.
	js := `(() => {
		const w = window.innerWidth, out = [];
		if (document.documentElement.scrollWidth <= w) return out;
		out.push("page " + document.documentElement.scrollWidth + "px wide");
		// An absolutely positioned element escapes the overflow of
		// ancestors below its containing block (a .sr-only label in a
		// scrolling table widens the page).
		const clipped = e => {
			let abs = getComputedStyle(e).position === "absolute";
			for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
				const st = getComputedStyle(a);
				if (abs && st.position === "static") continue;
				abs = st.position === "absolute";
				if (st.overflowX !== "visible") return true;
			}
			return false; };
		for (const e of document.querySelectorAll("body *")) {
			const r = e.getBoundingClientRect();
			if (r.width > 0 && r.right > w + 1 && out.length < 8 && !clipped(e))
				out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className.trim().split(/\s+/).join(".") : "") + " reaches " + Math.round(r.right) + "px");
		}
		return out; })()`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		t.Fatalf("%s: measure: %v", name, err)
	}
	if len(out) > 0 {
		t.Errorf("%s: wider than the screen: %s", name, strings.Join(out, "; "))
	}
}

// axeViolation is the part of an axe-core result the test reports.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// colourRules are the axe-core rules whose verdict a theme can change.
var colourRules = []string{"color-contrast", "link-in-text-block"}

// checkAxe runs axe-core on the page (only the rules named, when some are)
// and fails on every serious or critical violation.
func checkAxe(t *testing.T, ctx context.Context, name, axe string, rules ...string) {
	t.Helper()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		t.Fatal(err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;true")); err != nil {
			t.Fatalf("%s: load axe-core: %v", name, err)
		}
	}
	opts := `{resultTypes: ["violations"]}`
	if len(rules) > 0 {
		only, _ := json.Marshal(rules)
		opts = `{resultTypes: ["violations"], runOnly: {type: "rule", values: ` + string(only) + `}}`
	}
	run := `axe.run(document, ` + opts + `).then(r => JSON.stringify(r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " " + (n.failureSummary || "").split("\n").slice(1, 2).join(""))}))))`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", name, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(res), &vs); err != nil {
		t.Fatalf("%s: axe-core result: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe %s (%s): %s\n    %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
	}
}
