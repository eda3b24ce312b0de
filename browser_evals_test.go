package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitPage evaluates cond until it holds. Unlike chromedp.Poll it
// survives the page reloading itself while it waits.
func waitPage(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// finishedRunPage holds on a run page loaded after its run ended (it
// reloads itself then): no longer polling, with its metric cards.
const finishedRunPage = `document.readyState === "complete" && !document.querySelector('[data-running="true"]') && !!document.querySelector('[data-testid="run-page"] [data-testid="metric-card"]')`

// TestBrowserEvals is a support lead checking answer quality: the sample
// run of a new install is on the Evals page; they import a bigger set,
// start a run and watch its progress bar move, then run the sample set
// again and open the comparison with the first run.
func TestBrowserEvals(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/evals"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-row"]`)),
	)
	if err != nil {
		t.Fatalf("evals page: %v", err)
	}
	// The rows of running runs poll and the page reloads when they end.
	waitPage(t, ctx, "the sample run to finish", `document.readyState === "complete" && !!document.querySelector('[data-testid="run-row"]') && !document.querySelector('[data-testid="run-row"][data-running="true"]')`)
	if runs := text(t, ctx, `[data-testid="runs"]`); !strings.Contains(runs, "Sample baseline") {
		t.Fatalf("the first run of a new install is not listed:\n%s", runs)
	}
	shot(t, ctx, "20-evals")

	// A set big enough to watch the bar move (the page polls every
	// second) on a fast machine, yet quick on a slow one: the sample
	// questions repeated to take about 8 s at the speed the sample run
	// went (once, when it took that long: under -race it takes more),
	// created through the API with the page's session.
	took, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(async () => {
		const r = (await (await fetch('/api/v1/evals/runs')).json()).runs[0];
		return (Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || took <= 0 {
		t.Fatalf("sample run took %v s (%v)", took, err)
	}
	reps := min(max(int(math.Ceil(8/took)), 1), 20)
	t.Logf("the sample run took %.1f s: the big set repeats it %d times", took, reps)
	created, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
		const got = await (await fetch('/api/v1/evals/sets/Sample%%20help%%20centre')).json();
		const cases = [];
		for (let r = 0; r < %d; r++) for (const c of got.cases) cases.push({...c, id: c.id + '-' + r});
		const res = await fetch('/api/v1/evals/sets', {method: 'POST', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({name: 'Big set', description: 'The sample questions, repeated', cases})});
		return res.status + ' ' + (await res.json()).name;
	})()`, reps), chromedp.EvalAwaitPromise))
	if err != nil || created != "201 Big set" {
		t.Fatalf("create set: %q %v", created, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/evals"),
		chromedp.Click(chromedp.CSS(`[data-testid="run-set-Big set"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-page"]`)),
	)
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	// Watch the bar move (the page polls the run every second).
	seen := map[float64]bool{}
	deadline := time.Now().Add(4 * time.Minute)
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => {
			const p = document.querySelector('[data-testid="run-progress"]');
			return p ? p.value : -1;
		})()`))
		if err != nil { // the page is reloading
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if v < 0 {
			break // finished: the page reloaded without the bar
		}
		seen[v] = true
		if len(seen) == 2 {
			shot(t, ctx, "21-eval-running")
		}
		if time.Now().After(deadline) {
			t.Fatal("run still going after 4 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(seen) < 2 {
		t.Errorf("progress bar values seen: %v; want it to move", seen)
	}
	// The page reloads when the run ends: wait for the reloaded page (no
	// longer polling, with its metric cards), not the one unloading.
	waitPage(t, ctx, "the finished run page", finishedRunPage)
	if head, n := text(t, ctx, `[data-testid="run-head"]`), fmt.Sprint(90*reps); !strings.Contains(head, n) {
		t.Errorf("finished run header does not count %s cases:\n%s", n, head)
	}

	// The sample set again, then compare it with the first run.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/evals"),
		chromedp.Click(chromedp.CSS(`[data-testid="run-sample"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-page"]`)),
	)
	if err != nil {
		t.Fatalf("sample run: %v", err)
	}
	waitPage(t, ctx, "the finished sample run page", finishedRunPage+` && !!document.querySelector('[data-testid="compare-with"]')`)
	shot(t, ctx, "22-eval-run")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="compare-with"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="compare-metrics"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="compare-summary"]`)),
	)
	if err != nil {
		t.Fatalf("compare: %v", err)
	}
	summary := text(t, ctx, `[data-testid="compare-summary"]`)
	metrics := text(t, ctx, `[data-testid="compare-metrics"]`)
	// Same pipeline, same cases: nothing moved.
	if !strings.Contains(summary, "No significant change") || !strings.Contains(metrics, "nDCG@10") {
		t.Errorf("comparison of two identical runs:\n%s\n%s", summary, metrics)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="compare-case"]').length`)); err != nil || n != 90 {
		t.Errorf("%d cases compared (%v), want 90", n, err)
	}
	shot(t, ctx, "23-eval-compare")
}
