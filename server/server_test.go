package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"llmops/assets"
	"llmops/store"
	"llmops/store/schema"
)

// testConfig is the config tests start from: a temp data dir, a free
// port, no sample data.
func testConfig(tb testing.TB) Config {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Addr, cfg.NoSample = tb.TempDir(), "127.0.0.1:0", true
	return cfg
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mustServer builds a Server from testConfig, changed by each option,
// and shuts it down with the test.
func mustServer(tb testing.TB, options ...func(*Config)) *Server {
	tb.Helper()
	cfg := testConfig(tb)
	for _, o := range options {
		o(&cfg)
	}
	s, err := New(context.Background(), cfg, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// keyFor creates an API key with role r and returns its secret.
func keyFor(tb testing.TB, s *Server, r store.Role) string {
	tb.Helper()
	secret, _, err := s.store.CreateAPIKey(context.Background(), store.Actor{Kind: store.ActorCLI, Name: "test"}, "k-"+string(r), r)
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

// TestRouteRoleTable walks the route table with every role: a role below
// the route's minimum gets 403, one at or above it is let through, and an
// anonymous caller gets 401 (API) or a redirect to login (pages).
func TestRouteRoleTable(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	s.finishSetup() // pretend an admin exists, so pages redirect to login
	keys := map[store.Role]string{}
	for _, r := range store.Roles {
		keys[r] = keyFor(t, s, r)
	}
	pk, _, err := s.store.CreatePublishableKey(context.Background(), store.Actor{Kind: store.ActorCLI, Name: "test"}, "widget", []string{"https://help.example.com"}, 0, store.KeyScope{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.http.Handler
	for _, rt := range s.routes() {
		path := strings.ReplaceAll(rt.path, ":id", "01HZZZZZZZZZZZZZZZZZZZZZZZ")
		isAPI := strings.HasPrefix(path, "/api/") || path == otlpTracesPath
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			req := httptest.NewRequest(rt.method, path, strings.NewReader("{}"))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			switch {
			case rt.role == "":
				// Public routes answer on their own terms (a wrong password
				// is a 401 from the login form itself), never 403.
				if rec.Code == http.StatusForbidden {
					t.Errorf("anonymous: got %d on a public route", rec.Code)
				}
			case isAPI && rec.Code != http.StatusUnauthorized:
				t.Errorf("anonymous: got %d, want 401", rec.Code)
			case !isAPI && (rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login")):
				t.Errorf("anonymous: got %d to %q, want 303 to /login", rec.Code, rec.Header().Get("Location"))
			}
			if rt.role == "" {
				return
			}
			if rt.role == widgetRole {
				// Secret keys are not widget keys: 401 for every role.
				for _, r := range store.Roles {
					req := httptest.NewRequest(rt.method, path, strings.NewReader("{}"))
					req.Header.Set("Authorization", "Bearer "+keys[r])
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusUnauthorized {
						t.Errorf("%s key on a widget route: got %d, want 401", r, rec.Code)
					}
				}
				return
			}
			// A publishable key is refused everywhere but the widget API.
			req = httptest.NewRequest(rt.method, path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+pk)
			req.Header.Set("Content-Type", "application/json")
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden {
				t.Errorf("publishable key: got %d, want 403", rec.Code)
			}
			for _, r := range store.Roles {
				req := httptest.NewRequest(rt.method, path, strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+keys[r])
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				allowed := r.Allows(rt.role)
				if allowed && (rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized) {
					t.Errorf("%s: got %d, want access (route needs %s)", r, rec.Code, rt.role)
				}
				if !allowed && rec.Code != http.StatusForbidden {
					t.Errorf("%s: got %d, want 403 (route needs %s)", r, rec.Code, rt.role)
				}
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	admin := keyFor(t, s, store.RoleAdmin)
	tests := []struct {
		name, method, path, body, auth string
		status                         int
		code, msgHas                   string
	}{
		{"no auth", "GET", "/api/v1/keys", "", "", 401, "unauthorized", "Bearer"},
		{"bad key", "GET", "/api/v1/keys", "", "Bearer llmops_nope", 401, "unauthorized", "invalid API key"},
		{"not bearer", "GET", "/api/v1/keys", "", "Basic abc", 401, "unauthorized", "Bearer"},
		{"malformed JSON", "POST", "/api/v1/keys", `{"name": "x",`, admin, 400, "invalid", "malformed JSON"},
		{"syntax error", "POST", "/api/v1/keys", `{"name" "x"}`, admin, 400, "invalid", "byte"},
		{"wrong type names field", "POST", "/api/v1/keys", `{"name": 5, "role": "viewer"}`, admin, 400, "invalid", "name: want a string, got a number"},
		{"unknown field", "POST", "/api/v1/keys", `{"nme": "x"}`, admin, 400, "invalid", `"nme"`},
		{"empty body", "POST", "/api/v1/keys", ``, admin, 400, "invalid", "empty"},
		{"bad role", "POST", "/api/v1/keys", `{"name": "x", "role": "boss"}`, admin, 400, "invalid", "role must be"},
		{"oversized", "POST", "/api/v1/keys", `{"name": "` + strings.Repeat("x", 2<<20) + `"}`, admin, 413, "too_large", "limit"},
		{"unknown key id", "DELETE", "/api/v1/keys/nope", "", admin, 404, "not_found", "not found"},
		{"unknown route", "GET", "/api/v1/nope", "", admin, 404, "not_found", ""},
		{"bad limit", "GET", "/api/v1/audit?limit=0", "", admin, 400, "invalid", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				if !strings.Contains(tt.auth, " ") {
					tt.auth = "Bearer " + tt.auth
				}
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			s.http.Handler.ServeHTTP(rec, req)
			var body apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not a JSON error: %v", rec.Body, err)
			}
			if rec.Code != tt.status || body.Error.Code != tt.code || !strings.Contains(body.Error.Message, tt.msgHas) {
				t.Errorf("got %d %+v; want %d with code %q and message containing %q", rec.Code, body.Error, tt.status, tt.code, tt.msgHas)
			}
		})
	}
}

// TestErrorsSayLittle: error messages name the field and what it wants
// in JSON's words, never a Go type, and never repeat a huge input.
func TestErrorsSayLittle(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleViewer)
	longID := strings.Repeat("0", 100<<10)
	tests := []struct {
		name, path, body, msgHas string
		status                   int
	}{
		{"filters not an object", "/api/v1/ask", `{"question":"hi","filters":"x"}`, "filters: want an object, got a string", 400},
		{"filter tags not a list", "/api/v1/ask", `{"question":"hi","filters":{"tags":"x"}}`, "filters.tags: want an array, got a string", 400},
		{"top_k not a number", "/api/v1/ask", `{"question":"hi","top_k":"3"}`, "top_k: want a whole number, got a string", 400},
		{"stream filters", "/api/v1/ask/stream", `{"question":"hi","filters":[1]}`, "filters: want an object, got an array", 400},
		{"long conversation_id", "/api/v1/ask", `{"question":"hi","conversation_id":"` + longID + `"}`, "invalid conversation_id", 400},
		{"long conversation_id, streamed", "/api/v1/ask/stream", `{"question":"hi","conversation_id":"` + longID + `"}`, "invalid conversation_id", 400},
		{"long unknown field", "/api/v1/ask", `{"question":"hi","` + longID + `":1}`, "unknown field", 400},
		{"long trace_id", "/api/v1/feedback", `{"trace_id":"` + longID + `","value":1}`, "invalid trace_id", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			s.http.Handler.ServeHTTP(rec, req)
			var body apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %.200q is not a JSON error: %v", rec.Body, err)
			}
			if rec.Code != tt.status || body.Error.Code != store.EINVALID || !strings.Contains(body.Error.Message, tt.msgHas) {
				t.Errorf("got %d %.200q; want %d invalid, message containing %q", rec.Code, body.Error.Message, tt.status, tt.msgHas)
			}
			for _, goWord := range []string{"main.", "struct", "index.Filter", "askRequest", "Go ", "int"} {
				if strings.Contains(body.Error.Message, goWord) {
					t.Errorf("message %q says %q", body.Error.Message, goWord)
				}
			}
			if rec.Body.Len() >= 1024 {
				t.Errorf("error body is %d bytes, want under 1 KB", rec.Body.Len())
			}
		})
	}
}

// TestShutdownFlushesTraces queues a burst of traces and stops the server
// at once: every trace must be in the store after shutdown.
func TestShutdownFlushesTraces(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s, err := New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	const n = 3000
	for i := range n {
		now := time.Now()
		tr := &store.Trace{ID: store.NewIDAt(now), Kind: "test", Name: "burst", Start: now, End: now, Status: schema.StatusOK}
		sp := store.Span{TraceID: tr.ID, ID: store.NewID(), Name: "step", Kind: schema.SpanKindChain, Start: now, End: now, Status: schema.StatusOK,
			Attributes: map[string]any{"i": i}}
		if err := s.traces.Write(ctx, tr, sp); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	st, err := store.Open(context.Background(), cfg.DataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, _ := st.CountTraces(context.Background()); got != n {
		t.Fatalf("after shutdown %d traces are stored, want %d", got, n)
	}
}

// BenchmarkColdStart measures llmops serve's start-up on an empty data dir:
// open and migrate the store, build the server, bind the port, then stop.
func BenchmarkColdStart(b *testing.B) {
	for b.Loop() {
		s, err := New(context.Background(), testConfig(b), quiet)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Listen(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// TestPublicRoutesIgnoreCredentials: a garbage or revoked key on a public
// route changes nothing (a probe with a stale key stays healthy, a
// browser with one still reaches the login page).
func TestPublicRoutesIgnoreCredentials(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ctx := context.Background()
	hash, _ := hashPassword("the right password")
	if err := s.store.CreateFirstAdmin(ctx, &store.User{Email: "lead@example.com", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	revoked, k, err := s.store.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, "old", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.DeleteAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, k.ID); err != nil {
		t.Fatal(err)
	}
	paths := []struct{ method, path string }{{http.MethodGet, assets.URL("app.css")}}
	for _, rt := range s.routes() {
		if rt.role == "" {
			paths = append(paths, struct{ method, path string }{rt.method, rt.path})
		}
	}
	h := s.http.Handler
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			send := func(auth string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(p.method, p.path, strings.NewReader("email=lead%40example.com&password=x"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			want := send("")
			for _, auth := range []string{"Bearer garbage", "Bearer " + revoked, "Basic YTpi"} {
				got := send(auth)
				if got.Code != want.Code || got.Header().Get("Location") != want.Header().Get("Location") {
					t.Errorf("with %q: got %d to %q, want %d to %q as without it", auth, got.Code, got.Header().Get("Location"), want.Code, want.Header().Get("Location"))
				}
			}
		})
	}
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("Authorization", "Bearer garbage")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz with a garbage key: got %d, want 200", rec.Code)
	}
	// Protected routes still refuse a bad key outright.
	if rec := call(h, http.MethodGet, "/api/v1/me", "", "garbage"); rec.Code != http.StatusUnauthorized {
		t.Errorf("/api/v1/me with a garbage key: got %d, want 401", rec.Code)
	}
}
