package server

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"testing"
	"time"

	"llmops/store"
)

// TestAskRateLimit: each API key and each signed-in user has its own
// bucket on /api/v1/ask and /ask/stream (shared by the two); past the
// burst they get 429 with Retry-After and the widget's error code, while
// another key is unaffected. The clock is stopped, so no token comes back
// while the test runs, however slow the machine.
func TestAskRateLimit(t *testing.T) {
	t.Parallel()
	s := mustServer(t, func(c *Config) { c.AskRate = 3 }) // a burst of 3, then one every 20 s
	now := time.Now()
	s.now = func() time.Time { return now }
	h := s.http.Handler
	ask := func(auth string, path string, cookies ...*http.Cookie) (int, string, apiError) {
		t.Helper()
		rec := call(h, http.MethodPost, path, `{"question":"How do I reset my password?"}`, auth, cookies...)
		var e apiError
		if rec.Code != http.StatusOK {
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("%s: %d %s: %v", path, rec.Code, rec.Body, err)
			}
		}
		return rec.Code, rec.Header().Get("Retry-After"), e
	}
	paths := []string{"/api/v1/ask", "/api/v1/ask/stream", "/api/v1/ask"}

	key, other := keyFor(t, s, store.RoleViewer), keyFor(t, s, store.RoleViewer)
	for i, path := range paths {
		if code, _, e := ask(key, path); code != http.StatusOK {
			t.Fatalf("ask %d (%s): got %d %+v, want 200", i+1, path, code, e)
		}
	}
	for _, path := range []string{"/api/v1/ask", "/api/v1/ask/stream"} {
		code, retry, e := ask(key, path)
		if code != http.StatusTooManyRequests || retry != "20" || e.Error.Code != store.ERATELIMITED {
			t.Errorf("4th ask (%s): got %d, Retry-After %q, %+v; want 429, 20, %s", path, code, retry, e, store.ERATELIMITED)
		}
	}
	if code, _, e := ask(other, "/api/v1/ask"); code != http.StatusOK {
		t.Errorf("another key: got %d %+v, want 200", code, e)
	}
	now = now.Add(20 * time.Second) // one token back
	if code, _, e := ask(key, "/api/v1/ask"); code != http.StatusOK {
		t.Errorf("after Retry-After: got %d %+v, want 200", code, e)
	}
	if code, _, _ := ask(key, "/api/v1/ask"); code != http.StatusTooManyRequests {
		t.Errorf("the ask after that: got %d, want 429", code)
	}

	// A signed-in user, the same way.
	ctx := context.Background()
	hash, _ := hashPassword("the right password")
	u := &store.User{Email: "lead@example.com", Name: "Lead", PasswordHash: hash}
	if err := s.store.CreateFirstAdmin(ctx, u); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	token, err := s.store.CreateSession(ctx, u, time.Hour, "192.0.2.10", "test")
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: sessionCookie, Value: token}
	for i, path := range paths {
		if code, _, e := ask("", path, cookie); code != http.StatusOK {
			t.Fatalf("user's ask %d (%s): got %d %+v, want 200", i+1, path, code, e)
		}
	}
	if code, retry, e := ask("", "/api/v1/ask/stream", cookie); code != http.StatusTooManyRequests || retry == "" || e.Error.Code != store.ERATELIMITED {
		t.Errorf("user's 4th ask: got %d, Retry-After %q, %+v; want 429", code, retry, e)
	}
	if code, _, e := ask(other, "/api/v1/ask"); code != http.StatusOK {
		t.Errorf("the other key after the user was limited: got %d %+v, want 200", code, e)
	}
}

// TestAskRateUnlimited: --ask-rate 0 limits nothing.
func TestAskRateUnlimited(t *testing.T) {
	t.Parallel()
	s := mustServer(t, func(c *Config) { c.AskRate = 0 })
	now := time.Now()
	s.now = func() time.Time { return now }
	key := keyFor(t, s, store.RoleViewer)
	for i := range askBurst + 5 {
		rec := call(s.http.Handler, http.MethodPost, "/api/v1/ask", `{"question":"How do I reset my password?"}`, key)
		if rec.Code != http.StatusOK {
			t.Fatalf("ask %d: got %d %s, want 200", i+1, rec.Code, rec.Body)
		}
	}
}

// TestLimitFlagsAreValidated: a negative ask rate, a body timeout that is
// not positive and an upload timeout below it are refused at start-up,
// from flags and from the environment.
func TestLimitFlagsAreValidated(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(*Config){
		"--ask-rate -1":       func(c *Config) { c.AskRate = -1 },
		"--body-timeout 0":    func(c *Config) { c.BodyTimeout = 0 },
		"--upload-timeout 1s": func(c *Config) { c.UploadTimeout = time.Second },
	} {
		cfg := testConfig(t)
		change(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
		ok   bool
	}{
		{nil, nil, 60, true},
		{[]string{"--ask-rate", "0"}, nil, 0, true},
		{nil, map[string]string{"LLMOPS_ASK_RATE": "120"}, 120, true},
		{[]string{"--ask-rate", "-5"}, nil, 0, false},
		{nil, map[string]string{"LLMOPS_ASK_RATE": "lots"}, 0, false},
		{nil, map[string]string{"LLMOPS_BODY_TIMEOUT": "soon"}, 0, false},
		{[]string{"--body-timeout", "1m", "--upload-timeout", "30s"}, nil, 0, false},
	} {
		cfg := DefaultConfig()
		cfg.DataDir = t.TempDir()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := NewFlags(fs, &cfg, func(k string) string { return tc.env[k] }).Data().Serve()
		err := fs.Parse(tc.args)
		if err == nil {
			err = f.Done()
		}
		if (err == nil) != tc.ok || (tc.ok && cfg.AskRate != tc.want) {
			t.Errorf("%v %v: rate %d, err %v; want %d, ok %v", tc.args, tc.env, cfg.AskRate, err, tc.want, tc.ok)
		}
	}
}
