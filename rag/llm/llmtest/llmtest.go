// Package llmtest is an OpenAI-compatible chat upstream on loopback that
// speaks the real streaming wire format, for tests and load tests, as
// net/http/httptest is for HTTP. It is never part of the answer path.
package llmtest

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

// Options shape a Server's answers.
type Options struct {
	// TTFT delays the first token of every answer.
	TTFT time.Duration
	// Usage sends the final usage chunk (stream_options.include_usage).
	Usage bool
	// Script[i] decides request i: "429", "500", "stall", "malformed" or
	// "" (answer); requests past the script are answered.
	Script []string
	// Unsupported, when set, is appended to every answer as a second
	// sentence citing [1] that no passage supports, so the answer is only
	// partly grounded.
	Unsupported string
	// Reply, when set, writes every answer instead: it is given the last
	// message of the request (a judge's verdict, say).
	Reply func(lastMessage string) string
}

// Server is an OpenAI-compatible /v1/chat/completions upstream. Its
// answer quotes the first sentence of context passage [1] and cites it,
// so a correct pipeline grounds it.
type Server struct {
	*httptest.Server
	opts Options
	// Gone receives the time a stalled request's context ended.
	Gone chan time.Time

	mu       sync.Mutex
	requests int
}

// NewServer starts a Server; Close stops it.
func NewServer(opts Options) *Server {
	f := &Server{opts: opts, Gone: make(chan time.Time, 16)}
	f.Server = httptest.NewServer(f)
	return f
}

// BaseURL is the URL to configure as LLMOPS_LLM_BASE_URL.
func (f *Server) BaseURL() string { return f.URL + "/v1" }

// Requests counts the chat requests received so far.
func (f *Server) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// passageOne finds passage 1 of the answer prompt: fenced in
// <passage id="1" …> … </passage> (support-answer), or numbered "[1] …".
var passageOne = regexp.MustCompile(`(?s)<passage id="1"[^\n]*\n(.*?)\n</passage>|\[1\][^\n]*\n(.*?)(?:\n\[2\]|\nQuestion:)`)

// ServeHTTP answers one chat completion request.
func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	if f.requests < len(f.opts.Script) {
		step = f.opts.Script[f.requests]
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
			select {
			case f.Gone <- time.Now():
			default:
			}
		case <-time.After(20 * time.Second):
		}
		return
	}
	if f.opts.TTFT > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(f.opts.TTFT):
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
	if f.opts.Reply != nil {
		text = f.opts.Reply(user)
	} else if m := passageOne.FindStringSubmatch(user); m != nil {
		first := strings.TrimSpace(m[1] + m[2])
		if i := strings.IndexAny(first, ".\n"); i > 0 {
			first = first[:i]
		}
		text = strings.TrimSpace(first) + ". [1]"
		if f.opts.Unsupported != "" {
			text += " " + strings.TrimSpace(f.opts.Unsupported) + " [1]"
		}
	}
	for _, piece := range strings.SplitAfter(text, " ") {
		chunk(piece, "")
	}
	chunk("", "stop")
	if f.opts.Usage {
		fmt.Fprint(w, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":1234,"completion_tokens":56,"total_tokens":1290}}`+"\n\n")
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}
