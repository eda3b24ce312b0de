package server

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// traceFilter reads the trace explorer's filters from the query:
// status, kind, channel, model, prompt (name@version), user, key (an API
// key's name), conversation, feedback (up, down, none), escalated,
// min_latency_ms, max_groundedness, min_cost_usd, q (full text over
// question and answer), from, to, and the page: cursor (or before) and
// limit.
func (s *Server) traceFilter(c echo.Context) (store.TraceFilter, error) {
	page, err := pageParams(c)
	if err != nil {
		return store.TraceFilter{}, err
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		page.Before = cur
	}
	if len(page.Before) > store.MaxIDLen {
		return store.TraceFilter{}, store.Errorf(store.EINVALID, "cursor is not a trace ID")
	}
	q := c.QueryParam
	f := store.TraceFilter{Page: page, Kind: schema.TraceKind(q("kind")), Status: schema.TraceStatus(q("status")),
		Channel: q("channel"), Model: q("model"), Prompt: q("prompt"), User: q("user"), Key: q("key"),
		Conversation: q("conversation"), Feedback: q("feedback")}
	if f.Status != "" && !f.Status.Valid() {
		return f, store.Errorf(store.EINVALID, "status must be one of %s", statusList())
	}
	switch f.Feedback {
	case "", store.FeedbackUp, store.FeedbackDown, store.FeedbackNone:
	default:
		return f, store.Errorf(store.EINVALID, "feedback must be up, down or none")
	}
	switch v := q("escalated"); v {
	case "", "false", "0":
	case "true", "1":
		f.Escalated = true
	default:
		return f, store.Errorf(store.EINVALID, "escalated must be true or false")
	}
	number := func(name string, lo, hi float64) (float64, bool, error) {
		v := q(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < lo || n > hi || n != n {
			return 0, false, store.Errorf(store.EINVALID, "%s must be a number from %g to %g", name, lo, hi)
		}
		return n, true, nil
	}
	if n, ok, err := number("min_latency_ms", 0, 1e9); err != nil {
		return f, err
	} else if ok {
		f.MinLatency = time.Duration(n * float64(time.Millisecond))
	}
	if n, ok, err := number("max_groundedness", 0, 1); err != nil {
		return f, err
	} else if ok {
		f.MaxGroundedness = &n
	}
	if n, _, err := number("min_cost_usd", 0, 1e9); err != nil {
		return f, err
	} else {
		f.MinCostUSD = n
	}
	if f.From, err = auditTime(c, "from", false); err != nil {
		return f, err
	}
	if f.To, err = auditTime(c, "to", true); err != nil {
		return f, err
	}
	if text := strings.TrimSpace(q("q")); text != "" {
		if len(text) > 500 {
			return f, store.Errorf(store.EINVALID, "q is longer than 500 characters")
		}
		f.Match = s.app.TraceSearch.Match(text)
	}
	return f, nil
}

// maxTraceExport bounds the traces one export writes.
const maxTraceExport = 100_000

// handleTraceList serves GET /api/v1/traces: a page of traces newest first
// with the cursor of the next one ("next"), or with format=jsonl|csv every
// matching trace (up to maxTraceExport) as a download.
func (s *Server) handleTraceList(c echo.Context) error {
	f, err := s.traceFilter(c)
	if err != nil {
		return err
	}
	switch format := c.QueryParam("format"); format {
	case "", "json":
	case "jsonl", "csv":
		return s.exportTraces(c, f, format)
	default:
		return store.Errorf(store.EINVALID, "format must be json, jsonl or csv")
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

// traceCSVHeader is the export's columns.
var traceCSVHeader = []string{"id", "start", "kind", "status", "channel", "model", "prompt", "user", "key_or_actor", "conversation",
	"latency_ms", "ttft_ms", "tokens_in", "tokens_out", "cost_usd", "groundedness", "escalated", "question", "answer"}

func traceCSVRow(t *store.Trace) []string {
	attr := func(k string) string {
		switch v := t.Attributes[k].(type) {
		case nil:
			return ""
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return fmt.Sprint(v)
		}
	}
	return []string{t.ID, t.Start.UTC().Format(time.RFC3339Nano), string(t.Kind), string(t.Status), attr(schema.AttrChannel),
		attr(schema.AttrResponseModel), attr(schema.AttrPrompt), t.UserID, attr(schema.AttrActor), attr(schema.AttrConversationID),
		strconv.FormatFloat(float64(t.Duration().Microseconds())/1000, 'f', -1, 64), attr(schema.AttrTTFTMS),
		strconv.Itoa(t.TokensIn), strconv.Itoa(t.TokensOut), strconv.FormatFloat(t.CostUSD, 'f', -1, 64),
		attr(schema.AttrGroundedness), attr(schema.AttrEscalated), csvSafe(t.Input), csvSafe(t.Output)}
}

// csvSafe keeps a spreadsheet from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportTraces writes every trace f matches, newest first, page by page.
func (s *Server) exportTraces(c echo.Context, f store.TraceFilter, format string) error {
	ctx := c.Request().Context()
	f.Limit = 500
	traces, next, err := s.store.ListTraces(ctx, f)
	if err != nil {
		return err // nothing written yet: a normal error response
	}
	h := c.Response().Header()
	name := "traces-" + s.now().UTC().Format("20060102-150405")
	if format == "csv" {
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
	} else {
		h.Set(echo.HeaderContentType, "application/x-ndjson")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.jsonl"`)
	}
	c.Response().WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(c.Response())
	cw := csv.NewWriter(bw)
	enc := json.NewEncoder(bw)
	if format == "csv" {
		_ = cw.Write(traceCSVHeader)
	}
	for written := 0; ; {
		for i := range traces {
			if format == "csv" {
				err = cw.Write(traceCSVRow(&traces[i]))
			} else {
				err = enc.Encode(&traces[i])
			}
			if err != nil {
				return nil // the client went away
			}
			written++
		}
		if next == "" || written >= maxTraceExport {
			break
		}
		f.Before = next
		if traces, next, err = s.store.ListTraces(ctx, f); err != nil {
			s.log.Warn("trace export stopped", "err", err, "written", written)
			break
		}
	}
	cw.Flush()
	return bw.Flush()
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
	f, err := s.traceFilter(c)
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
	q := c.QueryParam
	p := ui.Traces{Chrome: chrome(c, "Traces", "traces"), Now: s.now(), NextURL: nextURL(c, next), Kind: f.Kind,
		Filter: ui.TraceFilters{Q: q("q"), Status: q("status"), Channel: q("channel"), Model: q("model"), Prompt: q("prompt"),
			User: q("user"), Key: q("key"), Conversation: q("conversation"), Feedback: q("feedback"), Escalated: f.Escalated,
			MinLatencyMS: q("min_latency_ms"), MaxGroundedness: q("max_groundedness"), From: q("from"), To: q("to")}}
	export := c.QueryParams()
	for _, k := range []string{"before", "cursor", "limit", "format"} {
		export.Del(k)
	}
	p.ExportQuery = export.Encode()
	if p.ViewQuery, err = store.CleanTraceViewQuery(c.QueryString()); err != nil {
		return err
	}
	if p.Views, err = s.traceViews(c, p.ViewQuery); err != nil {
		return err
	}
	p.ViewError = q("view_error")
	for _, t := range traces {
		row := ui.TraceRow{ID: t.ID, Time: t.Start, Kind: t.Kind, Name: t.Name, Input: t.Input, Output: t.Output,
			Status: t.Status, Latency: t.Duration(), TokensIn: t.TokensIn, TokensOut: t.TokensOut, CostUSD: t.CostUSD}
		row.Conversation, _ = t.Attributes[schema.AttrConversationID].(string)
		if g, ok := t.Attributes[schema.AttrGroundedness].(float64); ok {
			row.Groundedness = &g
		}
		p.Rows = append(p.Rows, row)
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
