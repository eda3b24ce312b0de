package server

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// Saved views of the trace explorer: a name for a set of filters. A view
// is its owner's, or the team's when shared; its owner or an admin may
// delete it.

type traceViewRequest struct {
	Name   string `json:"name"`
	Query  string `json:"query"`
	Shared bool   `json:"shared"`
}

// handleTraceViewList serves GET /api/v1/trace-views: the caller's views
// and the shared ones.
func (s *Server) handleTraceViewList(c echo.Context) error {
	views, err := s.store.TraceViews(c.Request().Context(), principalOf(c).actor)
	if err != nil {
		return err
	}
	if views == nil {
		views = []store.TraceView{}
	}
	return c.JSON(http.StatusOK, map[string]any{"views": views})
}

// handleTraceViewCreate serves POST /api/v1/trace-views.
func (s *Server) handleTraceViewCreate(c echo.Context) error {
	var req traceViewRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &store.TraceView{Name: req.Name, Query: req.Query, Shared: req.Shared}
	if err := s.store.SaveTraceView(c.Request().Context(), principalOf(c).actor, v); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

// handleTraceViewDelete serves DELETE /api/v1/trace-views/{id}.
func (s *Server) handleTraceViewDelete(c echo.Context) error {
	p := principalOf(c)
	if err := s.store.DeleteTraceView(c.Request().Context(), p.actor, c.Param("id"), p.role == store.RoleAdmin); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleTraceViewForm saves the explorer's current filters as a view and
// shows them again; a refused name comes back as view_error.
func (s *Server) handleTraceViewForm(c echo.Context) error {
	v := &store.TraceView{Name: c.FormValue("name"), Query: c.FormValue("query"), Shared: c.FormValue("shared") == "true"}
	err := s.store.SaveTraceView(c.Request().Context(), principalOf(c).actor, v)
	if store.ErrorCode(err) == store.EINVALID {
		q, _ := url.ParseQuery(c.FormValue("query"))
		q.Set("view_error", store.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, "/traces?"+q.Encode())
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/traces?"+v.Query)
}

// handleTraceViewDeleteForm deletes a view from the explorer.
func (s *Server) handleTraceViewDeleteForm(c echo.Context) error {
	p := principalOf(c)
	if err := s.store.DeleteTraceView(c.Request().Context(), p.actor, c.Param("id"), p.role == store.RoleAdmin); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/traces")
}

// traceViews lists the views the explorer offers the caller, marking the
// ones it may delete and the one its filters match.
func (s *Server) traceViews(c echo.Context, current string) ([]ui.TraceViewChip, error) {
	p := principalOf(c)
	views, err := s.store.TraceViews(c.Request().Context(), p.actor)
	if err != nil {
		return nil, err
	}
	me := p.actor.String()
	out := make([]ui.TraceViewChip, 0, len(views))
	for _, v := range views {
		out = append(out, ui.TraceViewChip{ID: v.ID, Name: v.Name, Query: v.Query, Shared: v.Shared, Owner: v.OwnerName,
			CanDelete: v.Owner == me || p.role == store.RoleAdmin, Current: v.Query == current})
	}
	return out, nil
}
