package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserReview: answers arrive, the admin (who may review) opens the
// Review page, which builds the week's queue, and works through three
// items with the keyboard only: j to start, a verdict key, g for
// grounded, e and typing for the corrected answer, Esc, Enter to submit
// and move on. The weekly report counts the three labels.
func TestBrowserReview(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, t.TempDir(), "--no-sample", "--ask-rate", "0")
	setupAdmin(t, ctx, inst)
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/keys"),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "bot"),
		chromedp.SetValue(chromedp.CSS("#key-role"), "editor"),
		chromedp.Click(chromedp.CSS(`[data-testid="key-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-secret"]`)),
	)
	if err != nil {
		t.Fatalf("setup and key: %v", err)
	}
	secret := text(t, ctx, `[data-testid="new-secret"]`)
	// With no documents every answer falls back and is escalated: all
	// four are mandatory review items, each its own conversation.
	for _, q := range []string{"How do I cancel my plan?", "Can I get a refund?", "How do I connect Slack?", "Where are my invoices?"} {
		req, _ := http.NewRequest("POST", inst.url+"/api/v1/ask", strings.NewReader(`{"question":"`+q+`"}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ask: %d", resp.StatusCode)
		}
	}
	// The trace writer commits within milliseconds; each visit tops the
	// week's queue up, so reload until it holds the four answers.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		n := 0
		err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/review"))
		if err == nil {
			n, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="review-queue"] tbody tr').length`))
		}
		if err == nil && n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("review queue has %d items, want 4 (%v)", n, err)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/review/report"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="report-labelled"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-testid="report-labelled"]`); got != "0" {
		t.Errorf("report before reviewing: %s labelled, want 0", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/review"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="start-review"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	reviewShots(t, ctx, "review-queue")

	// Keyboard only from here.
	verdicts := []string{"3", "4", "1"}
	for i, v := range verdicts {
		want := []string{"1 / 4", "2 / 4", "3 / 4"}[i]
		if i == 0 {
			if err := chromedp.Do(ctx, chromedp.KeyEvent("j")); err != nil {
				t.Fatal(err)
			}
		}
		waitPage(t, ctx, "item "+want, atItem(want))
		if i == 0 {
			reviewShots(t, ctx, "review-item")
		}
		err := chromedp.Do(ctx,
			chromedp.KeyEvent(v),
			chromedp.KeyEvent("g"), // yes
			chromedp.KeyEvent("g"), // no
			chromedp.KeyEvent("e"),
			chromedp.KeyEvent("Open Billing, then Cancel plan."),
			chromedp.KeyEvent(kb.Escape),
			chromedp.KeyEvent("c"),
			chromedp.KeyEvent(kb.ArrowDown),
			chromedp.KeyEvent(kb.Escape),
			chromedp.KeyEvent(kb.Enter),
		)
		if err != nil {
			t.Fatalf("label item %d: %v", i+1, err)
		}
	}
	// After the third, the fourth item is shown.
	waitPage(t, ctx, "item 4 / 4", atItem("4 / 4"))
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/review/report"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="report-labelled"]`)),
	)
	if err != nil {
		t.Fatalf("after three labels: %v", err)
	}
	if got := text(t, ctx, `[data-testid="report-labelled"]`); got != "3" {
		t.Errorf("report after reviewing: %s labelled, want 3", got)
	}
	if got := text(t, ctx, `[data-testid="report-failing"]`); got != "2" {
		t.Errorf("report: %s failing, want 2 (incorrect, should have refused)", got)
	}
	verdictText := text(t, ctx, `[data-testid="report-verdicts"]`)
	for _, want := range []string{"correct", "incorrect", "should have refused"} {
		if !strings.Contains(verdictText, want) {
			t.Errorf("report verdicts %q lack %q", verdictText, want)
		}
	}
	reviewShots(t, ctx, "review-report")

	// The labels are stored as typed, and the findings set got the two
	// failing answers.
	req, _ := http.NewRequest("GET", inst.url+"/api/v1/evals/sets/Review%20findings", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(body), `"question"`) != 2 || !strings.Contains(string(body), `"unanswerable":true`) ||
		!strings.Contains(string(body), "Open Billing, then Cancel plan.") {
		t.Errorf("findings set: %d %s", resp.StatusCode, body)
	}
}

// atItem holds once the reviewing view of item pos ("2 / 4") has loaded.
func atItem(pos string) string {
	return `document.readyState === "complete" && !!document.querySelector('[data-testid="label-form"]') && document.querySelector('[data-testid="review-pos"]').textContent.trim() === '` + pos + `'`
}

// reviewShots checks a page at 1440 and 390 px in both themes: nothing
// wider than the window (checkFits), no serious axe-core violation at
// 1440, and, with LLMOPS_SCREENSHOTS set, a picture of each. The page is
// reloaded after each change, so the sidebar drawer is not caught mid-way.
func reviewShots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	axe, err := os.ReadFile("assets/vendor/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int64{1440, 390} {
		for _, theme := range []string{"light", "dark"} {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`localStorage.setItem("llmops-theme", %q) || true`, theme)))
			if err == nil {
				err = chromedp.Do(ctx,
					chromedp.EmulateViewport(w, 900),
					chromedp.Reload(),
					chromedp.WaitVisible(chromedp.CSS(`:root[data-theme="`+theme+`"]`)),
				)
			}
			if err != nil {
				t.Fatalf("%s at %d, %s: %v", name, w, theme, err)
			}
			n := fmt.Sprintf("%s-%d-%s", name, w, theme)
			checkFits(t, ctx, n)
			if w == 1440 {
				checkAxe(t, ctx, n, string(axe))
			}
			shot(t, ctx, n)
		}
	}
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`localStorage.setItem("llmops-theme", "light") || true`))
	if err == nil {
		err = chromedp.Do(ctx, chromedp.EmulateViewport(1360, 860), chromedp.Reload())
	}
	if err != nil {
		t.Fatal(err)
	}
}
