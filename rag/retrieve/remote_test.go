package retrieve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// rerankServer is a fake /rerank API: each call runs the next of steps
// (the last one repeats) and the requests are kept.
type rerankServer struct {
	*httptest.Server
	calls atomic.Int32
	reqs  chan rerankRequest
}

type step func(w http.ResponseWriter, r *http.Request, req rerankRequest)

func newRerankServer(t *testing.T, steps ...step) *rerankServer {
	t.Helper()
	s := &rerankServer{reqs: make(chan rerankRequest, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.calls.Add(1))
		if r.Method != http.MethodPost || r.URL.Path != "/v1/rerank" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request line", http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, `{"message":"invalid api key"}`, http.StatusUnauthorized)
			return
		}
		var req rerankRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.reqs <- req
		steps[min(n, len(steps))-1](w, r, req)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *rerankServer) reranker() *RemoteReranker {
	return &RemoteReranker{URL: s.URL + "/v1/rerank", APIKey: "sk-test", Model: "rerank-test", backoff: time.Millisecond}
}

// scoresByLength scores longer documents higher, as a stand-in model.
func scoresByLength(w http.ResponseWriter, _ *http.Request, req rerankRequest) {
	type result struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevance_score"`
	}
	var res []result
	for i, d := range req.Documents {
		res = append(res, result{i, float64(len(d)) / 1000})
	}
	slices.SortFunc(res, func(a, b result) int { return len(req.Documents[b.Index]) - len(req.Documents[a.Index]) })
	res = res[:min(req.TopN, len(res))]
	json.NewEncoder(w).Encode(map[string]any{"results": res, "meta": map[string]any{"billed_units": 1}})
}

func status(code int, header ...string) step {
	return func(w http.ResponseWriter, _ *http.Request, _ rerankRequest) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		http.Error(w, fmt.Sprintf(`{"message":"status %d"}`, code), code)
	}
}

func remoteHits() []Hit {
	return []Hit{
		candidate("short", "A", nil, "tiny"),
		candidate("long", "B", []string{"B", "Section"}, "a much longer passage of text than the others"),
		candidate("medium", "C", nil, "a medium passage"),
	}
}

func TestRemoteRerankerOrdersByRelevance(t *testing.T) {
	s := newRerankServer(t, scoresByLength)
	got, err := s.reranker().Rerank(t.Context(), "which is longest?", remoteHits())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"long", "medium", "short"}; !slices.Equal(ids(got), want) {
		t.Errorf("order %v, want %v", ids(got), want)
	}
	if got[0].Score <= got[1].Score || got[0].Chunk.Text == "" {
		t.Errorf("hits lost their scores or chunks: %+v", got)
	}
	req := <-s.reqs
	if req.Model != "rerank-test" || req.Query != "which is longest?" || req.TopN != 3 || len(req.Documents) != 3 {
		t.Errorf("request %+v", req)
	}
	if want := "B\nSection\na much longer passage of text than the others"; req.Documents[1] != want {
		t.Errorf("document 1 = %q, want title, headings and text: %q", req.Documents[1], want)
	}
}

func TestRemoteRerankerTopN(t *testing.T) {
	s := newRerankServer(t, scoresByLength)
	rr := s.reranker()
	rr.TopN = 1
	got, err := rr.Rerank(t.Context(), "q", remoteHits())
	if err != nil {
		t.Fatal(err)
	}
	if req := <-s.reqs; req.TopN != 1 {
		t.Errorf("top_n = %d, want 1", req.TopN)
	}
	// The one it scored, then the rest in the order given.
	if want := []string{"long", "short", "medium"}; !slices.Equal(ids(got), want) {
		t.Errorf("order %v, want %v", ids(got), want)
	}
}

func TestRemoteRerankerRetries(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		wantCalls int32
		wantErr   int // HTTP status of the final error; 0: success
	}{
		{"429 then 200", []step{status(429, "Retry-After", "0"), scoresByLength}, 2, 0},
		{"503 twice then 200", []step{status(503), status(502), scoresByLength}, 3, 0},
		{"500 until retries run out", []step{status(500)}, 3, 500},
		{"400 is not retried", []step{status(400)}, 1, 400},
		{"401 is not retried", []step{status(401)}, 1, 401},
		{"a Retry-After too long fails now", []step{status(429, "Retry-After", "3600"), scoresByLength}, 1, 429},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newRerankServer(t, tc.steps...)
			got, err := s.reranker().Rerank(t.Context(), "q", remoteHits())
			if n := s.calls.Load(); n != tc.wantCalls {
				t.Errorf("%d calls, want %d", n, tc.wantCalls)
			}
			if tc.wantErr == 0 {
				if err != nil || len(got) != 3 || got[0].ID != "long" {
					t.Errorf("got %v, %v; want the reranked hits", ids(got), err)
				}
				return
			}
			var re *RemoteError
			if !errors.As(err, &re) || re.Status != tc.wantErr || re.Body == "" {
				t.Errorf("err = %v, want a RemoteError with status %d and its body", err, tc.wantErr)
			}
		})
	}
}

func TestRemoteRerankerTimeout(t *testing.T) {
	stall := func(w http.ResponseWriter, r *http.Request, _ rerankRequest) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
	s := newRerankServer(t, stall)
	rr := s.reranker()
	rr.Timeout = 50 * time.Millisecond
	start := time.Now()
	_, err := rr.Rerank(t.Context(), "q", remoteHits())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
	// Bounds here only tell "the timeout ended it" from "the stalled
	// server did", with room for a busy machine.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v with a 50 ms timeout", d)
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("%d calls: a timed-out attempt must not be retried", n)
	}

	// The caller's cancellation ends a backoff wait at once, well before
	// the server's 10 s Retry-After (the longest one still waited for).
	s = newRerankServer(t, status(503, "Retry-After", "10"))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := s.reranker().Rerank(ctx, "q", remoteHits()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the caller's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled backoff took %v", d)
	}
}

func TestRemoteRerankerBadResponses(t *testing.T) {
	for name, body := range map[string]string{
		"index out of range": `{"results":[{"index":7,"relevance_score":0.5}]}`,
		"index twice":        `{"results":[{"index":0,"relevance_score":0.5},{"index":0,"relevance_score":0.4}]}`,
		"not JSON":           `<html>gateway</html>`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newRerankServer(t, func(w http.ResponseWriter, _ *http.Request, _ rerankRequest) { fmt.Fprint(w, body) })
			if _, err := s.reranker().Rerank(t.Context(), "q", remoteHits()); !errors.Is(err, errBadResponse) {
				t.Errorf("err = %v, want errBadResponse", err)
			}
			if n := s.calls.Load(); n != 1 {
				t.Errorf("%d calls: a malformed answer is not retried", n)
			}
		})
	}
}

func TestRetrieveWithRemoteReranker(t *testing.T) {
	f := newFake()
	for id, text := range map[string]string{"c1": "one", "c2": "two two", "c3": "three three three", "c4": "four four four four"} {
		ref := f.chunks[id]
		ref.Chunk.Text = text
		f.chunks[id] = ref
	}
	s := newRerankServer(t, scoresByLength, status(500))
	opts := Options{Gate: GateNone, Reranker: s.reranker(), TopK: 3}
	res, err := New(f, opts).Retrieve(t.Context(), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c4", "c3", "c2"}; !slices.Equal(ids(res.Hits), want) {
		t.Errorf("hits %v, want the API's order %v", ids(res.Hits), want)
	}
	// The API is now down: answers keep coming, in fused order.
	res, err = New(f, opts).Retrieve(t.Context(), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c2", "c1", "c4"}; !slices.Equal(ids(res.Hits), want) || res.Errors["rerank"] == nil {
		t.Errorf("hits %v, errors %v; want the fused order %v and the error", ids(res.Hits), res.Errors, want)
	}
}
