package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"llmops/evals"
	"llmops/rag/assistant"
	"llmops/rag/prompt"
	"llmops/store"
	"llmops/store/schema"
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

// playgroundBody is POST /api/v1/prompts/:name/playground: a question (or
// the trace to take it from) and up to four arms, saved versions and
// unsaved drafts (each made from its base_version).
type playgroundBody struct {
	Question string           `json:"question"`
	TraceID  string           `json:"trace_id,omitempty"`
	Versions []int            `json:"versions,omitempty"`
	Drafts   []promptSaveBody `json:"drafts,omitempty"`
}

// maxPlaygroundArms bounds how many answers one playground call asks for.
const maxPlaygroundArms = 4

// playgroundArm is one answer of the playground, with what it was made
// from.
type playgroundArm struct {
	Prompt       string               `json:"prompt"` // name@version, name@draft
	Config       prompt.Config        `json:"config"`
	Answer       string               `json:"answer"`
	Citations    []assistant.Citation `json:"citations"`
	Groundedness float64              `json:"groundedness"`
	Fallback     bool                 `json:"fallback"`
	Rendered     string               `json:"rendered_prompt"`
	Context      []playgroundPassage  `json:"context"`
	LatencyMS    int64                `json:"latency_ms"`
	TokensIn     int                  `json:"tokens_in"`
	TokensOut    int                  `json:"tokens_out"`
	CostUSD      float64              `json:"cost_usd"`
	Model        string               `json:"model"`
	TraceID      string               `json:"trace_id"`
	Error        *map[string]string   `json:"error,omitempty"`
}

// playgroundPassage is one retrieved passage as the playground shows it.
type playgroundPassage struct {
	N          int    `json:"n"`
	ChunkID    string `json:"chunk_id"`
	DocumentID string `json:"document_id,omitempty"`
	Title      string `json:"title,omitempty"`
	Heading    string `json:"heading,omitempty"`
	Text       string `json:"text"`
}

// handlePromptPlayground: POST /api/v1/prompts/support-answer/playground.
// Each arm answers the same question through the real answer path with
// its version, as a trace of kind playground (dashboards leave it out).
func (s *Server) handlePromptPlayground(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	var body playgroundBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if name != prompt.SupportAnswer {
		if _, err := s.app.Prompts.Get(ctx, name); err != nil {
			return err
		}
		return store.Errorf(store.EINVALID, "the playground answers with %s; %s is not an answer prompt", prompt.SupportAnswer, name)
	}
	if body.TraceID != "" && strings.TrimSpace(body.Question) == "" {
		t, _, err := s.store.Trace(ctx, body.TraceID)
		if err != nil {
			return err
		}
		q, _ := t.Attributes[schema.AttrQuestion].(string)
		if q == "" {
			return store.Errorf(store.EINVALID, "trace %s has no question to replay", body.TraceID)
		}
		body.Question = q
	}
	n := len(body.Versions) + len(body.Drafts)
	if n == 0 || n > maxPlaygroundArms {
		return store.Errorf(store.EINVALID, "give 1 to %d versions and drafts to compare (got %d)", maxPlaygroundArms, n)
	}
	var arms []*prompt.Compiled
	for _, v := range body.Versions {
		p, err := s.app.Prompts.ResolveVersion(ctx, name, v)
		if err != nil {
			return err
		}
		arms = append(arms, p)
	}
	for i, d := range body.Drafts {
		p, err := s.app.Prompts.Compile(ctx, name, d.Draft, d.BaseVersion)
		if err != nil {
			if e := promptError(c, fmt.Errorf("drafts[%d]: %w", i, err)); e != nil {
				return e
			}
			return nil
		}
		arms = append(arms, p)
	}
	pr := principalOf(c)
	out := make([]playgroundArm, 0, len(arms))
	for _, p := range arms {
		req := assistant.Request{Question: body.Question, Channel: schema.ChannelPlayground, Actor: pr.actor, NoConversation: true, Prompt: p}
		arm := playgroundArm{Prompt: p.Ref(), Config: p.Config(), Citations: []assistant.Citation{}, Context: []playgroundPassage{}}
		res, err := s.asst.Ask(ctx, req, nil)
		if err != nil {
			if ctx.Err() != nil || store.ErrorCode(err) == store.EINVALID {
				return err
			}
			// One arm's upstream failing does not hide the other answer.
			arm.Error = &map[string]string{"code": store.ErrorCode(err), "message": store.ErrorMessage(err)}
			out = append(out, arm)
			continue
		}
		arm.Answer, arm.Groundedness, arm.Fallback, arm.Citations = res.Answer, res.Groundedness, res.Fallback, res.Citations
		arm.LatencyMS, arm.TokensIn, arm.TokensOut, arm.CostUSD, arm.Model, arm.TraceID = res.LatencyMS, res.TokensIn, res.TokensOut, res.CostUSD, res.Model, res.TraceID
		arm.Rendered = res.PromptText
		if arm.Rendered == "" {
			// The extractive answerer renders no prompt; show what a model
			// would have been sent.
			if arm.Rendered, err = assistant.RenderPrompt(p, body.Question, res.Context); err != nil {
				return err
			}
		}
		for i, ref := range res.Context {
			pp := playgroundPassage{N: i + 1, ChunkID: ref.Chunk.ID, Heading: strings.Join(ref.Chunk.Headings, " › "), Text: ref.Chunk.Text}
			if ref.Document != nil {
				pp.DocumentID, pp.Title = ref.Document.ID, ref.Document.Title
			}
			arm.Context = append(arm.Context, pp)
		}
		out = append(out, arm)
	}
	return c.JSON(http.StatusOK, map[string]any{"question": body.Question, "answers": out})
}

// handlePromptGateGet: GET /api/v1/prompts/:name/gate?version=N → the
// gate setting and, with a version, its verdict (what "Run the gate"
// shows).
func (s *Server) handlePromptGateGet(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.Prompt(ctx, c.Param("name"))
	if err != nil {
		return err
	}
	out := map[string]any{"gate": p.Gate}
	if q := c.QueryParam("version"); q != "" {
		v, err := promptVersionParam("version", q)
		if err != nil {
			return err
		}
		if _, err := s.store.PromptVersion(ctx, p.Name, v); err != nil {
			return err
		}
		verdict, err := evals.CheckGate(ctx, s.store, p, v)
		if err != nil {
			return err
		}
		out["verdict"] = verdict
	}
	return c.JSON(http.StatusOK, out)
}

// maxGateThresholds bounds the metrics one gate checks.
const maxGateThresholds = 20

// handlePromptGatePut: PUT /api/v1/prompts/:name/gate {set_id,
// thresholds, no_regression}; an empty set_id turns the gate off.
func (s *Server) handlePromptGatePut(c echo.Context) error {
	ctx := c.Request().Context()
	var g store.PromptGate
	if err := decodeJSON(c, &g); err != nil {
		return err
	}
	var gate *store.PromptGate
	if g.SetID != "" {
		set, err := s.store.TestSet(ctx, g.SetID)
		if err != nil {
			if store.ErrorCode(err) == store.ENOTFOUND {
				return store.Errorf(store.EINVALID, "set_id: %s", store.ErrorMessage(err))
			}
			return err
		}
		g.SetID = set.ID
		if len(g.Thresholds) > maxGateThresholds {
			return store.Errorf(store.EINVALID, "thresholds: at most %d metrics", maxGateThresholds)
		}
		for m, t := range g.Thresholds {
			known := false
			for _, k := range evals.Metrics {
				known = known || k.Key == m
			}
			if !known {
				return store.Errorf(store.EINVALID, "thresholds: unknown metric %q", clip(m, maxEchoRunes))
			}
			if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
				return store.Errorf(store.EINVALID, "thresholds.%s: must be a number of 0 or more", m)
			}
		}
		if len(g.Thresholds) == 0 && !g.NoRegression {
			return store.Errorf(store.EINVALID, "a gate needs thresholds, no_regression or both")
		}
		gate = &g
	}
	p, err := s.app.Prompts.SetGate(ctx, principalOf(c).actor, c.Param("name"), gate)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"gate": p.Gate})
}

// handlePromptGateRun: POST /api/v1/prompts/:name/gate/run {"version":N}
// starts an eval run of name@N on the gate's set and, when the gate
// compares with production and production's version has no finished run
// there, one of it too. The verdict is GET …/gate?version=N once they end.
func (s *Server) handlePromptGateRun(c echo.Context) error {
	var body struct {
		Version int `json:"version"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	runs, err := s.startGateRuns(c, c.Param("name"), body.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"runs": runs})
}

// startGateRuns starts the eval runs a gate needs for version v of prompt
// name: the version's, and production's when the gate checks for
// regressions and production has no run on the gate's set yet.
func (s *Server) startGateRuns(c echo.Context, name string, v int) ([]*store.EvalRun, error) {
	ctx := c.Request().Context()
	p, err := s.store.Prompt(ctx, name)
	if err != nil {
		return nil, err
	}
	if p.Name != prompt.SupportAnswer {
		return nil, store.Errorf(store.EINVALID, "eval runs answer with %s; %s has no gate", prompt.SupportAnswer, p.Name)
	}
	if p.Gate == nil {
		return nil, store.Errorf(store.EINVALID, "%s has no eval gate; set one first", p.Name)
	}
	if _, err := s.store.PromptVersion(ctx, p.Name, v); err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			return nil, store.Errorf(store.EINVALID, "version: %s", store.ErrorMessage(err))
		}
		return nil, err
	}
	refs := []string{p.Name + "@" + strconv.Itoa(v)}
	if prod, ok := p.Labels[prompt.LabelProduction]; p.Gate.NoRegression && ok && len(prod.Split) == 0 && prod.Version != v {
		base := p.Name + "@" + strconv.Itoa(prod.Version)
		run, err := evals.LatestPromptRun(ctx, s.store, p.Gate.SetID, base)
		if err != nil {
			return nil, err
		}
		if run == nil {
			refs = append(refs, base)
		}
	}
	runs := []*store.EvalRun{}
	for _, ref := range refs {
		run, err := s.startRun(c, p.Gate.SetID, 0, "gate · "+ref, store.RunSettings{Prompt: ref})
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	return runs, nil
}
