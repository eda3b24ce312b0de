package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"llmops/rag/assistant"
	"llmops/rag/llm/llmtest"
	"llmops/store"
)

// TestAnswerFlagsMeanTheSame asks the same questions through serve, through
// llmops ask and through llmops eval run at several groundedness
// thresholds, with the same model settings: every path must make the same
// fallback decision with the same groundedness, and the threshold must
// change decisions (the model's answers are only partly grounded).
func TestAnswerFlagsMeanTheSame(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts serve three times")
	}
	ctx := context.Background()
	dir := sampleIngestDir(t)
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"keys", "create", "--data", dir, "--name", "parity", "--role", "editor"}, &out, &errOut, os.Getenv); code != exitOK {
		t.Fatalf("keys create: %d %s", code, errOut.String())
	}
	key := lastLine(out.String())

	model := llmtest.NewServer(llmtest.Options{Usage: true, Unsupported: "Every refund is paid out in gold bars within one hour."})
	t.Cleanup(model.Close)
	env := map[string]string{"LLMOPS_LLM_BASE_URL": model.BaseURL(), "LLMOPS_LLM_API_KEY": "sk-test", "LLMOPS_LLM_MODEL": "gpt-4o-mini"}
	getenv := func(k string) string { return env[k] }
	questions := []string{
		"How do I cancel my subscription?",
		"How do I export timesheets to payroll?",
		"Can employees swap shifts?",
	}
	setFile := filepath.Join(t.TempDir(), "parity.csv")
	os.WriteFile(setFile, []byte("question\n"+strings.Join(questions, "\n")+"\n"), 0o644)

	type decision struct {
		fallback     bool
		groundedness float64
	}
	fellBack := map[string]int{}
	for _, threshold := range []string{"0", "0.6", "0.95"} {
		// llmops ask, offline.
		viaAsk := map[string]decision{}
		for _, q := range questions {
			var out, errOut bytes.Buffer
			if code := run(ctx, []string{"ask", "--data", dir, "--json", "--groundedness-threshold", threshold, q}, &out, &errOut, getenv); code != exitOK {
				t.Fatalf("ask %q at %s: exit %d: %s", q, threshold, code, errOut.String())
			}
			var a assistant.Result
			if err := json.Unmarshal(out.Bytes(), &a); err != nil {
				t.Fatalf("ask --json: %v: %s", err, out.String())
			}
			viaAsk[q] = decision{a.Fallback, a.Groundedness}
			if a.Fallback {
				fellBack[threshold]++
			}
		}

		// llmops eval run, offline: its cases and the threshold it records.
		out.Reset()
		errOut.Reset()
		code := run(ctx, []string{"eval", "run", "--data", dir, "--set", setFile, "--name", "t" + threshold, "--groundedness-threshold", threshold, "--json"}, &out, &errOut, getenv)
		if code != exitOK {
			t.Fatalf("eval run at %s: exit %d: %s", threshold, code, errOut.String())
		}
		var rep struct {
			Run store.EvalRun `json:"run"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("eval run --json: %v", err)
		}
		if got := rep.Run.Settings.Threshold; got == nil || formatFloat(*got) != threshold {
			t.Errorf("eval run at %s recorded threshold %v", threshold, got)
		}
		st, err := store.Open(ctx, dir, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		results, err := st.CaseResults(ctx, rep.Run.ID)
		st.Close()
		if err != nil || len(results) != len(questions) {
			t.Fatalf("eval results: %d, %v", len(results), err)
		}
		for _, r := range results {
			if want := viaAsk[r.Question]; r.Fallback != want.fallback {
				t.Errorf("threshold %s, %q: eval run fallback %v, ask %v", threshold, r.Question, r.Fallback, want.fallback)
			}
		}

		// serve, through the API.
		inst := startServeEnv(t, dir, env, "--no-sample", "--groundedness-threshold", threshold)
		for _, q := range questions {
			body, _ := json.Marshal(map[string]string{"question": q})
			req, _ := http.NewRequest(http.MethodPost, inst.url+"/api/v1/ask", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var a assistant.Result
			json.NewDecoder(res.Body).Decode(&a)
			res.Body.Close()
			got, want := decision{a.Fallback, a.Groundedness}, viaAsk[q]
			if got.fallback != want.fallback || math.Abs(got.groundedness-want.groundedness) > 1e-9 {
				t.Errorf("threshold %s, %q: serve %+v, ask %+v", threshold, q, got, want)
			}
		}
		if code := inst.stop(); code != exitOK {
			t.Fatalf("serve exited %d", code)
		}
	}
	t.Logf("fallbacks by threshold: %v", fellBack)
	if fellBack["0"] != 0 || fellBack["0.95"] == 0 || fellBack["0.95"] < fellBack["0.6"] {
		t.Errorf("fallbacks by threshold %v: want none at 0, some at 0.95, and more as it rises", fellBack)
	}
}

func formatFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
