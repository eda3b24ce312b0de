// Package llm is the chat-model side of the assistant: a streaming client
// for any OpenAI-compatible /v1/chat/completions server (OpenAI, Ollama,
// vLLM, llama.cpp, LM Studio, gateways), built on go-openai.
//
// A Client retries rate limits, server errors and dropped connections,
// but only until the first words of the answer have been handed to the
// caller, so text is never repeated. It bounds the wait for the first
// token and every gap after it, and turns each failure into a
// *store.Error whose message says which model failed and why. Token
// usage comes from the server when it reports it and from the cl100k
// tokenizer otherwise; a PriceTable turns it into dollars.
package llm

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"

	"llmops/store"
)

// Options configures a Client.
type Options struct {
	// BaseURL is the server's address, with or without the trailing /v1,
	// e.g. "http://127.0.0.1:11434/v1" or "https://api.openai.com".
	BaseURL string
	// APIKey is sent as a bearer token; local servers may need none.
	APIKey string
	// Model is the chat model's name on the server (required).
	Model string
	// MaxRetries is how often a failed request is retried (default 3; a
	// negative value disables retries).
	MaxRetries int
	// FirstTokenTimeout bounds the wait for the first content token of
	// each attempt (default 90s).
	FirstTokenTimeout time.Duration
	// IdleTimeout bounds the gap between stream chunks once content has
	// begun to arrive (default 30s).
	IdleTimeout time.Duration
	// HTTPClient sends the requests (default http.DefaultClient). Its
	// Timeout, if any, bounds whole streams, so leave it zero.
	HTTPClient *http.Client
}

const (
	defaultMaxRetries        = 3
	defaultFirstTokenTimeout = 90 * time.Second
	defaultIdleTimeout       = 30 * time.Second
)

// Client talks to one model on one server. It is safe for concurrent use.
type Client struct {
	opts   Options
	client *openai.Client
}

// New checks opts, fills in defaults and returns a Client. It makes no
// request.
func New(opts Options) (*Client, error) {
	opts.Model = strings.TrimSpace(opts.Model)
	if opts.Model == "" {
		return nil, store.Errorf(store.EINVALID, "no chat model name is configured")
	}
	u, err := url.Parse(strings.TrimSpace(opts.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, store.Errorf(store.EINVALID, "the model API base URL %q is not an http(s) URL", opts.BaseURL)
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = defaultMaxRetries
	} else if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.FirstTokenTimeout <= 0 {
		opts.FirstTokenTimeout = defaultFirstTokenTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	base := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	cfg := openai.DefaultConfig(opts.APIKey)
	cfg.BaseURL = base
	cfg.HTTPClient = wireDoer{opts.HTTPClient}
	// Blank lines and ": keep-alive" comments count as empty messages;
	// servers that think for a long time send many of them.
	cfg.EmptyMessagesLimit = 100_000
	return &Client{opts: opts, client: openai.NewClientWithConfig(cfg)}, nil
}

// Model returns the configured model name.
func (c *Client) Model() string { return c.opts.Model }

// WithModel returns a client like c (same server, key and limits) that
// asks model instead: a prompt version's config may name its own model.
func (c *Client) WithModel(model string) *Client {
	cp := *c
	cp.opts.Model = strings.TrimSpace(model)
	return &cp
}

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// Request is what to ask the model.
type Request struct {
	Messages []Message
	// Temperature is sent as given, zero included; nil leaves it to the
	// server.
	Temperature *float32
	// MaxTokens caps the answer's length; 0 leaves it to the server.
	MaxTokens int
}

// Usage is a request's token count.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	// Reported is true when the server reported the counts and false
	// when they were counted here with the cl100k tokenizer.
	Reported bool
}

// Response is a model's answer and how it went.
type Response struct {
	Text string
	// Model is the model as reported by the server, else the configured one.
	Model string
	Usage Usage
	// TTFT is the time from the start of the first attempt to the first
	// content delta.
	TTFT         time.Duration
	Duration     time.Duration
	Attempts     int
	FinishReason string
}

// check refuses requests that no server would answer.
func (c *Client) check(req Request) error {
	if len(req.Messages) == 0 {
		return store.Errorf(store.EINVALID, "a request to model %s has no messages", c.opts.Model)
	}
	for i, m := range req.Messages {
		switch m.Role {
		case openai.ChatMessageRoleSystem, openai.ChatMessageRoleUser, openai.ChatMessageRoleAssistant:
		default:
			return store.Errorf(store.EINVALID, "message %d to model %s has role %q, want system, user or assistant", i+1, c.opts.Model, m.Role)
		}
	}
	if req.MaxTokens < 0 {
		return store.Errorf(store.EINVALID, "a request to model %s has negative max tokens %d", c.opts.Model, req.MaxTokens)
	}
	return nil
}

// chatRequest is req in go-openai's terms. The temperature travels apart
// (see wire) because go-openai drops a zero temperature.
func (c *Client) chatRequest(req Request) openai.ChatCompletionRequest {
	msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	out := openai.ChatCompletionRequest{
		Model:         c.opts.Model,
		Messages:      msgs,
		Stream:        true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	}
	// OpenAI's reasoning models refuse max_tokens (and go-openai refuses
	// to send it to them); everyone else knows max_tokens best.
	if reasoningModel(c.opts.Model) {
		out.MaxCompletionTokens = req.MaxTokens
	} else {
		//lint:ignore SA1019 go-openai deprecates max_tokens for OpenAI's own reasoning models; Ollama, llama.cpp, vLLM and older gateways read only max_tokens.
		out.MaxTokens = req.MaxTokens
	}
	return out
}

// temperature is the temperature to send, if any. OpenAI's reasoning
// models accept only their default and answer 400 to anything else.
func (c *Client) temperature(req Request) *float32 {
	if req.Temperature == nil || reasoningModel(c.opts.Model) {
		return nil
	}
	return req.Temperature
}

// reasoningModel reports whether model is one of OpenAI's reasoning
// models, by the same name prefixes go-openai checks.
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// seconds formats d the way people write timeouts: "90s", not "1m30s".
func seconds(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
