package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// pageParams reads ?before=CURSOR&limit=N for newest-first lists.
func pageParams(c echo.Context) (store.Page, error) {
	p := store.Page{Before: c.QueryParam("before")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return p, store.Errorf(store.EINVALID, "limit must be a number from 1 to 500")
		}
		p.Limit = n
	}
	return p, nil
}

// nextURL keeps the current query and moves the cursor.
func nextURL(c echo.Context, next string) string {
	if next == "" {
		return ""
	}
	q := c.QueryParams()
	q.Set("before", next)
	return c.Request().URL.Path + "?" + q.Encode()
}

func (s *Server) handleAuditList(c echo.Context) error {
	page, err := pageParams(c)
	if err != nil {
		return err
	}
	events, next, err := s.store.ListAudit(c.Request().Context(), page)
	if err != nil {
		return err
	}
	if events == nil {
		events = []store.AuditEvent{}
	}
	return c.JSON(http.StatusOK, map[string]any{"events": events, "next": next})
}

func (s *Server) handleAuditPage(c echo.Context) error {
	page, err := pageParams(c)
	if err != nil {
		return err
	}
	events, next, err := s.store.ListAudit(c.Request().Context(), page)
	if err != nil {
		return err
	}
	p := ui.Audit{Chrome: chrome(c, "Audit log", "settings"), Now: s.now(), NextURL: nextURL(c, next)}
	for _, e := range events {
		p.Events = append(p.Events, ui.AuditRow{Time: e.Time, Actor: e.Actor.Name, ActorKind: e.Actor.Kind, Action: e.Action,
			Resource: e.Resource, ResourceID: e.ResourceID, Before: e.Before, After: e.After})
	}
	return render(c, http.StatusOK, ui.AuditPage(p))
}
