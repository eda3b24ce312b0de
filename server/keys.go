package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// keyJSON is an API key as the API lists it: never the secret or its hash.
type keyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       store.Role `json:"role"`
	Hint       string     `json:"hint"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// OwnerID is the user the key acts for; a service key has none.
	OwnerID string `json:"owner_id,omitempty"`
	Service bool   `json:"service"`
	// Publishable (chat widget) keys only.
	Kind          string   `json:"kind"` // "secret" or "publishable"
	Origins       []string `json:"origins,omitempty"`
	RatePerMinute int      `json:"rate_per_minute,omitempty"`
	// Scope: the documents its answers draw on (none: all of them).
	Scope store.KeyScope `json:"scope,omitzero"`
	// Key is a publishable key itself (it sits in page source); a secret
	// key's is never shown again.
	Key string `json:"key,omitempty"`
}

func toKeyJSON(k *store.APIKey) keyJSON {
	out := keyJSON{ID: k.ID, Name: k.Name, Role: k.Role, Hint: k.Hint, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
		OwnerID: k.OwnerID, Service: k.Service(), Kind: "secret", Origins: k.Origins, RatePerMinute: k.RatePerMinute, Scope: k.Scope}
	if k.Publishable() {
		out.Kind, out.Key = "publishable", k.PublishableKey
	}
	if !k.LastUsedAt.IsZero() {
		t := k.LastUsedAt
		out.LastUsedAt = &t
	}
	return out
}

func (s *Server) handleKeyList(c echo.Context) error {
	keys, err := s.store.ListAPIKeys(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]keyJSON, len(keys))
	for i := range keys {
		out[i] = toKeyJSON(&keys[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": out})
}

type keyCreateRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Kind "publishable" makes a chat widget key (Role is then ignored).
	Kind          string   `json:"kind"`
	Origins       []string `json:"origins"`
	RatePerMinute int      `json:"rate_per_minute"`
	// Scope: {"categories": […], "tags": […]}, publishable keys only.
	Scope store.KeyScope `json:"scope"`
}

// handleKeyCreate returns the new key's secret, once.
func (s *Server) handleKeyCreate(c echo.Context) error {
	var req keyCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var (
		secret string
		k      *store.APIKey
	)
	switch req.Kind {
	case "publishable":
		var err error
		if secret, k, err = s.store.CreatePublishableKey(c.Request().Context(), principalOf(c).actor, req.Name, req.Origins, req.RatePerMinute, req.Scope); err != nil {
			return err
		}
	case "", "secret":
		if !req.Scope.IsZero() {
			return store.Errorf(store.EINVALID, "scope is for publishable keys only (kind \"publishable\")")
		}
		role, err := store.ParseRole(req.Role)
		if err != nil {
			return err
		}
		if secret, k, err = s.store.CreateAPIKey(c.Request().Context(), principalOf(c).actor, req.Name, role); err != nil {
			return err
		}
	default:
		return store.Errorf(store.EINVALID, "kind must be \"secret\" or \"publishable\" (got %q)", req.Kind)
	}
	return c.JSON(http.StatusCreated, struct {
		keyJSON
		Key string `json:"key"`
	}{toKeyJSON(k), secret})
}

// handleKeyScope sets a publishable key's scope: PATCH {"scope":
// {"categories": […], "tags": […]}}; an empty scope answers from
// everything.
func (s *Server) handleKeyScope(c echo.Context) error {
	var req struct {
		Scope *store.KeyScope `json:"scope"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Scope == nil {
		return store.Errorf(store.EINVALID, "scope: required ({} answers from everything)")
	}
	k, err := s.store.SetKeyScope(c.Request().Context(), principalOf(c).actor, c.Param("id"), *req.Scope)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toKeyJSON(k))
}

func (s *Server) handleKeyDelete(c echo.Context) error {
	if err := s.store.DeleteAPIKey(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) keysPage(c echo.Context, status int, p ui.Keys) error {
	keys, err := s.store.ListAPIKeys(c.Request().Context())
	if err != nil {
		return err
	}
	p.Chrome = chrome(c, "API keys", "settings")
	p.Now = s.now()
	for _, k := range keys {
		if k.Publishable() {
			continue // listed under Settings → Chat widget
		}
		p.Keys = append(p.Keys, ui.KeyRow{ID: k.ID, Name: k.Name, Role: string(k.Role), Hint: k.Hint, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, LastUsed: k.LastUsedAt,
			Service: k.Service()})
	}
	return render(c, status, ui.KeysPage(p))
}

func (s *Server) handleKeysPage(c echo.Context) error {
	return s.keysPage(c, http.StatusOK, ui.Keys{Notice: noticeText(c.QueryParam("notice"))})
}

func (s *Server) handleKeyCreateForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	form := ui.KeyForm{Name: c.FormValue("name"), Role: c.FormValue("role")}
	role, err := store.ParseRole(form.Role)
	var secret string
	var k *store.APIKey
	if err == nil {
		secret, k, err = s.store.CreateAPIKey(c.Request().Context(), principalOf(c).actor, form.Name, role)
	}
	if err != nil {
		return formError(err, func(status int, msg string) error {
			return s.keysPage(c, status, ui.Keys{Form: form, Error: msg})
		})
	}
	// Rendered directly, not redirected: the secret must never sit in a URL.
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.keysPage(c, http.StatusCreated, ui.Keys{NewSecret: secret, NewName: k.Name})
}

func (s *Server) handleKeyDeleteForm(c echo.Context) error {
	if err := s.store.DeleteAPIKey(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/keys?notice=key-revoked")
}

// noticeText turns a post-redirect-get notice code into its sentence; codes
// keep free text out of URLs.
func noticeText(code string) string {
	switch code {
	case "prices-saved":
		return "Prices saved. New answers are costed with them."
	case "key-revoked":
		return "API key revoked. Requests using it are refused from now on."
	case "user-added":
		return "Team member added."
	case "user-updated":
		return "Role updated. Their API keys now have at most this role."
	case "password-changed":
		return "Password changed. Your other sessions were signed out."
	case "session-revoked":
		return "Session signed out."
	case "sessions-revoked":
		return "Every other session was signed out."
	case "user-removed":
		return "Team member removed, signed out, and their API keys revoked."
	case "scope-saved":
		return "Scope saved. The widget's next answers draw only on it."
	case "chunks-approved":
		return "Approved. These chunks can now appear in widget answers."
	case "document-deleted":
		return "Document deleted from the store and both search indexes."
	case "reembed-cancelled":
		return "Re-embedding cancelled. Search keeps using the current vectors."
	case "reembed-started":
		return "Re-embedding started. Search keeps using the current vectors until the new ones are ready."
	case "escalation-webhook-saved":
		return "Webhook saved. New escalations are posted to it."
	case "escalation-assigned":
		return "Assigned."
	case "escalation-resolved":
		return "Resolved."
	case "escalation-open":
		return "Back in the inbox as open."
	}
	return ""
}
