package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"llmops/evals/review"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// The Review pages: the week's queue with the policy, the reviewing view
// of one item, and the weekly report. They call the same store and
// evals/review functions as the JSON API in review.go.

// weekAround returns the weeks before and after week.
func weekAround(week string) (prev, next string) {
	monday, err := store.ParseISOWeek(week)
	if err != nil {
		return "", ""
	}
	return store.ISOWeek(monday.AddDate(0, 0, -7)), store.ISOWeek(monday.AddDate(0, 0, 7))
}

// userNames maps user IDs to the names people read.
func (s *Server) userNames(ctx context.Context) (map[string]string, error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = cmpOr(u.Name, u.Email)
	}
	return names, nil
}

func nameOf(names map[string]string, id string) string {
	if n := names[id]; n != "" {
		return n
	}
	return id
}

func percentText(x float64) string {
	return strconv.FormatFloat(x*100, 'f', -1, 64)
}

func (s *Server) handleReviewPage(c echo.Context) error {
	ctx := c.Request().Context()
	week, err := s.reviewWeek(c)
	if err != nil {
		return err
	}
	items, err := s.reviewQueue(c, week)
	if err != nil {
		return err
	}
	names, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	pol, err := s.store.ReviewPolicy(ctx)
	if err != nil {
		return err
	}
	p := principalOf(c)
	me, _ := reviewerID(c)
	page := ui.ReviewPage{Chrome: chrome(c, "Review", "review"), Week: week, Total: len(items),
		CanReview: p.role.Allows(store.RoleReviewer), CanEditPolicy: p.role == store.RoleAdmin,
		Policy: ui.ReviewPolicyForm{SampleRate: percentText(pol.SampleRate), WeeklyTarget: strconv.Itoa(pol.WeeklyTarget),
			DoubleShare: percentText(pol.DoubleShare), FindingsSet: pol.FindingsSet, ThumbsDown: pol.ThumbsDown,
			Escalated: pol.Escalated, LowGroundedness: pol.LowGroundedness, Alerts: pol.Alerts},
		Error: c.QueryParam("error")}
	page.PrevWeek, page.NextWeek = weekAround(week)
	switch c.QueryParam("notice") {
	case "done":
		page.Notice = "All items reviewed. Thank you!"
	case "policy":
		page.Notice = "Policy saved. It applies to queues built from now on."
	}
	progress := map[string]*ui.ReviewProgress{}
	var order []string
	for _, it := range items {
		row := ui.ReviewRow{ID: it.ID, Question: it.Question, State: it.State, Double: it.Double, Mine: slices.Contains(it.Assignees, me)}
		for _, r := range it.Reason {
			row.Reasons = append(row.Reasons, string(r))
		}
		var who []string
		for _, a := range it.Assignees {
			who = append(who, nameOf(names, a))
			pr := progress[a]
			if pr == nil {
				pr = &ui.ReviewProgress{Name: nameOf(names, a)}
				progress[a] = pr
				order = append(order, a)
			}
			pr.Assigned++
			if it.LabelBy(a) != nil {
				pr.Done++
			}
		}
		row.Assignees = strings.Join(who, ", ")
		if len(it.Labels) > 0 {
			row.Verdict = string(it.Labels[0].Verdict)
		}
		if it.State == store.ReviewDone {
			page.Done++
		}
		if page.Start == "" && page.CanReview && row.Mine && it.LabelBy(me) == nil {
			page.Start = it.ID
		}
		page.Items = append(page.Items, row)
	}
	if page.Start == "" && page.CanReview {
		// Nothing of mine left: help with what nobody has labelled.
		for _, it := range items {
			if it.State == store.ReviewOpen && it.LabelBy(me) == nil && len(it.Labels) == 0 {
				page.Start = it.ID
				break
			}
		}
	}
	slices.Sort(order)
	for _, a := range order {
		page.Progress = append(page.Progress, *progress[a])
	}
	slices.SortFunc(page.Progress, func(a, b ui.ReviewProgress) int { return cmp.Compare(a.Name, b.Name) })
	return render(c, http.StatusOK, ui.Review(page))
}

// handleReviewPolicyForm saves the policy from the Review page (admin).
func (s *Server) handleReviewPolicyForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.store.ReviewPolicy(ctx)
	if err != nil {
		return err
	}
	pct := func(name string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(c.FormValue(name), "%")), 64)
		if err != nil {
			return 0, store.Errorf(store.EINVALID, "%s: want a percentage", name)
		}
		return v / 100, nil
	}
	if p.SampleRate, err = pct("sample_rate"); err != nil {
		return redirectError(c, "/review", err)
	}
	if p.DoubleShare, err = pct("double_share"); err != nil {
		return redirectError(c, "/review", err)
	}
	if p.WeeklyTarget, err = strconv.Atoi(strings.TrimSpace(c.FormValue("weekly_target"))); err != nil {
		return redirectError(c, "/review", store.Errorf(store.EINVALID, "weekly_target: want a whole number"))
	}
	p.ThumbsDown, p.Escalated = c.FormValue("thumbs_down") != "", c.FormValue("escalated") != ""
	p.LowGroundedness, p.Alerts = c.FormValue("low_groundedness") != "", c.FormValue("alerts") != ""
	p.FindingsSet = c.FormValue("findings_set")
	if _, err := s.store.PutReviewPolicy(ctx, principalOf(c).actor, p); err != nil {
		return redirectError(c, "/review", err)
	}
	return c.Redirect(http.StatusSeeOther, "/review?notice=policy")
}

var reviewVerdicts = []ui.ReviewOption{
	{Value: string(store.VerdictCorrect), Label: "Correct", Key: "1"},
	{Value: string(store.VerdictPartial), Label: "Partially correct", Key: "2"},
	{Value: string(store.VerdictIncorrect), Label: "Incorrect", Key: "3"},
	{Value: string(store.VerdictShouldHaveRefused), Label: "Should have refused", Key: "4"},
}

func reviewCauses() []ui.ReviewOption {
	var out []ui.ReviewOption
	for _, c := range store.Causes {
		out = append(out, ui.ReviewOption{Value: string(c), Label: ui.CauseLabel(string(c))})
	}
	return out
}

func labelView(l store.ReviewLabel, names map[string]string) ui.ReviewLabelView {
	v := ui.ReviewLabelView{Reviewer: cmpOr(names[l.Reviewer], l.ReviewerName), Verdict: string(l.Verdict), VerdictLabel: ui.VerdictLabel(string(l.Verdict)),
		Cause: string(l.Cause), CauseLabel: ui.CauseLabel(string(l.Cause)), CorrectedAnswer: l.CorrectedAnswer,
		Documents: strings.Join(l.Documents, ", "), Notes: l.Notes, Grounded: "no"}
	if l.Grounded {
		v.Grounded = "yes"
	}
	return v
}

// attrString reads a string attribute.
func attrString(attrs map[string]any, key string) string {
	s, _ := attrs[key].(string)
	return s
}

func (s *Server) handleReviewItemPage(c echo.Context) error {
	ctx := c.Request().Context()
	it, err := s.store.ReviewItem(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	items, err := s.store.ReviewQueue(ctx, it.Week)
	if err != nil {
		return err
	}
	t, _, err := s.store.Trace(ctx, it.TraceID)
	if err != nil {
		return err
	}
	feedback, err := s.store.FeedbackFor(ctx, t.ID)
	if err != nil {
		return err
	}
	names, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	p := principalOf(c)
	me, _ := reviewerID(c)
	page := ui.ReviewItemPage{Chrome: chrome(c, "Review · "+store.Preview(it.Question, 40), "review"), ID: it.ID, TraceID: it.TraceID,
		Week: it.Week, Total: len(items), State: it.State, Question: it.Question, Verdicts: reviewVerdicts, Causes: reviewCauses(),
		CanReview: p.role.Allows(store.RoleReviewer), CanAddCase: p.role.Allows(store.RoleEditor), TestCase: it.TestCase,
		Error: c.QueryParam("error")}
	if c.QueryParam("notice") == "case-added" {
		page.Notice = "Added to the test set."
	}
	for i, x := range items {
		if x.ID == it.ID {
			page.Pos = i + 1
			if i > 0 {
				page.PrevID = items[i-1].ID
			}
			if i+1 < len(items) {
				page.NextID = items[i+1].ID
			}
		}
	}
	for _, r := range it.Reason {
		page.Reasons = append(page.Reasons, string(r))
	}
	page.Question = cmpOr(attrString(t.Attributes, schema.AttrQuestion), cmpOr(t.Input, it.Question))
	page.Answer = cmpOr(attrString(t.Attributes, schema.AttrAnswer), t.Output)
	if g, ok := t.Attributes[schema.AttrGroundedness].(float64); ok {
		page.Groundedness = strconv.FormatFloat(g, 'f', 2, 64)
		if th, ok := t.Attributes[schema.AttrThreshold].(float64); ok && th > 0 {
			page.Threshold = strconv.FormatFloat(th, 'f', 2, 64)
		}
	}
	page.Fallback, _ = t.Attributes[schema.AttrFallback].(bool)
	for _, f := range feedback {
		page.Feedback = append(page.Feedback, ui.FeedbackView{Value: f.Value, Comment: f.Comment, Actor: f.Actor.Name, Time: f.CreatedAt})
	}
	if err := s.reviewChunks(ctx, t, &page); err != nil {
		return err
	}
	if mine := it.LabelBy(me); mine != nil {
		page.Label = labelView(*mine, names)
	}
	for _, l := range it.Labels {
		if l.Reviewer != me {
			page.Others = append(page.Others, labelView(l, names))
		}
	}
	page.Locked = it.LabelBy(me) == nil && len(it.Labels) >= it.Needs()
	if page.CanAddCase {
		pol, err := s.store.ReviewPolicy(ctx)
		if err != nil {
			return err
		}
		page.SetName = cmp.Or(pol.FindingsSet, "Review findings")
	}
	return render(c, http.StatusOK, ui.ReviewItem(page))
}

// reviewChunks fills the cited chunks and the retrieved-but-not-cited
// ones, with their text as stored now.
func (s *Server) reviewChunks(ctx context.Context, t *store.Trace, page *ui.ReviewItemPage) error {
	cited := map[string]bool{}
	var ids []string
	type cit struct {
		n                      int
		chunk, doc, title, src string
	}
	var cits []cit
	list, _ := t.Attributes[schema.AttrCitations].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		n, _ := m["n"].(float64)
		k := cit{n: int(n), chunk: attrString(m, "chunk_id"), doc: attrString(m, "document_id"), title: attrString(m, "title"), src: attrString(m, "source")}
		cits = append(cits, k)
		cited[k.chunk] = true
		ids = append(ids, k.chunk)
	}
	var uncited []string
	retrieved, _ := t.Attributes[schema.AttrRetrieved].([]any)
	for _, x := range retrieved {
		if id, _ := x.(string); id != "" && !cited[id] && !slices.Contains(uncited, id) {
			uncited = append(uncited, id)
		}
	}
	refs, err := s.store.ChunksByID(ctx, append(ids, uncited...))
	if err != nil {
		return err
	}
	byID := map[string]store.ChunkRef{}
	for _, r := range refs {
		byID[r.Chunk.ID] = r
	}
	for _, k := range cits {
		rc := ui.ReviewChunk{N: k.n, ChunkID: k.chunk, DocumentID: k.doc, Title: k.title, Source: k.src}
		if r, ok := byID[k.chunk]; ok {
			rc.Text = r.Chunk.Text
		}
		page.Citations = append(page.Citations, rc)
	}
	for _, id := range uncited {
		rc := ui.ReviewChunk{ChunkID: id}
		if r, ok := byID[id]; ok {
			rc.Text, rc.DocumentID = r.Chunk.Text, r.Chunk.DocumentID
			if r.Document != nil {
				rc.Title, rc.Source = r.Document.Title, r.Document.Source
			}
		}
		page.Uncited = append(page.Uncited, rc)
	}
	return nil
}

// handleReviewLabelForm stores the reviewing view's labels and moves on
// to the next item that waits for the reviewer.
func (s *Server) handleReviewLabelForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	id := c.Param("id")
	back := "/review/items/" + url.PathEscape(id)
	var grounded *bool
	switch c.FormValue("grounded") {
	case "yes":
		grounded = new(bool)
		*grounded = true
	case "no":
		grounded = new(bool)
	}
	req := labelRequest{Verdict: store.ReviewVerdict(c.FormValue("verdict")), Grounded: grounded, Cause: store.ReviewCause(c.FormValue("cause")),
		CorrectedAnswer: c.FormValue("corrected_answer"), Documents: splitList(c.FormValue("documents")), Notes: c.FormValue("notes")}
	res, err := s.label(c, id, req)
	var lc *store.LabelConflict
	if errors.As(err, &lc) {
		return c.Redirect(http.StatusSeeOther, back+"?error="+url.QueryEscape(lc.Error()))
	}
	if err != nil {
		return redirectError(c, back, err)
	}
	next, err := s.nextForReviewer(c, res.Item)
	if err != nil {
		return err
	}
	if next == "" {
		return c.Redirect(http.StatusSeeOther, "/review?week="+res.Item.Week+"&notice=done")
	}
	return c.Redirect(http.StatusSeeOther, "/review/items/"+next)
}

// nextForReviewer is the item after it, in queue order and wrapping
// round, that is assigned to the caller and not yet labelled by them; else
// the next one nobody has labelled; "" when none is left.
func (s *Server) nextForReviewer(c echo.Context, it *store.ReviewItem) (string, error) {
	items, err := s.store.ReviewQueue(c.Request().Context(), it.Week)
	if err != nil {
		return "", err
	}
	me, _ := reviewerID(c)
	at := slices.IndexFunc(items, func(x store.ReviewItem) bool { return x.ID == it.ID })
	for _, pass := range []func(x *store.ReviewItem) bool{
		func(x *store.ReviewItem) bool { return slices.Contains(x.Assignees, me) && x.LabelBy(me) == nil },
		func(x *store.ReviewItem) bool { return len(x.Labels) == 0 },
	} {
		for i := 1; i < len(items); i++ {
			x := &items[(at+i)%len(items)]
			if pass(x) {
				return x.ID, nil
			}
		}
	}
	return "", nil
}

func (s *Server) handleReviewTestCaseForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	id := c.Param("id")
	back := "/review/items/" + url.PathEscape(id)
	if _, _, err := s.addReviewCase(c.Request().Context(), c, id, c.FormValue("set")); err != nil {
		return redirectError(c, back, err)
	}
	return c.Redirect(http.StatusSeeOther, back+"?notice=case-added")
}

func (s *Server) handleReviewReportPage(c echo.Context) error {
	week, err := s.reviewWeek(c)
	if err != nil {
		return err
	}
	r, err := s.reviewReport(c.Request().Context(), week)
	if err != nil {
		return err
	}
	page := reportView(r)
	page.Chrome = chrome(c, "Review report", "review")
	page.PrevWeek, page.NextWeek = weekAround(week)
	return render(c, http.StatusOK, ui.ReviewReport(page))
}

// reportView copies a report into the page's view.
func reportView(r *review.Report) ui.ReviewReportPage {
	p := ui.ReviewReportPage{Week: r.Week, Items: r.Items, Labelled: r.Labelled, Failing: r.Failing, AgreementItems: r.Agreement.Items}
	p.Verdicts = verdictCounts(r.Verdicts, r.Labelled)
	p.Causes = causeCounts(r.Causes)
	if r.Agreement.Kappa != nil {
		p.Kappa = strconv.FormatFloat(*r.Agreement.Kappa, 'f', 2, 64)
	}
	p.Observed = strconv.FormatFloat(r.Agreement.Observed, 'f', 2, 64)
	cluster := func(c review.QuestionCluster) ui.ReviewCluster {
		var vs []string
		for _, v := range store.Verdicts {
			if n := c.Verdicts[v]; n > 0 {
				vs = append(vs, fmt.Sprintf("%s %d", ui.VerdictLabel(string(v)), n))
			}
		}
		return ui.ReviewCluster{Question: c.Question, Size: c.Size, Questions: c.Questions, Items: c.Items, Verdicts: strings.Join(vs, " · "), Gap: c.Gap}
	}
	for _, c := range r.Clusters {
		p.Clusters = append(p.Clusters, cluster(c))
	}
	for _, c := range r.Gaps {
		p.Gaps = append(p.Gaps, cluster(c))
	}
	top := 1
	for _, d := range r.Documents {
		top = max(top, d.Answers)
	}
	for _, d := range r.Documents {
		p.Documents = append(p.Documents, ui.ReviewCount{Label: d.DocumentID, N: d.Answers, Share: float64(d.Answers) / float64(top)})
	}
	for _, pm := range r.ByPrompt {
		p.ByPrompt = append(p.ByPrompt, ui.ReviewPromptRow{Prompt: pm.Prompt, Labelled: pm.Labelled,
			Verdicts: verdictCounts(pm.Verdicts, pm.Labelled), Causes: causeCounts(pm.Causes)})
	}
	trend := func(d review.DayTrend) ui.ReviewTrendRow {
		row := ui.ReviewTrendRow{Day: d.Day, Requests: d.Requests, Up: d.Up, Down: d.Down, Escalations: d.Escalations,
			EscalationRate: strconv.FormatFloat(d.Escalation*100, 'f', 1, 64) + "%"}
		if d.Up+d.Down > 0 {
			row.ThumbsRatio = strconv.FormatFloat(d.ThumbsRatio*100, 'f', 0, 64) + "%"
		}
		return row
	}
	for _, d := range r.Trend {
		p.Trend = append(p.Trend, trend(d))
	}
	p.PreviousWeek = trend(r.PreviousWeek)
	p.PreviousWeek.Day = "week " + r.PreviousWeek.Day
	for _, pr := range r.Progress {
		p.Progress = append(p.Progress, ui.ReviewProgress{Name: cmpOr(pr.Name, pr.Reviewer), Assigned: pr.Assigned, Done: pr.Done})
	}
	return p
}

func verdictCounts(m map[store.ReviewVerdict]int, total int) []ui.ReviewCount {
	var out []ui.ReviewCount
	for _, v := range store.Verdicts {
		if n := m[v]; n > 0 {
			out = append(out, ui.ReviewCount{Label: ui.VerdictLabel(string(v)), N: n, Share: float64(n) / float64(max(total, 1))})
		}
	}
	return out
}

func causeCounts(m map[store.ReviewCause]int) []ui.ReviewCount {
	total := 0
	for _, n := range m {
		total += n
	}
	var out []ui.ReviewCount
	for _, c := range store.Causes {
		if n := m[c]; n > 0 {
			out = append(out, ui.ReviewCount{Label: ui.CauseLabel(string(c)), N: n, Share: float64(n) / float64(total)})
		}
	}
	return out
}
