package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/rag/guard"
	"llmops/rag/guard/pii"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// checkRequest is POST /api/v1/guardrails/check.
type checkRequest struct {
	Text      string `json:"text"`
	Direction string `json:"direction"` // input (default) or output
}

// checkPII is one finding, in rune offsets into the text checked.
type checkPII struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// checkResponse is the check API's answer.
type checkResponse struct {
	PII       []checkPII `json:"pii"`
	Redacted  string     `json:"redacted"`
	Injection struct {
		Score   float64 `json:"score"`
		Flagged bool    `json:"flagged"`
	} `json:"injection"`
	Blocked bool     `json:"blocked"`
	Reasons []string `json:"reasons"`
}

// maxCheckRunes bounds a check's text like a question's document: the
// body limit bounds it in bytes already.
const maxCheckRunes = 100_000

// check runs the configured guards of one direction on text, as an ask
// would, and reports everything the detectors found whatever the modes.
func (s *Server) check(ctx context.Context, req checkRequest) (*checkResponse, error) {
	switch req.Direction {
	case "":
		req.Direction = "input"
	case "input", "output":
	default:
		return nil, store.Errorf(store.EINVALID, `direction must be "input" or "output"`)
	}
	if strings.TrimSpace(req.Text) == "" {
		return nil, store.Errorf(store.EINVALID, "text is required")
	}
	if n := len([]rune(req.Text)); n > maxCheckRunes {
		return nil, store.Errorf(store.EINVALID, "text is longer than %d characters (%d)", maxCheckRunes, n)
	}
	g := s.app.Guardrails
	var r guard.Result
	if req.Direction == "input" {
		r = g.Input(ctx, req.Text)
	} else {
		r = g.Output(ctx, req.Text, "")
	}
	spans := pii.Detect(req.Text)
	out := &checkResponse{PII: make([]checkPII, len(spans)), Redacted: pii.Redact(req.Text, spans), Blocked: r.Blocked, Reasons: r.Reasons}
	for i, sp := range spans {
		out.PII[i] = checkPII{Type: string(sp.Type), Start: sp.Start, End: sp.End}
	}
	out.Injection.Score, out.Injection.Flagged = r.Injection, r.InjectionFlagged
	if req.Direction == "output" || g.Config().Mode(guard.InputInjection) == guard.ModeOff {
		sc := g.Injection() // the scorer asks use, though no guard ran it here
		out.Injection.Score = sc.Score(req.Text)
		out.Injection.Flagged = sc.Flagged(out.Injection.Score)
	}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	return out, nil
}

func (s *Server) handleGuardrailsCheck(c echo.Context) error {
	var req checkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := s.check(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleGuardrailsGet(c echo.Context) error {
	return c.JSON(http.StatusOK, s.app.Guardrails.Config())
}

func (s *Server) handleGuardrailsPut(c echo.Context) error {
	var cfg guard.Config
	if err := decodeJSON(c, &cfg); err != nil {
		return err
	}
	if err := s.setGuardrails(c, cfg); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.app.Guardrails.Config())
}

// setGuardrails validates, stores (audited) and applies a configuration.
func (s *Server) setGuardrails(c echo.Context, cfg guard.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := s.store.PutSetting(c.Request().Context(), principalOf(c).actor, store.SettingGuardrails, cfg); err != nil {
		return err
	}
	s.app.Guardrails.SetConfig(cfg)
	return nil
}

// guardDescriptions say what each guard checks, on the Guardrails page.
var guardDescriptions = map[string]string{
	guard.InputPII:         "Personal data in questions: e-mail, phone, card, IBAN, SSN, IP, secrets, addresses, names. Redact replaces it with typed placeholders before any model or the trace store sees it.",
	guard.InputInjection:   "Questions that try to override the assistant's instructions or make it reveal its prompt.",
	guard.InputModeration:  "The moderation endpoint's verdict on the question (LLMOPS_MODERATION_BASE_URL).",
	guard.InputScope:       "Questions the knowledge base has nothing about: answered with the scope sentence instead of a guess.",
	guard.OutputPolicy:     "Answers: links and images only to allowed domains, no blocked terms, no raw HTML, never the system prompt.",
	guard.OutputPII:        "Personal data in answers.",
	guard.OutputModeration: "The moderation endpoint's verdict on the answer.",
}

func (s *Server) handleGuardrailsPage(c echo.Context) error {
	notice := ""
	if c.QueryParam("notice") == "saved" {
		notice = "Guardrails saved. They apply from the next question."
	}
	return s.guardrailsPage(c, http.StatusOK, notice, "")
}

func (s *Server) guardrailsPage(c echo.Context, status int, notice, formErr string) error {
	ctx := c.Request().Context()
	cfg := s.app.Guardrails.Config()
	day, week, err := s.guardCounts(ctx, s.now())
	if err != nil {
		return err
	}
	ch := chrome(c, "Guardrails", "guardrails")
	page := ui.GuardrailsPage{Chrome: ch, CanEdit: ch.Viewer.IsAdmin, Notice: notice, Error: formErr,
		ScopeSentence: cfg.ScopeSentence, MinScope: cfg.MinScope, AllowedDomains: strings.Join(cfg.AllowedDomains, "\n"),
		BlockedTerms: strings.Join(cfg.BlockedTerms, "\n"), RedactDocuments: cfg.RedactDocuments,
		Moderation: s.app.Guardrails.Moderation()}
	for _, name := range guard.Names {
		set := cfg.Guards[name]
		row := ui.GuardRow{Name: name, Description: guardDescriptions[name], Mode: string(set.Mode), FailClosed: set.FailClosed,
			Day: day[name], Week: week[name]}
		for _, m := range guard.Modes(name) {
			row.Modes = append(row.Modes, string(m))
		}
		page.Guards = append(page.Guards, row)
	}
	return render(c, status, ui.Guardrails(page))
}

// guardChannels are the channels whose asks the Guardrails page counts:
// every ask this instance answered (the dashboard's real traffic, the CLI
// and the load test); not eval cases, playground runs or OTLP traces
// from other applications.
var guardChannels = []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI, schema.ChannelCLI, schema.ChannelBench}

// guardCounts counts each guard's flagged, redacted and blocked asks over
// the last day and week, to the minute (the current one included), from
// the rollups the trace writer keeps: no trace is read, however many the
// week holds.
func (s *Server) guardCounts(ctx context.Context, now time.Time) (day, week map[string]ui.GuardCounts, err error) {
	to := now.UTC().Truncate(time.Minute).Add(time.Minute)
	// Two windows, each merged from whole days, whole hours and the edge
	// minutes (one stepped call would read every period's edges).
	counts := func(from time.Time) (map[string]ui.GuardCounts, error) {
		r, err := s.store.RollupTotal(ctx, from, to, store.RollupFilter{Channels: guardChannels})
		if err != nil {
			return nil, err
		}
		out := make(map[string]ui.GuardCounts, len(r.Guards))
		for name, c := range r.Guards {
			out[name] = ui.GuardCounts{Flagged: c.Flagged, Redacted: c.Redacted, Blocked: c.Blocked}
		}
		return out, nil
	}
	if day, err = counts(to.Add(-24 * time.Hour)); err != nil {
		return nil, nil, err
	}
	if week, err = counts(to.Add(-7 * 24 * time.Hour)); err != nil {
		return nil, nil, err
	}
	return day, week, nil
}

// handleGuardrailsForm saves the Guardrails page's form.
func (s *Server) handleGuardrailsForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	cfg := s.app.Guardrails.Config()
	next := guard.Config{Guards: map[string]guard.Setting{}, ScopeSentence: c.FormValue("scope_sentence"),
		AllowedDomains: lines(c.FormValue("allowed_domains")), BlockedTerms: lines(c.FormValue("blocked_terms")),
		RedactDocuments: c.FormValue("redact_documents") == "on", MinScope: cfg.MinScope}
	for _, name := range guard.Names {
		set := cfg.Guards[name]
		if m := c.FormValue("mode." + name); m != "" {
			set.Mode = guard.Mode(m)
		}
		set.FailClosed = c.FormValue("fail_closed."+name) == "on"
		next.Guards[name] = set
	}
	if err := s.setGuardrails(c, next); err != nil {
		return formError(err, func(status int, msg string) error { return s.guardrailsPage(c, status, "", msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/guardrails?notice=saved")
}

// lines splits a textarea into trimmed non-empty lines (commas split too).
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
