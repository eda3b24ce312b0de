package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/rag/assistant"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// post sends a JSON body with headers ("Key: value" pairs).
func post(tb testing.TB, url, body string, headers ...string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// sseEvent is one parsed server-sent event; comments are kept as events
// named ":".
type sseEvent struct {
	name string
	data string
}

// readSSE parses a stream until it ends, calling each(ev) as events arrive.
func readSSE(r io.Reader, each func(sseEvent)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				each(ev)
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			each(sseEvent{name: ":"})
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
	return sc.Err()
}

func decodeBody[T any](tb testing.TB, res *http.Response) T {
	tb.Helper()
	defer res.Body.Close()
	var v T
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestAskAPI(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	key := keyFor(t, s, store.RoleViewer)
	auth := []string{"Authorization", "Bearer " + key}

	res := post(t, s.URL()+"/api/v1/ask", `{"question":"How do I cancel my subscription?"}`, auth...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("ask: %d", res.StatusCode)
	}
	ans := decodeBody[assistant.Result](t, res)
	if ans.Fallback || len(ans.Citations) == 0 || ans.TraceID == "" || ans.ConversationID == "" || ans.Citations[0].DocumentID == "" {
		t.Fatalf("answer = %+v", ans)
	}

	// The trace is there with its spans and the asking key.
	if err := s.traces.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr, spans, err := s.store.Trace(context.Background(), ans.TraceID)
	if err != nil || tr.Kind != schema.KindAsk || tr.Attributes[schema.AttrChannel] != schema.ChannelAPI || len(spans) < 8 {
		t.Fatalf("trace %+v with %d spans: %v", tr, len(spans), err)
	}

	// A follow-up in the same conversation is rewritten.
	res = post(t, s.URL()+"/api/v1/ask", `{"question":"what about annual plans?","conversation_id":"`+ans.ConversationID+`"}`, auth...)
	follow := decodeBody[assistant.Result](t, res)
	if res.StatusCode != http.StatusOK || follow.ConversationID != ans.ConversationID || follow.Standalone == "" {
		t.Fatalf("follow-up: %d %+v", res.StatusCode, follow)
	}

	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"question":"  "}`, 400, store.EINVALID},
		{`{"question":"hi","top_k":99}`, 400, store.EINVALID},
		{`{"question":"hi","colour":"red"}`, 400, store.EINVALID},
		{`{"question":"hi","conversation_id":"01HZZZZZZZZZZZZZZZZZZZZZZZ"}`, 404, store.ENOTFOUND},
	} {
		for _, path := range []string{"/api/v1/ask", "/api/v1/ask/stream"} {
			res := post(t, s.URL()+path, tc.body, auth...)
			e := decodeBody[apiError](t, res)
			if res.StatusCode != tc.status || e.Error.Code != tc.code {
				t.Errorf("%s %s: %d %+v, want %d %s", path, tc.body, res.StatusCode, e, tc.status, tc.code)
			}
		}
	}
}

func TestAskStream(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	key := keyFor(t, s, store.RoleViewer)
	res := post(t, s.URL()+"/api/v1/ask/stream", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+key)
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var names []string
	var text strings.Builder
	var done assistant.Result
	err := readSSE(res.Body, func(ev sseEvent) {
		if len(names) == 0 || names[len(names)-1] != ev.name {
			names = append(names, ev.name)
		}
		switch ev.name {
		case "token":
			var tok struct{ Text string }
			json.Unmarshal([]byte(ev.data), &tok)
			text.WriteString(tok.Text)
		case "done":
			if err := json.Unmarshal([]byte(ev.data), &done); err != nil {
				t.Errorf("done: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "meta,token,citations,done" {
		t.Errorf("events %s", got)
	}
	if text.String() != done.Answer || len(done.Citations) == 0 {
		t.Errorf("streamed %q, done %+v", text.String(), done)
	}

	// Feedback right after the answer finds its trace (flushed on demand).
	res = post(t, s.URL()+"/api/v1/feedback", `{"trace_id":"`+done.TraceID+`","value":-1,"comment":"missing the refund part"}`, "Authorization", "Bearer "+key)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("feedback: %d", res.StatusCode)
	}
	fb, err := s.store.FeedbackFor(context.Background(), done.TraceID)
	if err != nil || len(fb) != 1 || fb[0].Comment != "missing the refund part" {
		t.Fatalf("feedback = %+v, %v", fb, err)
	}

	// A client that sends thumbs the instant done arrives, before the
	// stream has even closed, finds the trace every time.
	for i := range 10 {
		res := post(t, s.URL()+"/api/v1/ask/stream", `{"question":"How do I reset my password?"}`, "Authorization", "Bearer "+key)
		readSSE(res.Body, func(ev sseEvent) {
			if ev.name != "done" {
				return
			}
			var d assistant.Result
			json.Unmarshal([]byte(ev.data), &d)
			fr := post(t, s.URL()+"/api/v1/feedback", `{"trace_id":"`+d.TraceID+`","value":1}`, "Authorization", "Bearer "+key)
			fr.Body.Close()
			if fr.StatusCode != http.StatusCreated {
				t.Errorf("feedback %d at done: %d", i, fr.StatusCode)
			}
		})
		res.Body.Close()
	}
}

// stallAnswerer is a model that never says anything until cancelled.
type stallAnswerer struct{ cancelled chan time.Time }

func (stallAnswerer) Name() string { return "stall" }
func (a stallAnswerer) Generate(ctx context.Context, in assistant.Input, token func(string) error) (*assistant.Generation, error) {
	<-ctx.Done()
	a.cancelled <- time.Now()
	return &assistant.Generation{Model: "stall", Start: time.Now(), End: time.Now()}, ctx.Err()
}

// TestAskStreamKeepaliveAndCancel: while the model is silent, keepalive
// comments flow; when the client leaves, the model call is cancelled at
// once and the trace says so.
func TestAskStreamKeepaliveAndCancel(t *testing.T) {
	t.Parallel()
	s := sampleServer(t, func(c *Config) { c.KeepAlive = 100 * time.Millisecond })
	stall := stallAnswerer{cancelled: make(chan time.Time, 1)}
	var err error
	s.asst, err = assistant.New(assistant.Options{Retriever: retrieve.New(s.kb, retrieve.Options{}), Answerer: stall, Traces: s.traces, Conversations: s.store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	key := keyFor(t, s, store.RoleViewer)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/api/v1/ask/stream", strings.NewReader(`{"question":"How do I cancel my subscription?"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu         sync.Mutex
		keepalives int
		traceID    string
		cancelled  time.Time
	)
	go readSSE(res.Body, func(ev sseEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.name {
		case ":":
			keepalives++
			if keepalives == 3 {
				cancelled = time.Now()
				cancel()
			}
		case "meta":
			var m struct {
				TraceID string `json:"trace_id"`
			}
			json.Unmarshal([]byte(ev.data), &m)
			traceID = m.TraceID
		}
	})
	// The stalled model would wait forever: only the client leaving ends
	// it. The bounds leave a busy machine plenty of room.
	select {
	case at := <-stall.cancelled:
		mu.Lock()
		if d := at.Sub(cancelled); d > 10*time.Second {
			t.Errorf("model cancelled %s after the client left", d)
		}
		mu.Unlock()
	case <-time.After(time.Minute):
		t.Fatal("model call never cancelled")
	}
	mu.Lock()
	id := traceID
	mu.Unlock()
	// The trace is written as the handler returns; wait for it.
	deadline := time.Now().Add(time.Minute)
	for {
		s.traces.Flush(context.Background())
		tr, _, err := s.store.Trace(context.Background(), id)
		if err == nil {
			if tr.Status != schema.StatusCancelled || !strings.Contains(tr.Error, "cancelled") {
				t.Fatalf("trace %s %q", tr.Status, tr.Error)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: %v", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWidgetAPI(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	admin := keyFor(t, s, store.RoleAdmin)
	const site = "http://help.example.com"
	res := post(t, s.URL()+"/api/v1/keys", `{"name":"Help centre","kind":"publishable","origins":["`+site+`"],"rate_per_minute":3}`, "Authorization", "Bearer "+admin)
	created := decodeBody[struct {
		Key     string
		Kind    string
		Origins []string
	}](t, res)
	if res.StatusCode != http.StatusCreated || created.Kind != "publishable" || !strings.HasPrefix(created.Key, store.PublishableKeyPrefix) {
		t.Fatalf("create publishable key: %d %+v", res.StatusCode, created)
	}
	pk := created.Key
	url := s.URL() + widgetPrefix + "ask/stream"

	// Preflight from any origin; the request itself is checked.
	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", site)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != site ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") || pre.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}

	// A browser on the allowed site: cross-site fetch metadata, no cookies.
	res = post(t, url, `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+pk, "Origin", site, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("widget ask: %d %v", res.StatusCode, res.Header)
	}
	var done assistant.Result
	readSSE(res.Body, func(ev sseEvent) {
		if ev.name == "done" {
			json.Unmarshal([]byte(ev.data), &done)
		}
	})
	res.Body.Close()
	if done.TraceID == "" || len(done.Citations) == 0 {
		t.Fatalf("widget answer %+v", done)
	}
	if done.Model != "" || done.Retrieved != nil || done.Prompt != "" {
		t.Errorf("widget answer shows the team's internals: model %q prompt %q retrieved %v", done.Model, done.Prompt, done.Retrieved)
	}
	s.traces.Flush(context.Background())
	if tr, _, err := s.store.Trace(context.Background(), done.TraceID); err != nil || tr.Attributes[schema.AttrChannel] != schema.ChannelWidget {
		t.Fatalf("widget trace %+v: %v", tr, err)
	}

	// Feedback on its own answer; not on someone else's.
	res = post(t, s.URL()+widgetPrefix+"feedback", `{"trace_id":"`+done.TraceID+`","value":1}`, "Authorization", "Bearer "+pk, "Origin", site, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("widget feedback: %d", res.StatusCode)
	}
	res.Body.Close()
	staff := post(t, s.URL()+"/api/v1/ask", `{"question":"How do I reset my password?"}`, "Authorization", "Bearer "+admin)
	other := decodeBody[assistant.Result](t, staff)
	res = post(t, s.URL()+widgetPrefix+"feedback", `{"trace_id":"`+other.TraceID+`","value":-1}`, "Authorization", "Bearer "+pk, "Origin", site)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("feedback on a staff trace: %d, want 404", res.StatusCode)
	}
	res.Body.Close()

	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"other origin", []string{"Authorization", "Bearer " + pk, "Origin", "https://evil.example.com"}, 403},
		{"no origin", []string{"Authorization", "Bearer " + pk}, 403},
		{"secret key", []string{"Authorization", "Bearer " + admin, "Origin", site}, 401},
		{"no key", []string{"Origin", site}, 401},
	} {
		res := post(t, url, `{"question":"hi there"}`, tc.headers...)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, body, tc.status)
		}
		if tc.name == "other origin" && res.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("%s: the page cannot read why (no CORS header)", tc.name)
		}
	}

	// Rate limit: 3 per minute per visitor; the first one above was one.
	var last *http.Response
	for range 3 {
		last = post(t, s.URL()+widgetPrefix+"ask", `{"question":"How do I reset my password?"}`, "Authorization", "Bearer "+pk, "Origin", site)
		io.Copy(io.Discard, last.Body)
		last.Body.Close()
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("4th ask in a minute: %d (Retry-After %q), want 429", last.StatusCode, last.Header.Get("Retry-After"))
	}

	// Feedback has its own per-visitor bucket (3 a minute here; two used).
	for range 2 {
		last = post(t, s.URL()+widgetPrefix+"feedback", `{"trace_id":"`+done.TraceID+`","value":1}`, "Authorization", "Bearer "+pk, "Origin", site)
		last.Body.Close()
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Errorf("4th feedback in a minute: %d, want 429", last.StatusCode)
	}

	// The widget script is served at its fixed address.
	js, err := http.Get(s.URL() + "/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(js.Body)
	js.Body.Close()
	if js.StatusCode != 200 || !strings.Contains(js.Header.Get("Content-Type"), "javascript") || !bytes.Contains(b, []byte("widget/ask/stream")) {
		t.Fatalf("widget.js: %d %s (%d bytes)", js.StatusCode, js.Header.Get("Content-Type"), len(b))
	}
}
