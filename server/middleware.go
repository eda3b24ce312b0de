package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

// contentSecurityPolicy is sent with every response. Scripts come only
// from this site's own files (the pages have no inline script: the theme
// is applied by assets/theme.js), so injected markup cannot run code.
// Styles may be inline: pages size bars and columns with style
// attributes, and htmx and the chat widget add <style> elements. No page
// may be framed, so another site (same-site ones included) cannot overlay
// the signed-in admin pages to trick clicks.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// setSecurityHeaders adds the headers every response carries. They do
// not hinder the chat widget on other sites: its script and API are
// fetched, not framed, and /widget.js sets its own
// Cross-Origin-Resource-Policy so other origins may load it.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY") // for browsers without frame-ancestors
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// securityHeaders sets them before anything else runs, so error pages,
// redirects, static files and streams have them too.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setSecurityHeaders(c.Response().Header())
		return next(c)
	}
}

// accessLog writes one structured line per request.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // commit the response so the status below is final
		}
		r := c.Request()
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || strings.HasPrefix(r.URL.Path, "/static/") {
			return nil
		}
		s.log.Info("http", "request_id", requestID(c), "method", r.Method, "path", r.URL.Path,
			"status", c.Response().Status, "bytes", c.Response().Size, "duration", time.Since(start).Round(time.Microsecond), "remote", c.RealIP())
		return nil
	}
}

// limitBody caps request bodies at Config.MaxBodyBytes: a declared length
// over the cap gets 413 at once; an undeclared one fails when reading
// passes the cap, which the error handler also maps to 413.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit, what := s.cfg.MaxBodyBytes, "request body"
		if s.propsOf(c)&uploadBody != 0 {
			limit, what = s.cfg.MaxUploadBytes, "upload"
		}
		if r.ContentLength > limit {
			return store.Errorf(store.ETOOLARGE, "%s is %s; the limit is %s", what, sizeText(r.ContentLength), sizeText(limit))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

// bodyDeadline bounds how long a client may take to send its request body,
// so one trickling a body cannot hold a connection (and a handler) for
// long: Config.BodyTimeout, or Config.UploadTimeout on upload routes once
// the caller is known to be an editor or above. It runs after
// authenticate, so an anonymous upload gets the short deadline. A read
// that passes the deadline ends the request with 408 (errBodyTimeout) and
// the connection closes.
func (s *Server) bodyDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength == 0 {
			// No body: net/http is already reading ahead, without a
			// deadline, to notice the client leaving; a deadline here
			// would cancel the request when it passed.
			return next(c)
		}
		d := s.cfg.BodyTimeout
		if s.propsOf(c)&uploadBody != 0 && mayUpload(principalOf(c)) {
			d = s.cfg.UploadTimeout
		}
		// Real time, not s.now: the deadline is the connection's. Once the
		// body has been read to its end, net/http clears it.
		if err := http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(d)); err != nil {
			return next(c) // not a server connection (tests' recorders)
		}
		body := &deadlineBody{ReadCloser: r.Body}
		r.Body = body
		err := next(c)
		if !body.timedOut.Load() {
			return err
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.mets.bodyTimeouts.WithLabelValues(r.Method, route).Inc()
		s.log.Warn("request body too slow", "request_id", requestID(c), "path", r.URL.Path, "timeout", d, "remote", c.RealIP(), "err", err)
		// The rest of the body is still on the wire: the connection
		// cannot carry another request. The handler's error is not
		// wrapped: the failed read cancelled the request's context, and
		// a cancelled request gets no answer.
		c.Response().Header().Set(echo.HeaderConnection, "close")
		return fmt.Errorf("%w after %s", errBodyTimeout, d)
	}
}

// errBodyTimeout is a request body that did not arrive within its
// deadline; the error handler answers 408.
var errBodyTimeout = errors.New("request body read timed out")

// mayUpload reports whether p may take the long upload deadline.
func mayUpload(p *principal) bool {
	return p != nil && p.role.Allows(store.RoleEditor) && (p.key == nil || !p.key.Publishable())
}

// deadlineBody notes whether a read of the request body passed the
// connection's deadline, whatever the handler then made of the error.
type deadlineBody struct {
	io.ReadCloser
	timedOut atomic.Bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut.Store(true)
	}
	return n, err
}

// sizeText formats a byte count for messages: 512 bytes, 64 KiB, 1.5 MiB.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return oneDecimal(float64(n)/(1<<20)) + " MiB"
	}
	return oneDecimal(float64(n)/(1<<30)) + " GiB"
}

// oneDecimal shows x with one decimal, none when it is whole: "100 MiB",
// not "100.0 MiB".
func oneDecimal(x float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(x, 'f', 1, 64), ".0")
}

// timeout gives every request a deadline through its context, so slow work
// (store, retrieval, upstream models) is cancelled rather than piling up.
func (s *Server) timeout(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.propsOf(c)&noDeadline != 0 {
			return next(c) // bounded by the client: it ends when they disconnect
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// csrfProtect rejects cross-origin state-changing browser requests (Go's
// Sec-Fetch-Site / Origin check). Requests without those headers, such as
// curl or servers using API keys, are not browsers and pass through.
func (s *Server) csrfProtect(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	// The widget API takes cross-origin posts by design; it accepts only
	// publishable keys, never the session cookie a forged request would
	// ride on.
	cop.AddInsecureBypassPattern("POST " + widgetPrefix)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header()) // this answer never reaches echo's middleware
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"cross-origin request rejected"}}`))
			return
		}
		http.Error(w, "Cross-origin request rejected.", http.StatusForbidden)
	}))
	return cop.Handler(h)
}
