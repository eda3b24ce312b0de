package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sashabaranov/go-openai"
)

// Retry waits: the first retry waits about baseBackoff, each next one
// twice as long, up to maxBackoff; a 429's Retry-After wins, up to
// maxRetryAfter. Tests shorten the variables; nothing else writes them.
const (
	defaultBaseBackoff = 500 * time.Millisecond
	defaultMaxBackoff  = 8 * time.Second
	maxRetryAfter      = 30 * time.Second
)

var (
	baseBackoff    = defaultBaseBackoff
	maxBackoff     = defaultMaxBackoff
	retryAfterUnit = time.Second // how long one second of Retry-After waits
)

// Stream sends the request with stream=true and
// stream_options.include_usage=true and calls onDelta with each content
// delta as it arrives, in order, from the calling goroutine. If onDelta
// returns an error, streaming stops and that error is returned as is.
//
// Failures before the first delta are retried as Options.MaxRetries
// allows; after it they are not, since the caller already has the text.
// Other errors are *store.Error values naming the model and the cause;
// they wrap ctx.Err() when ctx ended. On error the Response is non-nil
// when the server had begun to stream, with the partial Text, TTFT and
// Attempts so far.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(delta string) error) (*Response, error) {
	if err := c.check(req); err != nil {
		return nil, err
	}
	if onDelta == nil {
		onDelta = func(string) error { return nil }
	}
	creq := c.chatRequest(req)
	start := time.Now()
	for attempt := 1; ; attempt++ {
		w := &wire{temperature: c.temperature(req)}
		res := &Response{Model: c.opts.Model, Attempts: attempt}
		var st attemptState
		err := c.attempt(ctx, creq, w, res, start, &st, onDelta)
		res.Duration = time.Since(start)
		if err == nil || st.chunks > 0 {
			c.fillUsage(res, req, st.usage)
		}
		if err == nil {
			return res, nil
		}
		if st.chunks == 0 {
			res = nil
		}
		if cb, ok := err.(*callbackError); ok {
			return res, cb.err
		}
		if ctx.Err() != nil {
			return res, c.ended(ctx, time.Since(start))
		}
		f := c.classify(err)
		if st.delivered || !f.retry || attempt > c.opts.MaxRetries {
			return res, c.fail(f, w, attempt)
		}
		wait := backoff(attempt - 1)
		if f.status == 429 && w.retryAfter > 0 {
			wait = w.retryAfter
		}
		if sleep(ctx, wait) != nil {
			return nil, c.ended(ctx, time.Since(start))
		}
	}
}

// Complete is Stream without a callback, for callers that want the whole
// answer at once (eval judges).
func (c *Client) Complete(ctx context.Context, req Request) (*Response, error) {
	return c.Stream(ctx, req, nil)
}

// attemptState is what one attempt got.
type attemptState struct {
	chunks    int         // stream chunks decoded
	delivered bool        // content was handed to onDelta: no retry now
	usage     *chunkUsage // the last usage the server reported
}

// streamChunk is one "data:" line of the stream, reduced to what is used.
// Error and Object catch the two shapes of in-stream errors: OpenAI's
// {"error": {...}} and older vLLM's {"object": "error", ...}.
type streamChunk struct {
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chunkUsage     `json:"usage"`
	Error json.RawMessage `json:"error"`
}

type chunkUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// attempt sends the request once and reads its stream into res and st.
// Two timers bound it, each cancelling the attempt's context with a
// *timeoutError as cause, which aborts a blocked read at once: the first
// runs until the first content delta, the second from each chunk after.
func (c *Client) attempt(ctx context.Context, creq openai.ChatCompletionRequest, w *wire, res *Response, start time.Time, st *attemptState, onDelta func(string) error) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	first := time.AfterFunc(c.opts.FirstTokenTimeout, func() {
		cancel(&timeoutError{after: c.opts.FirstTokenTimeout, first: true})
	})
	defer first.Stop()
	var idle *time.Timer
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()

	stream, err := c.client.CreateChatCompletionStream(context.WithValue(actx, wireKey{}, w), creq)
	if err != nil {
		return c.timedOut(ctx, actx, err)
	}
	defer stream.Close()
	var text strings.Builder
	defer func() { res.Text = text.String() }()
	for {
		raw, err := stream.RecvRaw()
		if err == io.EOF { // [DONE], or the body ended
			if st.chunks == 0 {
				return errNoAnswer
			}
			return nil
		}
		var apiErr *openai.APIError
		if errors.As(err, &apiErr) || errors.Is(err, openai.ErrTooManyEmptyStreamMessages) {
			return &malformedError{err}
		}
		if err != nil {
			return c.timedOut(ctx, actx, err)
		}
		var chunk streamChunk
		if err := json.Unmarshal(raw, &chunk); err != nil {
			return &malformedError{fmt.Errorf("%w in %q", err, clip(string(raw), 200))}
		}
		if (len(chunk.Error) > 0 && string(chunk.Error) != "null") || chunk.Object == "error" {
			return &malformedError{fmt.Errorf("error chunk %q", clip(string(raw), 500))}
		}
		st.chunks++
		if idle != nil {
			idle.Reset(c.opts.IdleTimeout)
		}
		if chunk.Model != "" {
			res.Model = chunk.Model
		}
		if chunk.Usage != nil {
			st.usage = chunk.Usage
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 { // only one choice is asked for
				continue
			}
			if ch.FinishReason != "" {
				res.FinishReason = ch.FinishReason
			}
			if ch.Delta.Content == "" {
				continue
			}
			if !st.delivered {
				st.delivered = true
				res.TTFT = time.Since(start)
				first.Stop()
				idle = time.AfterFunc(c.opts.IdleTimeout, func() {
					cancel(&timeoutError{after: c.opts.IdleTimeout})
				})
			}
			text.WriteString(ch.Delta.Content)
			if err := onDelta(ch.Delta.Content); err != nil {
				return &callbackError{err}
			}
		}
	}
}

// timedOut returns the attempt's timeout instead of err when a timer, not
// the caller or the server, ended the attempt.
func (c *Client) timedOut(ctx, actx context.Context, err error) error {
	var te *timeoutError
	if ctx.Err() == nil && actx.Err() != nil && errors.As(context.Cause(actx), &te) {
		return te
	}
	return err
}

// fillUsage sets res.Usage from the server's report or, failing that, by
// counting tokens here.
func (c *Client) fillUsage(res *Response, req Request, u *chunkUsage) {
	if u != nil && (u.PromptTokens > 0 || u.CompletionTokens > 0) {
		res.Usage = Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Reported: true}
		return
	}
	res.Usage = Usage{PromptTokens: promptTokens(req.Messages), CompletionTokens: CountTokens(res.Text)}
}

// backoff is the wait before retry n+1: exponential with jitter over its
// upper half, so that clients that failed together do not retry together.
func backoff(n int) time.Duration {
	d := min(baseBackoff<<min(n, 20), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// clip shortens s to about n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
