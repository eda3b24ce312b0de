package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
)

// newBrowser starts headless Chromium for UI flows. Without a chromium on
// PATH the test is skipped locally, but fails in CI (CI=true), where
// .ci/run installs it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserFor(t, 5*time.Minute)
}

// newBrowserFor is newBrowser for flows that need longer than 5 minutes
// in all (a tour of every page).
//
// The package shares one Chromium (starting one under -race on a busy
// machine costs seconds); each test gets a new browser context in it, a
// fresh profile of its own as an incognito window has: no cookies, local
// storage or cache from another test, and its own tab.
func newBrowserFor(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	root := sharedBrowser(t)
	ctx, cancelCtx := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	// Every wait in a flow (WaitVisible, Poll) lasts until this deadline:
	// generous, because under -race on a busy machine a page that does
	// real work (an eval run, an answer) can take a minute.
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancelTimeout(); cancelCtx() })

	// The server's Content-Security-Policy must not block anything our
	// pages do: the browser reports each blocked script, style or
	// connection as a "security" log entry, which fails the test.
	var mu sync.Mutex
	var blocked []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && (e.Entry.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Entry.Text, "Content Security Policy")) {
			mu.Lock()
			blocked = append(blocked, e.Entry.URL+": "+e.Entry.Text)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start browser: %v", err)
	}
	t.Cleanup(func() { // runs before the cancels above
		mu.Lock()
		defer mu.Unlock()
		for _, b := range blocked {
			t.Errorf("blocked by the Content-Security-Policy: %s", b)
		}
	})
	return ctx
}

// chromium is the package's one browser: started by the first browser
// test, stopped by TestMain after the last.
var chromium struct {
	once  sync.Once
	ctx   context.Context
	stop  func()
	err   error
	found bool
}

// sharedBrowser returns the context of the package's running Chromium,
// starting it on first use. Without a chromium on PATH the test is
// skipped locally, but fails in CI (CI=true), where .ci/run installs it.
func sharedBrowser(t *testing.T) context.Context {
	t.Helper()
	chromium.once.Do(func() {
		path := ""
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return
		}
		chromium.found = true
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.WindowSize(1360, 860),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(actx)
		chromium.ctx = ctx
		chromium.stop = func() { cancelCtx(); cancelAlloc() }
		// The first Do starts the browser and binds its life to ctx,
		// which has no deadline: each test's deadline is its own.
		if err := chromedp.Do(ctx); err != nil {
			chromium.err = err
		}
	})
	if !chromium.found {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found; .ci/run installs it")
		}
		t.Skip("chromium not installed; apt-get install chromium to run browser tests")
	}
	if chromium.err != nil {
		t.Fatalf("start browser: %v", chromium.err)
	}
	return chromium.ctx
}

// stopBrowser stops the shared Chromium, if a test started it.
func stopBrowser() {
	if chromium.stop != nil {
		chromium.stop()
	}
}

// shot saves a full-page screenshot when LLMOPS_SCREENSHOTS names a folder,
// so a person can look at what the flow showed.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("LLMOPS_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// TestBrowserFirstRunFlow is what a new team lead clicks through: the
// setup link, the overview, creating an API key, signing out and in.
func TestBrowserFirstRunFlow(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, t.TempDir(), "--no-sample")

	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.setupURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="setup-form"]`)),
	)
	if err != nil {
		t.Fatalf("open setup: %v", err)
	}
	shot(t, ctx, "01-setup")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#name"), "Maya Chen"),
		chromedp.SendKeys(chromedp.CSS("#email"), "maya@rosterly.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS(`[data-testid="setup-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="getting-started"]`)),
	)
	if err != nil {
		t.Fatalf("submit setup: %v", err)
	}
	if got := text(t, ctx, `[data-testid="viewer"]`); !strings.Contains(got, "Maya Chen") || !strings.Contains(got, "admin") {
		t.Errorf("sidebar shows %q, want Maya Chen, admin", got)
	}
	shot(t, ctx, "02-overview")

	// Every navigation entry leads to a page, none to an error.
	for _, key := range []string{"knowledge", "chat", "prompts", "traces", "evals", "review", "settings", "dashboard"} {
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="nav-`+key+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="nav-`+key+`"][aria-current="page"]`)),
		)
		if err != nil {
			t.Fatalf("nav %s: %v", key, err)
		}
		if key == "knowledge" {
			shot(t, ctx, "03-planned-knowledge")
		}
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/keys"),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "CI eval gate"),
		chromedp.SetValue(chromedp.CSS("#key-role"), "editor"),
		chromedp.Click(chromedp.CSS(`[data-testid="key-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-secret"]`)),
	)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	if secret := text(t, ctx, `[data-testid="new-secret"]`); !strings.HasPrefix(secret, "llmops_") {
		t.Errorf("new key shows %q", secret)
	}
	if rows := text(t, ctx, `[data-testid="keys-table"]`); !strings.Contains(rows, "CI eval gate") || !strings.Contains(rows, "editor") {
		t.Errorf("keys table = %q, want the new editor key", rows)
	}
	shot(t, ctx, "04-keys")

	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/audit"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-table"]`)),
	)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	shot(t, ctx, "05-audit")

	// Dark mode is remembered across pages.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/"),
		chromedp.Click(chromedp.CSS(`.sidebar [data-theme-choice="dark"]`)),
		chromedp.Navigate(inst.url+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`:root[data-theme="dark"]`)),
	)
	if err != nil {
		t.Fatalf("dark mode: %v", err)
	}
	shot(t, ctx, "06-settings-dark")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.sidebar [data-theme-choice="light"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "maya@rosterly.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-error"]`)),
	)
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	shot(t, ctx, "07-login-error")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="getting-started"]`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// setupAdmin completes first-run setup in the browser.
func setupAdmin(t *testing.T, ctx context.Context, inst *instance) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.setupURL),
		chromedp.SendKeys(chromedp.CSS("#name"), "Maya Chen"),
		chromedp.SendKeys(chromedp.CSS("#email"), "maya@rosterly.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS(`[data-testid="setup-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="getting-started"]`)),
	)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
}

// TestBrowserKnowledgeUpload drops files on the Knowledge page: each shows
// its progress and outcome (a broken one says why), and the good ones are
// listed and open to their chunks.
func TestBrowserKnowledgeUpload(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, t.TempDir(), "--no-sample")
	setupAdmin(t, ctx, inst)

	dir := t.TempDir()
	files := map[string]string{
		"connect-slack.md": "---\ntitle: Connect Slack\ncategory: integrations\n---\n\n# Connect Slack\n\nOpen Settings → Integrations → Slack and click Connect. Choose the channel for shift alerts.\n\n## Troubleshooting\n\nIf messages stop, reconnect the workspace. Tokens expire after 90 days.\n",
		"refunds.html":     "<html><head><title>Refunds</title><meta name=\"category\" content=\"billing\"></head><body><nav>Home | Docs</nav><main><h1>Refunds</h1><p>Annual plans are refunded pro rata within 30 days of renewal.</p></main><footer>© Rosterly</footer></body></html>",
		"faq.csv":          "question,answer\nCan I export timesheets?,Yes. Go to Reports and choose CSV.\nDo you support SSO?,Yes on Enterprise: Okta and Azure AD.\n",
		"broken.pdf":       "%PDF-1.7\nthis is not really a PDF",
	}
	var paths []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		paths = append(paths, p)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/knowledge"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="knowledge-empty"]`)),
		chromedp.SetUploadFiles(chromedp.CSS("#file-input"), paths),
		chromedp.WaitVisible(chromedp.CSS(`#upload-list a.btn`)), // appears when the upload is done
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="documents-table"]`)),
	)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	list := text(t, ctx, `[data-testid="upload-list"]`)
	for _, want := range []string{"connect-slack.md", "✓ added", "broken.pdf", "✕"} {
		if !strings.Contains(list, want) {
			t.Errorf("upload list lacks %q:\n%s", want, list)
		}
	}
	shot(t, ctx, "08-knowledge-upload")
	table := text(t, ctx, `[data-testid="documents-table"]`)
	for _, want := range []string{"Connect Slack", "Refunds", "integrations", "billing"} {
		if !strings.Contains(table, want) {
			t.Errorf("documents table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "broken") {
		t.Errorf("the failed file is listed as a document")
	}
	shot(t, ctx, "09-knowledge-list")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[text()="Connect Slack"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chunks"]`)),
	)
	if err != nil {
		t.Fatalf("open document: %v", err)
	}
	if chunks := text(t, ctx, `[data-testid="chunks"]`); !strings.Contains(chunks, "Connect Slack › Troubleshooting") && !strings.Contains(chunks, "Troubleshooting") {
		t.Errorf("chunks lack their heading path:\n%s", chunks)
	}
	shot(t, ctx, "10-document")
}

// TestBrowserSampleKnowledge opens the knowledge base a new install starts
// with: the sample documents are listed, the filter narrows them, and a
// PDF's chunks carry their page numbers.
func TestBrowserSampleKnowledge(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, sampleServeDir(t))
	setupAdmin(t, ctx, inst)
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/knowledge"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="documents-table"]`)),
	)
	if err != nil {
		t.Fatalf("knowledge: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#documents-table tbody tr").length`))
	if err != nil || rows < 40 {
		t.Fatalf("%d document rows (%v), want the sample documents", rows, err)
	}
	shot(t, ctx, "11-knowledge-sample")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-testid="doc-filter"]`), "security")); err != nil {
		t.Fatal(err)
	}
	// The filter waits for typing to pause, then rewrites the count.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.getElementById("doc-count").textContent !== "%d documents"`, rows))); err != nil {
		t.Fatalf("the filter never ran: %v", err)
	}
	shown, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#documents-table tbody tr:not([hidden])").length`))
	if shown == 0 || shown >= rows {
		t.Errorf("filter shows %d of %d rows", shown, rows)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[contains(text(), "Whitepaper")]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chunks"]`)),
	)
	if err != nil {
		t.Fatalf("open the PDF: %v", err)
	}
	if chunks := text(t, ctx, `[data-testid="chunks"]`); !strings.Contains(chunks, "p. 2") {
		t.Errorf("PDF chunks lack page numbers")
	}
	shot(t, ctx, "12-document-pdf")

	// Ingestion is traced: the sample load is on the Traces page and counts
	// on the overview.
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/traces"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="traces-table"]`)),
	)
	if err != nil {
		t.Fatalf("traces: %v", err)
	}
	if rows := text(t, ctx, `[data-testid="traces-table"]`); !strings.Contains(rows, "ingest") {
		t.Errorf("traces lack the sample ingest:\n%s", rows)
	}
	shot(t, ctx, "13-traces")
	err = chromedp.Do(ctx, chromedp.Navigate(inst.url+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="stats"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if stats := text(t, ctx, `[data-testid="stats"]`); !strings.Contains(stats, "46 documents") {
		t.Errorf("overview stats = %q", stats)
	}
	shot(t, ctx, "14-overview-sample")
}
