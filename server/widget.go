package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/assets"
	"llmops/rag/assistant"
	"llmops/rag/index"
	"llmops/store"
	"llmops/ui"
)

// widgetPrefix is where the chat widget's API lives. Only publishable keys
// are accepted there, never cookies, so it can take cross-origin requests
// without opening a CSRF hole.
const widgetPrefix = "/api/v1/widget/"

// widgetLimits rate-limits widget asks per publishable key and visitor
// address, each key at its own rate.
type widgetLimits struct {
	mu    sync.Mutex
	byKey map[string]*keyLimiter
}

type keyLimiter struct {
	rate int
	lim  *limiter
}

func (w *widgetLimits) allow(k *store.APIKey, visitor string, now time.Time) (bool, time.Duration) {
	w.mu.Lock()
	kl := w.byKey[k.ID]
	if kl == nil || kl.rate != k.RatePerMinute {
		rate := max(1, k.RatePerMinute)
		// A visitor may ask a handful at once, then rate per minute.
		kl = &keyLimiter{rate: k.RatePerMinute, lim: newLimiter(min(rate, 5), time.Minute/time.Duration(rate))}
		if w.byKey == nil {
			w.byKey = map[string]*keyLimiter{}
		}
		w.byKey[k.ID] = kl
	}
	w.mu.Unlock()
	return kl.lim.allow(visitor, now)
}

// widgetAnswer is an answer as a help site's visitors get it (the JSON
// answer and the stream's done event): its text, its sources by title
// and public address, and what the widget needs to go on and rate it.
// Source paths (the ingesting machine's), document and chunk IDs, scores,
// the model, prompt, tokens and cost are the team's business: the trace
// keeps them.
type widgetAnswer struct {
	Answer         string           `json:"answer"`
	Citations      []widgetCitation `json:"citations"`
	Fallback       bool             `json:"fallback"`
	Escalated      bool             `json:"escalated"`
	TraceID        string           `json:"trace_id"` // for feedback
	ConversationID string           `json:"conversation_id,omitempty"`
	Closest        []widgetArticle  `json:"closest,omitempty"` // on fallback: where to look instead
}

// widgetCitation is one source of a widget answer.
type widgetCitation struct {
	N         int    `json:"n"`
	Title     string `json:"title"`
	Snippet   string `json:"snippet"`
	SourceURL string `json:"source_url,omitempty"` // the document's public address, when it has one
}

// widgetArticle is a document a fallback answer suggests.
type widgetArticle struct {
	Title     string `json:"title"`
	SourceURL string `json:"source_url,omitempty"`
}

// publicResult is r as a widget visitor gets it.
func publicResult(r *assistant.Result) widgetAnswer {
	out := widgetAnswer{Answer: r.Answer, Citations: publicCitations(r.Citations), Fallback: r.Fallback, Escalated: r.Escalated,
		TraceID: r.TraceID, ConversationID: r.ConversationID}
	for _, d := range r.Closest {
		out.Closest = append(out.Closest, widgetArticle{Title: d.Title, SourceURL: d.SourceURL})
	}
	return out
}

// publicCitations are citations as a widget visitor gets them.
func publicCitations(cs []assistant.Citation) []widgetCitation {
	out := make([]widgetCitation, len(cs))
	for i, c := range cs {
		out[i] = widgetCitation{N: c.N, Title: c.Title, Snippet: c.Snippet, SourceURL: c.SourceURL}
	}
	return out
}

// scope bounds a request's retrieval filter by the caller's publishable
// key's scope; any other caller's filter is left as it is. The scope is
// added beside the request's own fields, which can only narrow it. A
// publishable key never sees chunks held by a rag/guard flag (text that
// addresses the assistant) until an editor approves them.
func (p *principal) scope(f index.Filter) index.Filter {
	if p == nil || p.key == nil || !p.key.Publishable() {
		return f
	}
	f.AnyCategories, f.AnyTags = p.key.Scope.Categories, p.key.Scope.Tags
	f.ExcludeHeld = true
	return f
}

// widgetCORS answers the widget API's preflights and marks its responses
// readable by the embedding page. Any origin gets the headers: the
// publishable key's allowed origins are enforced on the request itself
// (widgetAuth), and a page that may read our 403 learns only that it is
// not allowed.
func widgetCORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setWidgetCORS(c)
		h := c.Response().Header()
		if c.Request().Method == http.MethodOptions {
			h.Set(echo.HeaderAccessControlAllowMethods, "POST, OPTIONS")
			h.Set(echo.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, Accept")
			h.Set(echo.HeaderAccessControlMaxAge, "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

// setWidgetCORS lets the calling page read the response.
func setWidgetCORS(c echo.Context) {
	h := c.Response().Header()
	if origin := c.Request().Header.Get(echo.HeaderOrigin); origin != "" && h.Get(echo.HeaderAccessControlAllowOrigin) == "" {
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		h.Set(echo.HeaderAccessControlExposeHeaders, "Retry-After, X-Request-Id")
	}
}

// visitorID is the pseudonymous ID a widget visitor's traces carry: a
// hash of the key and the visitor's address, so the users page can count
// one visitor's asks without storing the address.
func visitorID(sticky string) string {
	sum := sha256.Sum256([]byte("llmops visitor\x00" + sticky))
	return hex.EncodeToString(sum[:6])
}

// visitorOf is the rate-limit key of a client address: the address, or
// its /64 for IPv6, which one host commonly holds whole.
func visitorOf(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Is4() || addr.Is4In6() {
		return ip
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// widgetAuth admits only publishable keys, from their allowed origins,
// within their rate: a bucket each per visitor for asks and feedback (the
// widget's check on page load has none).
func (s *Server) widgetAuth(path string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalOf(c)
			if p == nil || p.key == nil || !p.key.Publishable() {
				return store.Errorf(store.EUNAUTHORIZED, "send Authorization: Bearer PUBLISHABLE_KEY (a chat widget key from Settings → Chat widget)")
			}
			origin := c.Request().Header.Get(echo.HeaderOrigin)
			if !p.key.AllowsOrigin(origin) {
				if origin == "" {
					origin = "(none)"
				}
				return store.Errorf(store.EFORBIDDEN, "this widget key is not allowed on %s; add the origin in Settings → Chat widget", origin)
			}
			// Asks and feedback have a bucket each per visitor; feedback
			// is limited too, as every record is a write.
			visitor := visitorOf(c.RealIP())
			switch path {
			case widgetPrefix + "feedback", widgetPrefix + "contact":
				// Contact details share feedback's bucket.
				visitor = "feedback|" + visitor
			case widgetPrefix + "config":
				// A page view is not a question, and the check costs a key
				// lookup like any request: no bucket.
				return next(c)
			}
			if ok, wait := s.widgetLimits.allow(p.key, visitor, s.now()); !ok {
				c.Response().Header().Set("Retry-After", retryAfter(wait))
				return store.Errorf(store.ERATELIMITED, "too many requests; try again in %s s", retryAfter(wait))
			}
			return next(c)
		}
	}
}

// handleWidgetScript serves the embeddable widget at its fixed address.
// It is cached briefly, not forever: help sites embed this one URL, and a
// new release must reach them.
func (s *Server) handleWidgetScript(c echo.Context) error {
	data, zipped, err := widgetScript()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "public, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if strings.Contains(c.Request().Header.Get(echo.HeaderAcceptEncoding), "gzip") {
		h.Set(echo.HeaderContentEncoding, "gzip")
		data = zipped
	}
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", data)
}

// widgetScript is widget.js, plain and gzipped (a third of the bytes on
// every help-site page view), made once.
func widgetScript() (plain, zipped []byte, err error) {
	w := widgetScriptOnce()
	return w.plain, w.zipped, w.err
}

var widgetScriptOnce = sync.OnceValue(func() (w struct {
	plain, zipped []byte
	err           error
}) {
	if w.plain, w.err = assets.Read("widget.js"); w.err != nil {
		return w
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(w.plain)
	w.err = zw.Close()
	w.zipped = b.Bytes()
	return w
})

// handleWidgetFeedback records thumbs from the widget, only on answers
// the same key asked for.
func (s *Server) handleWidgetFeedback(c echo.Context) error {
	var req feedbackRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	tr, err := s.traceForFeedback(ctx, req.TraceID)
	if err != nil {
		return err
	}
	if p := principalOf(c); tr.UserID != p.key.ID {
		return store.Errorf(store.ENOTFOUND, "trace %s not found", req.TraceID)
	}
	return s.addFeedback(c, req)
}

// traceForFeedback reads the trace feedback is about. An answer given a
// moment ago may still be in the trace writer's queue: flush and look
// again before calling it unknown.
func (s *Server) traceForFeedback(ctx context.Context, id string) (*store.Trace, error) {
	switch {
	case id == "":
		return nil, store.Errorf(store.EINVALID, "trace_id is required")
	case len(id) > store.MaxIDLen:
		return nil, store.Errorf(store.EINVALID, "invalid trace_id")
	}
	tr, _, err := s.store.Trace(ctx, id)
	if store.ErrorCode(err) == store.ENOTFOUND {
		if ferr := s.traces.Flush(ctx); ferr != nil && !errors.Is(ferr, store.ErrClosed) {
			return nil, ferr
		}
		tr, _, err = s.store.Trace(ctx, id)
	}
	return tr, err
}

// Widget settings (Settings → Chat widget).

func (s *Server) widgetSettings(c echo.Context) (ui.WidgetSettings, error) {
	ctx := c.Request().Context()
	p := ui.WidgetSettings{Chrome: chrome(c, "Chat widget", "settings"), ScriptURL: s.baseURL(c) + "/widget.js", Now: s.now()}
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil {
		return p, err
	}
	for _, k := range keys {
		if !k.Publishable() {
			continue
		}
		p.Keys = append(p.Keys, ui.WidgetKey{ID: k.ID, Name: k.Name, Hint: k.Hint, Key: k.PublishableKey, Origins: k.Origins, RatePerMinute: k.RatePerMinute,
			Categories: k.Scope.Categories, Tags: k.Scope.Tags, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	docs, err := s.store.ListDocuments(ctx)
	if err != nil {
		return p, err
	}
	for _, d := range docs {
		if d.Category != "" && !slices.Contains(p.Categories, d.Category) {
			p.Categories = append(p.Categories, d.Category)
		}
	}
	slices.Sort(p.Categories)
	return p, nil
}

// scopeValues splits a scope form field: commas or line breaks between
// values, as categories may hold spaces.
func scopeValues(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
}

// baseURL is this server's address as the browser reached it.
func (s *Server) baseURL(c echo.Context) string {
	scheme := "http"
	if c.Request().TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

func (s *Server) handleWidgetPage(c echo.Context) error {
	p, err := s.widgetSettings(c)
	if err != nil {
		return err
	}
	p.Notice = noticeText(c.QueryParam("notice"))
	return render(c, http.StatusOK, ui.WidgetSettingsPage(p))
}

func (s *Server) handleWidgetKeyCreateForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	name := c.FormValue("name")
	origins := strings.FieldsFunc(c.FormValue("origins"), func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' })
	rate := 0
	if v := strings.TrimSpace(c.FormValue("rate_per_minute")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return s.widgetPageError(c, "Rate per minute must be a whole number.")
		}
		rate = n
	}
	scope := store.KeyScope{Categories: scopeValues(c.FormValue("categories")), Tags: scopeValues(c.FormValue("tags"))}
	secret, k, err := s.store.CreatePublishableKey(c.Request().Context(), principalOf(c).actor, name, origins, rate, scope)
	if store.ErrorCode(err) == store.EINVALID {
		return s.widgetPageError(c, store.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	p, err := s.widgetSettings(c)
	if err != nil {
		return err
	}
	p.Created = &ui.WidgetKeyCreated{Name: k.Name, Secret: secret, Origins: k.Origins, Categories: k.Scope.Categories, Tags: k.Scope.Tags}
	return render(c, http.StatusCreated, ui.WidgetSettingsPage(p))
}

func (s *Server) widgetPageError(c echo.Context, msg string) error {
	p, err := s.widgetSettings(c)
	if err != nil {
		return err
	}
	p.Error = msg
	return render(c, http.StatusBadRequest, ui.WidgetSettingsPage(p))
}

// handleWidgetKeyScopeForm saves a widget key's scope from the settings
// page (categories and tags, commas or lines between them; both empty:
// everything).
func (s *Server) handleWidgetKeyScopeForm(c echo.Context) error {
	scope := store.KeyScope{Categories: scopeValues(c.FormValue("categories")), Tags: scopeValues(c.FormValue("tags"))}
	if _, err := s.store.SetKeyScope(c.Request().Context(), principalOf(c).actor, c.Param("id"), scope); err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			return s.widgetPageError(c, store.ErrorMessage(err))
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/widget?notice=scope-saved")
}

func (s *Server) handleWidgetKeyDeleteForm(c echo.Context) error {
	if err := s.store.DeleteAPIKey(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/widget")
}

// handleWidgetConfig is the widget's check on page load: it answers only
// when the key is valid and the page's origin allowed (widgetAuth refuses
// otherwise), so the widget shows its bubble only where it can answer.
func (s *Server) handleWidgetConfig(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"ok": true, "rate_per_minute": principalOf(c).key.RatePerMinute})
}
