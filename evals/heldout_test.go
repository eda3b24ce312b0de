package evals

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"llmops/evals/cases"
	"llmops/store"
)

// TestHeldOutRun runs testdata/heldout.jsonl, 50 cases over ten sample
// documents written before the answerer work of issue 14's second round
// and never looked at case by case while tuning, through the same path
// as TestSampleRun. Its figures are what docs/BENCHMARKS.md reports as
// the held-out check; the floors below only catch a collapse.
func TestHeldOutRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("testdata", "heldout.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	imp, err := ImportFile(ctx, e.st, testActor, "held out", "", "heldout.jsonl", data, cases.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Added != 50 || len(imp.Skipped) != 0 {
		t.Fatalf("imported %d cases, skipped %v", imp.Added, imp.Skipped)
	}
	r := e.runner(Options{})
	defer r.Close()
	run, err := r.Create(ctx, testActor, "held out", 0, "held out", store.RunSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Execute(ctx, run); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Done != 50 || got.Errors != 0 {
		t.Fatalf("run: %d/%d done, %d errors (%s)", got.Done, got.Total, got.Errors, got.Error)
	}
	m := got.Metrics
	t.Logf("held-out run: correctness_f1 %.3f, answer_relevancy %.3f, refusal_correctness %.3f (%d cases), false_refusal %.3f, relevance %.3f, hit@5 %.3f",
		m["correctness_f1"], m["answer_relevancy"], m["refusal_correctness"], got.Counts["refusal_correctness"], m["false_refusal"], m["relevance"], m["hit@5"])
	if os.Getenv("LLMOPS_EVAL_CASES") != "" {
		results, err := e.st.CaseResults(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		logCases(t, e, results)
	}
	if got.Counts["refusal_correctness"] != 7 || got.Counts["correctness_f1"] != 43 {
		t.Errorf("counts %v: want 7 unanswerable and 43 answerable cases", got.Counts)
	}
	for k, min := range map[string]float64{"hit@5": 0.8, "correctness_f1": 0.3} {
		if m[k] < min {
			t.Errorf("%s = %.3f, want at least %.2f", k, m[k], min)
		}
	}
}

// logCases logs each case's answer, answer metrics and context
// (LLMOPS_EVAL_CASES=1; the chunks' whole text for the case IDs listed in
// LLMOPS_EVAL_CONTEXT), to read what an answerer change did.
func logCases(t *testing.T, e *env, results []store.CaseResult) {
	t.Helper()
	show := strings.Fields(strings.ReplaceAll(os.Getenv("LLMOPS_EVAL_CONTEXT"), ",", " "))
	for _, res := range results {
		refs, err := e.kb.Chunks(context.Background(), res.Retrieved[:min(res.Context, len(res.Retrieved))])
		if err != nil {
			t.Fatal(err)
		}
		var ctx strings.Builder
		for i, r := range refs {
			fmt.Fprintf(&ctx, "\n    [%d] %s › %s", i+1, r.Document.Title, strings.Join(r.Chunk.Headings, " › "))
			if slices.Contains(show, res.CaseID) {
				fmt.Fprintf(&ctx, "\n%s\n", r.Chunk.Text)
			}
		}
		if dump := os.Getenv("LLMOPS_EVAL_DUMP"); dump != "" {
			var texts []string
			for _, r := range refs {
				texts = append(texts, r.Chunk.Text)
			}
			line, _ := json.Marshal(map[string]any{"id": res.CaseID, "q": res.Question, "answer": res.Answer, "context": texts, "f1": res.Metrics["correctness_f1"]})
			f, err := os.OpenFile(dump, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err == nil {
				f.Write(append(line, '\n'))
				f.Close()
			}
		}
		t.Logf("%s f1=%.2f rel=%.2f relevance=%.2f fb=%v %q%s\n    → %q", res.CaseID, res.Metrics["correctness_f1"], res.Metrics["answer_relevancy"], res.Metrics["relevance"], res.Fallback, res.Question, ctx.String(), res.Answer)
	}
}
