package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"llmops/store/schema"
)

func TestNormalizeEvalCasesRelevance(t *testing.T) {
	cs := []EvalCase{
		{Question: " Q1 ", DocumentIDs: []string{"b", "a", "a", " "}, Relevance: map[string]float64{"a": 2, "b": 0, "c": 1}},
		{ID: "x", Question: "Q2", Tags: []string{"Mobile", "billing", "mobile"}},
		{Question: "Q3"},
	}
	if err := NormalizeEvalCases(cs, map[string]bool{"c0001": true}); err != nil {
		t.Fatal(err)
	}
	// b is graded 0: not relevant; c is graded: relevant.
	if !slices.Equal(cs[0].DocumentIDs, []string{"a", "c"}) || cs[0].Relevance["a"] != 2 || cs[0].Question != "Q1" {
		t.Errorf("case 1: %+v", cs[0])
	}
	if !slices.Equal(cs[1].Tags, []string{"billing", "mobile"}) {
		t.Errorf("tags: %v", cs[1].Tags)
	}
	// IDs continue after existing ones.
	if cs[0].ID != "c0002" || cs[2].ID != "c0003" {
		t.Errorf("IDs %q %q", cs[0].ID, cs[2].ID)
	}
	many := make([]string, 2*MaxCaseTags)
	for i := range many {
		many[i] = fmt.Sprintf("Tag%d", i%(MaxCaseTags+1)) // MaxCaseTags+1 distinct
	}
	for _, bad := range [][]EvalCase{
		{{Question: ""}}, {{ID: "a", Question: "x"}, {ID: "a", Question: "y"}},
		{{Question: "x", Tags: many}}, {{Question: "x", Tags: []string{strings.Repeat("t", MaxCaseTagRunes+1)}}},
	} {
		if err := NormalizeEvalCases(bad, nil); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestDeleteRunRefusesRunning(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	actor := Actor{Kind: ActorCLI, Name: "t"}
	r := &EvalRun{SetID: "s", SetName: "S", Status: schema.RunRunning}
	if err := st.CreateRun(ctx, actor, r); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRunProgress(ctx, r, []CaseResult{{Index: 0, CaseID: "a"}, {Index: 1, CaseID: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRun(ctx, actor, r.ID); ErrorCode(err) != ECONFLICT {
		t.Fatalf("deleting a running run: %v", err)
	}
	r.Status = schema.RunDone
	st.SaveRunProgress(ctx, r, nil)
	if err := st.DeleteRun(ctx, actor, r.ID); err != nil {
		t.Fatal(err)
	}
	if res, _ := st.CaseResults(ctx, r.ID); len(res) != 0 {
		t.Errorf("%d results left", len(res))
	}
	if err := st.DeleteRun(ctx, actor, r.ID); ErrorCode(err) != ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}
}
