package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

func traceFilter(c echo.Context) (store.TraceFilter, error) {
	page, err := pageParams(c)
	f := store.TraceFilter{Page: page, Kind: schema.TraceKind(c.QueryParam("kind")), Status: schema.TraceStatus(c.QueryParam("status"))}
	if f.Status != "" && !f.Status.Valid() {
		return f, store.Errorf(store.EINVALID, "status must be one of %s", statusList())
	}
	return f, err
}

func (s *Server) handleTraceList(c echo.Context) error {
	f, err := traceFilter(c)
	if err != nil {
		return err
	}
	traces, next, err := s.store.ListTraces(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if traces == nil {
		traces = []store.Trace{}
	}
	return c.JSON(http.StatusOK, map[string]any{"traces": traces, "next": next})
}

func (s *Server) handleTraceGet(c echo.Context) error {
	t, spans, err := s.store.Trace(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if spans == nil {
		spans = []store.Span{}
	}
	feedback, err := s.store.FeedbackFor(c.Request().Context(), t.ID)
	if err != nil {
		return err
	}
	if feedback == nil {
		feedback = []store.Feedback{}
	}
	return c.JSON(http.StatusOK, map[string]any{"trace": t, "spans": spans, "feedback": feedback})
}

func (s *Server) handleTracesPage(c echo.Context) error {
	f, err := traceFilter(c)
	if err != nil {
		return err
	}
	if f.Kind == "" {
		f.ExcludeKind = schema.KindEval
	}
	traces, next, err := s.store.ListTraces(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p := ui.Traces{Chrome: chrome(c, "Traces", "traces"), Now: s.now(), NextURL: nextURL(c, next), Kind: f.Kind}
	for _, t := range traces {
		p.Rows = append(p.Rows, ui.TraceRow{ID: t.ID, Time: t.Start, Kind: t.Kind, Name: t.Name, Input: t.Input, Output: t.Output,
			Status: t.Status, Latency: t.Duration(), TokensIn: t.TokensIn, TokensOut: t.TokensOut, CostUSD: t.CostUSD})
	}
	return render(c, http.StatusOK, ui.TracesPage(p))
}

// statusList names the trace statuses for an error message: "ok, fallback, …".
func statusList() string {
	names := make([]string, len(schema.TraceStatuses))
	for i, st := range schema.TraceStatuses {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}
