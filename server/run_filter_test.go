package server

import (
	"testing"

	"llmops/store"
)

func TestCaseFailedAndRegressed(t *testing.T) {
	t.Parallel()
	ok := store.CaseResult{Metrics: map[string]float64{"hit@5": 1, "correctness_f1": 0.8}}
	for _, tt := range []struct {
		name             string
		base, now        store.CaseResult
		unanswerable     bool
		failed, regessed bool
	}{
		{"same", ok, ok, false, false, false},
		{"error", ok, store.CaseResult{Error: "timeout"}, false, true, true},
		{"missed retrieval", ok, store.CaseResult{Metrics: map[string]float64{"hit@5": 0, "correctness_f1": 0.8}}, false, true, true},
		{"refused an answerable one", ok, store.CaseResult{Fallback: true, Metrics: ok.Metrics}, false, true, true},
		{"answered an unanswerable one", store.CaseResult{Fallback: true}, store.CaseResult{}, true, true, true},
		{"refused an unanswerable one", store.CaseResult{Fallback: true}, store.CaseResult{Fallback: true}, true, false, false},
		{"correctness fell 0.3", ok, store.CaseResult{Metrics: map[string]float64{"hit@5": 1, "correctness_f1": 0.5}}, false, false, true},
		{"correctness fell 0.05", ok, store.CaseResult{Metrics: map[string]float64{"hit@5": 1, "correctness_f1": 0.75}}, false, false, false},
		{"failed before too", store.CaseResult{Error: "x"}, store.CaseResult{Error: "y"}, false, true, false},
	} {
		k := store.EvalCase{Unanswerable: tt.unanswerable}
		if got := caseFailed(&tt.now, k); got != tt.failed {
			t.Errorf("%s: failed = %v, want %v", tt.name, got, tt.failed)
		}
		if got := caseRegressed(&tt.base, &tt.now, k); got != tt.regessed {
			t.Errorf("%s: regressed = %v, want %v", tt.name, got, tt.regessed)
		}
	}
}
