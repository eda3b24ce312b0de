package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPrompts is an editor changing how the assistant answers:
// they write a new version of support-answer (a template error first,
// shown at its line), read its diff, try it against the current version
// in the playground, promote it to production, and the next chat answer's
// trace carries the new support-answer@2.
func TestBrowserPrompts(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/prompts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prompt-row"][data-name="support-answer"]`)),
	)
	if err != nil {
		t.Fatalf("prompts page: %v", err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-name="support-answer"] [data-testid="label-production"]').title`)); err != nil || got != "production → v1" {
		t.Errorf("support-answer's production label = %q (%v), want production → v1", got, err)
	}
	shots(t, ctx, "30-prompts")

	// The prompt's page, then its version 1 with the editor.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-name="support-answer"] [data-testid="prompt-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="label-row-production"]`)),
	)
	if err != nil {
		t.Fatalf("prompt page: %v", err)
	}
	shots(t, ctx, "31-prompt")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="open-latest"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="version-form"]`)),
	)
	if err != nil {
		t.Fatalf("version page: %v", err)
	}
	shots(t, ctx, "32-prompt-version")

	// A variable the prompt does not declare: refused with its position,
	// the text kept as typed.
	err = chromedp.Do(ctx,
		script(`const ta = document.getElementById('ed-template'); ta.value = ta.value + '\n{{ .Nope }}'`),
		chromedp.SendKeys(chromedp.CSS(`#ed-message`), "Try an undeclared variable"),
		chromedp.Click(chromedp.CSS(`[data-testid="save-version"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="save-error-at"]`)),
	)
	if err != nil {
		t.Fatalf("bad save: %v", err)
	}
	if at := text(t, ctx, `[data-testid="save-error-at"]`); !strings.Contains(at, "{{ .Nope }}") {
		t.Errorf("the error does not show the offending line:\n%s", at)
	}
	shots(t, ctx, "33-prompt-save-error")

	// Fix it and save: version 2.
	err = chromedp.Do(ctx,
		script(`const ta = document.getElementById('ed-template');
			ta.value = ta.value.replace('\n{{ .Nope }}', '').replace('[system]\n', '[system]\nAnswer in at most five sentences.\n');
			document.getElementById('ed-message').value = 'Shorter answers';
			document.getElementById('ed-topk').value = '4'`),
		chromedp.Click(chromedp.CSS(`[data-testid="save-version"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-notice"]`)),
	)
	if err != nil {
		t.Fatalf("save: %v", err)
	}
	if h := text(t, ctx, "h1"); h != "support-answer v2" {
		t.Fatalf("saved to %q, want support-answer v2", h)
	}

	// The diff: the added line, and top_k.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="diff-prev"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="diff-template"]`)),
	)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	if added := text(t, ctx, `tr[data-op="+"]`); !strings.Contains(added, "Answer in at most five sentences.") {
		t.Errorf("added line = %q", added)
	}
	if cfg := text(t, ctx, `[data-testid="config-change-top_k"]`); !strings.Contains(cfg, "4") {
		t.Errorf("top_k change = %q", cfg)
	}
	shots(t, ctx, "34-prompt-diff")

	// The playground: v1 against v2 on a test-set question.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="diff-playground"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="playground-form"]`)),
	)
	if err != nil {
		t.Fatalf("playground: %v", err)
	}
	q, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.getElementById('pg-case'); s.selectedIndex = 1; s.dispatchEvent(new Event('change')); return document.getElementById('pg-question').value })()`))
	if err != nil || q == "" {
		t.Fatalf("picking a test-set question: %q %v", q, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="pg-run"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="playground-results"]`)),
	)
	if err != nil {
		t.Fatalf("run playground: %v", err)
	}
	arms, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="arm"]')).map(a => a.dataset.prompt + ' ' + (a.querySelector('[data-testid="arm-answer"]') || {}).textContent)`))
	if err != nil || len(arms) != 2 || !strings.HasPrefix(arms[0], "support-answer@1 ") || !strings.HasPrefix(arms[1], "support-answer@2 ") {
		t.Fatalf("playground arms = %q (%v)", arms, err)
	}
	for _, a := range arms {
		if len(strings.TrimSpace(strings.SplitN(a, " ", 2)[1])) == 0 {
			t.Errorf("an arm has no answer: %q", a)
		}
	}
	shots(t, ctx, "35-prompt-playground")

	// Promote v2 to production (no gate on a new install).
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/prompts/support-answer"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="move-production"]`)),
		chromedp.SetValue(chromedp.CSS(`#move-production`), "2"),
		chromedp.Click(chromedp.CSS(`[data-testid="move-production"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-notice"]`)),
	)
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if got := text(t, ctx, `[data-testid="label-row-production"] [data-testid="label-target"]`); got != "v2" {
		t.Fatalf("production points at %q after the move, want v2", got)
	}
	if got := text(t, ctx, `[data-testid="history-row"]`); !strings.Contains(got, "v1 → v2") {
		t.Errorf("label history lacks the move: %q", got)
	}

	// The next chat answer uses it, and its trace says so.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "how do I cancel my subscription?"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-send"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-answer"][data-state="done"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="view-trace"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="trace-attributes"]`)),
	)
	if err != nil {
		t.Fatalf("chat after the promotion: %v", err)
	}
	if attrs := text(t, ctx, `[data-testid="trace-attributes"]`); !strings.Contains(attrs, "support-answer@2") {
		t.Errorf("the chat trace does not carry support-answer@2:\n%s", attrs)
	}
	// …and offers to replay its question in the playground.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="replay-playground"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="playground-form"]`)),
	)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if q, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('pg-question').value`)); q != "how do I cancel my subscription?" {
		t.Errorf("replayed question = %q", q)
	}
}

// shots takes a page's screenshots for review when LLMOPS_SCREENSHOTS is
// set: 1440 and 390 px wide, light and dark.
func shots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("LLMOPS_SCREENSHOTS") == "" {
		return
	}
	for _, w := range []int64{1440, 390} {
		for _, theme := range []string{"light", "dark"} {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(w, 900),
				script(fmt.Sprintf(`document.documentElement.dataset.theme = %q`, theme)),
			)
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			shot(t, ctx, fmt.Sprintf("%s-%d-%s", name, w, theme))
		}
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1360, 860),
		script(`document.documentElement.dataset.theme = 'light'`),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// script runs JavaScript statements in the page, for a step of a flow.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void]("(() => {" + js + "; return {} })()")
}
