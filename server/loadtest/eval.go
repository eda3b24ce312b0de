package loadtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"llmops/evals"
	"llmops/server"
	"llmops/store"
	"llmops/store/schema"
)

// EvalBenchOptions size `llmops bench eval`.
type EvalBenchOptions struct {
	Cases       int // cases in the set: the sample questions repeated
	Concurrency int // 0: the runner's default
}

// EvalBenchReport is what `llmops bench eval` measured.
type EvalBenchReport struct {
	Cases       int
	Concurrency int
	Elapsed     time.Duration // create run → every result stored
	PerSecond   float64
	Stored      int // results read back from the store
	Errors      int
	Metrics     map[string]float64
}

// BenchEval measures the eval runner with the extractive answerer: the
// sample help centre in a temporary data dir, a test set of Cases cases
// (the sample questions, repeated with new IDs), one run through the real
// pipeline with traces and every metric, until its results are stored.
func BenchEval(ctx context.Context, cfg server.Config, opts EvalBenchOptions, progress io.Writer) (EvalBenchReport, error) {
	rep := EvalBenchReport{Cases: opts.Cases}
	dir, err := os.MkdirTemp("", "llmops-bench-eval-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	var last time.Time
	progressed := func(r store.EvalRun) {
		if time.Since(last) > time.Second {
			last = time.Now()
			fmt.Fprintf(progress, "%d/%d cases\n", r.Done, r.Total)
		}
	}
	app, err := openOffline(ctx, cfg, dir, server.AppOptions{RunProgress: progressed})
	if err != nil {
		return rep, err
	}
	defer app.Close(context.WithoutCancel(ctx))
	if err := ingestSample(ctx, app); err != nil {
		return rep, err
	}
	st, actor := app.Store, store.Actor{Kind: store.ActorCLI, Name: "bench"}
	sample, _, err := evals.EnsureSampleSet(ctx, st)
	if err != nil {
		return rep, err
	}
	v, err := st.TestSetVersion(ctx, sample.ID, 0)
	if err != nil {
		return rep, err
	}
	cases := make([]store.EvalCase, opts.Cases)
	for i := range cases {
		cases[i] = v.Cases[i%len(v.Cases)]
		cases[i].ID = fmt.Sprintf("b%05d", i+1)
	}
	set, err := st.CreateTestSet(ctx, actor, store.TestSet{Name: "bench", Source: "bench"}, "bench", cases)
	if err != nil {
		return rep, err
	}
	runner := app.Runner
	fmt.Fprintf(progress, "running %d cases…\n", opts.Cases)
	start := time.Now()
	run, err := runner.Create(ctx, actor, set.ID, 0, "bench", store.RunSettings{Concurrency: opts.Concurrency})
	if err != nil {
		return rep, err
	}
	if err := runner.Execute(ctx, run); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	rep.Concurrency = run.Settings.Concurrency
	rep.PerSecond = float64(run.Done) / rep.Elapsed.Seconds()
	results, err := st.CaseResults(ctx, run.ID)
	if err != nil {
		return rep, err
	}
	rep.Stored, rep.Errors, rep.Metrics = len(results), run.Errors, run.Metrics
	if run.Status != schema.RunDone {
		return rep, fmt.Errorf("run ended %s: %s", run.Status, run.Error)
	}
	return rep, nil
}
