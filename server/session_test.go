package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

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
