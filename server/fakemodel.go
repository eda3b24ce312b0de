package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"
)

// fakeModel is an OpenAI-compatible /v1/chat/completions upstream that
// speaks the real streaming wire format, for `llmops bench chat` and the
// tests. Its answer quotes the first sentence of context passage [1] and
// cites it, so a correct pipeline grounds it.
type fakeModel struct {
	srv *httptest.Server
	// ttft delays the first token of every answer.
	ttft time.Duration

	mu sync.Mutex
	// script[i] decides request i: "429", "500", "stall", "malformed" or
	// "" (answer); requests past the script are answered.
	script   []string
	requests int
	gone     chan time.Time // when a stalled request's context ended
	usage    bool
}

var passageOne = regexp.MustCompile(`(?s)\[1\][^\n]*\n(.*?)(?:\n\[2\]|\nQuestion:)`)

func (f *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	var body struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":{"message":"bad request body"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	step := ""
	if f.requests < len(f.script) {
		step = f.script[f.requests]
	}
	f.requests++
	f.mu.Unlock()

	switch step {
	case "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}`)
		return
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"overloaded"}}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	if step == "stall" {
		select {
		case <-r.Context().Done():
			f.gone <- time.Now()
		case <-time.After(20 * time.Second):
		}
		return
	}
	if f.ttft > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(f.ttft):
		}
	}
	chunk := func(delta, finish string) {
		fin := "null"
		if finish != "" {
			fin = `"` + finish + `"`
		}
		d, _ := json.Marshal(delta)
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":%s}]}\n\n", d, fin)
		fl.Flush()
	}
	if step == "malformed" {
		chunk("Sure", "")
		fmt.Fprint(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"x\"}\n\n")
		fl.Flush()
		return
	}
	user := ""
	if n := len(body.Messages); n > 0 {
		user = body.Messages[n-1].Content
	}
	text := "I don't know based on the documentation."
	if m := passageOne.FindStringSubmatch(user); m != nil {
		first := strings.TrimSpace(m[1])
		if i := strings.IndexAny(first, ".\n"); i > 0 {
			first = first[:i]
		}
		text = strings.TrimSpace(first) + ". [1]"
	}
	for _, piece := range strings.SplitAfter(text, " ") {
		chunk(piece, "")
	}
	chunk("", "stop")
	if f.usage {
		fmt.Fprint(w, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":1234,"completion_tokens":56,"total_tokens":1290}}`+"\n\n")
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}
