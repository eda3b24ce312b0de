package server

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"llmops/evals/review"
	"llmops/store"
)

// The review API: the sampling policy, the weekly queue, labels, and
// reviewed items into test sets. The logic is in evals/review; the pages
// are in review_pages.go.

// reviewerID is who labels as the caller: the signed-in user, or the user
// an API key acts for (the key itself when it has no owner).
func reviewerID(c echo.Context) (id, name string) {
	p := principalOf(c)
	switch {
	case p.user != nil:
		return p.user.ID, cmpOr(p.user.Name, p.user.Email)
	case p.key != nil && p.key.OwnerID != "":
		return p.key.OwnerID, p.actor.Name
	}
	return p.actor.ID, p.actor.Name
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// reviewWeek is the ?week= parameter, this week by default.
func (s *Server) reviewWeek(c echo.Context) (string, error) {
	week := c.QueryParam("week")
	if week == "" {
		return store.ISOWeek(s.now()), nil
	}
	if _, err := store.ParseISOWeek(week); err != nil {
		return "", err
	}
	return week, nil
}

func (s *Server) handleReviewPolicyGet(c echo.Context) error {
	p, err := s.store.ReviewPolicy(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// handleReviewPolicyPut replaces the policy (admin, audited as the
// review_policy setting). Fields left out keep their stored values.
func (s *Server) handleReviewPolicyPut(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.ReviewPolicy(ctx)
	if err != nil {
		return err
	}
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if p, err = s.store.PutReviewPolicy(ctx, principalOf(c).actor, p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// queueItem is one item of GET /api/v1/review/queue.
type queueItem struct {
	ID        string               `json:"id"`
	TraceID   string               `json:"trace_id"`
	Reason    []store.ReviewReason `json:"reason"`
	Assignee  string               `json:"assignee"`
	Assignees []string             `json:"assignees"`
	Double    bool                 `json:"double"`
	State     string               `json:"state"`
	Question  string               `json:"question"`
	Labels    int                  `json:"labels"`
}

// reviewQueue builds (or tops up) a week's queue for a reviewer and
// returns it; a viewer gets the stored queue as it is.
func (s *Server) reviewQueue(c echo.Context, week string) ([]store.ReviewItem, error) {
	ctx := c.Request().Context()
	if !principalOf(c).role.Allows(store.RoleReviewer) {
		return s.store.ReviewQueue(ctx, week)
	}
	return review.BuildQueue(ctx, s.store, store.Actor{Kind: store.ActorSystem, Name: "review policy"}, week)
}

func (s *Server) handleReviewQueue(c echo.Context) error {
	week, err := s.reviewWeek(c)
	if err != nil {
		return err
	}
	items, err := s.reviewQueue(c, week)
	if err != nil {
		return err
	}
	var me string
	switch a := c.QueryParam("assignee"); a {
	case "":
	case "me":
		me, _ = reviewerID(c)
	default:
		me = a
	}
	out := []queueItem{}
	for _, it := range items {
		if me != "" && !slices.Contains(it.Assignees, me) {
			continue
		}
		out = append(out, queueItem{ID: it.ID, TraceID: it.TraceID, Reason: it.Reason, Assignee: it.Assignee(),
			Assignees: append([]string{}, it.Assignees...), Double: it.Double, State: it.State, Question: it.Question, Labels: len(it.Labels)})
	}
	return c.JSON(http.StatusOK, map[string]any{"week": week, "items": out})
}

func (s *Server) handleReviewItemGet(c echo.Context) error {
	it, err := s.store.ReviewItem(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, it)
}

// labelRequest is the body of POST /api/v1/review/items/{id}/label.
type labelRequest struct {
	Verdict         store.ReviewVerdict `json:"verdict"`
	Grounded        *bool               `json:"grounded"`
	Cause           store.ReviewCause   `json:"cause"`
	CorrectedAnswer string              `json:"corrected_answer"`
	Documents       []string            `json:"documents"`
	Notes           string              `json:"notes"`
}

// labelResult is what a label returns: the item, and the test case the
// policy added it as ("incorrect" and "should have refused" go to the
// policy's findings set).
type labelResult struct {
	Item     *store.ReviewItem `json:"item"`
	TestCase *store.EvalCase   `json:"test_case,omitempty"`
	Set      string            `json:"set,omitempty"`
}

// label stores the caller's label and adds the item to the findings set
// when the policy says so.
func (s *Server) label(c echo.Context, id string, req labelRequest) (*labelResult, error) {
	ctx := c.Request().Context()
	if req.Grounded == nil {
		return nil, store.Errorf(store.EINVALID, "grounded is required (true or false)")
	}
	user, name := reviewerID(c)
	l := store.ReviewLabel{Verdict: req.Verdict, Grounded: *req.Grounded, Cause: req.Cause, CorrectedAnswer: req.CorrectedAnswer,
		Documents: req.Documents, Notes: req.Notes}
	it, err := s.store.LabelReviewItem(ctx, principalOf(c).actor, user, name, id, l)
	if err != nil {
		return nil, err
	}
	res := &labelResult{Item: it}
	if l.Verdict != store.VerdictIncorrect && l.Verdict != store.VerdictShouldHaveRefused {
		return res, nil
	}
	p, err := s.store.ReviewPolicy(ctx)
	if err != nil || p.FindingsSet == "" {
		return res, err
	}
	k, set, err := review.AddTestCase(ctx, s.store, store.Actor{Kind: store.ActorSystem, Name: "review policy"}, it, *it.LabelBy(user), p.FindingsSet)
	if err != nil {
		// The label is stored; a set that refuses the case (full, say)
		// must not lose it. The reviewer sees the item without a case.
		s.log.Warn("review: add finding to test set", "item", id, "set", p.FindingsSet, "err", err)
		return res, nil
	}
	res.TestCase, res.Set = &k, set.Name
	if it, err = s.store.ReviewItem(ctx, id); err == nil {
		res.Item = it
	}
	return res, nil
}

func (s *Server) handleReviewLabel(c echo.Context) error {
	var req labelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.label(c, c.Param("id"), req)
	var lc *store.LabelConflict
	if errors.As(err, &lc) {
		var body struct {
			apiError
			Label store.ReviewLabel `json:"label"`
		}
		body.Error.Code, body.Error.Message, body.Label = store.ECONFLICT, lc.Error(), lc.First
		return c.JSON(http.StatusConflict, body)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) handleReviewClaim(c echo.Context) error {
	user, _ := reviewerID(c)
	it, err := s.store.ClaimReviewItem(c.Request().Context(), principalOf(c).actor, user, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, it)
}

// addReviewCase turns an item into a case of set, from the caller's own
// label or else the first.
func (s *Server) addReviewCase(ctx context.Context, c echo.Context, id, set string) (store.EvalCase, *store.TestSet, error) {
	it, err := s.store.ReviewItem(ctx, id)
	if err != nil {
		return store.EvalCase{}, nil, err
	}
	if len(it.Labels) == 0 {
		return store.EvalCase{}, nil, store.Errorf(store.EINVALID, "label the item before adding it to a test set")
	}
	user, _ := reviewerID(c)
	l := it.Labels[0]
	if mine := it.LabelBy(user); mine != nil {
		l = *mine
	}
	return review.AddTestCase(ctx, s.store, principalOf(c).actor, it, l, set)
}

func (s *Server) handleReviewTestCase(c echo.Context) error {
	var req struct {
		Set string `json:"set"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	k, set, err := s.addReviewCase(c.Request().Context(), c, c.Param("id"), req.Set)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"set": set.Name, "set_id": set.ID, "case": k})
}

func (s *Server) reviewReport(ctx context.Context, week string) (*review.Report, error) {
	return review.BuildReport(ctx, s.store, s.kb.EmbedTexts, week)
}

func (s *Server) handleReviewReport(c echo.Context) error {
	week, err := s.reviewWeek(c)
	if err != nil {
		return err
	}
	r, err := s.reviewReport(c.Request().Context(), week)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
