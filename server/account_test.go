package server

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/store"
)

// testClock is the clock of a server and its store, moved by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustServerAt is mustServer on a clock that stands still until the test
// moves it; the server and its store share it.
func mustServerAt(tb testing.TB, options ...func(*Config)) (*Server, *testClock) {
	tb.Helper()
	cfg := testConfig(tb)
	for _, o := range options {
		o(&cfg)
	}
	clock := &testClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, err := newServer(context.Background(), cfg, quiet, AppOptions{Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return s, clock
}

// team is an instance with an admin (Ada) and a viewer (Vic), both with
// passwords, and setup finished.
type team struct {
	s        *Server
	h        http.Handler
	ada, vic *store.User
}

const (
	adaPassword = "ada's long password"
	vicPassword = "vic's long password"
)

func newTeam(t *testing.T, s *Server) *team {
	t.Helper()
	ctx := context.Background()
	adaHash, _ := hashPassword(adaPassword)
	vicHash, _ := hashPassword(vicPassword)
	tm := &team{s: s, h: s.http.Handler,
		ada: &store.User{Email: "ada@example.com", Name: "Ada", PasswordHash: adaHash},
		vic: &store.User{Email: "vic@example.com", Name: "Vic", Role: store.RoleViewer, PasswordHash: vicHash}}
	if err := s.store.CreateFirstAdmin(ctx, tm.ada); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateUser(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, tm.vic); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	return tm
}

// session signs u in (without the login form, which is rate-limited) and
// returns the browser's cookie.
func (tm *team) session(t *testing.T, u *store.User, userAgent string) *http.Cookie {
	t.Helper()
	token, err := tm.s.store.CreateSession(context.Background(), u, tm.s.cfg.SessionTTL, "192.0.2.10", userAgent)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: token}
}

// whoami is GET /api/v1/me with the cookie: its status and user email.
func (tm *team) whoami(ck *http.Cookie) (int, string) {
	rec := call(tm.h, http.MethodGet, "/api/v1/me", "", "", ck)
	var out struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.User.Email
}

func errorMessage(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", rec.Body, err)
	}
	return body.Error.Message
}

// auditOf returns the one audit event with this action, resource and
// resource ID. (Found, not taken as the newest: events of one millisecond
// have IDs in no particular order.)
func auditOf(t *testing.T, s *Server, action, resource, id string) store.AuditEvent {
	t.Helper()
	events, _, err := s.store.ListAudit(context.Background(), store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var found []store.AuditEvent
	for _, ev := range events {
		if ev.Action == action && ev.Resource == resource && ev.ResourceID == id {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d audit events %s %s %s, want 1: %+v", len(found), action, resource, id, found)
	}
	return found[0]
}

// TestChangeOwnPassword: any signed-in person (a viewer here) changes
// their password with the current one; their other sessions are signed
// out and this one is kept; an API key has no password to change.
func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, mustServer(t))
	here, other1, other2 := tm.session(t, tm.vic, "here"), tm.session(t, tm.vic, "phone"), tm.session(t, tm.vic, "tablet")
	adas := tm.session(t, tm.ada, "ada's")
	const newPassword = "a brand new password"
	tests := []struct {
		name, body string
		status     int
		msgHas     string
	}{
		{"no current password", `{"new_password":"a brand new password"}`, 400, "current_password is required"},
		{"wrong current password", `{"current_password":"not it at all","new_password":"a brand new password"}`, 400, "current_password is not right"},
		{"new password too short", `{"current_password":"` + vicPassword + `","new_password":"short"}`, 400, "password must be at least 10 characters and at most 72 bytes; this one has 5 characters"},
		{"new password too long", `{"current_password":"` + vicPassword + `","new_password":"` + strings.Repeat("é", 40) + `"}`, 400, "at most 72 bytes; this one has 80 bytes"},
		{"unknown field", `{"current_password":"x","password":"y"}`, 400, "unknown field"},
	}
	for _, tt := range tests {
		rec := call(tm.h, http.MethodPost, "/api/v1/me/password", tt.body, "", here)
		if rec.Code != tt.status || !strings.Contains(errorMessage(t, rec), tt.msgHas) {
			t.Errorf("%s: got %d %q, want %d with %q", tt.name, rec.Code, rec.Body, tt.status, tt.msgHas)
		}
	}
	for _, ck := range []*http.Cookie{other1, other2} {
		if code, _ := tm.whoami(ck); code != http.StatusOK {
			t.Fatalf("a failed change signed a session out (%d)", code)
		}
	}

	rec := call(tm.h, http.MethodPost, "/api/v1/me/password", `{"current_password":"`+vicPassword+`","new_password":"`+newPassword+`"}`, "", here)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"signed_out_sessions":2}` {
		t.Fatalf("change: got %d %s, want 200 with 2 sessions signed out", rec.Code, rec.Body)
	}
	if code, email := tm.whoami(here); code != http.StatusOK || email != tm.vic.Email {
		t.Errorf("the session that changed the password: %d %q, want it kept", code, email)
	}
	for _, ck := range []*http.Cookie{other1, other2} {
		if code, _ := tm.whoami(ck); code != http.StatusUnauthorized {
			t.Errorf("another session of Vic's: got %d, want 401", code)
		}
	}
	if code, _ := tm.whoami(adas); code != http.StatusOK {
		t.Errorf("Ada's session: got %d, want it untouched", code)
	}
	if ev := auditOf(t, tm.s, "update", "user", tm.vic.ID); ev.After != "password changed; 2 other sessions signed out" || ev.Actor.ID != tm.vic.ID {
		t.Errorf("audit %+v, want Vic's password change", ev)
	}
	if rec := postForm(tm.h, "/login", url.Values{"email": {tm.vic.Email}, "password": {vicPassword}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: got %d, want 401", rec.Code)
	}
	if rec := postForm(tm.h, "/login", url.Values{"email": {tm.vic.Email}, "password": {newPassword}}); rec.Code != http.StatusSeeOther {
		t.Errorf("sign-in with the new password: got %d, want 303", rec.Code)
	}

	key := keyFor(t, tm.s, store.RoleAdmin)
	rec = call(tm.h, http.MethodPost, "/api/v1/me/password", `{"current_password":"x","new_password":"a brand new password"}`, key)
	if rec.Code != http.StatusConflict || !strings.Contains(errorMessage(t, rec), "API key has no password") {
		t.Errorf("with an API key: got %d %s, want 409", rec.Code, rec.Body)
	}
}

// TestChangePasswordForm: the Settings form states the rule, says what
// was wrong, and on success goes back to the profile with a notice.
func TestChangePasswordForm(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, mustServer(t))
	here, other := tm.session(t, tm.vic, "here"), tm.session(t, tm.vic, "other")
	rec := call(tm.h, http.MethodGet, "/settings", "", "", here)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="password-form"`) ||
		!strings.Contains(rec.Body.String(), "Use at least 10 characters and at most 72 bytes.") {
		t.Fatalf("profile page: got %d without the password form and its rule", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `href="/settings/sessions"`) {
		t.Errorf("the Settings tabs do not lead to Sessions")
	}
	form := url.Values{"current_password": {vicPassword}, "new_password": {"a brand new password"}, "confirm_password": {"a brand new pasword"}}
	rec = postForm(tm.h, "/settings/password", form, here)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "not the same") {
		t.Errorf("mismatched confirmation: got %d, want 400 saying so", rec.Code)
	}
	form.Set("confirm_password", "a brand new password")
	form.Set("current_password", "wrong wrong wrong")
	if rec = postForm(tm.h, "/settings/password", form, here); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "current_password is not right") {
		t.Errorf("wrong current password: got %d, want 400 saying so", rec.Code)
	}
	form.Set("current_password", vicPassword)
	rec = postForm(tm.h, "/settings/password", form, here)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings?notice=password-changed" {
		t.Fatalf("change: got %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if code, _ := tm.whoami(other); code != http.StatusUnauthorized {
		t.Errorf("other session after a change in the form: got %d, want 401", code)
	}
	if rec := call(tm.h, http.MethodGet, "/settings?notice=password-changed", "", "", here); !strings.Contains(rec.Body.String(), "Password changed") {
		t.Errorf("the profile does not confirm the change")
	}
}

// linkToken returns the token of an invite or reset link URL.
func linkToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path != "/set-password" || u.Query().Get("token") == "" {
		t.Fatalf("link %q: want /set-password?token=…", link)
	}
	return u.Query().Get("token")
}

// usePage opens a link's page and submits password twice, returning the
// page's status and the submission's response.
func (tm *team) useLink(t *testing.T, token, password string) (int, *httptest.ResponseRecorder) {
	t.Helper()
	page := call(tm.h, http.MethodGet, "/set-password?token="+url.QueryEscape(token), "", "")
	rec := postForm(tm.h, "/set-password", url.Values{"token": {token}, "password": {password}, "confirm_password": {password}})
	return page.Code, rec
}

// sessionFrom returns the session cookie a response set.
func sessionFrom(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			return ck
		}
	}
	return nil
}

// TestAdminResetsPassword: only an admin makes a reset link; it works
// once, until it expires (by the moved clock); using it sets the password,
// signs out the member's sessions and signs this browser in.
func TestAdminResetsPassword(t *testing.T) {
	t.Parallel()
	s, clock := mustServerAt(t)
	tm := newTeam(t, s)
	adas, vics := tm.session(t, tm.ada, "ada"), tm.session(t, tm.vic, "vic")
	path := "/api/v1/users/" + tm.vic.ID + "/reset"
	if rec := call(tm.h, http.MethodPost, path, "", "", vics); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer resetting a password: got %d, want 403", rec.Code)
	}
	if rec := call(tm.h, http.MethodPost, path, "", keyFor(t, s, store.RoleEditor)); rec.Code != http.StatusForbidden {
		t.Errorf("an editor key resetting a password: got %d, want 403", rec.Code)
	}
	if rec := call(tm.h, http.MethodPost, "/api/v1/users/01HZZZZZZZZZZZZZZZZZZZZZZZ/reset", "", "", adas); rec.Code != http.StatusNotFound {
		t.Errorf("resetting an unknown user: got %d, want 404", rec.Code)
	}
	reset := func() string {
		rec := call(tm.h, http.MethodPost, path, "", "", adas)
		var out struct {
			Purpose   string    `json:"purpose"`
			URL       string    `json:"url"`
			ExpiresAt time.Time `json:"expires_at"`
			User      userJSON  `json:"user"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusCreated {
			t.Fatalf("reset: got %d %s (%v)", rec.Code, rec.Body, err)
		}
		if out.Purpose != "reset" || !out.ExpiresAt.Equal(clock.Now().Add(72*time.Hour)) || out.User.ID != tm.vic.ID || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("reset answer %+v (Cache-Control %q): want a reset link for Vic, expiring in 72h, not cached", out, rec.Header().Get("Cache-Control"))
		}
		if !strings.HasPrefix(out.URL, "http://example.com/set-password?token=") {
			t.Errorf("link %q, want it on the address the request came to", out.URL)
		}
		return linkToken(t, out.URL)
	}
	token := reset()
	if ev := auditOf(t, s, "create", "account_link", tm.vic.ID); ev.Actor.ID != tm.ada.ID || !strings.HasPrefix(ev.After, "reset link for vic@example.com") || strings.Contains(ev.After, token) {
		t.Errorf("audit %+v: want the link's creation, without its token", ev)
	}
	if code, _ := tm.whoami(vics); code != http.StatusOK {
		t.Errorf("making a reset link signed Vic out (%d); the link does, when used", code)
	}

	const newPassword = "vic's new password"
	page, rec := tm.useLink(t, token, "short")
	if page != http.StatusOK || rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "at least 10 characters and at most 72 bytes") {
		t.Fatalf("a short password: page %d, submit %d; want 200 then 400 naming the rule", page, rec.Code)
	}
	_, rec = tm.useLink(t, token, newPassword)
	ck := sessionFrom(rec)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" || ck == nil {
		t.Fatalf("using the link: got %d to %q (cookie %v), want 303 to / with a session", rec.Code, rec.Header().Get("Location"), ck)
	}
	if code, email := tm.whoami(ck); code != http.StatusOK || email != tm.vic.Email {
		t.Errorf("after the link: %d %q, want signed in as Vic", code, email)
	}
	if code, _ := tm.whoami(vics); code != http.StatusUnauthorized {
		t.Errorf("Vic's session from before the reset: got %d, want 401", code)
	}
	if code, _ := tm.whoami(adas); code != http.StatusOK {
		t.Errorf("Ada's session: got %d, want it untouched", code)
	}
	if rec := postForm(tm.h, "/login", url.Values{"email": {tm.vic.Email}, "password": {newPassword}}); rec.Code != http.StatusSeeOther {
		t.Errorf("sign-in with the new password: got %d", rec.Code)
	}

	page, rec = tm.useLink(t, token, "another long password")
	if page != http.StatusGone || rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "already used") || sessionFrom(rec) != nil {
		t.Errorf("a used link: page %d, submit %d; want 410 twice, saying it was used, no session", page, rec.Code)
	}

	expiring := reset()
	clock.Add(72 * time.Hour)
	page, rec = tm.useLink(t, expiring, "another long password")
	if page != http.StatusGone || rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "expired") || sessionFrom(rec) != nil {
		t.Errorf("an expired link: page %d, submit %d; want 410 twice, saying it expired", page, rec.Code)
	}
	if rec := postForm(tm.h, "/login", url.Values{"email": {tm.vic.Email}, "password": {newPassword}}); rec.Code != http.StatusSeeOther {
		t.Errorf("an expired link changed the password (sign-in got %d)", rec.Code)
	}
	if page, _ := tm.useLink(t, "", "x"); page != http.StatusGone {
		t.Errorf("no token: got %d, want 410", page)
	}
}

// TestInviteMember: POST /api/v1/users with "invite": true makes a member
// without a password and returns a one-time link; without either, the
// error names the password rule and the invite. The Users form invites
// when the password is left empty, and shows the link once.
func TestInviteMember(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, mustServer(t))
	adas := tm.session(t, tm.ada, "ada")
	tests := []struct {
		name, body, msgHas string
	}{
		{"neither", `{"email":"new@example.com","role":"viewer"}`, `password is required (at least 10 characters and at most 72 bytes), or send "invite": true`},
		{"both", `{"email":"new@example.com","role":"viewer","password":"long enough pw","invite":true}`, "not both"},
		{"short", `{"email":"new@example.com","role":"viewer","password":"short"}`, "password must be at least 10 characters and at most 72 bytes"},
	}
	for _, tt := range tests {
		rec := call(tm.h, http.MethodPost, "/api/v1/users", tt.body, "", adas)
		if rec.Code != http.StatusBadRequest || !strings.Contains(errorMessage(t, rec), tt.msgHas) {
			t.Errorf("%s: got %d %s, want 400 with %q", tt.name, rec.Code, rec.Body, tt.msgHas)
		}
	}
	if rec := call(tm.h, http.MethodPost, "/api/v1/users", `{"email":"x@example.com","role":"viewer","invite":true}`, "", tm.session(t, tm.vic, "vic")); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer inviting: got %d, want 403", rec.Code)
	}

	rec := call(tm.h, http.MethodPost, "/api/v1/users", `{"email":"Ivy@Example.com","name":"Ivy","role":"editor","invite":true}`, "", adas)
	var out struct {
		userJSON
		Invite *linkJSON `json:"invite"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusCreated || out.Invite == nil {
		t.Fatalf("invite: got %d %s (%v)", rec.Code, rec.Body, err)
	}
	if out.Email != "ivy@example.com" || out.PasswordSet || out.Invite.Purpose != store.LinkInvite {
		t.Errorf("invited %+v: want ivy@example.com, no password, an invite link", out)
	}
	if rec := postForm(tm.h, "/login", url.Values{"email": {"ivy@example.com"}, "password": {""}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("signing in as an invited member without a password: got %d, want 401", rec.Code)
	}
	token := linkToken(t, out.Invite.URL)
	if rec := call(tm.h, http.MethodGet, "/set-password?token="+token, "", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Welcome, Ivy") {
		t.Errorf("invite page: got %d, want a welcome for Ivy", rec.Code)
	}
	_, rec = tm.useLink(t, token, "ivy's own password")
	ck := sessionFrom(rec)
	if code, email := tm.whoami(ck); rec.Code != http.StatusSeeOther || code != http.StatusOK || email != "ivy@example.com" {
		t.Fatalf("opening the invite: got %d, then %d %q; want signed in as Ivy", rec.Code, code, email)
	}
	if page, _ := tm.useLink(t, token, "ivy's own password"); page != http.StatusGone {
		t.Errorf("the invite opened twice: got %d, want 410", page)
	}
	if ev := auditOf(t, tm.s, "update", "user", out.ID); ev.After != "password set with an invite link" || ev.Actor.ID != out.ID {
		t.Errorf("audit %+v, want Ivy setting her password", ev)
	}

	// The form: the rule is stated; an empty password means an invite.
	page := call(tm.h, http.MethodGet, "/settings/users", "", "", adas)
	if !strings.Contains(page.Body.String(), "Passwords must be at least 10 characters and at most 72 bytes.") {
		t.Errorf("the add-member form does not state the password rule")
	}
	rec = postForm(tm.h, "/settings/users", url.Values{"name": {"Rae"}, "email": {"rae@example.com"}, "role": {"reviewer"}, "password": {""}}, adas)
	body := rec.Body.String()
	if rec.Code != http.StatusCreated || !strings.Contains(body, `data-testid="new-link-url"`) || !strings.Contains(body, "Invite link for rae@example.com") ||
		!strings.Contains(body, `data-testid="invited"`) || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("invite from the form: got %d, want the page with the link shown once and Rae marked invited", rec.Code)
	}
	rae, err := tm.s.store.UserByEmail(context.Background(), "rae@example.com")
	if err != nil || rae.HasPassword() || rae.Role != store.RoleReviewer {
		t.Errorf("Rae = %+v, %v; want an invited reviewer", rae, err)
	}
	rec = postForm(tm.h, "/settings/users/"+rae.ID+"/reset", nil, adas)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), "Invite link for rae@example.com") {
		t.Errorf("a new link for an invited member: got %d, want a fresh invite", rec.Code)
	}
	rec = postForm(tm.h, "/settings/users/"+tm.vic.ID+"/reset", nil, adas)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), "Password reset link for vic@example.com") {
		t.Errorf("a reset from the form: got %d, want the reset link", rec.Code)
	}
}

// TestListAndRevokeOwnSessions: GET /api/v1/me/sessions lists the
// caller's sessions with the current one marked; DELETE signs one out,
// never someone else's; the Settings page does the same.
func TestListAndRevokeOwnSessions(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, mustServer(t))
	const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
	here, phone, laptop := tm.session(t, tm.vic, "curl/8.5.0"), tm.session(t, tm.vic, firefox), tm.session(t, tm.vic, "laptop")
	adas := tm.session(t, tm.ada, "ada")
	list := func(auth string, cookies ...*http.Cookie) []sessionJSON {
		t.Helper()
		rec := call(tm.h, http.MethodGet, "/api/v1/me/sessions", "", auth, cookies...)
		var out struct {
			Sessions []sessionJSON `json:"sessions"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK || out.Sessions == nil {
			t.Fatalf("list: got %d %s (%v)", rec.Code, rec.Body, err)
		}
		return out.Sessions
	}
	got := list("", here)
	if len(got) != 3 {
		t.Fatalf("%d sessions listed, want Vic's 3", len(got))
	}
	byDevice := map[string]sessionJSON{}
	current := 0
	for _, sj := range got {
		byDevice[sj.Device] = sj
		if sj.Current {
			current++
		}
	}
	if current != 1 || !byDevice["curl"].Current || byDevice["Firefox on Windows"].UserAgent != firefox || byDevice["curl"].IP != "192.0.2.10" {
		t.Errorf("sessions %+v: want curl marked current, Firefox named, IPs shown", got)
	}
	adaList := list("", adas)
	if len(adaList) != 1 {
		t.Fatalf("Ada sees %d sessions, want her own one", len(adaList))
	}
	if rec := call(tm.h, http.MethodDelete, "/api/v1/me/sessions/"+adaList[0].ID, "", "", here); rec.Code != http.StatusNotFound {
		t.Errorf("Vic revoking Ada's session: got %d, want 404", rec.Code)
	}
	if rec := call(tm.h, http.MethodDelete, "/api/v1/me/sessions/nope", "", "", here); rec.Code != http.StatusNotFound {
		t.Errorf("revoking an unknown session: got %d, want 404", rec.Code)
	}
	if rec := call(tm.h, http.MethodDelete, "/api/v1/me/sessions/"+byDevice["Firefox on Windows"].ID, "", "", here); rec.Code != http.StatusNoContent {
		t.Fatalf("revoking the phone: got %d %s", rec.Code, rec.Body)
	}
	if code, _ := tm.whoami(phone); code != http.StatusUnauthorized {
		t.Errorf("the revoked phone: got %d, want 401", code)
	}
	if ev := auditOf(t, tm.s, "delete", "session", byDevice["Firefox on Windows"].ID); ev.Actor.ID != tm.vic.ID {
		t.Errorf("audit %+v, want Vic revoking his phone", ev)
	}
	if keyList := list(keyFor(t, tm.s, store.RoleViewer)); len(keyList) != 0 {
		t.Errorf("an API key lists %d sessions, want none", len(keyList))
	}

	page := call(tm.h, http.MethodGet, "/settings/sessions", "", "", here)
	if body := page.Body.String(); page.Code != http.StatusOK || strings.Count(body, `data-testid="session-row"`) != 2 ||
		!strings.Contains(body, `data-testid="current-session"`) || !strings.Contains(body, "after 7 days without use") {
		t.Errorf("sessions page: got %d without 2 rows, the current one marked and the idle rule", page.Code)
	}
	rec := postForm(tm.h, "/settings/sessions/revoke-others", nil, here)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings/sessions?notice=sessions-revoked" {
		t.Errorf("sign out the others: got %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if code, _ := tm.whoami(laptop); code != http.StatusUnauthorized {
		t.Errorf("the laptop after 'sign out all others': got %d, want 401", code)
	}
	if code, _ := tm.whoami(adas); code != http.StatusOK {
		t.Errorf("Ada's session after Vic signed out his others: got %d", code)
	}

	// Revoking the current session signs this browser out.
	rec = call(tm.h, http.MethodDelete, "/api/v1/me/sessions/"+byDevice["curl"].ID, "", "", here)
	cleared := false
	for _, ck := range rec.Result().Cookies() {
		cleared = cleared || (ck.Name == sessionCookie && ck.MaxAge < 0)
	}
	if rec.Code != http.StatusNoContent || !cleared {
		t.Errorf("revoking the current session: got %d, cookie cleared %v", rec.Code, cleared)
	}
	if code, _ := tm.whoami(here); code != http.StatusUnauthorized {
		t.Errorf("after revoking itself: got %d, want 401", code)
	}
}

// TestIdleSessionIsRefused: a session unused for the idle time is
// refused (the clock moved); one in use lives until the absolute limit;
// its last use is written at most once a minute.
func TestIdleSessionIsRefused(t *testing.T) {
	t.Parallel()
	s, clock := mustServerAt(t)
	tm := newTeam(t, s)
	idle, busy := tm.session(t, tm.vic, "idle"), tm.session(t, tm.vic, "busy")
	lastSeen := func() time.Time {
		sess, _, err := s.store.SessionUser(context.Background(), busy.Value, 0)
		if err != nil {
			t.Fatal(err)
		}
		return sess.LastSeenAt
	}
	start := clock.Now()

	clock.Add(30 * time.Second)
	if code, _ := tm.whoami(busy); code != http.StatusOK {
		t.Fatal(code)
	}
	if got := lastSeen(); !got.Equal(start) {
		t.Errorf("last seen moved to %v after 30s; want no write until a minute has passed", got)
	}
	clock.Add(30 * time.Second)
	tm.whoami(busy)
	if got := lastSeen(); !got.Equal(clock.Now()) {
		t.Errorf("last seen %v after a minute, want %v", got, clock.Now())
	}

	clock.Add(6 * 24 * time.Hour)
	if code, _ := tm.whoami(busy); code != http.StatusOK {
		t.Errorf("a session used 6 days ago: got %d, want 200", code)
	}
	clock.Add(24*time.Hour + time.Minute) // the idle one: 7 days and 2 minutes unused
	if code, _ := tm.whoami(idle); code != http.StatusUnauthorized {
		t.Errorf("a session unused for 7 days: got %d, want 401", code)
	}
	rec := call(tm.h, http.MethodGet, "/settings", "", "", idle)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Errorf("an idle session's page: got %d to %q, want a redirect to sign in", rec.Code, rec.Header().Get("Location"))
	}
	if code, _ := tm.whoami(busy); code != http.StatusOK {
		t.Errorf("the busy session a day later: got %d, want 200", code)
	}
	clock.Add(7*24*time.Hour - time.Minute) // past 14 days since sign-in, last used under 7 days ago
	if code, _ := tm.whoami(busy); code != http.StatusUnauthorized {
		t.Errorf("past the 14-day limit: got %d, want 401", code)
	}
}

// TestSessionIdleSetting: --session-idle (or LLMOPS_SESSION_IDLE) sets
// the idle time; it is validated once.
func TestSessionIdleSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		env     string
		want    time.Duration
		errHave string
	}{
		{nil, "", 7 * 24 * time.Hour, ""},
		{[]string{"--session-idle", "12h"}, "", 12 * time.Hour, ""},
		{nil, "3d", 3 * 24 * time.Hour, ""},
		{[]string{"--session-idle", "30m"}, "3d", 30 * time.Minute, ""},
		{[]string{"--session-idle", "0"}, "", 0, ""},
		{[]string{"--session-idle", "1m"}, "", 0, "--session-idle 1m0s: must be 0 (off) or at least 5m0s"},
		{[]string{"--session-idle", "a week"}, "", 0, `--session-idle: "a week" is not a duration like 7d or 12h`},
		{nil, "-2h", 0, "is not a duration"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.DataDir = t.TempDir()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		f := NewFlags(fs, &cfg, func(k string) string {
			if k == "LLMOPS_SESSION_IDLE" {
				return tt.env
			}
			return ""
		}).Data().Answer().Serve()
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := f.Done()
		switch {
		case tt.errHave != "" && (err == nil || !strings.Contains(err.Error(), tt.errHave)):
			t.Errorf("%v env %q: err = %v, want %q", tt.args, tt.env, err, tt.errHave)
		case tt.errHave == "" && (err != nil || cfg.SessionIdle != tt.want):
			t.Errorf("%v env %q: idle %v, %v; want %v", tt.args, tt.env, cfg.SessionIdle, err, tt.want)
		}
	}

	s, clock := mustServerAt(t, func(c *Config) { c.SessionIdle = 30 * time.Minute })
	tm := newTeam(t, s)
	ck := tm.session(t, tm.vic, "x")
	clock.Add(31 * time.Minute)
	if code, _ := tm.whoami(ck); code != http.StatusUnauthorized {
		t.Errorf("30 minutes idle with --session-idle 30m: got %d, want 401", code)
	}
}
