package store

import (
	"slices"
	"testing"
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
	for _, bad := range [][]EvalCase{{{Question: ""}}, {{ID: "a", Question: "x"}, {ID: "a", Question: "y"}}} {
		if err := NormalizeEvalCases(bad, nil); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
