package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

var rule = PasswordRule{Text: "at least 10 characters and at most 72 bytes", MinLength: 10}

func TestUsersPageShowsLinkOnceAndTheRule(t *testing.T) {
	p := Users{Chrome: Chrome{Title: "Users", Active: "settings", Viewer: admin}, Now: testNow, Password: rule, LinkTTL: 72 * time.Hour,
		NewLink: &NewLink{URL: "http://llmops.example/set-password?token=TOKEN", Email: "rae@example.com", Invite: true, ExpiresAt: testNow.Add(72 * time.Hour)},
		Users: []UserRow{{ID: "01A", Name: "Maya Chen", Email: "maya@rosterly.example", Role: "admin", CreatedAt: testNow.Add(-48 * time.Hour), IsSelf: true},
			{ID: "01B", Name: "Rae", Email: "rae@example.com", Role: "reviewer", CreatedAt: testNow, Invited: true},
			{ID: "01C", Name: "Vic", Email: "vic@example.com", Role: "viewer", CreatedAt: testNow.Add(-time.Hour)}}}
	doc, html := renderDoc(t, UsersPage(p))
	if got := doc.Find(`[data-testid="new-link-url"]`).Text(); got != p.NewLink.URL || strings.Count(html, "TOKEN") != 1 {
		t.Errorf("link shown = %q (%d times), want it once", got, strings.Count(html, "TOKEN"))
	}
	if got := doc.Find(`[data-testid="password-rule"]`).Text(); got != "Passwords must be at least 10 characters and at most 72 bytes." {
		t.Errorf("rule = %q", got)
	}
	if got := doc.Find("#u-password").AttrOr("minlength", ""); got != "10" || doc.Find("#u-password[required]").Length() != 0 {
		t.Errorf("password input minlength %q (required: %d); want 10 and optional, for invites", got, doc.Find("#u-password[required]").Length())
	}
	if !strings.Contains(doc.Find(`[data-testid="user-form"]`).Parent().Text(), "valid 3 days, once") {
		t.Error("the form does not say how long an invite works")
	}
	if got := doc.Find(`[data-testid="invited"]`).Closest("tr").Find("td").First().Text(); !strings.Contains(got, "Rae") {
		t.Errorf("invited badge on the row of %q, want Rae's only", got)
	}
	var resets []string
	doc.Find(`[data-testid="reset-link"]`).Each(func(_ int, b *goquery.Selection) { resets = append(resets, strings.TrimSpace(b.Text())) })
	if strings.Join(resets, "|") != "New invite link|Reset password" {
		t.Errorf("reset buttons %q; want none for yourself, a new invite for Rae, a reset for Vic", resets)
	}
	golden(t, "users-link", html)

	p.NewLink = nil
	if _, html := renderDoc(t, UsersPage(p)); strings.Contains(html, "TOKEN") {
		t.Error("the link is shown on a later visit")
	}
}

func TestSessionsPage(t *testing.T) {
	viewer := Viewer{Name: "Vic", Email: "vic@example.com", Role: "viewer"}
	p := Sessions{Chrome: Chrome{Title: "Sessions", Active: "settings", Viewer: viewer}, HasAccount: true, Now: testNow,
		Idle: 7 * 24 * time.Hour, TTL: 14 * 24 * time.Hour,
		Sessions: []SessionRow{
			{ID: "aaaaaaaaaaaaaaaa", Device: "Firefox on Windows", UserAgent: "Mozilla/5.0 … Firefox/127.0", IP: "192.0.2.1", CreatedAt: testNow.Add(-time.Hour), LastSeen: testNow, Current: true},
			{ID: "bbbbbbbbbbbbbbbb", Device: "Safari on iPhone", UserAgent: "Mozilla/5.0 (iPhone …", IP: "198.51.100.7", CreatedAt: testNow.Add(-72 * time.Hour), LastSeen: testNow.Add(-5 * time.Hour)},
		}}
	doc, html := renderDoc(t, SessionsPage(p))
	if got := doc.Find(`[data-testid="tab-sessions"]`).AttrOr("aria-current", ""); got != "page" {
		t.Errorf("sessions tab aria-current = %q", got)
	}
	if got := doc.Find(`[data-testid="current-session"]`).Closest("tr").Find("td").First().Text(); !strings.Contains(got, "Firefox on Windows") {
		t.Errorf("current marked on %q", got)
	}
	if got := doc.Find(`form[action="/settings/sessions/bbbbbbbbbbbbbbbb/revoke"]`).Length(); got != 1 || doc.Find(`form[action$="aaaaaaaaaaaaaaaa/revoke"]`).Length() != 0 {
		t.Errorf("revoke forms: %d for the phone; want one, and none for this browser", got)
	}
	if !strings.Contains(doc.Text(), "A session ends 14 days after sign-in, or after 7 days without use.") || doc.Find(`[data-testid="revoke-others"]`).Length() != 1 {
		t.Error("the page does not state the limits or offer to sign out the others")
	}
	golden(t, "sessions", html)
}

func TestSetPasswordPage(t *testing.T) {
	doc, html := renderDoc(t, SetPasswordPage(SetPassword{Token: "TOKEN", Invite: true, Name: "Rae", Email: "rae@example.com", Password: rule}))
	if got := doc.Find("h1").Text(); got != "Welcome, Rae" {
		t.Errorf("title %q", got)
	}
	if doc.Find(`input[name="token"]`).AttrOr("value", "") != "TOKEN" || doc.Find("#password").AttrOr("minlength", "") != "10" ||
		!strings.Contains(doc.Find("#password-rule").Text(), "at least 10 characters") {
		t.Error("the form lacks its token, minlength or rule")
	}
	golden(t, "set-password", html)

	doc, _ = renderDoc(t, SetPasswordPage(SetPassword{Token: "TOKEN", Refused: "This link expired."}))
	if doc.Find("form").Length() != 0 || doc.Find(`[data-testid="link-refused"]`).Text() != "This link expired." {
		t.Error("a refused link still shows the form, or not why")
	}
}
