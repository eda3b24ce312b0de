package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
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

// sizeText formats a byte count for messages: 512 bytes, 64 KiB, 1.5 MiB.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
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
