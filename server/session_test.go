package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"llmops/store"
)

func postForm(h http.Handler, path string, vals url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.10:5555"
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLoginIsRateLimited(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	// A stopped clock: under -race six bcrypt checks can outlast the
	// limiter's refill, which would let the sixth attempt through.
	stopped := time.Now()
	s.now = func() time.Time { return stopped }
	hash, _ := hashPassword("the right password")
	if err := s.store.CreateFirstAdmin(context.Background(), &store.User{Email: "a@example.com", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	h := s.http.Handler
	wrong := url.Values{"email": {"a@example.com"}, "password": {"guess guess guess"}}
	for i := range 5 {
		if rec := postForm(h, "/login", wrong); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, rec.Code)
		}
	}
	rec := postForm(h, "/login", url.Values{"email": {"a@example.com"}, "password": {"the right password"}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("6th attempt: got %d (Retry-After %q), want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), "Too many sign-in attempts") {
		t.Errorf("429 page does not explain itself")
	}
}

// TestPasswordCost: a real install hashes at bcrypt's default cost (these
// tests hash at the least, see TestMain), and a hash records the cost it
// was made with.
func TestPasswordCost(t *testing.T) {
	if shippedPasswordCost != bcrypt.DefaultCost {
		t.Errorf("the server hashes passwords at bcrypt cost %d, want %d", shippedPasswordCost, bcrypt.DefaultCost)
	}
	hash, err := hashPassword("the right password")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(hash); err != nil || cost != passwordCost {
		t.Errorf("a new hash has cost %d (%v), want %d", cost, err, passwordCost)
	}
	if cost, err := bcrypt.Cost(dummyHash()); err != nil || cost != passwordCost {
		t.Errorf("the unknown-email hash has cost %d (%v), want %d, that of real hashes", cost, err, passwordCost)
	}
}

func TestUsersLifecycle(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ctx := context.Background()
	hash, _ := hashPassword("the right password")
	admin := &store.User{Email: "lead@example.com", Name: "Lead", PasswordHash: hash}
	if err := s.store.CreateFirstAdmin(ctx, admin); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	h := s.http.Handler
	rec := postForm(h, "/login", url.Values{"email": {"lead@example.com"}, "password": {"the right password"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", rec.Code)
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %+v is not HttpOnly + SameSite=Lax", cookie)
	}

	rec = postForm(h, "/settings/users", url.Values{"name": {"Rae"}, "email": {"rae@example.com"}, "password": {"short"}, "role": {"reviewer"}}, cookie)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "at least 10 characters") {
		t.Fatalf("short password: got %d, want 400 explaining the rule", rec.Code)
	}
	rec = postForm(h, "/settings/users", url.Values{"name": {"Rae"}, "email": {"rae@example.com"}, "password": {"long enough pw"}, "role": {"reviewer"}}, cookie)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("add user: got %d: %s", rec.Code, rec.Body)
	}
	rae, err := s.store.UserByEmail(ctx, "rae@example.com")
	if err != nil || rae.Role != store.RoleReviewer {
		t.Fatalf("added user = %+v, %v", rae, err)
	}
	rec = postForm(h, "/settings/users/"+admin.ID+"/role", url.Values{"role": {"viewer"}}, cookie)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "last admin") {
		t.Errorf("demoting the last admin: got %d, want 409 explaining why", rec.Code)
	}
	rec = postForm(h, "/settings/users/"+admin.ID+"/delete", nil, cookie)
	if rec.Code != http.StatusConflict {
		t.Errorf("deleting yourself: got %d, want 409", rec.Code)
	}
	rec = postForm(h, "/settings/users/"+rae.ID+"/delete", nil, cookie)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("removing a member: got %d", rec.Code)
	}
	if _, err := s.store.UserByEmail(ctx, "rae@example.com"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("removed member still exists: %v", err)
	}
}

// TestSetupEndsWithTheFirstAdminFromTheAPI: a headless install makes a
// key with llmops keys create and its first admin with POST /api/v1/users;
// from then on the browser goes to login, not setup, and the setup token
// (printed at start) no longer makes admins.
func TestSetupEndsWithTheFirstAdminFromTheAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	h := s.http.Handler
	token := strings.TrimPrefix(s.SetupURL(), s.URL()+"/setup?token=")
	if token == "" {
		t.Fatal("a new install has no setup token")
	}
	if rec := call(h, http.MethodGet, "/", "", ""); rec.Header().Get("Location") != "/setup" {
		t.Fatalf("before any admin: GET / goes to %q, want /setup", rec.Header().Get("Location"))
	}
	key := keyFor(t, s, store.RoleAdmin)
	rec := call(h, http.MethodPost, "/api/v1/users", `{"email":"lead@example.com","role":"admin","password":"long enough pw"}`, key)
	if rec.Code != http.StatusCreated {
		t.Fatalf("first admin through the API: got %d: %s", rec.Code, rec.Body)
	}

	rec = call(h, http.MethodGet, "/", "", "")
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("after the first admin: GET / got %d to %q, want 303 to /login", rec.Code, loc)
	}
	if rec := call(h, http.MethodGet, "/setup?token="+token, "", ""); rec.Header().Get("Location") != "/login" {
		t.Errorf("after the first admin: the setup page got %d to %q, want a redirect to /login", rec.Code, rec.Header().Get("Location"))
	}
	// The token is not even checked any more: a form it would have let
	// through to validation goes to login as a right one does.
	for _, pw := range []string{"short", "long enough pw"} {
		rec = postForm(h, "/setup", url.Values{"token": {token}, "name": {"Mallory"}, "email": {"mallory@example.com"}, "password": {pw}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" || len(rec.Result().Cookies()) != 0 {
			t.Errorf("old setup token, password %q: got %d to %q with cookies %v; want 303 to /login, no session", pw, rec.Code, rec.Header().Get("Location"), rec.Result().Cookies())
		}
	}
	if _, err := s.store.UserByEmail(context.Background(), "mallory@example.com"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("the old setup token made an account: %v", err)
	}
	if u := s.SetupURL(); u != "" {
		t.Errorf("SetupURL = %q after setup ended, want none", u)
	}
}

// postFormFrom posts a form as a browser at addr ("IP:port") with a user
// agent.
func postFormFrom(h http.Handler, addr, ua, path string, vals url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", ua)
	req.RemoteAddr = addr
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// frozenServer is a server whose clock never moves (so the login limiter
// never refills, however slow bcrypt is under -race) with one admin,
// a@example.com, whose password is "the right password".
func frozenServer(t *testing.T) (*Server, *store.User) {
	t.Helper()
	s := mustServer(t)
	stopped := time.Now()
	s.now = func() time.Time { return stopped }
	hash, _ := hashPassword("the right password")
	u := &store.User{Email: "a@example.com", PasswordHash: hash}
	if err := s.store.CreateFirstAdmin(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	return s, u
}

// TestLoginLimitsAddressesNotAccounts: a stranger guessing from one
// address locks out that address, not the account: its owner still signs
// in from elsewhere. An address that failed for the locked account is
// refused even with the right password, and an IPv6 /64 is one address.
func TestLoginLimitsAddressesNotAccounts(t *testing.T) {
	t.Parallel()
	s, _ := frozenServer(t)
	h := s.http.Handler
	wrong := url.Values{"email": {"a@example.com"}, "password": {"guess guess guess"}}
	right := url.Values{"email": {"a@example.com"}, "password": {"the right password"}}
	const ipA, ipB, ipC = "192.0.2.10:5555", "198.51.100.7:443", "203.0.113.9:80"

	for i := range 10 {
		rec := postFormFrom(h, ipA, "curl/8", "/login", wrong)
		want := http.StatusUnauthorized
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if rec.Code != want {
			t.Fatalf("attempt %d from A: got %d, want %d", i+1, rec.Code, want)
		}
		if want == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Fatalf("attempt %d from A: 429 without Retry-After", i+1)
		}
	}
	if rec := postFormFrom(h, ipA, "curl/8", "/login", right); rec.Code != http.StatusTooManyRequests {
		t.Errorf("right password from locked-out A: got %d, want 429", rec.Code)
	}
	rec := postFormFrom(h, ipB, "Firefox", "/login", right)
	if rec.Code != http.StatusSeeOther || len(rec.Result().Cookies()) == 0 {
		t.Fatalf("right password from B while A is locked out: got %d (cookies %v), want 303 with a session", rec.Code, rec.Result().Cookies())
	}

	// The account's own bucket is empty now: C may try (it has not
	// failed), but once it fails it is held to the account's limit.
	if rec := postFormFrom(h, ipC, "curl/8", "/login", wrong); rec.Code != http.StatusUnauthorized {
		t.Fatalf("first wrong password from C: got %d, want 401", rec.Code)
	}
	if rec := postFormFrom(h, ipC, "curl/8", "/login", right); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("right password from C after C failed on the locked account: got %d (Retry-After %q), want 429 with Retry-After",
			rec.Code, rec.Header().Get("Retry-After"))
	}
	// Another account is not locked for C.
	other := url.Values{"email": {"b@example.com"}, "password": {"guess guess guess"}}
	if rec := postFormFrom(h, ipC, "curl/8", "/login", other); rec.Code != http.StatusUnauthorized {
		t.Errorf("C trying another account: got %d, want 401", rec.Code)
	}

	// Two addresses of one IPv6 /64 share a bucket; the next /64 does not.
	stranger := url.Values{"email": {"nobody@example.com"}, "password": {"guess guess guess"}}
	for i := range 5 {
		addr := "[2001:db8:1:2::" + strconv.Itoa(i+1) + "]:443"
		if rec := postFormFrom(h, addr, "curl/8", "/login", stranger); rec.Code != http.StatusUnauthorized {
			t.Fatalf("IPv6 attempt %d: got %d, want 401", i+1, rec.Code)
		}
	}
	if rec := postFormFrom(h, "[2001:db8:1:2:ffff::9]:443", "curl/8", "/login", stranger); rec.Code != http.StatusTooManyRequests {
		t.Errorf("6th attempt from the same /64: got %d, want 429", rec.Code)
	}
	if rec := postFormFrom(h, "[2001:db8:1:3::1]:443", "curl/8", "/login", right); rec.Code != http.StatusSeeOther {
		t.Errorf("right password from the next /64: got %d, want 303", rec.Code)
	}
}

// TestSuccessesDoNotCount: only failures spend an address's attempts, so
// an office behind one address can sign in all morning.
func TestSuccessesDoNotCount(t *testing.T) {
	t.Parallel()
	s, _ := frozenServer(t)
	right := url.Values{"email": {"a@example.com"}, "password": {"the right password"}}
	for i := range 8 {
		if rec := postFormFrom(s.http.Handler, "192.0.2.10:5555", "Firefox", "/login", right); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign-in %d from one address: got %d, want 303", i+1, rec.Code)
		}
	}
}

// auditEvents returns every audit event, newest first.
func auditEvents(t *testing.T, s *Server) []store.AuditEvent {
	t.Helper()
	events, _, err := s.store.ListAudit(context.Background(), store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestSignInIsAudited: setup, sign-in, failure, lockout and sign-out each
// leave an event with who, the account concerned, the address and user
// agent, and never a password.
func TestSignInIsAudited(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	stopped := time.Now()
	s.now = func() time.Time { return stopped }
	h := s.http.Handler
	token := strings.TrimPrefix(s.SetupURL(), s.URL()+"/setup?token=")
	const addr, ua = "192.0.2.44:1234", "Mozilla/5.0 (X11; Linux x86_64) llmops-test"
	longUA := ua + strings.Repeat(" padding", 100)

	setup := url.Values{"token": {"not the token"}, "name": {"Lead"}, "email": {"Lead@Example.com"}, "password": {"setup password 1"}}
	if rec := postFormFrom(h, addr, ua, "/setup", setup); rec.Code != http.StatusForbidden {
		t.Fatalf("setup with a wrong token: got %d, want 403", rec.Code)
	}
	setup.Set("token", token)
	rec := postFormFrom(h, addr, longUA, "/setup", setup)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("setup: got %d: %s", rec.Code, rec.Body)
	}
	if rec := postFormFrom(h, addr, ua, "/logout", nil, rec.Result().Cookies()...); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: got %d", rec.Code)
	}
	wrong := url.Values{"email": {"lead@example.com"}, "password": {"a wrong password 42"}}
	for range 7 {
		postFormFrom(h, addr, ua, "/login", wrong)
	}

	events := auditEvents(t, s)
	raw, _ := json.Marshal(events)
	for _, pw := range []string{"setup password 1", "a wrong password 42", token} {
		if strings.Contains(string(raw), pw) {
			t.Errorf("the audit log holds a secret the client sent (%q)", pw)
		}
	}
	count := map[string]int{}
	for _, e := range events {
		count[e.Action]++
		if e.Resource != "session" && e.Resource != "setup" {
			continue
		}
		if e.IP != "192.0.2.44" || !strings.HasPrefix(e.UserAgent, "Mozilla/5.0") || len(e.UserAgent) > 4*store.MaxAuditUserAgent {
			t.Errorf("%s: ip %q, user agent %q; want the client's, clipped", e.Action, e.IP, e.UserAgent)
		}
		if e.ResourceID != "lead@example.com" || e.Time.IsZero() {
			t.Errorf("%s: target %q at %v, want lead@example.com at a time", e.Action, e.ResourceID, e.Time)
		}
		switch e.Action {
		case store.ActionLoginSucceeded, store.ActionLogout, store.ActionSetupSucceeded:
			if e.Actor.Kind != store.ActorUser || e.Actor.Name != "lead@example.com" {
				t.Errorf("%s: actor %v, want the admin", e.Action, e.Actor)
			}
		default:
			if e.Actor.Kind != store.ActorAnonymous {
				t.Errorf("%s: actor %v, want anonymous", e.Action, e.Actor)
			}
		}
	}
	// 5 failures, then a lockout recorded once however often it refuses.
	want := map[string]int{store.ActionSetupFailed: 1, store.ActionSetupSucceeded: 1, store.ActionLoginSucceeded: 1,
		store.ActionLogout: 1, store.ActionLoginFailed: 5, store.ActionLoginLocked: 1}
	for action, n := range want {
		if count[action] != n {
			t.Errorf("%d %s events, want %d (all: %v)", count[action], action, n, count)
		}
	}
	for _, e := range events {
		if e.Action == store.ActionLoginFailed && e.After != "wrong password" {
			t.Errorf("login.failed says %q, want \"wrong password\"", e.After)
		}
	}
}
