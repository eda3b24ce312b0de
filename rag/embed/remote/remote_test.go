package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"llmops/rag/embed"
)

// fakeServer speaks the /v1/embeddings wire format. Each input's vector is
// derived from its text, so tests can check order. respond may override
// any request's answer by writing a response and returning true.
type fakeServer struct {
	dim     atomic.Int64
	shuffle bool
	respond func(w http.ResponseWriter, r *http.Request, n int64) bool

	requests atomic.Int64
	mu       sync.Mutex
	batches  []int
	auth     []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	if f.respond != nil && f.respond(w, r, n) {
		return
	}
	var req struct {
		Input []string `json:"input"`
		Model string   `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.batches = append(f.batches, len(req.Input))
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	data := make([]item, len(req.Input))
	for i, text := range req.Input {
		data[i] = item{"embedding", i, textVector(text, int(f.dim.Load()))}
	}
	if f.shuffle {
		rand.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"object": "list",
		"data":   data,
		"model":  req.Model,
		"usage":  map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)},
	})
}

// textVector is an unnormalised vector that identifies text: its length
// in the first component, its first byte in the second.
func textVector(text string, dim int) []float32 {
	v := make([]float32, dim)
	v[0] = float32(len(text))
	if len(text) > 0 {
		v[1] = float32(text[0])
	}
	v[dim-1] = 1
	return v
}

func newFake(dim int, respond func(w http.ResponseWriter, r *http.Request, n int64) bool) *fakeServer {
	f := &fakeServer{respond: respond}
	f.dim.Store(int64(dim))
	return f
}

func newTestRemote(t *testing.T, f *fakeServer, opts Options) *Remote {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if opts.BaseURL == "" {
		opts.BaseURL = srv.URL
	}
	if opts.Model == "" {
		opts.Model = "test-embed"
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.backoff = time.Millisecond
	return r
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", i+1)
	}
	return out
}

func TestBatchingAndOrder(t *testing.T) {
	t.Parallel()
	f := newFake(8, nil)
	f.shuffle = true
	r := newTestRemote(t, f, Options{APIKey: "sk-test"})
	in := texts(150)
	vecs, err := r.EmbedDocuments(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.requests.Load(); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
	if fmt.Sprint(f.batches) != "[64 64 22]" {
		t.Errorf("got batches %v, want [64 64 22]", f.batches)
	}
	if f.auth[0] != "Bearer sk-test" {
		t.Errorf("got Authorization %q", f.auth[0])
	}
	for i, v := range vecs {
		want := textVector(in[i], 8)
		embed.Normalize(want)
		if math.Abs(float64(v[0]-want[0])) > 1e-6 {
			t.Fatalf("vector %d: got %v, want %v (out of order?)", i, v, want)
		}
		if n := norm(v); math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d: norm %v, want 1", i, n)
		}
	}
	if m := r.Model(); m.Dim != 8 || m.Name != "test-embed" || m.Version != "api" {
		t.Errorf("got model %+v", m)
	}
}

func TestBaseURLForms(t *testing.T) {
	t.Parallel()
	f := newFake(4, nil)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/v1", srv.URL + "/v1/"} {
		r, err := New(Options{BaseURL: base, Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.EmbedQuery(context.Background(), "hello"); err != nil {
			t.Errorf("base %q: %v", base, err)
		}
	}
	for _, bad := range []Options{{BaseURL: "ftp://x", Model: "m"}, {BaseURL: "localhost:8080", Model: "m"}, {BaseURL: srv.URL}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v): got no error", bad)
		}
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		header    string
		wantCalls int64
		wantErr   bool
		minWait   time.Duration
	}{
		{"429 with Retry-After then 200", 429, "1", 2, false, time.Second},
		{"500 then 200", 500, "", 2, false, 0},
		{"503 then 200", 503, "", 2, false, 0},
		{"401 is not retried", 401, "", 1, true, 0},
		{"400 is not retried", 400, "", 1, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(4, func(w http.ResponseWriter, r *http.Request, n int64) bool {
				if n > 1 {
					return false
				}
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `{"error":{"message":"status %d says no","type":"test"}}`, tc.status)
				return true
			})
			r := newTestRemote(t, f, Options{})
			start := time.Now()
			_, err := r.EmbedQuery(context.Background(), "hi")
			if got := f.requests.Load(); got != tc.wantCalls {
				t.Errorf("got %d requests, want %d", got, tc.wantCalls)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if elapsed := time.Since(start); elapsed < tc.minWait {
				t.Errorf("retried after %v, want at least %v (Retry-After)", elapsed, tc.minWait)
			}
			if err != nil {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tc.status {
					t.Fatalf("got %v, want a StatusError with status %d", err, tc.status)
				}
				want := fmt.Sprintf("embedding server at %s answered %d: status %d says no", strings.TrimRight(r.server, "/"), tc.status, tc.status)
				if err.Error() != want {
					t.Errorf("got message %q, want %q", err, want)
				}
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	f := newFake(4, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		http.Error(w, "overloaded", http.StatusBadGateway)
		return true
	})
	r := newTestRemote(t, f, Options{MaxRetries: 2})
	_, err := r.EmbedQuery(context.Background(), "hi")
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 502 || se.Attempts != 3 {
		t.Fatalf("got %v, want a 502 StatusError after 3 attempts", err)
	}
	if !strings.Contains(err.Error(), "overloaded") || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("got message %q", err)
	}
}

func TestTimeoutOnStalledServer(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := newFake(4, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	r := newTestRemote(t, f, Options{Timeout: time.Second, MaxRetries: 1}) // long enough that each attempt reaches the server on a loaded machine
	t.Cleanup(func() { close(release) })
	start := time.Now()
	_, err := r.EmbedQuery(context.Background(), "hi")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer within 1s") {
		t.Fatalf("got %v, want a timeout error", err)
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("got %d requests, want 2 (a timeout is retried once)", got)
	}
	// The stalled server never answers: only the timeouts end the call.
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

func TestDimensionMismatch(t *testing.T) {
	t.Parallel()
	t.Run("server changes dimension", func(t *testing.T) {
		t.Parallel()
		f := newFake(4, nil)
		r := newTestRemote(t, f, Options{BatchSize: 2})
		if _, err := r.EmbedDocuments(context.Background(), texts(2)); err != nil {
			t.Fatal(err)
		}
		f.dim.Store(6)
		_, err := r.EmbedDocuments(context.Background(), texts(2))
		if !errors.Is(err, embed.ErrDimension) || !strings.Contains(err.Error(), "returned 6-dimensional vectors, want 4") {
			t.Fatalf("got %v, want ErrDimension", err)
		}
	})
	t.Run("configured dimension", func(t *testing.T) {
		t.Parallel()
		r := newTestRemote(t, newFake(4, nil), Options{Dim: 8})
		if _, err := r.EmbedQuery(context.Background(), "hi"); !errors.Is(err, embed.ErrDimension) {
			t.Fatalf("got %v, want ErrDimension", err)
		}
	})
	t.Run("learned by Dimension", func(t *testing.T) {
		t.Parallel()
		r := newTestRemote(t, newFake(12, nil), Options{})
		if d := r.Model().Dim; d != 0 {
			t.Fatalf("got Dim %d before any request, want 0", d)
		}
		d, err := r.Dimension(context.Background())
		if err != nil || d != 12 {
			t.Fatalf("got %d, %v; want 12", d, err)
		}
	})
}

func TestBadResponses(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"too few vectors": `{"object":"list","data":[],"model":"m"}`,
		"bad index":       `{"object":"list","data":[{"object":"embedding","index":5,"embedding":[1,2]}],"model":"m"}`,
		"zero vector":     `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0,0]}],"model":"m"}`,
		"not JSON":        `<html>proxy error</html>`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(2, func(w http.ResponseWriter, r *http.Request, n int64) bool {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, body)
				return true
			})
			r := newTestRemote(t, f, Options{})
			if _, err := r.EmbedQuery(context.Background(), "hi"); err == nil {
				t.Fatal("got no error")
			}
			if got := f.requests.Load(); got != 1 {
				t.Errorf("got %d requests, want 1", got)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	t.Run("before the call", func(t *testing.T) {
		t.Parallel()
		f := newFake(4, nil)
		r := newTestRemote(t, f, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.EmbedDocuments(ctx, texts(3)); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		t.Parallel()
		f := newFake(4, func(w http.ResponseWriter, r *http.Request, n int64) bool {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		})
		r := newTestRemote(t, f, Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := r.EmbedQuery(ctx, "hi")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the context's error", err)
		}
		// Well before the 30 s the server asked to wait, with room for a
		// busy machine.
		if elapsed := time.Since(start); elapsed > 15*time.Second {
			t.Errorf("returned after %v, want promptly after cancellation", elapsed)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-1":                            0,
		"9999":                          maxRetryAfter,
		"Thu, 01 Jan 2026 12:00:05 GMT": 5 * time.Second,
		"soon":                          0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
