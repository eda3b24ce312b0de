package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// statusOf is the one place error codes become HTTP statuses.
func statusOf(code string) int {
	switch code {
	case store.EINVALID:
		return http.StatusBadRequest
	case store.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case store.EFORBIDDEN:
		return http.StatusForbidden
	case store.ENOTFOUND:
		return http.StatusNotFound
	case store.ECONFLICT:
		return http.StatusConflict
	case store.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case store.ERATELIMITED:
		return http.StatusTooManyRequests
	case store.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// codeOfStatus names the code for errors that arrive as bare statuses
// (echo's routing errors).
func codeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return store.EINVALID
	case http.StatusUnauthorized:
		return store.EUNAUTHORIZED
	case http.StatusForbidden:
		return store.EFORBIDDEN
	case http.StatusNotFound:
		return store.ENOTFOUND
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestTimeout:
		return codeRequestTimeout
	case http.StatusConflict:
		return store.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		return store.ETOOLARGE
	case http.StatusTooManyRequests:
		return store.ERATELIMITED
	case http.StatusServiceUnavailable:
		return store.EUNAVAILABLE
	}
	return store.EINTERNAL
}

// codeRequestTimeout is the code of a request whose body arrived too
// slowly (408). It is HTTP's alone, so it lives here rather than in store.
const codeRequestTimeout = "request_timeout"

// apiError is the JSON error body: {"error": {"code", "message"}}.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// handleError turns any handler error into a JSON error (API) or an error
// page (UI). Internal details are logged with the request ID, never shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, store.EINTERNAL, "Internal error."
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		return // the client went away; nobody is left to answer
	case errors.Is(err, context.DeadlineExceeded):
		status, code, msg = http.StatusServiceUnavailable, store.EUNAVAILABLE, "The request took too long; try again or narrow it down."
		s.log.Warn("request timed out", "request_id", requestID(c), "path", c.Request().URL.Path, "err", err)
	case errors.As(err, &mbe):
		status, code, msg = http.StatusRequestEntityTooLarge, store.ETOOLARGE, "Request body is too large."
	case errors.Is(err, errBodyTimeout):
		status, code, msg = http.StatusRequestTimeout, codeRequestTimeout, "The request body arrived too slowly; send it again."
	case errors.As(err, &he):
		status, code = he.Code, codeOfStatus(he.Code)
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(he.Code)
		}
	default:
		code = store.ErrorCode(err)
		status, msg = statusOf(code), store.ErrorMessage(err)
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", requestID(c), "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if wantsJSON(c) {
		var body apiError
		body.Error.Code, body.Error.Message = code, msg
		_ = c.JSON(status, body)
		return
	}
	if status == http.StatusUnauthorized {
		_ = c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		return
	}
	page := ui.ErrorPage{Status: status, Title: http.StatusText(status), Message: msg}
	if status == http.StatusNotFound {
		page.Title = "Page not found"
		if msg == http.StatusText(status) { // the router's own message says no more than the title
			page.Message = "Nothing lives at this address. Check the link, or start again from the overview."
		}
	}
	if p := principalOf(c); p != nil && p.user != nil {
		v := viewerOf(c)
		page.Viewer = &v // signed in: the page keeps its sidebar
	}
	if status == http.StatusForbidden {
		page.Message = msg + " Ask an admin if you need access."
	}
	if rerr := render(c, status, ui.ErrorView(page)); rerr != nil {
		s.log.Error("render error page", "request_id", requestID(c), "err", rerr)
		_ = c.String(status, msg)
	}
}

// wantsJSON reports whether the client speaks the JSON API rather than
// browsing pages.
func wantsJSON(c echo.Context) bool {
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == otlpTracesPath {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
