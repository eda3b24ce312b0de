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
}

func toKeyJSON(k *store.APIKey) keyJSON {
	out := keyJSON{ID: k.ID, Name: k.Name, Role: k.Role, Hint: k.Hint, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt}
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
}

// handleKeyCreate returns the new key's secret, once.
func (s *Server) handleKeyCreate(c echo.Context) error {
	var req keyCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	role, err := store.ParseRole(req.Role)
	if err != nil {
		return err
	}
	secret, k, err := s.store.CreateAPIKey(c.Request().Context(), principalOf(c).actor, req.Name, role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		keyJSON
		Key string `json:"key"`
	}{toKeyJSON(k), secret})
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
		p.Keys = append(p.Keys, ui.KeyRow{ID: k.ID, Name: k.Name, Role: string(k.Role), Hint: k.Hint, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, LastUsed: k.LastUsedAt})
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
	case "key-revoked":
		return "API key revoked. Requests using it are refused from now on."
	case "user-added":
		return "Team member added."
	case "user-updated":
		return "Role updated."
	case "user-removed":
		return "Team member removed and signed out."
	case "document-deleted":
		return "Document deleted from the store and both search indexes."
	case "reembed-cancelled":
		return "Re-embedding cancelled. Search keeps using the current vectors."
	case "reembed-started":
		return "Re-embedding started. Search keeps using the current vectors until the new ones are ready."
	}
	return ""
}
