package ui

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"llmops/store/schema"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var assetHash = regexp.MustCompile(`\.[0-9a-f]{10}\.`)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func renderDoc(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

// golden compares html with testdata/NAME.golden.html (go test -update
// rewrites it), so markup changes show up in review as diffs.
func golden(t *testing.T, name, html string) {
	t.Helper()
	// Asset hashes change with every CSS edit; the markup is what matters.
	html = assetHash.ReplaceAllString(html, ".HASH.")
	path := filepath.Join("testdata", name+".golden.html")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update)", err)
	}
	if string(want) != html {
		t.Errorf("%s differs from %s (run go test ./ui -update and review the diff)", name, path)
	}
}

var admin = Viewer{Name: "Maya Chen", Email: "maya@rosterly.example", Role: "admin", IsAdmin: true}

func TestOverviewPage(t *testing.T) {
	p := Overview{Chrome: Chrome{Title: "Overview", Active: "dashboard", Viewer: admin}, Users: 3, Keys: 1, Traces: 1234, Now: testNow,
		Steps: []Step{{Title: "Create the admin account", Done: true}, {Title: "Create an API key", Href: "/settings/keys"}}}
	doc, html := renderDoc(t, OverviewPage(p))
	if got := doc.Find(`[data-testid="nav-dashboard"]`).AttrOr("aria-current", ""); got != "page" {
		t.Errorf("dashboard nav aria-current = %q, want page", got)
	}
	if got := doc.Find(`[data-testid="nav-chat"] .soon`).Length(); got != 0 {
		t.Errorf("chat nav has %d 'soon' chips, want none (chat is built)", got)
	}
	if got := doc.Find(`[data-testid="nav-prompts"] .soon`).Length(); got != 0 {
		t.Errorf("prompts nav has %d 'soon' chips, want none (prompts are built)", got)
	}
	if got := doc.Find(`[data-testid="nav-review"] .soon`).Length(); got != 0 {
		t.Errorf("review nav has %d 'soon' chips, want none (review is built)", got)
	}
	stats := doc.Find(`[data-testid="stats"]`).Text()
	for _, want := range []string{"1,234", "Team members", "3"} {
		if !strings.Contains(stats, want) {
			t.Errorf("stats %q lack %q", stats, want)
		}
	}
	if got := doc.Find(`[data-testid="getting-started"] .check.done`).Length(); got != 1 {
		t.Errorf("%d steps done, want 1", got)
	}
	if !strings.Contains(doc.Find(`[data-testid="monitoring"]`).Text(), "No data in this range") {
		t.Error("monitoring card lacks its empty state")
	}
	golden(t, "overview", html)
}

func TestKeysPageShowsSecretOnce(t *testing.T) {
	p := Keys{Chrome: Chrome{Title: "API keys", Active: "settings", Viewer: admin}, Now: testNow,
		NewSecret: "llmops_secret", NewName: "CI",
		Keys: []KeyRow{{ID: "01K", Name: "CI", Role: "editor", Hint: "llmops_abcd", CreatedBy: "user:maya", CreatedAt: testNow.Add(-time.Hour)},
			{ID: "01J", Name: "Deploy", Role: "admin", Hint: "llmops_efgh", CreatedBy: "cli:ops", CreatedAt: testNow.Add(-48 * time.Hour), Service: true}}}
	doc, html := renderDoc(t, KeysPage(p))
	if got := doc.Find(`[data-testid="new-secret"]`).Text(); got != "llmops_secret" {
		t.Errorf("secret shown = %q", got)
	}
	if strings.Count(html, "llmops_secret") != 1 {
		t.Error("the secret appears more than once on the page")
	}
	if got := doc.Find(`[data-testid="keys-table"] tbody tr`).Length(); got != 2 {
		t.Errorf("%d key rows, want 2", got)
	}
	if got := doc.Find(`[data-testid="service-key"]`).Closest("tr").Find("td").First().Text(); got != "Deploy" {
		t.Errorf("service key badge on the row of %q, want Deploy's only", got)
	}
	golden(t, "keys", html)

	p.NewSecret = ""
	doc, html = renderDoc(t, KeysPage(p))
	if doc.Find(`[data-testid="new-secret"]`).Length() != 0 || strings.Contains(html, "llmops_secret") {
		t.Error("secret shown on a later visit")
	}
}

func TestSettingsTabsHideAdminOnlyForOthers(t *testing.T) {
	viewer := Viewer{Name: "Vic", Email: "vic@example.com", Role: "viewer"}
	doc, _ := renderDoc(t, ProfilePage(Profile{Chrome: Chrome{Title: "Settings", Active: "settings", Viewer: viewer}}))
	if n := doc.Find(`[data-testid="tab-keys"], [data-testid="tab-users"], [data-testid="tab-audit"]`).Length(); n != 0 {
		t.Errorf("viewer sees %d admin-only tabs", n)
	}
	doc, _ = renderDoc(t, ProfilePage(Profile{Chrome: Chrome{Title: "Settings", Active: "settings", Viewer: admin}}))
	if n := doc.Find(`[data-testid="tab-keys"], [data-testid="tab-users"], [data-testid="tab-audit"]`).Length(); n != 3 {
		t.Errorf("admin sees %d admin-only tabs, want 3", n)
	}
}

func TestAuthPagesEscapeInput(t *testing.T) {
	doc, html := renderDoc(t, LoginPage(AuthForm{Email: `"><script>alert(1)</script>`, Error: "Email or password is not right."}))
	if strings.Contains(html, "<script>alert(1)") {
		t.Error("login page does not escape the email")
	}
	if got := doc.Find(`[data-testid="form-error"]`).Text(); got != "Email or password is not right." {
		t.Errorf("error = %q", got)
	}
	doc, _ = renderDoc(t, SetupPage(AuthForm{}))
	if doc.Find(`input[name="token"][type="text"]`).Length() != 1 {
		t.Error("setup without a token in the link does not ask for it")
	}
	doc, _ = renderDoc(t, SetupPage(AuthForm{Token: "abc"}))
	if doc.Find(`input[name="token"][type="hidden"]`).AttrOr("value", "") != "abc" {
		t.Error("setup link token is not carried in the form")
	}
}

func TestTracesPage(t *testing.T) {
	doc, _ := renderDoc(t, TracesPage(Traces{Chrome: Chrome{Title: "Traces", Active: "traces", Viewer: admin}, Now: testNow}))
	if doc.Find(`[data-testid="traces-empty"]`).Length() != 1 {
		t.Error("no empty state without traces")
	}
	rows := []TraceRow{{ID: "1", Time: testNow.Add(-2 * time.Minute), Kind: schema.KindAsk, Name: "ask", Input: "How do I connect Slack?", Output: "Open Settings.",
		Status: schema.StatusError, Latency: 1240 * time.Millisecond, TokensIn: 1200, TokensOut: 340, CostUSD: 0.004}}
	doc, _ = renderDoc(t, TracesPage(Traces{Chrome: Chrome{Title: "Traces", Active: "traces", Viewer: admin}, Now: testNow, Rows: rows, NextURL: "/traces?before=1"}))
	row := doc.Find(`[data-testid="traces-table"] tbody tr`).Text()
	for _, want := range []string{"2m ago", "✕ error", "1.2s", "1,200 → 340 (Σ 1,540)", "<$0.01"} {
		if !strings.Contains(row, want) {
			t.Errorf("trace row %q lacks %q", row, want)
		}
	}
}

func TestAuditPage(t *testing.T) {
	c := Chrome{Title: "Audit log", Active: "settings", Viewer: admin}
	p := Audit{Chrome: c, Now: testNow, Filter: AuditFilter{Action: "login"}, NextURL: "/settings/audit?action=login&before=01K",
		Events: []AuditRow{
			{Time: testNow.Add(-time.Minute), Actor: "anonymous", ActorKind: "anonymous", Action: "login.failed", Resource: "session",
				ResourceID: "ada@example.com", After: "wrong password", IP: "192.0.2.1", UserAgent: "Firefox"},
			{Time: testNow.Add(-time.Hour), Actor: "ada@example.com", ActorKind: "user", Action: "create", Resource: "user",
				ResourceID: "01KAAAAAAAAAAAAAAAAAQ7Z9XY", After: "Ada <ada@example.com> role=admin"},
		}}
	doc, html := renderDoc(t, AuditPage(p))
	if got, _ := doc.Find(`[data-testid="audit-filters"] input[name="action"]`).Attr("value"); got != "login" {
		t.Errorf("action filter shows %q, want login", got)
	}
	cells := doc.Find(`[data-testid="audit-table"] tbody tr td:nth-child(3) code`)
	if a, b := cells.Eq(0).Text(), cells.Eq(1).Text(); a != "ada@example.com" || b != "Q7Z9XY" {
		t.Errorf("targets shown as %q and %q, want the e-mail whole and the ID's end", a, b)
	}
	golden(t, "audit", html)

	states := []struct {
		name string
		p    Audit
		want string
	}{
		{"nothing yet", Audit{Chrome: c}, "No changes recorded yet"},
		{"filtered to nothing", Audit{Chrome: c, Filter: AuditFilter{Actor: "x"}}, "No events match these filters"},
		{"scan bound reached", Audit{Chrome: c, Filter: AuditFilter{Actor: "x"}, NextURL: "/settings/audit?actor=x&before=01K"}, "older ones may"},
	}
	for _, st := range states {
		doc, _ := renderDoc(t, AuditPage(st.p))
		empty := doc.Find(`[data-testid="audit-empty"]`)
		if !strings.Contains(empty.Text(), st.want) {
			t.Errorf("%s: empty state says %q, want %q", st.name, strings.TrimSpace(empty.Text()), st.want)
		}
		if clear := empty.Find(`a[href="/settings/audit"]`).Length() > 0; clear != st.p.Filter.Active() {
			t.Errorf("%s: clear-filters link shown = %v, want %v", st.name, clear, st.p.Filter.Active())
		}
		if older := doc.Find(`[data-testid="audit-older"]`).Length() > 0; older != (st.p.NextURL != "") {
			t.Errorf("%s: search-older link shown = %v", st.name, older)
		}
	}
}
