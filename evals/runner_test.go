package evals

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"llmops/rag"
	"llmops/rag/assistant"
	"llmops/rag/judge"
	"llmops/rag/llm"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
	"llmops/store/storetest"
)

var testActor = store.Actor{Kind: store.ActorCLI, Name: "test"}

// env is a real data dir with the sample help centre: store, knowledge
// base, trace writer and the extractive assistant.
type env struct {
	st   *store.Store
	kb   *rag.KnowledgeBase
	tw   *store.TraceWriter
	asst *assistant.Assistant
	set  *store.TestSet
}

// The sample help centre is ingested once per test binary into a template
// data dir (learning its embedding model is most of a test's time under
// the race detector); each env opens its own copy.
var sample = &storetest.Template{Build: ingestTemplate}

// TestMain starts building the template data dir (when the whole package
// runs) and removes it after the tests.
func TestMain(m *testing.M) {
	storetest.StartAll(sample)
	code := m.Run()
	sample.Remove()
	os.Exit(code)
}

// ingestTemplate ingests the sample help centre into a new data dir and
// closes it.
func ingestTemplate() (string, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "evals-test-")
	if err != nil {
		return "", err
	}
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return dir, err
	}
	defer st.Close()
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index")})
	if err != nil {
		return dir, err
	}
	defer kb.Close()
	files, _, err := rag.SampleFiles()
	if err != nil {
		return dir, err
	}
	for _, r := range kb.Ingest(ctx, testActor, files, nil) {
		if r.Outcome == schema.IngestFailed {
			return dir, fmt.Errorf("%s: %s", r.Name, r.Error)
		}
	}
	if j := kb.CurrentJob(); j != nil {
		j.Wait()
	}
	return dir, nil
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := sample.Copy(t)
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index")})
	if err != nil {
		t.Fatal(err)
	}
	if kb.Rebuilt() {
		t.Fatal("the copied data dir's indexes were rebuilt")
	}
	tw := st.NewTraceWriter(store.TraceWriterOptions{})
	asst, err := assistant.New(assistant.Options{Retriever: retrieve.New(kb, retrieve.Options{}), Embed: kb.EmbedTexts, Traces: tw})
	if err != nil {
		t.Fatal(err)
	}
	set, created, err := EnsureSampleSet(ctx, st)
	if err != nil || !created {
		t.Fatalf("sample set: created %v, %v", created, err)
	}
	t.Cleanup(func() {
		tw.Close(context.Background())
		kb.Close()
		st.Close()
	})
	return &env{st: st, kb: kb, tw: tw, asst: asst, set: set}
}

func (e *env) runner(opts Options) *Runner {
	opts.Store = e.st
	if opts.Assistant == nil {
		opts.Assistant = e.asst
	}
	if opts.Embed == nil {
		opts.Embed = e.kb.EmbedTexts
	}
	if opts.Answerer == "" {
		opts.Answerer = "extractive"
	}
	return New(opts)
}

// TestSampleRun runs the sample set through the real pipeline and checks
// every case got a result, a trace, and the metrics that apply to it.
func TestSampleRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.runner(Options{})
	defer r.Close()
	run, err := r.Create(ctx, testActor, SampleSetName, 0, "baseline", store.RunSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Total != 90 || run.SetVersion != 1 || run.Status != schema.RunQueued {
		t.Fatalf("created %+v", run)
	}
	if err := r.Execute(ctx, run); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != schema.RunDone || got.Done != 90 || got.Errors != 0 {
		t.Fatalf("run: status %s, %d/%d done, %d errors (%s)", got.Status, got.Done, got.Total, got.Errors, got.Error)
	}
	results, err := e.st.CaseResults(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 90 {
		t.Fatalf("%d results", len(results))
	}
	if err := e.tw.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	v, _ := e.st.TestSetVersion(ctx, e.set.ID, 0)
	for i, res := range results {
		c := v.Cases[i]
		if res.Index != i || res.CaseID != c.ID || res.TraceID == "" {
			t.Fatalf("result %d: %+v", i, res)
		}
		if _, _, err := e.st.Trace(ctx, res.TraceID); err != nil {
			t.Errorf("case %s: trace %s: %v", c.ID, res.TraceID, err)
		}
		_, hasRefusal := res.Metrics["refusal_correctness"]
		_, hasHit := res.Metrics["hit@5"]
		_, hasF1 := res.Metrics["correctness_f1"]
		if hasRefusal != c.Unanswerable || hasHit == c.Unanswerable || hasF1 == c.Unanswerable {
			t.Errorf("case %s (unanswerable %v): metrics %v", c.ID, c.Unanswerable, res.Metrics)
		}
		if len(res.Retrieved) < 10 || res.Context != 5 {
			t.Errorf("case %s: %d ranked, context %d; want ≥ 10 ranked, 5 in context", c.ID, len(res.Retrieved), res.Context)
		}
	}
	m := got.Metrics
	t.Logf("sample run: %v", m)
	if os.Getenv("LLMOPS_EVAL_CASES") != "" {
		logCases(t, e, results)
	}
	if got.Counts["refusal_correctness"] != 13 || got.Counts["hit@5"] != 77 {
		t.Errorf("counts %v: want 13 unanswerable and 77 answerable with documents", got.Counts)
	}
	// The bars the assistant met in #4, now measured by the runner.
	for k, min := range map[string]float64{"hit@5": 0.9, "refusal_correctness": 0.75, "faithfulness": 0.8, "citation_precision": 0.8, "ndcg@10": 0.7} {
		if m[k] < min {
			t.Errorf("%s = %.3f, want at least %.2f", k, m[k], min)
		}
	}
	for _, k := range []string{"correctness_f1", "rouge_l", "answer_similarity", "answer_relevancy", "relevance"} {
		if m[k] <= 0 || m[k] > 1 {
			t.Errorf("%s = %v, want in (0, 1]", k, m[k])
		}
	}
	// Issue 14's answer work was tuned on the odd-numbered cases and
	// checked on the even ones (docs/BENCHMARKS.md): log both halves.
	for _, half := range []struct {
		name string
		odd  bool
	}{{"tuning half (odd IDs)", true}, {"held-out half (even IDs)", false}} {
		var f1, rel, answerable, unanswerable, refused, falseRefused float64
		for i, res := range results {
			c := v.Cases[i]
			if n, err := strconv.Atoi(strings.TrimPrefix(c.ID, "q")); err != nil || (n%2 == 1) != half.odd {
				continue
			}
			if c.Unanswerable {
				unanswerable++
				refused += res.Metrics["refusal_correctness"]
				continue
			}
			answerable++
			f1 += res.Metrics["correctness_f1"]
			rel += res.Metrics["answer_relevancy"]
			falseRefused += res.Metrics["false_refusal"]
		}
		t.Logf("%s: correctness_f1 %.3f, answer_relevancy %.3f, refusal_correctness %.0f/%.0f, false_refusal %.0f/%.0f",
			half.name, f1/answerable, rel/answerable, refused, unanswerable, falseRefused, answerable)
	}
	if m["correctness_f1"] < 0.45 {
		t.Errorf("correctness_f1 = %.3f, want at least 0.45 (0.408 before issue 14, 0.429 before its answer types)", m["correctness_f1"])
	}
}

// heldAsker answers as its Asker does until hold says to stop; from then
// on each ask waits for its context to end. A run held so can be stopped
// in the middle however fast or slow the machine is.
type heldAsker struct {
	Asker
	hold  func() bool
	calls atomic.Int64
}

func (h *heldAsker) Ask(ctx context.Context, req assistant.Request, emit func(assistant.Event) error) (*assistant.Result, error) {
	h.calls.Add(1)
	if h.hold() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return h.Asker.Ask(ctx, req, emit)
}

// doneAtLeast reports whether run id has at least n finished cases.
func (e *env) doneAtLeast(id string, n int) bool {
	got, _ := e.st.Run(context.Background(), id)
	return got.Done >= n
}

// waitFor polls cond until it holds, for up to two minutes: generous, so
// that a busy machine slows the test down rather than failing it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCancelAndResume stops a run part way, keeps its finished cases and
// finishes the rest on resume without redoing any.
func TestCancelAndResume(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// After 10 asks every ask waits, so the run is mid-way when cancelled.
	// The asker counts its own calls: the run's stored Done count lags the
	// asks, and a fast machine once finished all 90 before it read 10.
	var holding atomic.Bool
	holding.Store(true)
	slow := &heldAsker{Asker: e.asst}
	slow.hold = func() bool { return holding.Load() && slow.calls.Load() > 10 }
	r := e.runner(Options{Assistant: slow})
	defer r.Close()
	run, err := r.Create(ctx, testActor, e.set.ID, 0, "", store.RunSettings{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(run); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "10 cases", func() bool { return e.doneAtLeast(run.ID, 10) })
	if !r.Cancel(run.ID) {
		t.Fatal("Cancel: run not active")
	}
	waitFor(t, "the run to stop", func() bool { return !r.Running(run.ID) })
	got, _ := e.st.Run(ctx, run.ID)
	results, _ := e.st.CaseResults(ctx, run.ID)
	if got.Status != schema.RunCancelled || got.Done >= got.Total || got.Done != len(results) || got.Errors != 0 {
		t.Fatalf("after cancel: status %s, done %d/%d, %d results, %d errors", got.Status, got.Done, got.Total, len(results), got.Errors)
	}
	holding.Store(false)
	if _, err := r.Resume(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resumed run", func() bool {
		got, _ := e.st.Run(ctx, run.ID)
		return got.Finished() && !r.Running(run.ID)
	})
	got, _ = e.st.Run(ctx, run.ID)
	results, _ = e.st.CaseResults(ctx, run.ID)
	if got.Status != schema.RunDone || got.Done != 90 || len(results) != 90 {
		t.Fatalf("after resume: status %s (%s), done %d, %d results", got.Status, got.Error, got.Done, len(results))
	}
	for i, res := range results {
		if res.Index != i {
			t.Fatalf("result %d has index %d", i, res.Index)
		}
	}
	// Cases cancelled in flight are asked again; finished ones are not.
	if calls := slow.calls.Load(); calls > 90+2 {
		t.Errorf("%d asks for 90 cases with 2 in flight at the cancel", calls)
	}
	if _, err := r.Resume(ctx, run.ID); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("resuming a finished run: %v, want ECONFLICT", err)
	}
}

// judgeModel is an OpenAI-compatible upstream for the judge: it streams
// reply(n) for request n, or fails with status when reply returns "".
func judgeModel(t *testing.T, reply func(n int) (string, int)) (*llm.Client, *atomic.Int64) {
	t.Helper()
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(count.Add(1))
		text, status := reply(n)
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"error":{"message":"rate limited","type":"requests","param":null,"code":null}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(delta map[string]any, finish any, usage any) {
			b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "judge-1",
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}, "usage": usage})
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
		chunk(map[string]any{"content": text}, nil, nil)
		chunk(map[string]any{}, "stop", map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110})
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	c, err := llm.New(llm.Options{BaseURL: srv.URL + "/v1", Model: "judge-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c, &count
}

// goodVerdict answers every judge template: a score, a refusal flag and
// verdicts for up to 40 sentences.
func goodVerdict() string {
	vs := make([]map[string]any, 40)
	for i := range vs {
		vs[i] = map[string]any{"i": i + 1, "verdict": "supported"}
	}
	b, _ := json.Marshal(map[string]any{"score": 0.9, "refused": true, "verdicts": vs})
	return string(b)
}

// TestJudgeMetrics scores the LLM-judge metrics through a model that
// answers well after a 429, and caches verdicts by input.
func TestJudgeMetrics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, calls := judgeModel(t, func(n int) (string, int) {
		if n == 1 {
			return "", http.StatusTooManyRequests
		}
		return goodVerdict(), 0
	})
	v, _ := e.st.TestSetVersion(ctx, e.set.ID, 0)
	small, err := e.st.CreateTestSet(ctx, testActor, store.TestSet{Name: "judged"}, "", v.Cases[:12])
	if err != nil {
		t.Fatal(err)
	}
	r := e.runner(Options{Judge: judge.New(c, e.st)})
	defer r.Close()
	run, err := r.Create(ctx, testActor, small.ID, 0, "", store.RunSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Settings.Judge != "judge-1" {
		t.Errorf("settings.judge = %q", run.Settings.Judge)
	}
	if err := r.Execute(ctx, run); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.Run(ctx, run.ID)
	if got.Status != schema.RunDone {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	for _, k := range []string{"faithfulness_llm", "citation_precision_llm", "answer_relevancy_llm", "correctness_llm"} {
		if got.Counts[k] == 0 || got.Metrics[k] < 0.85 {
			t.Errorf("%s = %.3f over %d cases", k, got.Metrics[k], got.Counts[k])
		}
	}
	first := calls.Load()
	// The same cases again: every verdict comes from the cache.
	run2, _ := r.Create(ctx, testActor, small.ID, 0, "", store.RunSettings{})
	if err := r.Execute(ctx, run2); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != first {
		t.Errorf("second run made %d judge calls, want 0 (cached)", n-first)
	}
}

// TestJudgeFailedRun ends a run whose judge returns garbage with a clear
// status, keeping the finished cases and their non-LLM metrics.
func TestJudgeFailedRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _ := judgeModel(t, func(int) (string, int) { return "I am not able to help with that ¯\\_(ツ)_/¯", 0 })
	r := e.runner(Options{Judge: judge.New(c, nil)})
	defer r.Close()
	run, err := r.Create(ctx, testActor, e.set.ID, 0, "", store.RunSettings{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Execute(ctx, run); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.Run(ctx, run.ID)
	results, _ := e.st.CaseResults(ctx, run.ID)
	if got.Status != schema.RunJudgeFailed || got.Done == 0 || got.Done >= got.Total || len(results) != got.Done {
		t.Fatalf("status %s, %d/%d done, %d results: %s", got.Status, got.Done, got.Total, len(results), got.Error)
	}
	t.Logf("stopped: %s", got.Error)
	judgedFailed := 0
	for _, res := range results {
		if res.JudgeError != "" {
			judgedFailed++
		}
		for k, v := range res.Metrics {
			if v != v {
				t.Fatalf("case %s: %s is NaN", res.CaseID, k)
			}
		}
	}
	if judgedFailed == 0 || got.Metrics["hit@5"] == 0 {
		t.Errorf("%d cases marked judge failed; hit@5 %.3f", judgedFailed, got.Metrics["hit@5"])
	}
	if _, ok := got.Metrics["faithfulness_llm"]; ok {
		t.Errorf("faithfulness_llm present from a judge that never parsed")
	}
}

// TestCancelWhileJudging: cases in flight when a run is cancelled are
// dropped, not stored half-judged, and do not count as judge failures.
func TestCancelWhileJudging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// After 60 judge calls the judge stops answering until the test ends,
	// so cases are in flight when the run is cancelled. It counts its own
	// calls (four a case): at most 8 cases in flight hold at most 24 of the
	// 60, so at least 9 cases finish first. (It read the run's Done count
	// before, of a run ID it never set, and so never held.)
	release := make(chan struct{})
	c, _ := judgeModel(t, func(n int) (string, int) {
		if n > 60 {
			<-release
		}
		return goodVerdict(), 0
	})
	t.Cleanup(func() { close(release) }) // before judgeModel's server closes
	r := e.runner(Options{Judge: judge.New(c, nil)})
	defer r.Close()
	run, err := r.Create(ctx, testActor, e.set.ID, 0, "", store.RunSettings{Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(run); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "9 judged cases", func() bool { return e.doneAtLeast(run.ID, 9) })
	if !r.Cancel(run.ID) {
		t.Fatal("Cancel: run not active")
	}
	waitFor(t, "the run to stop", func() bool { return !r.Running(run.ID) })
	got, _ := e.st.Run(ctx, run.ID)
	results, _ := e.st.CaseResults(ctx, run.ID)
	if got.Status != schema.RunCancelled || got.Done != len(results) {
		t.Fatalf("status %s, done %d, %d results: %s", got.Status, got.Done, len(results), got.Error)
	}
	for _, res := range results {
		if res.JudgeError != "" || res.Error != "" {
			t.Errorf("case %s stored half-done: %q %q", res.CaseID, res.Error, res.JudgeError)
		}
	}
}

// thresholdAsker answers as its Asker but reports another threshold, as
// a server started with another --groundedness-threshold would.
type thresholdAsker struct {
	Asker
	threshold float64
}

func (a thresholdAsker) Threshold() float64 { return a.threshold }

// TestRunRecordsThreshold: a run records the threshold its answers are
// held to, and cannot be resumed under another.
func TestRunRecordsThreshold(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.runner(Options{})
	defer r.Close()
	run, err := r.Create(ctx, testActor, e.set.ID, 0, "", store.RunSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Settings.Threshold; got == nil || *got != e.asst.Threshold() {
		t.Fatalf("run threshold %v, want the assistant's %v", got, e.asst.Threshold())
	}
	other := e.runner(Options{Assistant: thresholdAsker{Asker: e.asst, threshold: 0.9}})
	defer other.Close()
	if _, err := other.Resume(ctx, run.ID); store.ErrorCode(err) != store.ECONFLICT || !strings.Contains(store.ErrorMessage(err), "threshold") {
		t.Errorf("resume under threshold 0.9: %v, want a conflict naming the threshold", err)
	}
}
