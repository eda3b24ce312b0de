package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/rag/assistant"
	"llmops/rag/index"
	"llmops/store"
	"llmops/store/schema"
)

// askRequest is the body of POST /api/v1/ask and /ask/stream.
type askRequest struct {
	Question       string `json:"question"`
	ConversationID string `json:"conversation_id"`
	Filters        struct {
		Category       string   `json:"category"`
		ProductVersion string   `json:"product_version"`
		Tags           []string `json:"tags"`
	} `json:"filters"`
	TopK int `json:"top_k"`
}

// askFrom decodes and checks an ask body, before any response is sent:
// a bad request gets a plain JSON error even on the streaming route.
func askFrom(c echo.Context, channel string) (assistant.Request, error) {
	var body askRequest
	if err := decodeJSON(c, &body); err != nil {
		return assistant.Request{}, err
	}
	p := principalOf(c)
	req := assistant.Request{
		Question: body.Question, ConversationID: body.ConversationID, TopK: body.TopK,
		Filters: p.scope(index.Filter{Category: body.Filters.Category, ProductVersion: body.Filters.ProductVersion, Tags: body.Filters.Tags}),
		Channel: channel, Actor: p.actor, UserID: p.actor.ID, SessionID: p.sessionID,
	}
	if channel == schema.ChannelWidget {
		// A prompt split keeps a widget visitor on one version across
		// conversations, as it keeps a conversation.
		req.StickyKey = "widget|" + p.key.ID + "|" + visitorOf(c.RealIP())
		req.Visitor = visitorID(req.StickyKey)
	}
	return req, req.Validate()
}

// channelOf names where an ask came from: the chat page (a session), an
// API key, or the widget.
func channelOf(c echo.Context) string {
	switch p := principalOf(c); {
	case p.key != nil && p.key.Publishable():
		return schema.ChannelWidget
	case p.user != nil:
		return schema.ChannelChat
	}
	return schema.ChannelAPI
}

// handleAsk answers a question in one JSON response.
func (s *Server) handleAsk(c echo.Context) error {
	req, err := askFrom(c, channelOf(c))
	if err != nil {
		return err
	}
	res, err := s.ask(c, c.Request().Context(), req, nil)
	if err != nil {
		return err
	}
	if req.Channel == schema.ChannelWidget {
		return c.JSON(http.StatusOK, publicResult(res))
	}
	return c.JSON(http.StatusOK, res)
}

// handleAskStream answers a question as server-sent events: meta, token…,
// citations, done (or error), with a keepalive comment while a slow model
// has nothing to say. Errors before the first event (a bad request, an
// unknown conversation) are plain JSON errors with their status.
func (s *Server) handleAskStream(c echo.Context) error {
	req, err := askFrom(c, channelOf(c))
	if err != nil {
		return err
	}
	// A stream ends when the answer does, the client leaves, or the server
	// begins to stop (the drain would otherwise wait for it).
	ctx, cancel := context.WithCancelCause(c.Request().Context())
	defer cancel(nil)
	defer context.AfterFunc(s.streams, func() { cancel(errStopping) })()
	sse := newSSE(c, s.cfg.KeepAlive)
	sse.public = req.Channel == schema.ChannelWidget
	defer sse.stop()
	_, err = s.ask(c, ctx, req, sse.event)
	if err == nil {
		return nil
	}
	stopping := errors.Is(context.Cause(ctx), errStopping)
	if !sse.started() && !stopping {
		return err // nothing sent yet: the error handler answers with a status
	}
	if !stopping && (c.Request().Context().Err() != nil || errors.Is(err, errClientGone)) {
		return nil // the client went away; the trace records it
	}
	var body apiError
	body.Error.Code, body.Error.Message = store.ErrorCode(err), store.ErrorMessage(err)
	switch {
	case stopping:
		body.Error.Code, body.Error.Message = store.EUNAVAILABLE, "The server is stopping; ask again in a moment."
	case errors.Is(err, context.DeadlineExceeded):
		body.Error.Code, body.Error.Message = store.EUNAVAILABLE, "The answer took too long; try again."
	}
	if body.Error.Code == store.EINTERNAL {
		s.log.Error("ask stream failed", "request_id", requestID(c), "err", err)
		body.Error.Message = "Internal error."
	}
	_ = sse.write("error", struct {
		apiError
		TraceID string `json:"trace_id,omitempty"`
	}{body, sse.traceID})
	return nil
}

// errClientGone is a failed write to the stream: the client left. It is a
// cancellation, traced as one.
var errClientGone = fmt.Errorf("client went away: %w", context.Canceled)

// sse writes server-sent events. The response is committed on the first
// event, so errors before it can still get a status code; from then on a
// keepalive comment goes out whenever nothing else has for a while.
type sse struct {
	ctx       context.Context
	resp      *echo.Response
	keepAlive time.Duration
	public    bool // a widget visitor: citations and done in their public shape

	mu      sync.Mutex
	begun   bool
	last    time.Time
	traceID string
	done    chan struct{}
	once    sync.Once
}

func newSSE(c echo.Context, keepAlive time.Duration) *sse {
	// Keep what is needed, not c: echo reuses contexts once the handler
	// returns, and the keepalive goroutine may still run then.
	return &sse{ctx: c.Request().Context(), resp: c.Response(), keepAlive: keepAlive, done: make(chan struct{})}
}

func (w *sse) started() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.begun
}

// event sends one assistant event.
func (w *sse) event(ev assistant.Event) error {
	switch ev.Type {
	case assistant.EventMeta:
		w.mu.Lock()
		w.traceID = ev.TraceID
		w.mu.Unlock()
		return w.write("meta", map[string]string{"trace_id": ev.TraceID, "conversation_id": ev.ConversationID})
	case assistant.EventToken:
		return w.write("token", map[string]string{"text": ev.Text})
	case assistant.EventCitations:
		if w.public {
			return w.write("citations", map[string]any{"citations": publicCitations(ev.Citations)})
		}
		return w.write("citations", map[string]any{"citations": ev.Citations})
	case assistant.EventDone:
		if w.public {
			return w.write("done", publicResult(ev.Result))
		}
		return w.write("done", ev.Result)
	}
	return nil
}

// write sends event name with v as its JSON data.
func (w *sse) write(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.begun {
		w.begin()
	}
	if _, err := fmt.Fprintf(w.resp, "event: %s\ndata: %s\n\n", name, data); err != nil {
		// The only way a write fails is the client going away, which can
		// be noticed here before the request context says so.
		return fmt.Errorf("%w: %v", errClientGone, err)
	}
	w.resp.Flush()
	w.last = time.Now()
	return nil
}

// begin commits the response headers and starts the keepalives. w.mu is held.
func (w *sse) begin() {
	h := w.resp.Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.resp.WriteHeader(http.StatusOK)
	w.begun = true
	if w.keepAlive <= 0 {
		return
	}
	go func() {
		// Checking four times an interval keeps every silence well under it.
		t := time.NewTicker(w.keepAlive / 4)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-w.ctx.Done():
				return
			case <-t.C:
				w.mu.Lock()
				select {
				case <-w.done:
					w.mu.Unlock()
					return
				default:
				}
				if time.Since(w.last) >= w.keepAlive/2 {
					if _, err := fmt.Fprint(w.resp, ": keepalive\n\n"); err == nil {
						w.resp.Flush()
						w.last = time.Now()
					}
				}
				w.mu.Unlock()
			}
		}
	}()
}

// stop ends the keepalives; nothing may write after the handler returns.
func (w *sse) stop() {
	w.once.Do(func() {
		w.mu.Lock()
		close(w.done)
		w.mu.Unlock()
	})
}
