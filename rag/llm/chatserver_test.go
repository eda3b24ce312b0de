package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"llmops/store"
)

// TestMain shortens the retry waits once, before any test runs, so the
// package variables are never written while tests read them.
func TestMain(m *testing.M) {
	baseBackoff = time.Millisecond
	maxBackoff = 5 * time.Millisecond
	// Long enough that TestCancelDuringBackoff's capped wait (30 units)
	// outlasts any scheduling delay on a busy machine.
	retryAfterUnit = 100 * time.Millisecond
	os.Exit(m.Run())
}

// chatServer speaks /v1/chat/completions as OpenAI does when streaming.
// handle answers request n (counted from 1).
type chatServer struct {
	*httptest.Server
	handle func(w http.ResponseWriter, r *http.Request, n int)

	requests atomic.Int64
	mu       sync.Mutex
	bodies   []map[string]any
	headers  []http.Header
	paths    []string
	times    []time.Time
}

func newChatServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *chatServer {
	t.Helper()
	s := &chatServer{handle: handle}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.requests.Add(1))
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.headers = append(s.headers, r.Header.Clone())
	s.paths = append(s.paths, r.URL.Path)
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		apiError(w, http.StatusNotFound, "no route "+r.URL.Path)
		return
	}
	s.handle(w, r, n)
}

// body returns the decoded JSON of request n (from 1).
func (s *chatServer) body(n int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[n-1]
}

// apiError answers as OpenAI does when it refuses a request.
func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":null}}`, msg)
}

// sse writes a stream, flushing after each event.
type sse struct {
	w     http.ResponseWriter
	model string
}

func startSSE(w http.ResponseWriter) sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	return sse{w: w, model: "m"}
}

func (s sse) data(payload string) {
	fmt.Fprintf(s.w, "data: %s\n\n", payload)
	s.w.(http.Flusher).Flush()
}

func (s sse) delta(content string) {
	s.data(fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":%q,"choices":[{"index":0,"delta":{"role":"assistant","content":%q},"finish_reason":null}]}`, s.model, content))
}

func (s sse) finish(reason string) {
	s.data(fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":%q,"choices":[{"index":0,"delta":{},"finish_reason":%q}]}`, s.model, reason))
}

func (s sse) usage(prompt, completion int) {
	s.data(fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":%q,"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, s.model, prompt, completion, prompt+completion))
}

func (s sse) done() { s.data("[DONE]") }

// answer streams deltas, a stop, a usage chunk and [DONE].
func answer(w http.ResponseWriter, deltas ...string) {
	s := startSSE(w)
	for _, d := range deltas {
		s.delta(d)
	}
	s.finish("stop")
	s.usage(12, 5)
	s.done()
}

// stall waits until the client goes away (or a minute passes), and
// reports that it went away on gone, if gone is not nil.
func stall(r *http.Request, gone chan<- struct{}) {
	select {
	case <-r.Context().Done():
		if gone != nil {
			close(gone)
		}
	case <-time.After(time.Minute):
	}
}

// abort drops the connection without finishing the response.
func abort() { panic(http.ErrAbortHandler) }

func newTestClient(t *testing.T, baseURL string, edit func(*Options)) *Client {
	t.Helper()
	opts := Options{BaseURL: baseURL, Model: "m-test", APIKey: "k"}
	if edit != nil {
		edit(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func hello() Request {
	return Request{Messages: []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}}
}

// wantCode checks err's store code and that its message holds each of subs.
func wantCode(t *testing.T, err error, code string, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var se *store.Error
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v, want a *store.Error", err, err)
	}
	if se.Code != code {
		t.Errorf("got code %s, want %s (%v)", se.Code, code, err)
	}
	for _, sub := range subs {
		if !strings.Contains(se.Message, sub) {
			t.Errorf("message %q does not contain %q", se.Message, sub)
		}
	}
}
