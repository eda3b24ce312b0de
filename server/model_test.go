package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"llmops/rag/assistant"
	"llmops/rag/llm/llmtest"
	"llmops/store"
	"llmops/store/schema"
)

func newFakeModel(tb testing.TB, script ...string) *llmtest.Server {
	f := llmtest.NewServer(llmtest.Options{Script: script, Usage: true})
	tb.Cleanup(f.Close)
	return f
}

func modelServer(tb testing.TB, f *llmtest.Server, options ...func(*Config)) *Server {
	return sampleServer(tb, append([]func(*Config){func(c *Config) {
		c.LLMBaseURL, c.LLMAPIKey, c.LLMModel = f.BaseURL(), "sk-test", "gpt-4o-mini"
	}}, options...)...)
}

// TestAskWithModel: a 429 is retried after Retry-After, tokens stream as
// the model sends them, usage and cost land on the answer and its trace.
func TestAskWithModel(t *testing.T) {
	t.Parallel()
	f := newFakeModel(t, "429")
	s := modelServer(t, f)
	key := keyFor(t, s, store.RoleViewer)
	res := post(t, s.URL()+"/api/v1/ask/stream", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+key)
	defer res.Body.Close()
	tokens := 0
	var done assistant.Result
	readSSE(res.Body, func(ev sseEvent) {
		switch ev.name {
		case "token":
			tokens++
		case "done":
			json.Unmarshal([]byte(ev.data), &done)
		case "error":
			t.Errorf("error event: %s", ev.data)
		}
	})
	if done.Fallback || len(done.Citations) != 1 || tokens < 3 {
		t.Fatalf("%d tokens, done %+v", tokens, done)
	}
	if done.TokensIn != 1234 || done.TokensOut != 56 || done.Model != "gpt-4o-mini-2024-07-18" || done.Prompt != "support-answer@1" {
		t.Errorf("usage %d/%d model %q prompt %q", done.TokensIn, done.TokensOut, done.Model, done.Prompt)
	}
	// gpt-4o-mini list price: $0.15 in, $0.60 out per million tokens.
	if want := (1234*0.15 + 56*0.60) / 1e6; done.CostUSD < want*0.99 || done.CostUSD > want*1.01 {
		t.Errorf("cost %v, want %v", done.CostUSD, want)
	}
	requests := f.Requests()
	if requests != 2 {
		t.Errorf("%d upstream requests, want 2 (429 then 200)", requests)
	}
	s.traces.Flush(context.Background())
	tr, spans, err := s.store.Trace(context.Background(), done.TraceID)
	if err != nil || tr.TokensIn != 1234 || tr.CostUSD != done.CostUSD {
		t.Fatalf("trace %+v: %v", tr, err)
	}
	var llmSpan *store.Span
	for i := range spans {
		if spans[i].Name == schema.SpanLLM {
			llmSpan = &spans[i]
		}
	}
	if llmSpan == nil || llmSpan.Attributes[schema.AttrAttempts] != float64(2) || llmSpan.Attributes[schema.AttrTTFTMS] == nil || llmSpan.Attributes[schema.AttrUsageReported] != true ||
		llmSpan.Attributes[schema.AttrOperationName] != schema.OperationChat || llmSpan.Attributes[schema.AttrRequestModel] == nil {
		t.Fatalf("llm span %+v", llmSpan)
	}
}

// TestAskModelStallsFirstToken: while the model is silent, keepalives
// reach the client; when the client leaves, the upstream request is
// cancelled (well before the fake gives up by itself).
func TestAskModelStallsFirstToken(t *testing.T) {
	t.Parallel()
	f := newFakeModel(t, "stall")
	s := modelServer(t, f, func(c *Config) { c.KeepAlive = 200 * time.Millisecond })
	key := keyFor(t, s, store.RoleViewer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/api/v1/ask/stream", strings.NewReader(`{"question":"How do I cancel my subscription?"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var keepalives atomic.Int32
	var left atomic.Int64
	go readSSE(res.Body, func(ev sseEvent) {
		if ev.name == ":" && keepalives.Add(1) == 3 {
			left.Store(time.Now().UnixNano())
			cancel()
		}
	})
	// The fake stalls for 20 s unless its request is cancelled; 10 s
	// tells the two apart with room for a busy machine.
	select {
	case at := <-f.Gone:
		if d := at.Sub(time.Unix(0, left.Load())); d > 10*time.Second {
			t.Errorf("upstream cancelled %s after the client left", d)
		}
	case <-time.After(19 * time.Second):
		t.Fatalf("upstream request not cancelled (%d keepalives seen)", keepalives.Load())
	}
}

// TestAskModelFaults: a malformed stream chunk and an upstream that keeps
// failing end the stream with a clear error event, recorded on the trace.
func TestAskModelFaults(t *testing.T) {
	t.Parallel()
	f := newFakeModel(t, "malformed", "500", "500", "500", "500")
	s := modelServer(t, f)
	key := keyFor(t, s, store.RoleViewer)
	for _, want := range []string{"malformed", "model"} {
		res := post(t, s.URL()+"/api/v1/ask/stream", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+key)
		var errEv struct {
			Error   struct{ Code, Message string }
			TraceID string `json:"trace_id"`
		}
		readSSE(res.Body, func(ev sseEvent) {
			if ev.name == "error" {
				json.Unmarshal([]byte(ev.data), &errEv)
			}
		})
		res.Body.Close()
		if errEv.Error.Code != store.EUNAVAILABLE || !strings.Contains(errEv.Error.Message, want) || errEv.TraceID == "" {
			t.Fatalf("error event %+v, want EUNAVAILABLE mentioning %q", errEv, want)
		}
		s.traces.Flush(context.Background())
		if tr, _, err := s.store.Trace(context.Background(), errEv.TraceID); err != nil || tr.Status != schema.StatusError || tr.Error == "" {
			t.Fatalf("trace %+v: %v", tr, err)
		}
	}
}

// TestPrices: the team's prices override the list prices for new answers.
func TestPrices(t *testing.T) {
	t.Parallel()
	f := newFakeModel(t)
	s := modelServer(t, f)
	admin := keyFor(t, s, store.RoleAdmin)
	req, _ := http.NewRequest(http.MethodPut, s.URL()+"/api/v1/settings/prices", strings.NewReader(`{"prices":[{"model":"gpt-4o-mini","input_per_mtok":1000,"output_per_mtok":2000}]}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("put prices: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	res = post(t, s.URL()+"/api/v1/ask", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+admin)
	ans := decodeBody[assistant.Result](t, res)
	if want := (1234*1000.0 + 56*2000.0) / 1e6; ans.CostUSD < want*0.99 || ans.CostUSD > want*1.01 {
		t.Errorf("cost %v, want %v with the team's prices", ans.CostUSD, want)
	}
	req, _ = http.NewRequest(http.MethodPut, s.URL()+"/api/v1/settings/prices", strings.NewReader(`{"prices":[{"model":"x","input_per_mtok":-1,"output_per_mtok":0}]}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("negative price: %v %v", res.StatusCode, err)
	}
}
