package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/sashabaranov/go-openai"

	"llmops/store"
)

// timeoutError is the cause an attempt's timer cancels it with.
type timeoutError struct {
	after time.Duration
	first bool // waiting for the first token, not between chunks
}

func (e *timeoutError) Error() string {
	if e.first {
		return fmt.Sprintf("no content within %v", e.after)
	}
	return fmt.Sprintf("no stream chunk for %v", e.after)
}

// malformedError is a stream chunk that is not JSON or carries an error.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return "malformed stream chunk: " + e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

// callbackError carries onDelta's error out of the stream untouched.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// errNoAnswer is a stream that ended before its first chunk.
var errNoAnswer = errors.New("the stream ended without a chunk")

// failure is a classified attempt error.
type failure struct {
	code    string
	message string // for users, without the attempt count
	retry   bool
	status  int // HTTP status, if the server answered with one
	cause   error
}

// classify says what went wrong with an attempt, in words for users,
// and whether another attempt may go better: rate limits, server errors
// and lost connections may pass; refusals, timeouts (the next attempt
// would most likely time out too) and broken streams will not.
func (c *Client) classify(err error) failure {
	model := c.opts.Model
	f := failure{code: store.EUNAVAILABLE, cause: err}
	var te *timeoutError
	var me *malformedError
	var netErr net.Error
	switch status, ok := httpStatus(err); {
	case errors.As(err, &te) && te.first:
		f.message = fmt.Sprintf("no answer from model %s within %s", model, seconds(te.after))
	case errors.As(err, &te):
		f.message = fmt.Sprintf("model %s stopped mid-answer: nothing more within %s", model, seconds(te.after))
	case errors.As(err, &me):
		f.message = fmt.Sprintf("the model API sent a malformed stream chunk (model %s)", model)
	case errors.Is(err, errNoAnswer):
		f.message = fmt.Sprintf("the model API closed the stream without an answer (model %s)", model)
		f.retry = true
	case ok:
		f.status = status
		switch {
		case status == http.StatusTooManyRequests:
			f.code, f.retry = store.ERATELIMITED, true
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			f.message = fmt.Sprintf("the model API refused the configured API key for model %s (HTTP %d); check the model settings", model, status)
		case status == http.StatusNotFound:
			f.message = fmt.Sprintf("the model API does not know model %s (HTTP 404); check the model name and base URL", model)
		case status == http.StatusRequestTimeout || status >= 500:
			f.message = fmt.Sprintf("the model API failed to answer for model %s (HTTP %d)", model, status)
			f.retry = true
		default:
			f.message = fmt.Sprintf("the model API rejected the request to model %s (HTTP %d)", model, status)
		}
	case errors.As(err, &netErr) && netErr.Timeout():
		f.message = fmt.Sprintf("no answer from model %s: the HTTP client timed out", model)
	case errors.Is(err, syscall.ECONNREFUSED):
		f.message = fmt.Sprintf("cannot reach the model API for model %s (connection refused)", model)
		f.retry = true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		f.message = fmt.Sprintf("lost the connection to the model API for model %s", model)
		f.retry = true
	case errors.As(err, &netErr):
		f.message = fmt.Sprintf("cannot reach the model API for model %s (network error)", model)
		f.retry = true
	default:
		f.code = store.EINTERNAL
		f.message = fmt.Sprintf("the request to model %s failed", model)
	}
	return f
}

// fail is the error Stream returns for f after attempts attempts: a
// *store.Error for users that wraps the cause for logs.
func (c *Client) fail(f failure, w *wire, attempts int) error {
	msg := f.message
	if f.code == store.ERATELIMITED {
		wait := w.retryAfterRaw
		if wait <= 0 {
			wait = min(defaultBaseBackoff<<min(attempts, 20), defaultMaxBackoff)
		}
		msg = fmt.Sprintf("the model API is rate limiting requests for model %s (429); try again in %d s",
			c.opts.Model, int(math.Ceil(wait.Seconds())))
	}
	if attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", attempts)
	}
	return fmt.Errorf("%w: %w", store.Errorf(f.code, "%s", msg), f.cause)
}

// ended is the error for a ctx that was cancelled or ran out: it wraps
// ctx.Err() so callers can tell.
func (c *Client) ended(ctx context.Context, elapsed time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", store.Errorf(store.EUNAVAILABLE, "no answer from model %s within %s",
			c.opts.Model, roundElapsed(elapsed)), ctx.Err())
	}
	return fmt.Errorf("%w: %w", store.Errorf(store.EUNAVAILABLE, "the request to model %s was cancelled", c.opts.Model), ctx.Err())
}

func roundElapsed(d time.Duration) string {
	if d >= time.Second {
		return seconds(d.Round(time.Second))
	}
	return d.Round(time.Millisecond).String()
}

// httpStatus extracts the status of a go-openai error for an HTTP answer.
func httpStatus(err error) (int, bool) {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatusCode > 0 {
		return apiErr.HTTPStatusCode, true
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) && reqErr.HTTPStatusCode > 0 {
		return reqErr.HTTPStatusCode, true
	}
	return 0, false
}
