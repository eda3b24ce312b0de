// Package remote is an embed.Embedder for any OpenAI-compatible
// /v1/embeddings server (OpenAI, Azure-style proxies, vLLM, Ollama,
// LM Studio, text-embeddings-inference...). It batches inputs, retries
// rate limits and server errors with backoff, bounds every request by a
// timeout, and checks that the server keeps to one dimension.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sashabaranov/go-openai"

	"llmops/rag/embed"
)

// Options configures a Remote.
type Options struct {
	// BaseURL is the server's address, with or without the trailing /v1,
	// e.g. "https://api.openai.com" or "http://127.0.0.1:11434/v1".
	BaseURL string
	// APIKey is sent as a bearer token; local servers may need none.
	APIKey string
	// Model is the embedding model's name on the server (required).
	Model string
	// Dim is the expected dimension; 0 learns it from the first response.
	Dim int
	// BatchSize is the number of texts per request (default 64).
	BatchSize int
	// MaxRetries is how often a failed request is retried (default 4; a
	// negative value disables retries).
	MaxRetries int
	// Timeout bounds each request, retries included separately (default 30s).
	Timeout time.Duration
}

// Version is the Model().Version of every Remote: the server owns the
// model, so its name is all that identifies it.
const Version = "api"

// Backoff bounds: the first retry waits about baseBackoff, each next one
// twice as long, never more than maxBackoff. A Retry-After header wins,
// up to maxRetryAfter.
const (
	baseBackoff   = 500 * time.Millisecond
	maxBackoff    = 20 * time.Second
	maxRetryAfter = 60 * time.Second
)

// Remote embeds texts with an OpenAI-compatible server. It is safe for
// concurrent use.
type Remote struct {
	opts    Options
	server  string // base URL as given, for messages
	client  *openai.Client
	backoff time.Duration // first retry delay; tests shorten it

	mu  sync.Mutex
	dim int // 0 until known
}

var _ embed.Embedder = (*Remote)(nil)

// New checks opts and returns a Remote. It makes no request.
func New(opts Options) (*Remote, error) {
	if opts.Model == "" {
		return nil, errors.New("remote embedder: no model name")
	}
	u, err := url.Parse(strings.TrimSpace(opts.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote embedder: base URL %q is not an http(s) URL", opts.BaseURL)
	}
	if opts.Dim < 0 {
		return nil, fmt.Errorf("remote embedder: negative dimension %d", opts.Dim)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 64
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 4
	} else if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	base := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	cfg := openai.DefaultConfig(opts.APIKey)
	cfg.BaseURL = base
	cfg.HTTPClient = retryAfterRecorder{http.DefaultClient}
	return &Remote{
		opts:    opts,
		server:  strings.TrimRight(opts.BaseURL, "/"),
		client:  openai.NewClientWithConfig(cfg),
		backoff: baseBackoff,
		dim:     opts.Dim,
	}, nil
}

// Model reports the model. Its Dim is 0 until the first successful
// response when Options.Dim is 0; Dimension finds it out.
func (r *Remote) Model() embed.Model {
	r.mu.Lock()
	defer r.mu.Unlock()
	return embed.Model{Name: r.opts.Model, Version: Version, Dim: r.dim}
}

// Dimension returns the model's dimension, asking the server with a
// one-word request if it is not known yet.
func (r *Remote) Dimension(ctx context.Context) (int, error) {
	if d := r.Model().Dim; d > 0 {
		return d, nil
	}
	if _, err := r.EmbedQuery(ctx, "dimension"); err != nil {
		return 0, err
	}
	return r.Model().Dim, nil
}

// EmbedQuery embeds one text.
func (r *Remote) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := r.EmbedDocuments(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// EmbedDocuments embeds texts in batches of Options.BatchSize, in order,
// and L2-normalises the vectors (servers differ on whether they do).
func (r *Remote) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for lo := 0; lo < len(texts); lo += r.opts.BatchSize {
		hi := min(len(texts), lo+r.opts.BatchSize)
		if err := r.embedBatch(ctx, texts[lo:hi], out[lo:hi]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// embedBatch sends one request, retrying what may pass, and fills out.
func (r *Remote) embedBatch(ctx context.Context, texts []string, out [][]float32) error {
	for attempt := 0; ; attempt++ {
		var wait time.Duration
		resp, err := r.request(ctx, texts, &wait)
		if err == nil {
			return r.collect(resp, out)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("embedding server at %s: %w", r.server, ctx.Err())
		}
		if !retryable(err) || attempt >= r.opts.MaxRetries {
			return r.describe(err, attempt+1)
		}
		if wait == 0 {
			wait = r.backoffFor(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("embedding server at %s: %w (while waiting to retry: %v)", r.server, ctx.Err(), r.describe(err, attempt+1))
		case <-t.C:
		}
	}
}

// request makes one attempt under the per-request timeout. wait receives
// the server's Retry-After, if any.
func (r *Remote) request(ctx context.Context, texts []string, wait *time.Duration) (openai.EmbeddingResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, retryAfterKey{}, wait)
	return r.client.CreateEmbeddings(ctx, openai.EmbeddingRequest{
		Input: texts,
		Model: openai.EmbeddingModel(r.opts.Model),
	})
}

// backoffFor is the delay before retry attempt+1: exponential with full
// jitter over its upper half, so that clients that failed together do not
// retry together.
func (r *Remote) backoffFor(attempt int) time.Duration {
	d := min(r.backoff<<min(attempt, 20), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// collect puts the response's vectors in input order, checking that each
// input got exactly one vector of the model's dimension.
func (r *Remote) collect(resp openai.EmbeddingResponse, out [][]float32) error {
	if len(resp.Data) != len(out) {
		return fmt.Errorf("embedding server at %s returned %d vectors for %d inputs", r.server, len(resp.Data), len(out))
	}
	for _, e := range resp.Data {
		if e.Index < 0 || e.Index >= len(out) || out[e.Index] != nil {
			return fmt.Errorf("embedding server at %s returned a bad or repeated index %d", r.server, e.Index)
		}
		if err := r.checkDim(len(e.Embedding)); err != nil {
			return err
		}
		v := e.Embedding
		if !embed.Normalize(v) {
			return fmt.Errorf("embedding server at %s returned a zero or non-finite vector for input %d", r.server, e.Index)
		}
		out[e.Index] = v
	}
	return nil
}

// checkDim learns the dimension from the first vector and holds every
// later one to it: vectors of two sizes cannot share an index.
func (r *Remote) checkDim(n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n == 0 {
		return fmt.Errorf("embedding server at %s returned an empty vector", r.server)
	}
	if r.dim == 0 {
		r.dim = n
	}
	if n != r.dim {
		return fmt.Errorf("embedding server at %s returned %d-dimensional vectors, want %d (did the model change?): %w",
			r.server, n, r.dim, embed.ErrDimension)
	}
	return nil
}

// StatusError is a response the server refused with an HTTP status.
type StatusError struct {
	Server   string
	Status   int
	Message  string
	Attempts int
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("embedding server at %s answered %d: %s", e.Server, e.Status, e.Message)
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return msg
}

func (r *Remote) describe(err error, attempts int) error {
	if status, msg, ok := httpStatus(err); ok {
		return &StatusError{Server: r.server, Status: status, Message: msg, Attempts: attempts}
	}
	suffix := ""
	if attempts > 1 {
		suffix = fmt.Sprintf(" (after %d attempts)", attempts)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("embedding server at %s did not answer within %v%s: %w", r.server, r.opts.Timeout, suffix, err)
	}
	return fmt.Errorf("embedding server at %s: %w%s", r.server, err, suffix)
}

// httpStatus extracts the status and message of a go-openai error.
func httpStatus(err error) (int, string, bool) {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatusCode > 0 {
		return apiErr.HTTPStatusCode, apiErr.Message, true
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) && reqErr.HTTPStatusCode > 0 {
		msg := strings.TrimSpace(string(reqErr.Body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg == "" {
			msg = reqErr.HTTPStatus
		}
		return reqErr.HTTPStatusCode, msg, true
	}
	return 0, "", false
}

// retryable reports whether another attempt may succeed: rate limits,
// server errors, timeouts and network failures may pass; other 4xx
// answers (bad key, unknown model, input too long) will not.
func retryable(err error) bool {
	if status, _, ok := httpStatus(err); ok {
		return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// retryAfterKey carries a *time.Duration through the request context for
// retryAfterRecorder to fill: go-openai's errors do not expose headers.
type retryAfterKey struct{}

type retryAfterRecorder struct{ c *http.Client }

func (d retryAfterRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	if wait, ok := req.Context().Value(retryAfterKey{}).(*time.Duration); ok {
		*wait = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
