package llm

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"llmops/store"
)

func TestStreamDeltasInOrder(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		answer(w, "Hel", "lo", ", wor", "ld")
	})
	c := newTestClient(t, srv.URL, nil)
	var got []string
	res, err := c.Stream(context.Background(), hello(), func(d string) error {
		got = append(got, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Hel", "lo", ", wor", "ld"}; !slices.Equal(got, want) {
		t.Errorf("got deltas %q, want %q", got, want)
	}
	if res.Text != "Hello, world" {
		t.Errorf("got text %q, want %q", res.Text, "Hello, world")
	}
	if want := (Usage{PromptTokens: 12, CompletionTokens: 5, Reported: true}); res.Usage != want {
		t.Errorf("got usage %+v, want %+v", res.Usage, want)
	}
	if res.Model != "m" || res.FinishReason != "stop" || res.Attempts != 1 {
		t.Errorf("got model %q, finish %q, attempts %d; want m, stop, 1", res.Model, res.FinishReason, res.Attempts)
	}
	if res.TTFT <= 0 || res.TTFT > res.Duration {
		t.Errorf("got TTFT %v and duration %v, want 0 < TTFT <= duration", res.TTFT, res.Duration)
	}
}

func TestStreamRequestBody(t *testing.T) {
	t.Parallel()
	zero := float32(0)
	for _, tc := range []struct {
		model     string
		wantMax   string // the field that carries MaxTokens
		wantTemp  bool
		noMaxName string
	}{
		{model: "llama3.1:8b", wantMax: "max_tokens", wantTemp: true, noMaxName: "max_completion_tokens"},
		{model: "gpt-5-mini", wantMax: "max_completion_tokens", wantTemp: false, noMaxName: "max_tokens"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			t.Parallel()
			srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, "ok") })
			c := newTestClient(t, srv.URL, func(o *Options) { o.Model = tc.model })
			req := hello()
			req.Temperature, req.MaxTokens = &zero, 50
			if _, err := c.Complete(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			body := srv.body(1)
			if body["model"] != tc.model || body["stream"] != true {
				t.Errorf("got model %v, stream %v; want %s, true", body["model"], body["stream"], tc.model)
			}
			if so, _ := body["stream_options"].(map[string]any); so["include_usage"] != true {
				t.Errorf("got stream_options %v, want include_usage true", body["stream_options"])
			}
			if body[tc.wantMax] != float64(50) || body[tc.noMaxName] != nil {
				t.Errorf("got %s=%v and %s=%v, want 50 and none", tc.wantMax, body[tc.wantMax], tc.noMaxName, body[tc.noMaxName])
			}
			temp, sent := body["temperature"]
			if sent != tc.wantTemp || (sent && temp != float64(0)) {
				t.Errorf("got temperature %v (sent %v), want sent=%v with 0", temp, sent, tc.wantTemp)
			}
			msgs, _ := body["messages"].([]any)
			if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" || msgs[1].(map[string]any)["content"] != "Hi" {
				t.Errorf("got messages %v, want the system and user turns", msgs)
			}
			srv.mu.Lock()
			auth := srv.headers[0].Get("Authorization")
			srv.mu.Unlock()
			if auth != "Bearer k" {
				t.Errorf("got Authorization %q, want %q", auth, "Bearer k")
			}
		})
	}
}

func TestUsageCountedLocally(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		s := startSSE(w)
		s.delta("Hello")
		s.delta(" world")
		s.finish("stop")
		s.done() // no usage chunk, as older llama.cpp and LM Studio do
	})
	c := newTestClient(t, srv.URL, nil)
	res, err := c.Complete(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	// "Be brief." is 3 tokens, "Hi" 1, "Hello world" 2; each message adds
	// 4 and the reply 3.
	if want := (Usage{PromptTokens: 3 + 4 + 3 + 4 + 1, CompletionTokens: 2}); res.Usage != want {
		t.Errorf("got usage %+v, want %+v", res.Usage, want)
	}
}

func TestCountTokens(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": 0, "Hello world": 2, "Be brief.": 3} {
		if got := CountTokens(s); got != want {
			t.Errorf("CountTokens(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestRetryAfter429(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			apiError(w, http.StatusTooManyRequests, "slow down")
			return
		}
		answer(w, "ok")
	})
	c := newTestClient(t, srv.URL, nil)
	res, err := c.Complete(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || srv.requests.Load() != 2 || res.Text != "ok" {
		t.Errorf("got %d attempts, %d requests, text %q; want 2, 2, ok", res.Attempts, srv.requests.Load(), res.Text)
	}
	// Retry-After: 2 waits two retryAfterUnits (200 ms here).
	srv.mu.Lock()
	gap := srv.times[1].Sub(srv.times[0])
	srv.mu.Unlock()
	if gap < 2*retryAfterUnit {
		t.Errorf("retried after %v, want at least %v", gap, 2*retryAfterUnit)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 3 ", 3 * time.Second},
		{"-5", 0},
		{now.Add(12 * time.Second).Format(http.TimeFormat), 12 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// A long Retry-After is capped at 30 s before scaling.
	if got, want := scaleRetryAfter(min(parseRetryAfter("3600", now), maxRetryAfter)), 30*retryAfterUnit; got != want {
		t.Errorf("capped wait = %v, want %v", got, want)
	}
}

func TestRateLimitedAfterRetries(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "1")
		apiError(w, http.StatusTooManyRequests, "slow down")
	})
	c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 2 })
	res, err := c.Complete(context.Background(), hello())
	wantCode(t, err, store.ERATELIMITED, "m-test", "(429)", "try again in 1 s", "after 3 attempts")
	if res != nil {
		t.Errorf("got response %+v, want nil when nothing was received", res)
	}
	if got := srv.requests.Load(); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
}

func TestRetryServerErrors(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			apiError(w, http.StatusInternalServerError, "oops")
		case 2:
			http.Error(w, "bad gateway", http.StatusBadGateway) // not JSON, as proxies answer
		case 3:
			abort() // connection dropped before any answer
		default:
			answer(w, "ok")
		}
	})
	c := newTestClient(t, srv.URL, nil)
	res, err := c.Complete(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 4 || res.Text != "ok" {
		t.Errorf("got %d attempts, text %q; want 4, ok", res.Attempts, res.Text)
	}
}

func TestServerErrorsExhaustRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		maxRetries   int
		wantRequests int64
	}{
		{"default", 0, 4},
		{"disabled", -1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				apiError(w, http.StatusServiceUnavailable, "overloaded")
			})
			c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = tc.maxRetries })
			_, err := c.Complete(context.Background(), hello())
			wantCode(t, err, store.EUNAVAILABLE, "m-test", "HTTP 503")
			if got := srv.requests.Load(); got != tc.wantRequests {
				t.Errorf("got %d requests, want %d", got, tc.wantRequests)
			}
		})
	}
}

func TestRefusalsNotRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   string
	}{
		{http.StatusBadRequest, "rejected the request"},
		{http.StatusUnauthorized, "refused the configured API key"},
		{http.StatusForbidden, "refused the configured API key"},
		{http.StatusNotFound, "does not know model m-test"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				apiError(w, tc.status, "no")
			})
			c := newTestClient(t, srv.URL, nil)
			_, err := c.Complete(context.Background(), hello())
			wantCode(t, err, store.EUNAVAILABLE, tc.want)
			if got := srv.requests.Load(); got != 1 {
				t.Errorf("got %d requests, want 1", got)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, "http://"+addr, func(o *Options) { o.MaxRetries = 2 })
	_, err = c.Complete(context.Background(), hello())
	wantCode(t, err, store.EUNAVAILABLE, "m-test", "connection refused", "after 3 attempts")
}

func TestNoRetryAfterContent(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		s := startSSE(w)
		s.delta("Hel")
		abort()
	})
	c := newTestClient(t, srv.URL, nil)
	var got strings.Builder
	res, err := c.Stream(context.Background(), hello(), func(d string) error {
		got.WriteString(d)
		return nil
	})
	wantCode(t, err, store.EUNAVAILABLE, "m-test", "connection")
	if srv.requests.Load() != 1 || got.String() != "Hel" {
		t.Errorf("got %d requests and text %q, want 1 and %q", srv.requests.Load(), got.String(), "Hel")
	}
	if res == nil || res.Text != "Hel" || res.TTFT <= 0 || res.Attempts != 1 {
		t.Errorf("got response %+v, want the partial text, its TTFT and 1 attempt", res)
	}
}

func TestMalformedChunk(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		before   string // content sent before the bad chunk
		chunk    string
		wantText string
	}{
		{name: "invalid JSON", chunk: `{"id":"chatcmpl-1","choices":[{"delta":`},
		{name: "OpenAI error", chunk: `{"error":{"message":"The server had an error","type":"server_error"}}`},
		{name: "vLLM error", chunk: `{"object":"error","message":"boom","type":"InternalServerError","code":500}`},
		{name: "error after content", before: "Hel", chunk: `{"id":"chatcmpl-1","choices":[],"error":{"message":"boom"}}`, wantText: "Hel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				s := startSSE(w)
				if tc.before != "" {
					s.delta(tc.before)
				}
				s.data(tc.chunk)
				s.done()
			})
			c := newTestClient(t, srv.URL, nil)
			res, err := c.Complete(context.Background(), hello())
			wantCode(t, err, store.EUNAVAILABLE, "malformed stream chunk", "m-test")
			if got := srv.requests.Load(); got != 1 {
				t.Errorf("got %d requests, want 1", got)
			}
			if tc.wantText != "" && (res == nil || res.Text != tc.wantText) {
				t.Errorf("got response %+v, want text %q", res, tc.wantText)
			}
		})
	}
}

func TestCancelWhileStalled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		headers bool // the server answers 200 and a role chunk first
	}{
		{"before headers", false},
		{"after headers", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gone := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			var cancelled atomic.Int64 // when the server cancelled the caller, in Unix ns
			srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tc.headers {
					startSSE(w).data(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`)
				}
				// Cancel once the request is in flight, not after a fixed
				// delay that a busy machine may outlast before sending it.
				cancelled.Store(time.Now().UnixNano())
				cancel()
				stall(r, gone)
			})
			// Without cancellation the call would wait for the first-token
			// timeout; make it long enough that only cancelling ends it.
			c := newTestClient(t, srv.URL, func(o *Options) { o.FirstTokenTimeout = 2 * time.Minute })
			_, err := c.Complete(ctx, hello())
			if late := time.Since(time.Unix(0, cancelled.Load())); late >= 30*time.Second {
				t.Errorf("returned %v after the cancel, want it to end the call, not a timeout", late)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want an error that is context.Canceled", err)
			}
			wantCode(t, err, store.EUNAVAILABLE, "cancelled", "m-test")
			waitClosed(t, gone)
		})
	}
}

func TestCallerDeadline(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) { stall(r, nil) })
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Complete(ctx, hello())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want an error that is context.DeadlineExceeded", err)
	}
	wantCode(t, err, store.EUNAVAILABLE, "no answer from model m-test within")
}

func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan time.Time, 1)
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "30") // the capped wait: 30 retryAfterUnits, 3 s here
		apiError(w, http.StatusTooManyRequests, "slow down")
		answered <- time.Now()
	})
	c := newTestClient(t, srv.URL, nil)
	go func() {
		<-answered
		time.Sleep(20 * time.Millisecond) // let the client start its wait
		cancel()
	}()
	_, err := c.Complete(ctx, hello())
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("got %d requests, want 1", got)
	}
	srv.mu.Lock()
	since := time.Since(srv.times[0])
	srv.mu.Unlock()
	if wait := 30 * retryAfterUnit; since >= wait {
		t.Errorf("returned %v after the 429, want before the %v wait ended", since, wait)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want an error that is context.Canceled", err)
	}
}

func TestFirstTokenTimeout(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		s := startSSE(w)
		s.data(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`)
		stall(r, gone)
	})
	c := newTestClient(t, srv.URL, func(o *Options) { o.FirstTokenTimeout = 100 * time.Millisecond })
	_, err := c.Complete(context.Background(), hello())
	wantCode(t, err, store.EUNAVAILABLE, "no answer from model m-test within 100ms")
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want a timeout that is not the caller's context error", err)
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("got %d requests, want 1 (timeouts are not retried)", got)
	}
	waitClosed(t, gone)
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		startSSE(w).delta("Hel")
		stall(r, gone)
	})
	c := newTestClient(t, srv.URL, func(o *Options) { o.IdleTimeout = 100 * time.Millisecond })
	res, err := c.Complete(context.Background(), hello())
	wantCode(t, err, store.EUNAVAILABLE, "model m-test stopped mid-answer", "100ms")
	if res == nil || res.Text != "Hel" || res.TTFT <= 0 {
		t.Errorf("got response %+v, want the partial text and its TTFT", res)
	}
	waitClosed(t, gone)
}

// TestTimersPerGap checks that FirstTokenTimeout stops mattering once
// content arrives and that IdleTimeout bounds each gap, not the whole:
// the stream lasts longer than either timeout, each gap well under them
// (with room for a busy machine to be late).
func TestTimersPerGap(t *testing.T) {
	t.Parallel()
	const gap, timeout = 450 * time.Millisecond, 2 * time.Second
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		s := startSSE(w)
		for _, d := range []string{"a", "b", "c", "d", "e", "f"} {
			s.delta(d)
			time.Sleep(gap)
		}
		s.finish("stop")
		s.done()
	})
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.FirstTokenTimeout = timeout
		o.IdleTimeout = timeout
	})
	res, err := c.Complete(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "abcdef" {
		t.Errorf("got text %q, want abcdef", res.Text)
	}
}

func TestOnDeltaErrorStops(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		s := startSSE(w)
		s.delta("one ")
		s.delta("two ")
		s.delta("three")
		stall(r, gone)
	})
	c := newTestClient(t, srv.URL, nil)
	errStop := errors.New("client went away")
	calls := 0
	res, err := c.Stream(context.Background(), hello(), func(d string) error {
		calls++
		if calls == 2 {
			return errStop
		}
		return nil
	})
	if err != errStop {
		t.Errorf("got error %v, want the callback's own", err)
	}
	if calls != 2 || res == nil || res.Text != "one two " {
		t.Errorf("got %d calls and response %+v, want 2 calls and text %q", calls, res, "one two ")
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("got %d requests, want 1", got)
	}
	waitClosed(t, gone)
}

func TestEmptyStreamRetried(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			startSSE(w) // 200 and then nothing
			return
		}
		answer(w, "ok")
	})
	c := newTestClient(t, srv.URL, nil)
	res, err := c.Complete(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 {
		t.Errorf("got %d attempts, want 2", res.Attempts)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, "ok") })
	for _, suffix := range []string{"", "/", "/v1", "/v1/"} {
		c := newTestClient(t, srv.URL+suffix, nil)
		if _, err := c.Complete(context.Background(), hello()); err != nil {
			t.Errorf("base URL %q: %v", srv.URL+suffix, err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i, p := range srv.paths {
		if p != "/v1/chat/completions" {
			t.Errorf("request %d went to %q, want /v1/chat/completions", i+1, p)
		}
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{
		{BaseURL: "http://127.0.0.1:11434", Model: " "},
		{BaseURL: "", Model: "m"},
		{BaseURL: "127.0.0.1:11434", Model: "m"},
		{BaseURL: "ftp://example.com", Model: "m"},
		{BaseURL: "http://", Model: "m"},
	} {
		_, err := New(opts)
		if store.ErrorCode(err) != store.EINVALID {
			t.Errorf("New(%+v) = %v, want an EINVALID error", opts, err)
		}
	}
	c, err := New(Options{BaseURL: "https://api.openai.com", Model: "gpt-4o"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Model() != "gpt-4o" || c.opts.MaxRetries != 3 || c.opts.FirstTokenTimeout != 90*time.Second || c.opts.IdleTimeout != 30*time.Second {
		t.Errorf("got %+v, want model gpt-4o and the default retries and timeouts", c.opts)
	}
}

func TestRequestValidates(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://127.0.0.1:1", nil)
	for _, req := range []Request{
		{},
		{Messages: []Message{{Role: "tool", Content: "x"}}},
		{Messages: []Message{{Role: "user", Content: "x"}}, MaxTokens: -1},
	} {
		if _, err := c.Complete(context.Background(), req); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("Complete(%+v) = %v, want an EINVALID error", req, err)
		}
	}
}

// waitClosed fails unless the server saw the client hang up: the stream
// was closed, not left to a goroutine.
func waitClosed(t *testing.T, gone <-chan struct{}) {
	t.Helper()
	select {
	case <-gone:
	case <-time.After(30 * time.Second):
		t.Error("the server still holds the connection; the stream was not closed")
	}
}
