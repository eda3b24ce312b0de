package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// maxAuditFilterLen bounds a text filter: longer than anything stored.
const maxAuditFilterLen = 256

// auditFilter reads the audit log's filters and page from the query:
// actor, action, resource, target, from, to, before, limit.
func auditFilter(c echo.Context) (store.AuditFilter, error) {
	page, err := pageParams(c)
	if err != nil {
		return store.AuditFilter{}, err
	}
	f := store.AuditFilter{Page: page}
	for _, field := range []struct {
		name string
		to   *string
	}{{"actor", &f.Actor}, {"action", &f.Action}, {"resource", &f.Resource}, {"target", &f.Target}} {
		v := strings.TrimSpace(c.QueryParam(field.name))
		if utf8.RuneCountInString(v) > maxAuditFilterLen {
			return f, store.Errorf(store.EINVALID, "%s must be at most %d characters", field.name, maxAuditFilterLen)
		}
		*field.to = v
	}
	if f.From, err = auditTime(c, "from", false); err != nil {
		return f, err
	}
	if f.To, err = auditTime(c, "to", true); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, store.Errorf(store.EINVALID, "from must be before to")
	}
	return f, nil
}

// auditTime reads the query parameter name as RFC 3339, or as a date and
// time or a date alone, in UTC (what datetime-local and date inputs send).
// A date alone as the end of a range means the end of that day.
func auditTime(c echo.Context, name string, end bool) (time.Time, error) {
	v := strings.TrimSpace(c.QueryParam(name))
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		t, err := time.ParseInLocation(layout, v, time.UTC)
		if err != nil {
			continue
		}
		if end && layout == time.DateOnly {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, store.Errorf(store.EINVALID, "%s must be a time such as 2025-01-31, 2025-01-31T14:05 (UTC) or 2025-01-31T14:05:00+02:00", name)
}

// handleAuditList serves GET /api/v1/audit: events newest first, filtered
// by the query (see auditFilter), with the cursor of the next page.
func (s *Server) handleAuditList(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	events, next, err := s.store.FindAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if events == nil {
		events = []store.AuditEvent{}
	}
	return c.JSON(http.StatusOK, map[string]any{"events": events, "next": next})
}

func (s *Server) handleAuditPage(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	events, next, err := s.store.FindAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p := ui.Audit{Chrome: chrome(c, "Audit log", "settings"), Now: s.now(), NextURL: nextURL(c, next),
		Filter: ui.AuditFilter{Actor: f.Actor, Action: f.Action, Resource: f.Resource, Target: f.Target,
			From: datetimeLocal(f.From), To: datetimeLocal(f.To)}}
	for _, e := range events {
		p.Events = append(p.Events, ui.AuditRow{Time: e.Time, Actor: e.Actor.Name, ActorKind: e.Actor.Kind, Action: e.Action,
			Resource: e.Resource, ResourceID: e.ResourceID, Before: e.Before, After: e.After, IP: e.IP, UserAgent: e.UserAgent})
	}
	return render(c, http.StatusOK, ui.AuditPage(p))
}

// datetimeLocal formats t (UTC) for a datetime-local input, with seconds
// only when it has them.
func datetimeLocal(t time.Time) string {
	t = t.UTC()
	switch {
	case t.IsZero():
		return ""
	case t.Second() == 0 && t.Nanosecond() == 0:
		return t.Format("2006-01-02T15:04")
	}
	return t.Format("2006-01-02T15:04:05")
}
