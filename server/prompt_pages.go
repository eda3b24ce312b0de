package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/evals"
	"llmops/rag/assistant"
	"llmops/rag/prompt"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// The Prompts pages (/prompts…): server-rendered over the same registry
// the JSON API in prompts.go calls. Forms post and redirect; a failed
// save re-renders the editor with the text as typed.

// maxPlaygroundCases bounds the test-set questions the playground offers.
const maxPlaygroundCases = 200

// handlePromptsPage: GET /prompts.
func (s *Server) handlePromptsPage(c echo.Context) error {
	list, err := s.app.Prompts.List(c.Request().Context())
	if err != nil {
		return err
	}
	p := ui.PromptsPage{Chrome: chrome(c, "Prompts", "prompts"), Env: s.cfg.Env}
	for _, sm := range list {
		ps, err := s.store.Prompt(c.Request().Context(), sm.Name)
		if err != nil {
			return err
		}
		p.Prompts = append(p.Prompts, promptRow(ps, s.cfg.Env))
	}
	return render(c, http.StatusOK, ui.PromptsView(p))
}

// promptRow is a stored prompt as the pages list it.
func promptRow(p *store.Prompt, env string) ui.PromptRow {
	r := ui.PromptRow{Name: p.Name, Description: p.Description, Kind: p.Kind, Latest: p.Latest}
	names := make([]string, 0, len(p.Labels))
	for l := range p.Labels {
		names = append(names, l)
	}
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := labelOrder(a), labelOrder(b)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	for _, l := range names {
		r.Labels = append(r.Labels, labelChip(l, p.Labels[l], env))
	}
	return r
}

// labelOrder puts production, staging and dev first.
func labelOrder(l string) int {
	if i := slices.Index(prompt.Labels, l); i >= 0 {
		return i
	}
	return len(prompt.Labels)
}

func labelChip(name string, l store.PromptLabel, env string) ui.LabelChip {
	ch := ui.LabelChip{Label: name, Version: l.Version, Live: name == env}
	for _, a := range l.Split {
		ch.Split = append(ch.Split, ui.SplitArm{Version: a.Version, Weight: a.Weight})
	}
	return ch
}

// handlePromptPage: GET /prompts/:name.
func (s *Server) handlePromptPage(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	d, err := s.app.Prompts.Get(ctx, name)
	if err != nil {
		return err
	}
	sp, err := s.store.Prompt(ctx, name)
	if err != nil {
		return err
	}
	pr := principalOf(c)
	p := ui.PromptPage{Chrome: chrome(c, "Prompt · "+name, "prompts"), Prompt: promptRow(sp, s.cfg.Env), Env: s.cfg.Env,
		CanEdit: s.canEdit(c), IsAdmin: pr != nil && pr.role == store.RoleAdmin, Playground: name == prompt.SupportAnswer,
		Notice: promptNotice(c), Error: c.QueryParam("error"), Now: s.now()}
	for _, v := range d.Versions {
		p.Versions = append(p.Versions, versionRow(v.Version, v.Message, v.Author, v.CreatedAt, p.Prompt.Labels))
	}
	for _, m := range d.History {
		p.History = append(p.History, ui.LabelMoveRow{Time: m.Time, Label: m.Label, From: m.From, To: m.To, Actor: actorName(m.Actor), Reason: m.Reason})
	}
	for _, ch := range p.Prompt.Labels {
		l := sp.Labels[ch.Label]
		p.Labels = append(p.Labels, ui.PromptLabelRow{LabelChip: ch, UpdatedAt: l.UpdatedAt, UpdatedBy: l.UpdatedBy,
			Gated: ch.Label == prompt.LabelProduction && sp.Gate != nil})
	}
	if name == prompt.SupportAnswer {
		sets, err := s.store.TestSets(ctx)
		if err != nil {
			return err
		}
		if p.Gate, err = s.gateView(ctx, sp, sets); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, ui.PromptView(p))
}

func actorName(a store.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return string(a.Kind)
}

// versionRow is a version with the labels that send it traffic.
func versionRow(v int, msg, author, created string, labels []ui.LabelChip) ui.PromptVersionRow {
	t, _ := time.Parse(time.RFC3339, created)
	r := ui.PromptVersionRow{Version: v, Message: msg, Author: author, CreatedAt: t}
	for _, l := range labels {
		if l.Points(v) {
			r.Labels = append(r.Labels, l.Label)
		}
	}
	return r
}

func promptNotice(c echo.Context) string {
	switch c.QueryParam("notice") {
	case "saved":
		return "Saved as a new version. Move a label to it to put it in use."
	case "same":
		return "Nothing changed: this content is already this version."
	case "gate":
		return "Eval gate saved. It applies to the next move of production."
	case "moved":
		return fmt.Sprintf("%s now points at %s. The next question uses it; questions being answered finish on their version.",
			clip(c.QueryParam("label"), 40), clip(c.QueryParam("to"), 80))
	}
	return ""
}

// handlePromptVersionPage: GET /prompts/:name/versions/:version.
func (s *Server) handlePromptVersionPage(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := promptVersionParam("version", c.Param("version"))
	if err != nil {
		return err
	}
	pv, err := s.app.Prompts.Version(ctx, c.Param("name"), v)
	if err != nil {
		return err
	}
	p, err := s.versionPage(c, pv)
	if err != nil {
		return err
	}
	p.Form = formOf(pv)
	p.Form.BaseVersion = p.Latest
	p.Form.Message = ""
	p.Notice = promptNotice(c)
	return render(c, http.StatusOK, ui.PromptVersionView(*p))
}

// versionPage is the version page of pv without its editor's state.
func (s *Server) versionPage(c echo.Context, pv *store.PromptVersion) (*ui.PromptVersionPage, error) {
	sp, err := s.store.Prompt(c.Request().Context(), pv.Name)
	if err != nil {
		return nil, err
	}
	row := promptRow(sp, s.cfg.Env)
	p := &ui.PromptVersionPage{Chrome: chrome(c, fmt.Sprintf("%s v%d", pv.Name, pv.Version), "prompts"), Name: pv.Name, Description: sp.Description,
		Version:  versionRow(pv.Version, pv.Message, pv.Author, pv.CreatedAt.Format(time.RFC3339), row.Labels),
		Template: pv.Template, Variables: pv.Variables, Config: configKVs(pv.Config), Latest: sp.Latest,
		CanEdit: s.canEdit(c), Playground: pv.Name == prompt.SupportAnswer, Now: s.now()}
	if spec := prompt.SpecOf(pv.Name); spec != nil {
		p.Provided, p.Required = spec.Variables, spec.Required
	}
	return p, nil
}

// configKVs lists a config's keys in the order the diff uses, each
// formatted ("" when unset).
func configKVs(cfg prompt.Config) []ui.ConfigKV {
	out := []ui.ConfigKV{}
	set := map[string]string{}
	for _, ch := range prompt.ConfigDiff(prompt.Config{}, cfg) {
		set[ch.Key] = configValue(ch.To)
	}
	for _, k := range configKeyOrder {
		out = append(out, ui.ConfigKV{Key: k, Value: set[k]})
	}
	return out
}

// configKeyOrder is every config key, in the order people read them.
var configKeyOrder = []string{"model", "temperature", "max_tokens", "top_k", "retrieval_mode", "rerank", "groundedness_threshold"}

func configValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "on"
		}
		return "off"
	}
	return fmt.Sprint(v)
}

// formOf fills the editor from a version.
func formOf(v *store.PromptVersion) ui.PromptForm {
	f := ui.PromptForm{Template: v.Template, Variables: strings.Join(v.Variables, ", "), Model: v.Config.Model,
		RetrievalMode: v.Config.RetrievalMode}
	if t := v.Config.Temperature; t != nil {
		f.Temperature = strconv.FormatFloat(*t, 'f', -1, 64)
	}
	if v.Config.MaxTokens > 0 {
		f.MaxTokens = strconv.Itoa(v.Config.MaxTokens)
	}
	if v.Config.TopK > 0 {
		f.TopK = strconv.Itoa(v.Config.TopK)
	}
	if r := v.Config.Rerank; r != nil {
		f.Rerank = configValue(*r)
	}
	if g := v.Config.GroundednessThreshold; g != nil {
		f.GroundednessThreshold = strconv.FormatFloat(*g, 'f', -1, 64)
	}
	return f
}

// readPromptForm reads the editor's fields as typed.
func readPromptForm(c echo.Context) ui.PromptForm {
	f := ui.PromptForm{Template: strings.ReplaceAll(c.FormValue("template"), "\r\n", "\n"), Variables: c.FormValue("variables"),
		Model: c.FormValue("model"), Temperature: c.FormValue("temperature"), MaxTokens: c.FormValue("max_tokens"),
		TopK: c.FormValue("top_k"), RetrievalMode: c.FormValue("retrieval_mode"), Rerank: c.FormValue("rerank"),
		GroundednessThreshold: c.FormValue("groundedness_threshold"), Message: c.FormValue("message")}
	f.BaseVersion, _ = strconv.Atoi(c.FormValue("base_version"))
	return f
}

// draftOf turns the editor's fields into a registry draft; an empty
// field leaves its config key unset (the server's setting).
func draftOf(f ui.PromptForm) (prompt.Draft, error) {
	d := prompt.Draft{Template: &f.Template, Message: f.Message, Config: &prompt.Config{}}
	for _, v := range strings.Split(f.Variables, ",") {
		if v = strings.TrimPrefix(strings.TrimSpace(v), "."); v != "" {
			d.Variables = append(d.Variables, v)
		}
	}
	if d.Variables == nil {
		d.Variables = []string{}
	}
	cfg := d.Config
	cfg.Model = strings.TrimSpace(f.Model)
	num := func(key, s string) (*float64, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, store.Errorf(store.EINVALID, "config.%s: must be a number (got %q)", key, clip(s, 40))
		}
		return &x, nil
	}
	integer := func(key, s string) (int, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, store.Errorf(store.EINVALID, "config.%s: must be a whole number from 1, or empty (got %q)", key, clip(s, 40))
		}
		return n, nil
	}
	var err error
	if cfg.Temperature, err = num("temperature", f.Temperature); err != nil {
		return d, err
	}
	if cfg.GroundednessThreshold, err = num("groundedness_threshold", f.GroundednessThreshold); err != nil {
		return d, err
	}
	if cfg.MaxTokens, err = integer("max_tokens", f.MaxTokens); err != nil {
		return d, err
	}
	if cfg.TopK, err = integer("top_k", f.TopK); err != nil {
		return d, err
	}
	cfg.RetrievalMode = f.RetrievalMode
	switch f.Rerank {
	case "on", "off":
		on := f.Rerank == "on"
		cfg.Rerank = &on
	case "":
	default:
		return d, store.Errorf(store.EINVALID, "config.rerank: must be on, off or empty")
	}
	return d, nil
}

// handlePromptVersionForm: POST /prompts/:name/versions. A saved version
// redirects to its page; a refused one re-renders the editor with the
// text as typed: 400 with the line and column of a template error, 409
// with the version someone saved first.
func (s *Server) handlePromptVersionForm(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	f := readPromptForm(c)
	d, err := draftOf(f)
	var v *store.PromptVersion
	created := false
	if err == nil {
		v, created, err = s.app.Prompts.Save(ctx, principalOf(c).actor, name, d, f.BaseVersion)
	}
	if err == nil {
		notice := "same"
		if created {
			notice = "saved"
		}
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/prompts/%s/versions/%d?notice=%s", url.PathEscape(name), v.Version, notice))
	}
	code := store.ErrorCode(err)
	if code != store.EINVALID && code != store.ECONFLICT {
		return err
	}
	// Re-render the page of the version the editor started from.
	from, _ := strconv.Atoi(c.FormValue("from"))
	if from < 1 {
		from = f.BaseVersion
	}
	pv, verr := s.app.Prompts.Version(ctx, name, from)
	if verr != nil {
		return verr
	}
	p, perr := s.versionPage(c, pv)
	if perr != nil {
		return perr
	}
	p.Form, p.FormError = f, store.ErrorMessage(err)
	var ce *store.ConflictError
	var te *prompt.TemplateError
	status := http.StatusBadRequest
	switch {
	case errors.As(err, &ce) && ce.Current != nil:
		status, p.Conflict = http.StatusConflict, ce.Current.Version
		p.Form.BaseVersion = ce.Current.Version
	case errors.As(err, &te):
		p.ErrLine, p.ErrCol = te.Line, te.Column
	case code == store.ECONFLICT:
		status = http.StatusConflict
	}
	return render(c, status, ui.PromptVersionView(*p))
}

// handlePromptLabelForm: POST /prompts/:name/labels/:label (or the label
// in the form). The form gives "version", a rollback "target" ("3" or
// "3:90,4:10") or a "split" ("3:90, 4:10"); admins may add
// "override_reason" to pass the eval gate.
func (s *Server) handlePromptLabelForm(c echo.Context) error {
	name := c.Param("name")
	label := c.Param("label")
	if label == "" {
		label = strings.TrimSpace(c.FormValue("label"))
	}
	back := "/prompts/" + url.PathEscape(name)
	t, err := labelTarget(c)
	if err != nil {
		return redirectError(c, back, err)
	}
	pr := principalOf(c)
	reason := strings.TrimSpace(c.FormValue("override_reason"))
	if reason != "" && !pr.role.Allows(store.RoleAdmin) {
		return store.Errorf(store.EFORBIDDEN, "only an admin may override the eval gate")
	}
	p, err := s.app.Prompts.MoveLabel(c.Request().Context(), pr.actor, name, label, t, reason)
	if err != nil {
		return redirectError(c, back, err)
	}
	to := ui.LabelChip{Label: label, Version: p.Labels[label].Version}
	for _, a := range p.Labels[label].Split {
		to.Split = append(to.Split, ui.SplitArm{Version: a.Version, Weight: a.Weight})
	}
	return c.Redirect(http.StatusSeeOther, back+"?notice=moved&label="+url.QueryEscape(label)+"&to="+url.QueryEscape(to.Target()))
}

// labelTarget reads where a label form moves its label.
func labelTarget(c echo.Context) (prompt.Target, error) {
	if v := strings.TrimSpace(c.FormValue("version")); v != "" {
		n, err := promptVersionParam("version", v)
		return prompt.Target{Version: n}, err
	}
	spec := c.FormValue("target")
	if spec == "" {
		spec = c.FormValue("split")
	}
	if strings.TrimSpace(spec) == "" {
		return prompt.Target{}, store.Errorf(store.EINVALID, "give a version to move the label to")
	}
	var t prompt.Target
	for _, part := range strings.Split(spec, ",") {
		v, w, isSplit := strings.Cut(strings.TrimSpace(part), ":")
		n, err := promptVersionParam("version", strings.TrimSpace(v))
		if err != nil {
			return t, err
		}
		if !isSplit {
			if len(strings.Split(spec, ",")) > 1 {
				return t, store.Errorf(store.EINVALID, "split: write each arm as version:weight, e.g. 3:90, 4:10")
			}
			return prompt.Target{Version: n}, nil
		}
		wt, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil {
			return t, store.Errorf(store.EINVALID, "split: weight %q is not a whole number", clip(w, 20))
		}
		t.Split = append(t.Split, store.SplitTarget{Version: n, Weight: wt})
	}
	return t, nil
}

// handlePromptDiffPage: GET /prompts/:name/diff?from=A&to=B (defaults:
// the latest version against the one before it).
func (s *Server) handlePromptDiffPage(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	sp, err := s.store.Prompt(ctx, name)
	if err != nil {
		return err
	}
	to, from := sp.Latest, max(sp.Latest-1, 1)
	if q := c.QueryParam("to"); q != "" {
		if to, err = promptVersionParam("to", q); err != nil {
			return err
		}
	}
	if q := c.QueryParam("from"); q != "" {
		if from, err = promptVersionParam("from", q); err != nil {
			return err
		}
	}
	d, err := s.app.Prompts.Diff(ctx, name, from, to)
	if err != nil {
		return err
	}
	vs, err := s.versionRows(ctx, sp)
	if err != nil {
		return err
	}
	p := ui.PromptDiffPage{Chrome: chrome(c, fmt.Sprintf("%s v%d → v%d", name, from, to), "prompts"), Name: name, From: from, To: to,
		Versions: vs, Message: d.Message, Playground: name == prompt.SupportAnswer}
	for _, l := range d.Template {
		p.Lines = append(p.Lines, ui.DiffLineView{Op: l.Op, Old: l.Old, New: l.New, Text: l.Text})
		switch l.Op {
		case "+":
			p.Added++
		case "-":
			p.Removed++
		}
	}
	for _, ch := range d.Config {
		p.Config = append(p.Config, ui.ConfigChangeView{Key: ch.Key, From: configValue(ch.From), To: configValue(ch.To)})
	}
	if d.Variables != nil {
		p.VarsChanged, p.VarsFrom, p.VarsTo = true, d.Variables[0], d.Variables[1]
	}
	return render(c, http.StatusOK, ui.PromptDiffView(p))
}

// versionRows lists sp's versions newest first, with their labels.
func (s *Server) versionRows(ctx context.Context, sp *store.Prompt) ([]ui.PromptVersionRow, error) {
	vs, err := s.store.PromptVersions(ctx, sp.Name)
	if err != nil {
		return nil, err
	}
	labels := promptRow(sp, s.cfg.Env).Labels
	out := make([]ui.PromptVersionRow, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- {
		out = append(out, versionRow(vs[i].Version, vs[i].Message, vs[i].Author, vs[i].CreatedAt.Format(time.RFC3339), labels))
	}
	return out, nil
}

// handlePlaygroundPage: GET /prompts/:name/playground?a=&b=&trace=. A
// defaults to what production answers with, B to the latest version (a
// draft made from A when that is the same).
func (s *Server) handlePlaygroundPage(c echo.Context) error {
	p, err := s.playgroundPage(c, c.QueryParam("a"), c.QueryParam("b"))
	if err != nil {
		return err
	}
	if id := c.QueryParam("trace"); id != "" {
		q, err := s.traceQuestion(c.Request().Context(), id)
		if err != nil {
			return err
		}
		p.TraceID, p.Question = id, q
	}
	return render(c, http.StatusOK, ui.PlaygroundView(*p))
}

// traceQuestion is the question an ask's trace recorded.
func (s *Server) traceQuestion(ctx context.Context, id string) (string, error) {
	t, _, err := s.store.Trace(ctx, id)
	if err != nil {
		return "", err
	}
	q, _ := t.Attributes[schema.AttrQuestion].(string)
	if q == "" {
		return "", store.Errorf(store.EINVALID, "trace %s has no question to replay", id)
	}
	return q, nil
}

// playgroundPage is the playground of c's prompt with arms a and b
// picked ("" for the defaults, b "draft" for a draft).
func (s *Server) playgroundPage(c echo.Context, a, b string) (*ui.PlaygroundPage, error) {
	ctx := c.Request().Context()
	name := c.Param("name")
	sp, err := s.store.Prompt(ctx, name)
	if err != nil {
		return nil, err
	}
	if name != prompt.SupportAnswer {
		return nil, store.Errorf(store.EINVALID, "the playground answers with %s; %s is not an answer prompt", prompt.SupportAnswer, name)
	}
	vs, err := s.versionRows(ctx, sp)
	if err != nil {
		return nil, err
	}
	p := &ui.PlaygroundPage{Chrome: chrome(c, "Playground · "+name, "prompts"), Name: name, Versions: vs,
		Threshold: s.asst.Threshold(), Offline: s.cfg.LLMBaseURL == ""}
	if prod, ok := sp.Labels[prompt.LabelProduction]; ok {
		p.A = prod.Versions()[0]
	}
	if p.A < 1 {
		p.A = sp.Latest
	}
	p.B = sp.Latest
	if a != "" {
		if p.A, err = promptVersionParam("a", a); err != nil {
			return nil, err
		}
	}
	switch {
	case b == "draft":
		p.Draft, p.B = true, 0
	case b != "":
		if p.B, err = promptVersionParam("b", b); err != nil {
			return nil, err
		}
	case p.B == p.A:
		p.Draft, p.B = true, 0
	}
	base, err := s.app.Prompts.Version(ctx, name, p.A)
	if err != nil {
		return nil, err
	}
	p.Form = formOf(base)
	p.Form.BaseVersion = p.A
	sets, err := s.store.TestSets(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range sets {
		v, err := s.store.TestSetVersion(ctx, t.ID, 0)
		if err != nil {
			return nil, err
		}
		for _, k := range v.Cases {
			if len(p.Cases) == maxPlaygroundCases {
				break
			}
			p.Cases = append(p.Cases, ui.PlaygroundCase{Set: t.Name, Question: k.Question})
		}
	}
	return p, nil
}

// handlePlaygroundForm: POST /prompts/:name/playground. Both arms answer
// the question through the answer path; the page shows them side by side.
func (s *Server) handlePlaygroundForm(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.playgroundPage(c, c.FormValue("a"), c.FormValue("b"))
	if err != nil {
		return err
	}
	p.Question, p.TraceID = strings.TrimSpace(c.FormValue("question")), c.FormValue("trace")
	if p.Question == "" {
		p.Question = strings.TrimSpace(c.FormValue("case"))
	}
	if p.Question == "" && p.TraceID != "" {
		if p.Question, err = s.traceQuestion(ctx, p.TraceID); err != nil {
			return err
		}
	}
	fail := func(err error) error {
		if code := store.ErrorCode(err); code != store.EINVALID && code != store.ENOTFOUND {
			return err
		}
		p.Error = store.ErrorMessage(err)
		var te *prompt.TemplateError
		if errors.As(err, &te) {
			p.ErrLine, p.ErrCol = te.Line, te.Column
		}
		return render(c, http.StatusBadRequest, ui.PlaygroundView(*p))
	}
	if p.Draft {
		p.Form = readPromptForm(c)
		p.Form.BaseVersion = p.A
	}
	if p.Question == "" {
		return fail(store.Errorf(store.EINVALID, "type a question, or pick one from a test set"))
	}
	arms := make([]*prompt.Compiled, 0, 2)
	a, err := s.app.Prompts.ResolveVersion(ctx, p.Name, p.A)
	if err != nil {
		return fail(err)
	}
	arms = append(arms, a)
	if p.Draft {
		d, err := draftOf(p.Form)
		if err != nil {
			return fail(err)
		}
		b, err := s.app.Prompts.Compile(ctx, p.Name, d, p.A)
		if err != nil {
			return fail(err)
		}
		arms = append(arms, b)
	} else {
		b, err := s.app.Prompts.ResolveVersion(ctx, p.Name, p.B)
		if err != nil {
			return fail(err)
		}
		arms = append(arms, b)
	}
	pg := s.playground()
	for i, arm := range arms {
		ans := ui.PlaygroundAnswer{Title: string(rune('A' + i)), Prompt: arm.Ref()}
		out, err := pg.Try(ctx, principalOf(c).actor, p.Question, arm)
		if err != nil {
			if ctx.Err() != nil || store.ErrorCode(err) == store.EINTERNAL {
				return err
			}
			// One arm failing upstream does not hide the other's answer.
			ans.Error = store.ErrorMessage(err)
		} else {
			ans.Answer, ans.Groundedness, ans.Fallback = out.Answer, out.Groundedness, out.Fallback
			ans.Latency, ans.TokensIn, ans.TokensOut = time.Duration(out.LatencyMS)*time.Millisecond, out.TokensIn, out.TokensOut
			ans.CostUSD, ans.Model, ans.TraceID, ans.Rendered = out.CostUSD, out.Model, out.TraceID, out.Rendered
			for _, ps := range out.Context {
				ans.Context = append(ans.Context, ui.PlaygroundPassage{N: ps.N, DocumentID: ps.DocumentID, Title: ps.Title, Heading: ps.Heading, Text: ps.Text})
			}
		}
		p.Answers = append(p.Answers, ans)
	}
	p.Ran = true
	return render(c, http.StatusOK, ui.PlaygroundView(*p))
}

// promptTrier answers one question with one compiled support-answer
// version, traced apart from real asks: all the playground page needs of
// the answer path.
type promptTrier interface {
	Try(ctx context.Context, actor store.Actor, question string, p *prompt.Compiled) (*tryResult, error)
}

// tryResult is one playground answer with what made it: the prompt as
// rendered and the passages retrieved.
type tryResult struct {
	Answer       string
	Groundedness float64
	Fallback     bool
	LatencyMS    int64
	TokensIn     int
	TokensOut    int
	CostUSD      float64
	Model        string
	TraceID      string
	Rendered     string
	Context      []tryPassage
}

// tryPassage is one retrieved passage of a playground answer.
type tryPassage struct {
	N          int
	DocumentID string
	Title      string
	Heading    string
	Text       string
}

func (s *Server) playground() promptTrier { return askTrier{s} }

// askTrier tries a prompt through the assistant with the version pinned
// (Request.Prompt), no conversation and the playground channel, as
// POST /api/v1/prompts/:name/playground does.
type askTrier struct{ s *Server }

var _ promptTrier = askTrier{}

func (t askTrier) Try(ctx context.Context, actor store.Actor, question string, p *prompt.Compiled) (*tryResult, error) {
	req := assistant.Request{Question: question, Channel: schema.ChannelPlayground, Actor: actor, NoConversation: true, Prompt: p}
	res, err := t.s.asst.Ask(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	out := &tryResult{Answer: res.Answer, Groundedness: res.Groundedness, Fallback: res.Fallback, LatencyMS: res.LatencyMS,
		TokensIn: res.TokensIn, TokensOut: res.TokensOut, CostUSD: res.CostUSD, Model: res.Model, TraceID: res.TraceID, Rendered: res.PromptText}
	if out.Rendered == "" {
		// The extractive answerer renders no prompt: show what a model
		// would have been sent.
		if out.Rendered, err = assistant.RenderPrompt(p, question, res.Context); err != nil {
			return nil, err
		}
	}
	for i, ref := range res.Context {
		tp := tryPassage{N: i + 1, Heading: strings.Join(ref.Chunk.Headings, " › "), Text: strings.TrimSpace(ref.Chunk.Text)}
		if ref.Document != nil {
			tp.DocumentID, tp.Title = ref.Document.ID, ref.Document.Title
		}
		out.Context = append(out.Context, tp)
	}
	return out, nil
}

// gateView is p's gate and, when production does not point at the latest
// version already, the gate's verdict on it: what "Run the gate" shows.
func (s *Server) gateView(ctx context.Context, p *store.Prompt, sets []store.TestSet) (*ui.GateView, error) {
	g := &ui.GateView{}
	for _, t := range sets {
		g.Sets = append(g.Sets, ui.TestSetOption{ID: t.ID, Name: t.Name})
	}
	if p.Gate == nil {
		return g, nil
	}
	g.On, g.SetID, g.NoRegression = true, p.Gate.SetID, p.Gate.NoRegression
	for _, t := range sets {
		if t.ID == p.Gate.SetID {
			g.SetName = t.Name
		}
	}
	var spec []string
	for _, m := range slices.Sorted(maps.Keys(p.Gate.Thresholds)) {
		info := evals.MetricByKey(m)
		g.Thresholds = append(g.Thresholds, ui.GateMin{Metric: m, Min: p.Gate.Thresholds[m], LowerIsBetter: info.LowerIsBetter})
		op := ">="
		if info.LowerIsBetter {
			op = "<="
		}
		spec = append(spec, m+op+strconv.FormatFloat(p.Gate.Thresholds[m], 'f', -1, 64))
	}
	g.Spec = strings.Join(spec, ", ")
	if prod, ok := p.Labels[prompt.LabelProduction]; ok && slices.Contains(prod.Versions(), p.Latest) {
		return g, nil
	}
	v, err := evals.CheckGate(ctx, s.store, p, p.Latest)
	if err != nil {
		return nil, err
	}
	gv := &ui.GateVerdict{Version: p.Latest, Pass: v.Pass, Reason: v.Reason, RunID: v.RunID, Baseline: v.Baseline, BaselineRun: v.BaselineRun}
	for _, c := range v.Checks {
		gv.Checks = append(gv.Checks, ui.GateCheckView{Metric: c.Metric, Threshold: c.Threshold, Value: c.Value, Measured: c.Measured, LowerIsBetter: c.LowerIsBetter, Pass: c.Pass})
	}
	for _, d := range v.Regressions {
		gv.Regressions = append(gv.Regressions, d.Key)
	}
	g.Verdict = gv
	return g, nil
}

// handlePromptGateForm: POST /prompts/:name/gate. "set_id" names the
// test set ("" turns the gate off), "thresholds" lists metric bars
// ("faithfulness>=0.8, latency_ms<=2000"; "=" works too), "no_regression"
// compares with production's version.
func (s *Server) handlePromptGateForm(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	back := "/prompts/" + url.PathEscape(name)
	var gate *store.PromptGate
	if id := strings.TrimSpace(c.FormValue("set_id")); id != "" {
		g, err := s.gateOf(ctx, id, c.FormValue("thresholds"), c.FormValue("no_regression") != "")
		if err != nil {
			return redirectError(c, back, err)
		}
		gate = g
	}
	if _, err := s.app.Prompts.SetGate(ctx, principalOf(c).actor, name, gate); err != nil {
		return redirectError(c, back, err)
	}
	return c.Redirect(http.StatusSeeOther, back+"?notice=gate")
}

// gateOf checks a gate the form describes.
func (s *Server) gateOf(ctx context.Context, setID, thresholds string, noRegression bool) (*store.PromptGate, error) {
	set, err := s.store.TestSet(ctx, setID)
	if err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			return nil, store.Errorf(store.EINVALID, "test set: %s", store.ErrorMessage(err))
		}
		return nil, err
	}
	g := &store.PromptGate{SetID: set.ID, NoRegression: noRegression, Thresholds: map[string]float64{}}
	for _, part := range strings.Split(thresholds, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.IndexAny(part, "<>=")
		if i <= 0 {
			return nil, store.Errorf(store.EINVALID, "thresholds: write each as metric>=value, e.g. faithfulness>=0.8 (got %q)", clip(part, 40))
		}
		m := strings.TrimSpace(part[:i])
		val := strings.TrimSpace(strings.TrimLeft(part[i:], "<>="))
		if !slices.ContainsFunc(evals.Metrics, func(x evals.Metric) bool { return x.Key == m }) {
			return nil, store.Errorf(store.EINVALID, "thresholds: unknown metric %q", clip(m, 40))
		}
		x, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return nil, store.Errorf(store.EINVALID, "thresholds.%s: must be a number of 0 or more (got %q)", m, clip(val, 20))
		}
		g.Thresholds[m] = x
	}
	if len(g.Thresholds) == 0 && !g.NoRegression {
		return nil, store.Errorf(store.EINVALID, "a gate needs thresholds, no regression against production, or both")
	}
	return g, nil
}

// handlePromptGateRunForm: POST /prompts/:name/gate/run {version}: an
// eval run of name@version on the gate's set (and of production's
// version when the gate compares with it and it has no finished run
// there); the page of the candidate's run follows its progress.
func (s *Server) handlePromptGateRunForm(c echo.Context) error {
	name := c.Param("name")
	back := "/prompts/" + url.PathEscape(name)
	if _, err := s.store.Prompt(c.Request().Context(), name); err != nil {
		return err // an unknown prompt is a 404, not a message on its page
	}
	v, err := promptVersionParam("version", c.FormValue("version"))
	if err != nil {
		return redirectError(c, back, err)
	}
	runs, err := s.startGateRuns(c, name, v)
	if err != nil {
		return redirectError(c, back, err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals/runs/"+runs[0].ID)
}
