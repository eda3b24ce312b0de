package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDashboard is a support lead watching the assistant: after a
// few questions (one the help centre cannot answer), the Overview's
// dashboard charts them; a number opens the traces behind it, and a
// filter narrows the list. (The chart-point click handler is not covered
// here yet: a synthetic click did not navigate in this test.)
func TestBrowserDashboard(t *testing.T) {
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	// Three asks from the signed-in browser over the API (channel api).
	ask := `Promise.all(["How do I reset my password?", "How do I connect Slack?", "Can I pay for Rosterly in bitcoin on Mars?"].map(q =>
		fetch("/api/v1/ask", {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"}, body: JSON.stringify({question: q})}).then(r => r.status)))
		.then(s => s.join(","))`
	statuses, err := chromedp.Run(ctx, chromedp.Evaluate[string](ask, chromedp.EvalAwaitPromise))
	if err != nil || statuses != "200,200,200" {
		t.Fatalf("asks: %q, %v", statuses, err)
	}
	// The answers' traces are committed within the writer's interval.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/?window=1h"),
		chromedp.WaitVisible(chromedp.CSS(`#dashboard[data-loaded="true"] [data-testid="dashboard-plot"]`)),
	)
	if err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	waitPage(t, ctx, "the dashboard to count the asks", `(() => { const root = document.getElementById("dashboard");
		if (!root || root.dataset.loaded !== "true") return false;
		if (document.querySelector('[data-testid="dashboard-number"] .value').textContent === "3") return true;
		location.reload(); return false })()`)
	waitPage(t, ctx, "charts", `document.querySelectorAll('[data-testid="dashboard-chart"] canvas').length === 4`)
	shot(t, ctx, "60-dashboard")

	// The Requests number opens the traces behind it (the window's asks).
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-testid="dashboard-number"]`))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the traces behind the number", `location.pathname === "/traces" && location.search.includes("from=") && document.readyState === "complete" && !!document.querySelector('[data-testid="traces-table"]')`)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="traces-table"] tbody tr').length`))
	if err != nil || rows != 3 {
		t.Fatalf("traces behind the number: %d rows, %v; want the 3 asks", rows, err)
	}
	shot(t, ctx, "61-traces-of-point")

	// A filter narrows the list: only the question that fell back.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#tf-status"), "fallback"),
		chromedp.Click(chromedp.CSS(`[data-testid="trace-filter-apply"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="trace-filters"]`)),
	)
	if err != nil {
		t.Fatalf("filter: %v", err)
	}
	// The new page, loaded: its rows or its no-match state (the URL changes
	// before the new document is there, and on a loaded machine the old
	// one can still be read).
	waitPage(t, ctx, "the filtered list", `location.search.includes("status=fallback") && document.readyState === "complete" &&
		(!!document.querySelector('[data-testid="traces-table"] tbody tr') || !!document.querySelector('[data-testid="traces-no-match"]'))`)
	list, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="traces-table"] tbody tr')).map(r => r.textContent).join("\n")`))
	if err != nil || strings.Count(list, "fallback") != 1 || !strings.Contains(list, "bitcoin") {
		t.Fatalf("filtered list:\n%s\n%v; want only the bitcoin question", list, err)
	}
	shot(t, ctx, "62-traces-filtered")
}
