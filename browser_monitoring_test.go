package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDashboard is a support lead watching the assistant: after a
// few questions (one the help centre cannot answer), the Overview's
// dashboard charts them; a number and a chart point open the traces
// behind them, and a filter narrows the list.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
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

	// A click on a chart point (a real mouse event at the point's place on
	// the Requests chart) opens the traces of that period: as many as the
	// point counts.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/?window=1h"),
		chromedp.WaitVisible(chromedp.CSS(`#dashboard[data-loaded="true"] [data-testid="dashboard-plot"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The point is found in the Requests chart's own data (its uPlot
	// instance): a second fetch of the dashboard can have its periods a
	// step later than the page's when a step boundary passes in between,
	// which a busy machine makes likely.
	where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const u = document.getElementById("dashboard").plots[0];
		const i = u.data[1].map(v => v > 0).lastIndexOf(true);
		if (i < 0) return "0,0,0";
		u.over.scrollIntoView({block: "center"});
		const r = u.over.getBoundingClientRect();
		// The last point sits on the plot's right edge: click just inside it.
		const x = Math.min(r.left + u.valToPos(u.data[0][i], "x"), r.right - 2), y = r.top + r.height / 2;
		return [x, y, u.data[1][i]].join(",");
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	var x, y float64
	var want int
	if _, err := fmt.Sscanf(where, "%g,%g,%d", &x, &y, &want); err != nil || want == 0 {
		t.Fatalf("chart point %q: %v", where, err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(x, y)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the traces behind the point", `location.pathname === "/traces" && location.search.includes("from=") && document.readyState === "complete" &&
		(!!document.querySelector('[data-testid="traces-table"]') || !!document.querySelector('[data-testid="traces-no-match"]'))`)
	rows, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="traces-table"] tbody tr').length`))
	if err != nil || rows != want {
		t.Fatalf("traces behind the chart point: %d rows, %v; want the point's %d", rows, err, want)
	}
	shot(t, ctx, "63-traces-of-chart-point")
}

// TestBrowserConversationUsersCostViews follows one conversation of three
// turns from the explorer to its conversation page, then looks at the
// users and cost pages and saves, applies and deletes a view.
func TestBrowserConversationUsersCostViews(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)

	conv := `(async () => {
		let conv = "";
		for (const q of ["How do I reset my password?", "And if I no longer have the email?", "Can I pay in bitcoin?"]) {
			const r = await fetch("/api/v1/ask", {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
				body: JSON.stringify({question: q, conversation_id: conv})});
			if (r.status !== 200) return "status " + r.status;
			conv = (await r.json()).conversation_id;
		}
		return conv;
	})()`
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](conv, chromedp.EvalAwaitPromise))
	if err != nil || id == "" || strings.HasPrefix(id, "status") {
		t.Fatalf("asks: %q, %v", id, err)
	}
	// The explorer, filtered to the conversation (the traces are committed
	// within the writer's interval), links to its page.
	err = chromedp.Do(ctx, chromedp.Navigate(inst.url+"/traces?conversation="+id))
	if err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the conversation's three traces", `(() => { if (document.querySelectorAll('[data-testid="trace-link"]').length === 3) return true;
		location.reload(); return false })()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="conversation-filter-link"] a`))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the conversation page", `location.pathname.startsWith("/conversations/") && document.readyState === "complete" && !!document.querySelector('[data-testid="conversation-turns"]')`)
	turns, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="conversation-turn"] .conv-q')).map(e => e.textContent).join("|")`))
	if err != nil || turns != "How do I reset my password?|And if I no longer have the email?|Can I pay in bitcoin?" {
		t.Fatalf("turns %q, %v; want the three questions in order", turns, err)
	}
	shots(t, ctx, "64-conversation")
	// Each turn opens its trace, whose conversation field leads back.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="turn-trace"]`))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the first turn's trace", `location.pathname.startsWith("/traces/") && document.readyState === "complete" && !!document.querySelector('[data-testid="trace-conversation-link"]')`)
	if got := text(t, ctx, `[data-testid="trace-conversation-link"]`); got != id {
		t.Errorf("trace page conversation %q, want %q", got, id)
	}

	// The users page counts the admin's three asks; its row opens them.
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/traces/users?window=1d")); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the users page", `document.readyState === "complete" && !!document.querySelector('[data-testid="users-table"]')`)
	row, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="users-table"] [data-testid="usage-row"] td')).slice(0, 2).map(e => e.textContent.trim()).join("|")`))
	if err != nil || !strings.HasSuffix(row, "|3") {
		t.Fatalf("users row %q, %v; want the admin with 3 asks", row, err)
	}
	shots(t, ctx, "65-users")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="usage-link"]`))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the user's traces", `location.pathname === "/traces" && location.search.includes("user=") && document.readyState === "complete" &&
		document.querySelectorAll('[data-testid="trace-link"]').length === 3`)

	// The cost page: a bar per day, the tables, the month's projection.
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.url+"/cost?window=7d")); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the cost page", `document.readyState === "complete" && document.querySelectorAll('[data-testid="cost-bar"]').length === 7`)
	shots(t, ctx, "66-cost")

	// Save a full-text filter as a shared view, apply it from the bar,
	// delete it.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/traces?q=bitcoin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="trace-view-save"]`)),
		chromedp.SendKeys(chromedp.CSS("#tv-name"), "Bitcoin questions"),
		chromedp.Click(chromedp.CSS(`[data-testid="trace-view-save"] input[name="shared"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="trace-view-save"] button`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the saved view", `document.readyState === "complete" && !!document.querySelector('[data-testid="trace-view"].current')`)
	shots(t, ctx, "67-saved-views")
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/traces"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="trace-view"] a`)),
		chromedp.Click(chromedp.CSS(`[data-testid="trace-view"] a`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the view applied", `location.search === "?q=bitcoin" && document.readyState === "complete" &&
		(!!document.querySelector('[data-testid="traces-table"] tbody tr') || !!document.querySelector('[data-testid="traces-no-match"]'))`)
	list, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="traces-table"] tbody tr')).map(r => r.textContent).join("\n")`))
	if err != nil || !strings.Contains(list, "bitcoin") || strings.Contains(list, "reset my password") {
		t.Fatalf("view's list:\n%s\n%v; want the bitcoin question only", list, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="trace-view-delete"]`))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the view deleted", `location.search === "" && document.readyState === "complete" && !document.querySelector('[data-testid="trace-view"]')`)
}
