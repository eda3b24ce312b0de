package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/rag/assistant"
	"llmops/store"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is the real Main (run "serve") on 127.0.0.1:0 with a temp dir.
type instance struct {
	url, setupURL, dataDir string
	stdout                 *syncBuffer
	stop                   func() int
}

func startServe(t *testing.T, dataDir string, extra ...string) *instance {
	t.Helper()
	return startServeEnv(t, dataDir, nil, extra...)
}

// startServeEnv is startServe with environment variables.
func startServeEnv(t *testing.T, dataDir string, env map[string]string, extra ...string) *instance {
	t.Helper()
	inst, err := launch(dataDir, env, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.stop() })
	return inst
}

// launch runs serve on dataDir with env and waits for the URL it prints;
// the caller stops it.
func launch(dataDir string, env map[string]string, extra ...string) (*instance, error) {
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir}, extra...)
	go func() { done <- run(ctx, args, out, errOut, func(k string) string { return env[k] }) }()
	inst := &instance{dataDir: dataDir, stdout: out}
	var once sync.Once
	code := -1
	inst.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	urlRe := regexp.MustCompile(`running at (http://\S+)`)
	setupRe := regexp.MustCompile(`(http://\S+/setup\?token=\S+)`)
	// A first start loads the sample data before the URL prints: under
	// -race on a busy machine that takes minutes.
	deadline := time.Now().Add(5 * time.Minute)
	for inst.url == "" {
		select {
		case code := <-done:
			return nil, fmt.Errorf("serve exited with %d: %s %s", code, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			inst.stop()
			return nil, fmt.Errorf("serve did not start in 5 minutes: %s %s", out.String(), errOut.String())
		}
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			inst.url = m[1]
			if m := setupRe.FindStringSubmatch(out.String()); m != nil {
				inst.setupURL = m[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return inst, nil
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so each step's status can be checked.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func form(vals ...string) (io.Reader, map[string]string) {
	v := url.Values{}
	for i := 0; i+1 < len(vals); i += 2 {
		v.Set(vals[i], vals[i+1])
	}
	return strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

func wantStatus(t *testing.T, step string, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: got %d, want %d\n%.400s", step, resp.StatusCode, want, body)
	}
}

// TestEndToEnd drives the real binary's Main: first-run setup, login, API
// keys, role enforcement, 401s, CSRF, and a clean shutdown.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	inst := startServe(t, t.TempDir(), "--no-sample")
	if inst.setupURL == "" {
		t.Fatalf("no setup link printed: %s", inst.stdout.String())
	}
	b := browser(t)

	resp, _ := do(t, b, "GET", inst.url+"/", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("before setup: / gave %d to %q, want 303 to /setup", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := do(t, b, "GET", inst.setupURL, nil, nil)
	wantStatus(t, "setup page", resp, body, 200)
	token := strings.SplitN(inst.setupURL, "token=", 2)[1]

	f, h := form("token", "wrong", "name", "Ada Lead", "email", "ada@example.com", "password", "correct horse battery")
	resp, body = do(t, b, "POST", inst.url+"/setup", f, h)
	wantStatus(t, "setup with a wrong token", resp, body, http.StatusForbidden)

	f, h = form("token", token, "name", "Ada Lead", "email", "ada@example.com", "password", "correct horse battery")
	resp, body = do(t, b, "POST", inst.url+"/setup", f, h)
	wantStatus(t, "setup", resp, body, http.StatusSeeOther)
	resp, body = do(t, b, "GET", inst.url+"/", nil, nil)
	wantStatus(t, "overview after setup", resp, body, 200)
	if !strings.Contains(body, "Ada Lead") || !strings.Contains(body, "Getting started") {
		t.Errorf("overview does not greet the admin: %.300s", body)
	}
	// The setup link is spent.
	f, h = form("token", token, "name", "Eve", "email", "eve@example.com", "password", "correct horse battery")
	resp, _ = do(t, browser(t), "POST", inst.url+"/setup", f, h)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("second setup: got %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Sign out, fail, sign in.
	resp, _ = do(t, b, "POST", inst.url+"/logout", nil, nil)
	wantStatus(t, "logout", resp, "", http.StatusSeeOther)
	resp, _ = do(t, b, "GET", inst.url+"/settings", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("signed out: /settings gave %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	f, h = form("email", "ada@example.com", "password", "wrong password!")
	resp, body = do(t, b, "POST", inst.url+"/login", f, h)
	wantStatus(t, "login with a wrong password", resp, body, http.StatusUnauthorized)
	f, h = form("email", "ADA@example.com", "password", "correct horse battery", "next", "/settings")
	resp, body = do(t, b, "POST", inst.url+"/login", f, h)
	wantStatus(t, "login", resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/settings" {
		t.Errorf("login redirected to %q, want /settings", loc)
	}

	// CSRF: a cross-site form post with the victim's cookie is refused.
	f, h = form("name", "evil", "role", "admin")
	h["Origin"], h["Sec-Fetch-Site"] = "https://evil.example", "cross-site"
	resp, body = do(t, b, "POST", inst.url+"/settings/keys", f, h)
	wantStatus(t, "cross-origin POST", resp, body, http.StatusForbidden)
	// The same form from our own origin works and shows the key once.
	f, h = form("name", "ops admin", "role", "admin")
	h["Origin"], h["Sec-Fetch-Site"] = inst.url, "same-origin"
	resp, body = do(t, b, "POST", inst.url+"/settings/keys", f, h)
	wantStatus(t, "create key in settings", resp, body, http.StatusCreated)
	adminKey := regexp.MustCompile(`llmops_[A-Za-z0-9_-]{32}`).FindString(body)
	if adminKey == "" || !strings.Contains(body, "you will not see this key again") {
		t.Fatalf("new key page does not show the key once: %.500s", body)
	}

	api := func(method, path, key, body string) (*http.Response, string) {
		hdr := map[string]string{"Content-Type": "application/json"}
		if key != "" {
			hdr["Authorization"] = "Bearer " + key
		}
		return do(t, &http.Client{}, method, inst.url+path, strings.NewReader(body), hdr)
	}
	resp, body = api("POST", "/api/v1/keys", adminKey, `{"name": "dashboard reader", "role": "viewer"}`)
	wantStatus(t, "create viewer key by API", resp, body, http.StatusCreated)
	var created struct{ ID, Key string }
	json.Unmarshal([]byte(body), &created)
	viewerKey := created.Key

	resp, body = api("GET", "/api/v1/keys", "", "")
	wantStatus(t, "keys without auth", resp, body, http.StatusUnauthorized)
	resp, body = api("POST", "/api/v1/keys", viewerKey, `{"name": "escalate", "role": "admin"}`)
	wantStatus(t, "viewer creating a key", resp, body, http.StatusForbidden)
	resp, body = api("GET", "/api/v1/me", viewerKey, "")
	wantStatus(t, "viewer reading /me", resp, body, 200)
	resp, body = api("GET", "/api/v1/keys", adminKey, "")
	wantStatus(t, "admin listing keys", resp, body, 200)
	if strings.Contains(body, viewerKey) || strings.Contains(body, adminKey) || strings.Contains(body, `"hash"`) {
		t.Errorf("key list leaks secrets: %s", body)
	}
	resp, body = api("DELETE", "/api/v1/keys/"+created.ID, adminKey, "")
	wantStatus(t, "revoke", resp, body, http.StatusNoContent)
	resp, body = api("GET", "/api/v1/me", viewerKey, "")
	wantStatus(t, "revoked key", resp, body, http.StatusUnauthorized)

	// Every change above is in the audit log.
	resp, body = api("GET", "/api/v1/audit", adminKey, "")
	wantStatus(t, "audit", resp, body, 200)
	var audit struct{ Events []store.AuditEvent }
	json.Unmarshal([]byte(body), &audit)
	actions := map[string]int{}
	for _, ev := range audit.Events {
		actions[ev.Resource+"/"+ev.Action]++
	}
	want := map[string]int{"api_key/create": 2, "api_key/delete": 1, "user/create": 1, "session/login.succeeded": 2,
		"session/login.failed": 1, "session/logout": 1, "setup/setup.failed": 1, "setup/setup.succeeded": 1}
	for action, n := range want {
		if actions[action] != n {
			t.Errorf("%d %s audit events, want %d (all: %v)", actions[action], action, n, actions)
		}
	}

	for _, probe := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, body = do(t, &http.Client{}, "GET", inst.url+probe, nil, nil)
		wantStatus(t, probe, resp, body, 200)
	}
	if !strings.Contains(body, "llmops_http_requests_total") || !strings.Contains(body, "llmops_trace_records_written_total") {
		t.Errorf("/metrics lacks llmops metrics")
	}

	// While serve holds the data dir, offline commands say what to do.
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"keys", "create", "--data", inst.dataDir, "--name", "x", "--role", "viewer"}, &out, &errOut, os.Getenv)
	if code != exitFail || !strings.Contains(errOut.String(), "data dir in use by a running llmops serve; use --server URL") {
		t.Errorf("keys create on a locked dir: exit %d, stderr %q", code, errOut.String())
	}
	// A hot backup through the server is a database that opens.
	backup := filepath.Join(t.TempDir(), "b.db")
	code = run(context.Background(), []string{"backup", "--server", inst.url, "--api-key", adminKey, "--out", backup}, &out, &errOut, os.Getenv)
	if code != exitOK {
		t.Fatalf("backup --server: exit %d: %s", code, errOut.String())
	}

	if code := inst.stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
	restoreDir := t.TempDir()
	data, _ := os.ReadFile(backup)
	os.WriteFile(filepath.Join(restoreDir, store.DBFile), data, 0o600)
	st, err := store.Open(context.Background(), restoreDir, store.Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	if n, _ := st.CountUsers(context.Background()); n != 1 {
		t.Errorf("backup has %d users, want 1", n)
	}
	st.Close()
}

// TestKeysCreateHeadless sets up a VM without a browser: a key made by the
// CLI (the last line of stdout) works against the server started after.
func TestKeysCreateHeadless(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "fresh")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"keys", "create", "--data", dir, "--name", "provisioner", "--role", "admin"}, &out, &errOut, os.Getenv)
	if code != exitOK {
		t.Fatalf("keys create: exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, store.APIKeyPrefix) {
		t.Fatalf("last line %q is not a key", key)
	}
	inst := startServe(t, dir, "--no-sample")
	req, _ := http.NewRequest("GET", inst.url+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("CLI-made key: /api/v1/me gave %d", resp.StatusCode)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(file, []byte("x"), 0o600)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no command", nil, nil, exitUsage, "Usage"},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--bogus"}, nil, exitUsage, "flag provided but not defined: -bogus"},
		{"bad addr", []string{"serve", "--addr", "nope"}, nil, exitUsage, "want host:port"},
		{"bad env url", []string{"serve"}, map[string]string{"LLMOPS_LLM_BASE_URL": "ftp://x"}, exitUsage, "LLMOPS_LLM_BASE_URL"},
		{"bad env bool", []string{"serve"}, map[string]string{"LLMOPS_NO_SAMPLE": "maybe"}, exitUsage, "LLMOPS_NO_SAMPLE"},
		{"bad size", []string{"serve", "--max-body", "lots"}, nil, exitUsage, "--max-body"},
		{"keys without create", []string{"keys"}, nil, exitUsage, "keys create"},
		{"keys bad role", []string{"keys", "create", "--name", "x", "--role", "boss"}, nil, exitUsage, "role must be"},
		{"backup without out", []string{"backup", "--data", "x"}, nil, exitUsage, "--out"},
		{"data dir is a file", []string{"serve", "--addr", "127.0.0.1:0", "--data", file}, nil, exitFail, "is a file, not a directory"},
		{"threshold not a number", []string{"ask", "--groundedness-threshold", "NaN", "q"}, nil, exitUsage, "--groundedness-threshold"},
		{"threshold above 1", []string{"eval", "run", "--set", "x", "--groundedness-threshold", "1.5"}, nil, exitUsage, "must be between 0 and 1"},
		{"bad threshold env", []string{"ask", "q"}, map[string]string{"LLMOPS_GROUNDEDNESS_THRESHOLD": "high"}, exitUsage, "LLMOPS_GROUNDEDNESS_THRESHOLD"},
		{"top-k too big", []string{"ask", "--top-k", "99", "q"}, nil, exitUsage, "--top-k 99"},
		// LLMOPS_DATA exported for serve does not clash with --server; the
		// missing key is what is wrong.
		{"ingest --server with LLMOPS_DATA", []string{"ingest", "--server", "http://127.0.0.1:1", file}, map[string]string{"LLMOPS_DATA": "d"}, exitUsage, "--api-key"},
		{"ingest --server and --data", []string{"ingest", "--server", "http://127.0.0.1:1", "--data", "d", "--api-key", "k", file}, nil, exitUsage, "exactly one"},
		{"ingest without a target", []string{"ingest", file}, nil, exitUsage, "exactly one"},
		{"ingest with too many tags", []string{"ingest", "--data", "d", "--tags", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w", file}, nil, exitUsage, "tags"},
		{"help for an unknown command", []string{"help", "frobnicate"}, nil, exitUsage, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errOut, func(k string) string { return tt.env[k] })
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut.String(), tt.code, tt.want)
			}
			if tt.code == exitUsage && tt.name != "no command" && strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
				t.Errorf("usage error is not one line: %q", errOut.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, io.Discard, os.Getenv); code != 0 || !strings.HasPrefix(out.String(), "llmops ") {
		t.Fatalf("version: exit %d, %q", code, out.String())
	}
}

// TestServeLoadsSampleData: a new data dir starts with the Rosterly help
// centre; deleting a sample document survives a restart (it is loaded once).
// The first start is firstServe's, shared with the other tests: a new data
// dir holding only an API key, as here.
func TestServeLoadsSampleData(t *testing.T) {
	t.Parallel()
	dir := sampleServeDir(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "create", "--data", dir, "--name", "t", "--role", "editor"}, &out, &errOut, os.Getenv); code != 0 {
		t.Fatal(errOut.String())
	}
	key := strings.TrimSpace(out.String()[strings.LastIndex(strings.TrimSpace(out.String()), "\n")+1:])
	list := func(inst *instance) []struct{ ID, Source string } {
		req, _ := http.NewRequest("GET", inst.url+"/api/v1/documents", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Documents []struct{ ID, Source string } }
		json.NewDecoder(resp.Body).Decode(&body)
		return body.Documents
	}
	inst := startServe(t, dir)
	docs := list(inst)
	if len(docs) < 40 {
		t.Fatalf("sample data: %d documents, want the 46 sample docs", len(docs))
	}
	req, _ := http.NewRequest("DELETE", inst.url+"/api/v1/documents/"+docs[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	inst.stop()
	inst = startServe(t, dir)
	if got := list(inst); len(got) != len(docs)-1 {
		t.Errorf("after restart %d documents, want %d (samples load once)", len(got), len(docs)-1)
	}
}

// TestAskOffline asks the sample knowledge base from the terminal: a
// covered question gets a cited answer and a trace, an uncovered one the
// fallback.
func TestAskOffline(t *testing.T) {
	t.Parallel()
	dir := sampleIngestDir(t)
	ask := func(q string) assistant.Result {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"ask", "--data", dir, "--json", q}, &out, &errOut, os.Getenv); code != exitOK {
			t.Fatalf("ask %q: exit %d: %s", q, code, errOut.String())
		}
		var a assistant.Result
		if err := json.Unmarshal(out.Bytes(), &a); err != nil {
			t.Fatalf("ask --json printed %q: %v", out.String(), err)
		}
		return a
	}
	a := ask("How do I cancel my subscription?")
	if a.Fallback || len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Source, "refunds-and-cancellation") || a.TraceID == "" {
		t.Errorf("covered question: %+v", a)
	}
	if b := ask("Do you integrate with Paychex?"); !b.Fallback || len(b.Citations) != 0 {
		t.Errorf("uncovered question: %+v", b)
	}
	st, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tr, spans, err := st.Trace(context.Background(), a.TraceID); err != nil || tr.Kind != "ask" || len(spans) < 8 {
		t.Errorf("ask trace = %+v, %d spans, %v", tr, len(spans), err)
	}
	var errOut2 bytes.Buffer
	if code := run(context.Background(), []string{"ask", "--data", dir}, io.Discard, &errOut2, os.Getenv); code != exitUsage {
		t.Errorf("ask without a question: exit %d", code)
	}
}

// TestCLIEdges: model settings a --server call does not use are not
// checked; serve that cannot listen releases its data dir; help lists
// every command and never prints the API key.
func TestCLIEdges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("judge env with --server", func(t *testing.T) {
		var out, errOut bytes.Buffer
		env := map[string]string{"LLMOPS_JUDGE_MODEL": "gpt-4o", "LLMOPS_EMBED_BASE_URL": "http://x"}
		code := run(ctx, []string{"ask", "--server", "http://127.0.0.1:1", "--api-key", "k", "q"}, &out, &errOut, func(k string) string { return env[k] })
		if code != exitFail || strings.Contains(errOut.String(), "LLMOPS_") {
			t.Errorf("exit %d, %q; want the connection to fail (exit 1), not a settings error", code, errOut.String())
		}
	})
	t.Run("serve on a busy port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		dir := t.TempDir()
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"serve", "--addr", ln.Addr().String(), "--data", dir, "--no-sample"}, &out, &errOut, func(string) string { return "" }); code != exitFail {
			t.Fatalf("serve on a busy port: exit %d: %s", code, errOut.String())
		}
		if code := run(ctx, []string{"keys", "create", "--data", dir, "--name", "x", "--role", "viewer"}, &out, &errOut, func(string) string { return "" }); code != exitOK {
			t.Errorf("data dir still held after serve failed to listen: %s", errOut.String())
		}
	})
	t.Run("help", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"help"}, &out, &errOut, os.Getenv); code != exitOK {
			t.Fatalf("help: exit %d", code)
		}
		for _, cmd := range []string{"serve", "ask", "ingest", "reindex", "eval run", "eval import", "eval sets", "prompts export", "prompts import", "bench ingest", "bench ask", "bench chat", "bench retrieval", "bench search", "bench eval", "bench crash", "bench traces", "guard train", "bench injection", "bench review", "review report", "keys create", "backup", "compact", "version", "help"} {
			if !regexp.MustCompile(`(?m)^\s+` + cmd + `\s{2,}\S`).MatchString(out.String()) {
				t.Errorf("llmops help does not list %q on a line of its own:\n%s", cmd, out.String())
			}
		}
		out.Reset()
		secret := func(k string) string {
			if k == "LLMOPS_API_KEY" {
				return "llmops_sk_secret"
			}
			return ""
		}
		if code := run(ctx, []string{"help", "eval", "run"}, &out, &errOut, secret); code != exitOK || !strings.Contains(out.String(), "--groundedness-threshold") && !strings.Contains(out.String(), "-groundedness-threshold") {
			t.Errorf("help eval run: exit %d:\n%s", code, out.String())
		}
		if strings.Contains(out.String(), "llmops_sk_secret") {
			t.Error("help printed the API key from the environment")
		}
	})
}
