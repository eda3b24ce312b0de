package review

import (
	"context"
	"strings"

	"llmops/evals"
	"llmops/store"
	"llmops/store/schema"
)

// TestCase turns a labelled item into a test-set case: its question (as
// retrieval saw it), the corrected answer as the reference (the answer
// itself when it was judged correct), the right documents as relevant IDs,
// and Unanswerable when it should have refused. The case ID is
// "review-" + trace ID, so adding an item twice finds the first case.
func TestCase(ctx context.Context, st *store.Store, it *store.ReviewItem, l store.ReviewLabel) (store.EvalCase, error) {
	k, err := evals.CaseFromTrace(ctx, st, it.TraceID, l.CorrectedAnswer, false)
	if err != nil {
		return k, err
	}
	k.ID = "review-" + it.TraceID
	k.DocumentIDs = l.Documents
	k.Tags = append(k.Tags, "review", "verdict-"+strings.ReplaceAll(string(l.Verdict), "_", "-"))
	if l.Verdict == store.VerdictShouldHaveRefused {
		k.Unanswerable, k.ReferenceAnswer = true, ""
	}
	if k.ReferenceAnswer == "" && l.Verdict == store.VerdictCorrect {
		t, _, err := st.Trace(ctx, it.TraceID)
		if err != nil {
			return k, err
		}
		k.ReferenceAnswer, _ = t.Attributes[schema.AttrAnswer].(string)
	}
	return k, nil
}

// AddTestCase adds the item's case (TestCase of label l) to the test set
// named or identified by set, creating the set when none has that name,
// and records the set on the item. An item already in the set returns the
// stored case unchanged.
func AddTestCase(ctx context.Context, st *store.Store, actor store.Actor, it *store.ReviewItem, l store.ReviewLabel, set string) (store.EvalCase, *store.TestSet, error) {
	k, err := TestCase(ctx, st, it, l)
	if err != nil {
		return k, nil, err
	}
	set = strings.TrimSpace(set)
	if set == "" {
		return k, nil, store.Errorf(store.EINVALID, "set is required")
	}
	ts, err := st.TestSet(ctx, set)
	switch {
	case store.ErrorCode(err) == store.ENOTFOUND:
		ts, err = st.CreateTestSet(ctx, actor, store.TestSet{Name: set, Source: "review",
			Description: "Answers reviewers found wrong, from the weekly review queue."}, "created from review", nil)
		if err != nil {
			return k, nil, err
		}
	case err != nil:
		return k, nil, err
	}
	v, err := st.TestSetVersion(ctx, ts.ID, ts.Version)
	if err != nil {
		return k, nil, err
	}
	for _, c := range v.Cases {
		if c.ID == k.ID {
			return c, ts, nil
		}
	}
	cases := []store.EvalCase{k}
	if ts, err = st.AddTestCases(ctx, actor, ts.ID, cases, "added 1 case from review item "+it.ID, false); err != nil {
		return k, nil, err
	}
	if _, err := st.UpdateReviewItem(ctx, actor, it.ID, "test_case", func(x *store.ReviewItem) error {
		x.TestCase = ts.Name + "/" + cases[0].ID
		return nil
	}); err != nil {
		return cases[0], ts, err
	}
	return cases[0], ts, nil
}
