package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"llmops/rag/prompt"
	"llmops/store"
)

// The prompt registry's JSON API (/api/v1/prompts). Pages are in
// prompts_page*.go; both call s.app.Prompts.

// promptVersionParam reads a version number from the path or query.
func promptVersionParam(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, store.Errorf(store.EINVALID, "%s must be a version number (got %q)", name, clip(v, maxEchoRunes))
	}
	return n, nil
}

// handlePromptList: GET /api/v1/prompts.
func (s *Server) handlePromptList(c echo.Context) error {
	list, err := s.app.Prompts.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"prompts": list, "env": s.cfg.Env})
}

// handlePromptGet: GET /api/v1/prompts/:name.
func (s *Server) handlePromptGet(c echo.Context) error {
	d, err := s.app.Prompts.Get(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// handlePromptVersionGet: GET /api/v1/prompts/:name/versions/:version.
func (s *Server) handlePromptVersionGet(c echo.Context) error {
	v, err := promptVersionParam("version", c.Param("version"))
	if err != nil {
		return err
	}
	pv, err := s.app.Prompts.Version(c.Request().Context(), c.Param("name"), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pv)
}

// promptSaveBody is POST /api/v1/prompts/:name/versions.
type promptSaveBody struct {
	prompt.Draft
	BaseVersion int `json:"base_version"`
}

// handlePromptVersionCreate: POST /api/v1/prompts/:name/versions → 201
// with the new version, or 200 with the existing one of the same content.
func (s *Server) handlePromptVersionCreate(c echo.Context) error {
	var body promptSaveBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	v, created, err := s.app.Prompts.Save(c.Request().Context(), principalOf(c).actor, c.Param("name"), body.Draft, body.BaseVersion)
	if err != nil {
		return promptError(c, err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, v)
}

// handlePromptVersionDelete: DELETE /api/v1/prompts/:name/versions/:version.
func (s *Server) handlePromptVersionDelete(c echo.Context) error {
	v, err := promptVersionParam("version", c.Param("version"))
	if err != nil {
		return err
	}
	if err := s.app.Prompts.DeleteVersion(c.Request().Context(), principalOf(c).actor, c.Param("name"), v); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// promptLabelBody is PUT /api/v1/prompts/:name/labels/:label.
type promptLabelBody struct {
	prompt.Target
	OverrideReason string `json:"override_reason,omitempty"`
}

// handlePromptLabelPut: PUT /api/v1/prompts/:name/labels/:label. Editors
// move labels; only an admin may override the eval gate, with a reason.
func (s *Server) handlePromptLabelPut(c echo.Context) error {
	var body promptLabelBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	p := principalOf(c)
	if body.OverrideReason != "" && !p.role.Allows(store.RoleAdmin) {
		return store.Errorf(store.EFORBIDDEN, "only an admin may override the eval gate")
	}
	out, err := s.app.Prompts.MoveLabel(c.Request().Context(), p.actor, c.Param("name"), c.Param("label"), body.Target, body.OverrideReason)
	if err != nil {
		return err
	}
	d, err := s.app.Prompts.Get(c.Request().Context(), out.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// handlePromptDiff: GET /api/v1/prompts/:name/diff?from=A&to=B.
func (s *Server) handlePromptDiff(c echo.Context) error {
	from, err := promptVersionParam("from", c.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := promptVersionParam("to", c.QueryParam("to"))
	if err != nil {
		return err
	}
	d, err := s.app.Prompts.Diff(c.Request().Context(), c.Param("name"), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// promptError writes the errors of a save with what a client needs to
// fix them: a conflict carries the current version ("current"), a
// template error its line and column ("line", "column"). Other errors go
// to handleError.
func promptError(c echo.Context, err error) error {
	var ce *store.ConflictError
	var te *prompt.TemplateError
	body := map[string]any{"error": map[string]string{"code": store.ErrorCode(err), "message": store.ErrorMessage(err)}}
	switch {
	case errors.As(err, &ce) && ce.Current != nil:
		body["current"] = ce.Current
		return c.JSON(http.StatusConflict, body)
	case errors.As(err, &te):
		body["line"], body["column"] = te.Line, te.Column
		return c.JSON(http.StatusBadRequest, body)
	}
	return err
}
