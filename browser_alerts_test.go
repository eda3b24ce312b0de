package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAlertsFlow: an admin creates an alert on the Alerts page,
// answers arrive over the API, the alert fires and the banner shows it on
// every page; Settings → Budgets takes a budget and shows the usage.
func TestBrowserAlertsFlow(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, t.TempDir(), "--no-sample", "--ask-rate", "0")
	setupAdmin(t, ctx, inst)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="nav-alerts"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alerts-empty"]`)),
	)
	if err != nil {
		t.Fatalf("setup and open Alerts: %v", err)
	}
	// A refused rule keeps the form and names the field.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#alert-name"), "Busy"),
		chromedp.SetValue(chromedp.CSS("#alert-metric"), "requests"),
		chromedp.SendKeys(chromedp.CSS("#alert-threshold"), "3"),
		chromedp.SetValue(chromedp.CSS("#alert-window"), "5s"),
		chromedp.Click(chromedp.CSS(`[data-testid="alert-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-error"]`)),
	)
	if err != nil {
		t.Fatalf("refused rule: %v", err)
	}
	if msg := text(t, ctx, `[data-testid="form-error"]`); !strings.HasPrefix(msg, "window:") {
		t.Errorf("form error %q; want it to name the window", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#alert-window"), "10m"),
		chromedp.Click(chromedp.CSS(`[data-testid="alert-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alerts-table"]`)),
	)
	if err != nil {
		t.Fatalf("create rule: %v", err)
	}
	if row := text(t, ctx, `[data-testid="alerts-table"] tbody`); !strings.Contains(row, "Busy") || !strings.Contains(row, "requests > 3") || !strings.Contains(row, "ok") {
		t.Errorf("alerts table %q; want Busy, requests > 3, ok", row)
	}

	// An API key from Settings, then six answers.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/keys"),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "bot"),
		chromedp.SetValue(chromedp.CSS("#key-role"), "editor"),
		chromedp.Click(chromedp.CSS(`[data-testid="key-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-secret"]`)),
	)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	secret := text(t, ctx, `[data-testid="new-secret"]`)
	for range 6 {
		req, _ := http.NewRequest("POST", inst.url+"/api/v1/ask", strings.NewReader(`{"question":"How do I export timesheets?"}`))
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
	// The evaluator sees the answers once the trace writer commits them;
	// the banner is loaded by htmx on each page.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest("GET", inst.url+"/api/v1/alerts", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `"state":"firing"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert not firing after six answers: %s", body)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-banner"]`)),
	)
	if err != nil {
		t.Fatalf("firing: %v", err)
	}
	if got := text(t, ctx, `[data-testid="alert-banner"]`); !strings.Contains(got, "1 alert firing") || !strings.Contains(got, "Busy") {
		t.Errorf("banner %q; want Busy firing", got)
	}
	if got := text(t, ctx, `[data-testid="alerts-table"] [data-testid="state"]`); !strings.Contains(got, "firing") {
		t.Errorf("state %q; want firing", got)
	}
	shot(t, ctx, "alerts-firing")

	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/budgets"),
		chromedp.SendKeys(chromedp.CSS("#b-tok"), "50000"),
		chromedp.SendKeys(chromedp.CSS("#b-day"), "5"),
		chromedp.Click(chromedp.CSS(`[data-testid="budget-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="notice"]`)),
	)
	if err != nil {
		t.Fatalf("budget form: %v", err)
	}
	if row := text(t, ctx, `[data-testid="budget-global"]`); !strings.Contains(row, "/ 50,000") || !strings.Contains(row, "/ $5.00") {
		t.Errorf("global budget row %q; want the limits", row)
	}
	shot(t, ctx, "settings-budgets")
	err = chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(inst.url+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-banner"]`)))
	if err != nil {
		t.Fatalf("narrow: %v", err)
	}
	shot(t, ctx, "alerts-390")
}
