package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/evals"
	"llmops/evals/cases"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// Evals: test sets, runs, comparison — pages and /api/v1/evals.

// startSampleEval creates the sample test set in a new install and, with
// the offline answerer, runs it once, so the Evals page opens on a real
// run. With a model configured the run would cost money: it waits for a
// click.
func (s *Server) startSampleEval(ctx context.Context, sampleLoaded bool) error {
	set, created, err := evals.EnsureSampleSet(ctx, s.store)
	if err != nil || !created || !sampleLoaded || s.cfg.LLMBaseURL != "" {
		return err
	}
	run, err := s.runner.Create(ctx, store.Actor{Kind: store.ActorSystem, Name: "sample data"}, set.ID, 0, "Sample baseline", store.RunSettings{})
	if err != nil {
		return err
	}
	return s.runner.Start(run)
}

// Pages.

func (s *Server) handleEvalsPage(c echo.Context) error {
	ctx := c.Request().Context()
	sets, err := s.store.TestSets(ctx)
	if err != nil {
		return err
	}
	runs, err := s.store.Runs(ctx, "", 0)
	if err != nil {
		return err
	}
	p := ui.EvalsPage{Chrome: chrome(c, "Evals", "evals"), CanRun: s.canEdit(c), Judge: s.runner.JudgeModel(),
		Answerer: s.answererText(), Now: s.now(), Notice: evalNotice(c), Error: c.QueryParam("error")}
	counts := map[string]int{}
	for i, r := range runs {
		counts[r.SetID]++ // every run counts; the table lists the newest
		if i < maxRunsListed {
			p.Runs = append(p.Runs, runRow(&r))
		}
	}
	for _, t := range sets {
		row := setRow(&t)
		row.Runs = counts[t.ID]
		p.Sets = append(p.Sets, row)
		if t.Name == evals.SampleSetName {
			p.SampleSetID = t.ID
		}
	}
	for _, k := range evals.HeadlineMetrics {
		p.Metrics = append(p.Metrics, metricInfo(evals.MetricByKey(k)))
	}
	return render(c, http.StatusOK, ui.EvalsView(p))
}

func (s *Server) answererText() string {
	if s.cfg.LLMBaseURL != "" {
		return s.cfg.LLMModel
	}
	return "extractive (offline)"
}

func (s *Server) canEdit(c echo.Context) bool {
	p := principalOf(c)
	return p != nil && p.role.Allows(store.RoleEditor)
}

func evalNotice(c echo.Context) string {
	switch code := c.QueryParam("notice"); code {
	case "imported":
		n, _ := strconv.Atoi(c.QueryParam("n"))
		skipped, _ := strconv.Atoi(c.QueryParam("skipped"))
		msg := fmt.Sprintf("Imported %d cases as a new version.", n)
		if skipped > 0 {
			msg += fmt.Sprintf(" %d invalid lines were skipped; the version note lists them.", skipped)
		}
		return msg
	case "cancelled":
		return "Run cancelled. Its finished cases are kept; resume it to finish the rest."
	case "case-added":
		return "Case added as a new version of the test set."
	case "set-deleted":
		return "Test set deleted. Its runs stay, with their results."
	case "run-deleted":
		return "Run deleted with its results. The traces of its cases stay."
	}
	return ""
}

func (s *Server) handleTestSetPage(c echo.Context) error {
	ctx := c.Request().Context()
	set, err := s.store.TestSet(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.QueryParam("version"))
	v, err := s.store.TestSetVersion(ctx, set.ID, version)
	if err != nil {
		return err
	}
	versions, err := s.store.TestSetVersions(ctx, set.ID)
	if err != nil {
		return err
	}
	runs, err := s.store.Runs(ctx, set.ID, 0)
	if err != nil {
		return err
	}
	p := ui.TestSetPage{Chrome: chrome(c, "Test set · "+set.Name, "evals"), Set: setRow(set), Version: v.Version, TopK: s.asst.TopK(),
		CanEdit: s.canEdit(c), Now: s.now(), Notice: evalNotice(c), Error: c.QueryParam("error")}
	p.Set.Runs = len(runs)
	for _, x := range versions {
		p.Versions = append(p.Versions, ui.SetVersionRow{Version: x.Version, Note: x.Note, Cases: x.Cases, CreatedAt: x.CreatedAt, CreatedBy: x.CreatedBy})
	}
	for _, k := range v.Cases {
		p.Cases = append(p.Cases, ui.CaseRow{ID: k.ID, Question: k.Question, ReferenceAnswer: k.ReferenceAnswer, DocumentIDs: k.DocumentIDs,
			ChunkIDs: k.ChunkIDs, Unanswerable: k.Unanswerable, Tags: k.Tags, TraceID: k.TraceID})
	}
	for _, r := range runs[:min(len(runs), 20)] {
		p.Runs = append(p.Runs, runRow(&r))
	}
	return render(c, http.StatusOK, ui.TestSetView(p))
}

func (s *Server) handleRunPage(c echo.Context) error {
	ctx := c.Request().Context()
	run, err := s.store.Run(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	results, err := s.store.CaseResults(ctx, run.ID)
	if err != nil {
		return err
	}
	v, err := s.store.TestSetVersion(ctx, run.SetID, run.SetVersion)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		return err
	}
	byID := map[string]store.EvalCase{}
	if v != nil {
		for _, k := range v.Cases {
			byID[k.ID] = k
		}
	}
	tag, show := c.QueryParam("tag"), c.QueryParam("show")
	if show != "" && show != "failures" && show != "regressions" {
		return store.Errorf(store.EINVALID, "show must be failures or regressions")
	}
	p := ui.RunPage{Chrome: chrome(c, "Eval run · "+runTitle(run), "evals"), Run: runRow(run), Tag: tag, Show: show,
		CanCancel: s.canEdit(c), Now: s.now(), Notice: evalNotice(c), Error: c.QueryParam("error")}
	for _, sm := range evals.Summarize(results, tag) {
		p.Metrics = append(p.Metrics, ui.MetricSummary{MetricInfo: metricInfo(sm.Metric), Mean: sm.Mean, N: sm.N, Lo: sm.Lo, Hi: sm.Hi})
	}
	others, err := s.store.Runs(ctx, run.SetID, 50)
	if err != nil {
		return err
	}
	// The baseline for regressions: the run asked for, else the newest
	// finished run of the set started before this one.
	var base map[string]*store.CaseResult
	for _, o := range others {
		if o.ID == run.ID {
			continue
		}
		p.Others = append(p.Others, runRow(&o))
		want := c.QueryParam("baseline")
		if p.Baseline == nil && (o.ID == want || (want == "" && o.CreatedAt.Before(run.CreatedAt) && o.Status == schema.RunDone)) {
			row := runRow(&o)
			p.Baseline = &row
		}
	}
	if p.Baseline != nil {
		br, err := s.store.CaseResults(ctx, p.Baseline.ID)
		if err != nil {
			return err
		}
		base = make(map[string]*store.CaseResult, len(br))
		for i := range br {
			base[br[i].CaseID] = &br[i]
		}
	}
	tags := map[string]bool{}
	for _, r := range results {
		for _, t := range r.Tags {
			tags[t] = true
		}
		if tag != "" && !slices.Contains(r.Tags, tag) {
			continue
		}
		row := caseResultRow(&r, byID[r.CaseID])
		row.Failed = caseFailed(&r, byID[r.CaseID])
		if b := base[r.CaseID]; b != nil {
			row.Regressed = caseRegressed(b, &r, byID[r.CaseID])
		}
		if row.Failed {
			p.Failures++
		}
		if row.Regressed {
			p.Regressions++
		}
		if (show == "failures" && !row.Failed) || (show == "regressions" && !row.Regressed) {
			continue
		}
		if len(p.Cases) == maxCasesShown {
			p.MoreCases++
			continue
		}
		p.Cases = append(p.Cases, row)
	}
	for t := range tags {
		p.Tags = append(p.Tags, t)
	}
	slices.Sort(p.Tags)
	return render(c, http.StatusOK, ui.RunView(p))
}

// maxRunsListed bounds the Evals page's runs table.
const maxRunsListed = 200

// maxCasesShown bounds the cases a run or comparison page lists; the API
// has them all.
const maxCasesShown = 1000

func (s *Server) handleComparePage(c echo.Context) error {
	ctx := c.Request().Context()
	all, err := s.store.Runs(ctx, "", 200)
	if err != nil {
		return err
	}
	aID, bID := c.QueryParam("a"), c.QueryParam("b")
	if bID == "" && len(all) > 0 {
		bID = all[0].ID
	}
	if aID == "" {
		// The previous run of B's set.
		setID := ""
		for _, r := range all {
			switch {
			case r.ID == bID:
				setID = r.SetID
			case setID != "" && r.SetID == setID && aID == "":
				aID = r.ID
			}
		}
	}
	if aID == "" || bID == "" {
		return store.Errorf(store.EINVALID, "comparing needs two runs: pick a baseline (a) and a new run (b)")
	}
	cmp, a, b, ra, rb, err := s.compare(ctx, aID, bID, c.QueryParam("tag"), c.QueryParam("metric"))
	if err != nil {
		return err
	}
	p := ui.ComparePage{Chrome: chrome(c, "Compare runs", "evals"), A: runRow(a), B: runRow(b), Tag: c.QueryParam("tag"),
		Matched: cmp.Matched, OnlyA: cmp.OnlyA, OnlyB: cmp.OnlyB, Now: s.now(), Metric: c.QueryParam("metric")}
	for _, d := range cmp.Deltas {
		p.Deltas = append(p.Deltas, ui.MetricDelta{MetricInfo: metricInfo(d.Metric), A: d.A, B: d.B, NA: d.NA, NB: d.NB,
			Delta: d.Mean, Lo: d.Lo, Hi: d.Hi, N: d.N, Wins: d.Wins, Losses: d.Losses, Ties: d.Ties,
			Significant: d.Significant(), Regressed: d.Regressed, Improved: d.Improved})
	}
	if p.Metric == "" {
		for _, k := range evals.HeadlineMetrics {
			if slices.ContainsFunc(cmp.Deltas, func(d evals.Delta) bool { return d.Key == k }) {
				p.Metric = k
				break
			}
		}
	}
	cases := map[string]store.EvalCase{}
	for _, run := range []*store.EvalRun{a, b} {
		if v, err := s.store.TestSetVersion(ctx, run.SetID, run.SetVersion); err == nil {
			for _, k := range v.Cases {
				cases[k.ID] = k
			}
		}
	}
	for _, cd := range cmp.Cases[:min(len(cmp.Cases), maxCasesShown)] {
		p.Cases = append(p.Cases, ui.CaseDelta{CaseID: cd.CaseID, Question: cd.B.Question, Tags: cd.B.Tags,
			A: caseResultRow(cd.A, cases[cd.CaseID]), B: caseResultRow(cd.B, cases[cd.CaseID]),
			Delta: cd.Delta, HasDelta: cd.HasDelta, Verdict: cd.Verdict})
	}
	tags := map[string]bool{}
	for _, rs := range [][]store.CaseResult{ra, rb} {
		for _, r := range rs {
			for _, t := range r.Tags {
				tags[t] = true
			}
		}
	}
	for t := range tags {
		p.Tags = append(p.Tags, t)
	}
	slices.Sort(p.Tags)
	for _, r := range all {
		p.Runs = append(p.Runs, runRow(&r))
	}
	return render(c, http.StatusOK, ui.CompareView(p))
}

// compare loads two runs and their results and compares them.
func (s *Server) compare(ctx context.Context, aID, bID, tag, metric string) (*evals.Comparison, *store.EvalRun, *store.EvalRun, []store.CaseResult, []store.CaseResult, error) {
	a, err := s.store.Run(ctx, aID)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	b, err := s.store.Run(ctx, bID)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	if a.SetID != b.SetID {
		return nil, nil, nil, nil, nil, store.Errorf(store.EINVALID, "run %s is of %q and run %s of %q: runs compare case by case, so both must be of one test set", a.ID, a.SetName, b.ID, b.SetName)
	}
	ra, err := s.store.CaseResults(ctx, a.ID)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	rb, err := s.store.CaseResults(ctx, b.ID)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	return evals.Compare(ra, rb, tag, metric), a, b, ra, rb, nil
}

// Forms.

func (s *Server) handleTestSetImportForm(c echo.Context) error {
	name, desc, file, data, skip, err := importUpload(c)
	if err != nil {
		return redirectError(c, "/evals", err)
	}
	imp, err := evals.ImportFile(c.Request().Context(), s.store, principalOf(c).actor, name, desc, file, data, cases.Options{SkipInvalid: skip})
	if err != nil {
		return redirectError(c, "/evals", err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/evals/sets/%s?notice=imported&n=%d&skipped=%d", imp.Set.ID, imp.Added, len(imp.Skipped)))
}

// importUpload reads the import form: a file, a set name, a description
// and skip_invalid.
func importUpload(c echo.Context) (name, desc, file string, data []byte, skip bool, err error) {
	r := c.Request()
	if !strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		return "", "", "", nil, false, store.Errorf(store.EINVALID, "send the file as multipart/form-data in a field named file")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", "", "", nil, false, store.Errorf(store.EINVALID, "malformed multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", "", "", nil, false, uploadReadError(err)
		}
		b, err := io.ReadAll(part)
		part.Close()
		if err != nil {
			return "", "", "", nil, false, uploadReadError(err)
		}
		if fn := partFileName(part); fn != "" {
			file, data = cleanName(fn), b
			continue
		}
		switch part.FormName() {
		case "name":
			name = strings.TrimSpace(string(b))
		case "description":
			desc = strings.TrimSpace(string(b))
		case "skip_invalid":
			v := strings.TrimSpace(string(b))
			skip = v == "on" || v == "true" || v == "1"
		}
	}
	if file == "" || len(bytes.TrimSpace(data)) == 0 {
		return "", "", "", nil, false, store.Errorf(store.EINVALID, "choose a CSV, JSONL or JSON file of cases")
	}
	return name, desc, file, data, skip, nil
}

func (s *Server) handleTestSetCreateForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	set, err := s.store.CreateTestSet(c.Request().Context(), principalOf(c).actor,
		store.TestSet{Name: c.FormValue("name"), Description: c.FormValue("description"), Source: "manual"}, "created empty", nil)
	if err != nil {
		return redirectError(c, "/evals", err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals/sets/"+set.ID)
}

func (s *Server) handleTestSetDeleteForm(c echo.Context) error {
	if _, err := s.deleteTestSet(c); err != nil {
		return redirectError(c, "/evals/sets/"+url.PathEscape(c.Param("id")), err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals?notice=set-deleted")
}

func (s *Server) handleTestSetDelete(c echo.Context) error {
	set, err := s.deleteTestSet(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (s *Server) deleteTestSet(c echo.Context) (*store.TestSet, error) {
	ctx := c.Request().Context()
	set, err := s.store.TestSet(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	return s.store.DeleteTestSet(ctx, principalOf(c).actor, set.ID)
}

func (s *Server) handleRunDeleteForm(c echo.Context) error {
	if err := s.store.DeleteRun(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return redirectError(c, "/evals/runs/"+url.PathEscape(c.Param("id")), err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals?notice=run-deleted")
}

func (s *Server) handleRunDelete(c echo.Context) error {
	if err := s.store.DeleteRun(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) handleTestCaseForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	back := "/evals/sets/" + c.Param("id")
	k := store.EvalCase{Question: c.FormValue("question"), ReferenceAnswer: c.FormValue("reference_answer"),
		DocumentIDs: splitList(c.FormValue("document_ids")), Tags: splitList(c.FormValue("tags")),
		Unanswerable: c.FormValue("unanswerable") != ""}
	if _, err := s.store.AddTestCases(c.Request().Context(), principalOf(c).actor, c.Param("id"), []store.EvalCase{k}, "added 1 case", false); err != nil {
		return redirectError(c, back, err)
	}
	return c.Redirect(http.StatusSeeOther, back+"?notice=case-added")
}

func (s *Server) handleCaseFromTraceForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	traceID, setID := c.FormValue("trace_id"), c.FormValue("set_id")
	ctx := c.Request().Context()
	unanswerable := c.FormValue("unanswerable") != ""
	k, err := evals.CaseFromTrace(ctx, s.store, traceID, c.FormValue("reference_answer"), !unanswerable)
	if err != nil {
		return redirectError(c, "/traces/"+url.PathEscape(traceID), err)
	}
	// Should have refused: no document is relevant, the case expects a
	// fallback.
	k.Unanswerable = unanswerable
	if _, err := s.store.AddTestCases(ctx, principalOf(c).actor, setID, []store.EvalCase{k}, "added 1 case from trace "+traceID, false); err != nil {
		return redirectError(c, "/traces/"+url.PathEscape(traceID), err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals/sets/"+setID+"?notice=case-added")
}

func (s *Server) handleRunForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	topK, _ := strconv.Atoi(c.FormValue("top_k"))
	settings := store.RunSettings{Mode: c.FormValue("mode"), TopK: topK, NoRerank: c.FormValue("no_rerank") != ""}
	run, err := s.startRun(c, c.FormValue("set_id"), 0, c.FormValue("name"), settings)
	if err != nil {
		return redirectError(c, "/evals", err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals/runs/"+run.ID)
}

func (s *Server) handleSampleRunForm(c echo.Context) error {
	set, _, err := evals.EnsureSampleSet(c.Request().Context(), s.store)
	if err != nil {
		return err
	}
	run, err := s.startRun(c, set.ID, 0, "", store.RunSettings{})
	if err != nil {
		return redirectError(c, "/evals", err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals/runs/"+run.ID)
}

func (s *Server) startRun(c echo.Context, set string, version int, name string, settings store.RunSettings) (*store.EvalRun, error) {
	run, err := s.runner.Create(c.Request().Context(), principalOf(c).actor, set, version, name, settings)
	if err != nil {
		return nil, err
	}
	if err := s.runner.Start(run); err != nil {
		run.Status, run.Error = schema.RunFailed, "could not start: "+store.ErrorMessage(err)
		if serr := s.store.SaveRunProgress(context.WithoutCancel(c.Request().Context()), run, nil); serr != nil {
			s.log.Warn("eval run: could not record the failed start", "run", run.ID, "err", serr)
		}
		return nil, err
	}
	return run, nil
}

func (s *Server) handleRunCancelForm(c echo.Context) error {
	s.runner.Cancel(c.Param("id"))
	if err := s.waitStopped(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/evals/runs/"+c.Param("id")+"?notice=cancelled")
}

func (s *Server) handleRunResumeForm(c echo.Context) error {
	if _, err := s.runner.Resume(c.Request().Context(), c.Param("id")); err != nil {
		return redirectError(c, "/evals/runs/"+c.Param("id"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/evals/runs/"+c.Param("id"))
}

// waitStopped waits (briefly) for a cancelled run to save its state.
func (s *Server) waitStopped(ctx context.Context, id string) error {
	deadline := time.Now().Add(5 * time.Second)
	for s.runner.Running(id) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// redirectError sends a form's error back to the page it came from.
func redirectError(c echo.Context, to string, err error) error {
	if code := store.ErrorCode(err); code == store.EINTERNAL || code == store.EUNAVAILABLE && errors.Is(err, context.Canceled) {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to+"?error="+url.QueryEscape(store.ErrorMessage(err)))
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' })
}

// JSON API.

func (s *Server) handleTestSetList(c echo.Context) error {
	sets, err := s.store.TestSets(c.Request().Context())
	if err != nil {
		return err
	}
	if sets == nil {
		sets = []store.TestSet{}
	}
	return c.JSON(http.StatusOK, map[string]any{"sets": sets})
}

type testSetCreateRequest struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Cases       []store.EvalCase `json:"cases"`
}

// handleTestSetCreate takes JSON {name, description, cases} or a
// multipart import (file, name, description, skip_invalid).
func (s *Server) handleTestSetCreate(c echo.Context) error {
	ctx := c.Request().Context()
	actor := principalOf(c).actor
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		name, desc, file, data, skip, err := importUpload(c)
		if err != nil {
			return err
		}
		imp, err := evals.ImportFile(ctx, s.store, actor, name, desc, file, data, cases.Options{SkipInvalid: skip})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, imp)
	}
	var req testSetCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	set, err := s.store.CreateTestSet(ctx, actor, store.TestSet{Name: req.Name, Description: req.Description, Source: "api"}, "created", req.Cases)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, set)
}

func (s *Server) handleTestSetGet(c echo.Context) error {
	ctx := c.Request().Context()
	set, err := s.store.TestSet(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.QueryParam("version"))
	v, err := s.store.TestSetVersion(ctx, set.ID, version)
	if err != nil {
		return err
	}
	versions, err := s.store.TestSetVersions(ctx, set.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"set": set, "version": v.Version, "cases": v.Cases, "versions": versions})
}

func (s *Server) handleTestSetExport(c echo.Context) error {
	ctx := c.Request().Context()
	set, err := s.store.TestSet(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.QueryParam("version"))
	v, err := s.store.TestSetVersion(ctx, set.ID, version)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-v%d.jsonl", slug(set.Name), v.Version)
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "application/x-ndjson", cases.Marshal(v.Cases))
}

// slug makes a file-name-safe version of s.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

type addCasesRequest struct {
	Cases []store.EvalCase `json:"cases"`
	// Or one case from a trace.
	TraceID         string `json:"trace_id"`
	ReferenceAnswer string `json:"reference_answer"`
	UseCitations    *bool  `json:"use_citations"`
	Note            string `json:"note"`
}

func (s *Server) handleTestCasesAdd(c echo.Context) error {
	var req addCasesRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	note := req.Note
	if req.TraceID != "" {
		k, err := evals.CaseFromTrace(ctx, s.store, req.TraceID, req.ReferenceAnswer, req.UseCitations == nil || *req.UseCitations)
		if err != nil {
			return err
		}
		req.Cases = append(req.Cases, k)
		if note == "" {
			note = "added 1 case from trace " + req.TraceID
		}
	}
	if note == "" {
		note = fmt.Sprintf("added %d cases", len(req.Cases))
	}
	set, err := s.store.TestSet(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if set, err = s.store.AddTestCases(ctx, principalOf(c).actor, set.ID, req.Cases, note, false); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (s *Server) handleRunList(c echo.Context) error {
	runs, err := s.store.Runs(c.Request().Context(), c.QueryParam("set"), 200)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []store.EvalRun{}
	}
	return c.JSON(http.StatusOK, map[string]any{"runs": runs})
}

type runCreateRequest struct {
	Set      string            `json:"set"` // ID or name
	Version  int               `json:"version"`
	Name     string            `json:"name"`
	Settings store.RunSettings `json:"settings"`
}

func (s *Server) handleRunCreate(c echo.Context) error {
	var req runCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	run, err := s.startRun(c, req.Set, req.Version, req.Name, req.Settings)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, run)
}

func (s *Server) handleRunGet(c echo.Context) error {
	run, err := s.store.Run(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

func (s *Server) handleRunResults(c echo.Context) error {
	ctx := c.Request().Context()
	run, err := s.store.Run(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	results, err := s.store.CaseResults(ctx, run.ID)
	if err != nil {
		return err
	}
	if results == nil {
		results = []store.CaseResult{}
	}
	return c.JSON(http.StatusOK, map[string]any{"run": run, "results": results, "metrics": evals.Summarize(results, c.QueryParam("tag"))})
}

func (s *Server) handleRunCancel(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.store.Run(ctx, c.Param("id")); err != nil {
		return err
	}
	if !s.runner.Cancel(c.Param("id")) {
		return store.Errorf(store.ECONFLICT, "eval run %s is not running", c.Param("id"))
	}
	if err := s.waitStopped(ctx, c.Param("id")); err != nil {
		return err
	}
	return s.handleRunGet(c)
}

func (s *Server) handleRunResume(c echo.Context) error {
	run, err := s.runner.Resume(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, run)
}

func (s *Server) handleCompare(c echo.Context) error {
	cmp, a, b, _, _, err := s.compare(c.Request().Context(), c.QueryParam("a"), c.QueryParam("b"), c.QueryParam("tag"), c.QueryParam("metric"))
	if err != nil {
		return err
	}
	type caseDelta struct {
		evals.CaseDelta
		Question string             `json:"question"`
		A        map[string]float64 `json:"a"`
		B        map[string]float64 `json:"b"`
	}
	out := make([]caseDelta, len(cmp.Cases))
	for i, cd := range cmp.Cases {
		out[i] = caseDelta{CaseDelta: cd, Question: cd.B.Question, A: cd.A.Metrics, B: cd.B.Metrics}
	}
	type delta struct {
		Key         string  `json:"metric"`
		A           float64 `json:"a"`
		B           float64 `json:"b"`
		Delta       float64 `json:"delta"`
		Lo          float64 `json:"ci_low"`
		Hi          float64 `json:"ci_high"`
		N           int     `json:"n"`
		Wins        int     `json:"wins"`
		Losses      int     `json:"losses"`
		Ties        int     `json:"ties"`
		Significant bool    `json:"significant"`
		Regressed   bool    `json:"regressed"`
		Improved    bool    `json:"improved"`
	}
	ds := make([]delta, len(cmp.Deltas))
	for i, d := range cmp.Deltas {
		ds[i] = delta{d.Key, d.A, d.B, d.Mean, d.Lo, d.Hi, d.N, d.Wins, d.Losses, d.Ties, d.Significant(), d.Regressed, d.Improved}
	}
	return c.JSON(http.StatusOK, map[string]any{"a": a, "b": b, "metrics": ds, "cases": out,
		"matched": cmp.Matched, "only_a": cmp.OnlyA, "only_b": cmp.OnlyB})
}

// View conversions.

func metricInfo(m evals.Metric) ui.MetricInfo {
	return ui.MetricInfo{Key: m.Key, Label: m.Label, Group: m.Group, Help: m.Help, LowerIsBetter: m.LowerIsBetter}
}

func setRow(t *store.TestSet) ui.TestSetRow {
	return ui.TestSetRow{ID: t.ID, Name: t.Name, Description: t.Description, Source: t.Source, Version: t.Version, Cases: t.Cases, UpdatedAt: t.UpdatedAt}
}

func runTitle(r *store.EvalRun) string {
	if r.Name != "" {
		return r.Name
	}
	return r.SetName + " v" + strconv.Itoa(r.SetVersion)
}

func runRow(r *store.EvalRun) ui.RunRow {
	row := ui.RunRow{ID: r.ID, Name: r.Name, SetID: r.SetID, SetName: r.SetName, SetVersion: r.SetVersion, Status: r.Status,
		Error: strings.Join(append([]string{r.Error}, r.Warnings...), " "), Done: r.Done, Total: r.Total, Errors: r.Errors,
		Metrics: r.Metrics, Counts: r.Counts, Settings: SettingsText(r.Settings), TopK: r.Settings.TopK, CostUSD: r.CostUSD, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
	row.Error = strings.TrimSpace(row.Error)
	if !r.StartedAt.IsZero() {
		end := r.EndedAt
		if end.IsZero() {
			end = time.Now()
		}
		row.Duration = end.Sub(r.StartedAt)
	}
	return row
}

// SettingsText describes run settings in one line.
func SettingsText(s store.RunSettings) string {
	mode := s.Mode
	if mode == "" {
		mode = "hybrid"
	}
	if !s.NoRerank {
		mode += " + rerank"
	}
	parts := []string{mode, "top " + strconv.Itoa(max(s.TopK, 1))}
	switch {
	case s.Answerer == "model" && s.Model != "":
		parts = append(parts, s.Model)
	case s.Answerer != "":
		parts = append(parts, s.Answerer)
	}
	if s.Prompt != "" {
		parts = append(parts, s.Prompt)
	}
	if s.Threshold != nil {
		parts = append(parts, "threshold "+strconv.FormatFloat(*s.Threshold, 'f', -1, 64))
	}
	if s.Judge != "" {
		parts = append(parts, "judge "+s.Judge)
	}
	return strings.Join(parts, " · ")
}

func caseResultRow(r *store.CaseResult, k store.EvalCase) ui.CaseResultRow {
	if r == nil {
		return ui.CaseResultRow{}
	}
	return ui.CaseResultRow{Index: r.Index, CaseID: r.CaseID, Question: r.Question, Tags: r.Tags, Answer: r.Answer, Fallback: r.Fallback,
		Unanswerable: k.Unanswerable, Reference: k.ReferenceAnswer, Metrics: r.Metrics, LatencyMS: r.LatencyMS, CostUSD: r.CostUSD,
		TraceID: r.TraceID, Error: r.Error, JudgeError: r.JudgeError}
}

// caseFailed says whether a case went wrong in a way a person would fix:
// an error, an unanswerable question answered, an answerable one refused,
// or retrieval that missed every relevant document in the top 5.
func caseFailed(r *store.CaseResult, k store.EvalCase) bool {
	if r.Error != "" || r.Fallback != k.Unanswerable {
		return true
	}
	hit, ok := r.Metrics["hit@5"]
	return ok && hit == 0
}

// caseRegressed says whether a case got worse than in the baseline: it
// fails now and did not then, or a headline metric fell by
// ui.RegressionDrop or more (direction-aware).
func caseRegressed(base, now *store.CaseResult, k store.EvalCase) bool {
	if caseFailed(now, k) && !caseFailed(base, k) {
		return true
	}
	for _, key := range evals.HeadlineMetrics {
		a, oka := base.Metrics[key]
		b, okb := now.Metrics[key]
		if !oka || !okb {
			continue
		}
		drop := a - b
		if evals.MetricByKey(key).LowerIsBetter {
			drop = -drop
		}
		if drop >= ui.RegressionDrop-1e-9 {
			return true
		}
	}
	return false
}
