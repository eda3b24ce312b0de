package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"llmops/evals"
	"llmops/evals/cases"
	"llmops/evals/gate"
	"llmops/server"
	"llmops/server/client"
	"llmops/store"
	"llmops/store/schema"
)

var evalRunCmd = &command{
	name: "eval run", short: "run a test set and gate on its metrics (for CI)",
	long: `Run a test set (a name or ID, or a CSV/JSONL/JSON file imported first)
through the real answer path, of a data dir no server holds (--data) or of
a running server (--server, an editor key), then check thresholds. Offline
it answers exactly as serve would with the same flags and model settings
(LLMOPS_LLM_*, LLMOPS_JUDGE_MODEL, --groundedness-threshold, --top-k).
--prompt support-answer@4 answers every case with that prompt version (its
config sets top-k, retrieval mode, rerank and threshold unless flags do),
--label staging with that label's version; a run at a version counts for
the prompt's eval gate. Exit 0 when the gate passes; 1 when a threshold
fails, cases failed or the run did not finish; 2 when called wrongly.`,
	args: "--set NAME|FILE",
	run:  runEvalRun,
}

func runEvalRun(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	var o evalRunOptions
	app := newAppFlags(fs, env, true, true)
	serverURL := fs.String("server", "", "URL of a running llmops serve to run on (its data dir is locked)")
	apiKey := apiKeyFlag(fs, env, "editor")
	fs.StringVar(&o.set, "set", "", "test set name or ID, or a CSV/JSONL/JSON file to import as a set first")
	fs.StringVar(&o.name, "name", "", "label for the run, e.g. the commit")
	var mins, drops stringList
	fs.Var(&mins, "min", "metric=value: fail when the run's mean is below (repeatable)")
	fs.StringVar(&o.baseline, "baseline", "", "run ID to compare with for --max-drop")
	fs.Var(&drops, "max-drop", "metric=value: fail when the mean dropped more than this below --baseline (repeatable)")
	asJSON := fs.Bool("json", false, "print the run, its metrics and the gate as JSON")
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	fs.BoolVar(&o.skipInvalid, "skip-invalid", false, "when --set is a file: skip invalid lines (each is reported)")
	maxErrors := fs.Int("max-errors", 0, "cases whose pipeline call may fail before the gate fails (their metrics are missing)")
	fs.StringVar(&o.settings.Mode, "mode", "", "retrieval: hybrid, keyword or vector (default: the prompt version's, else hybrid)")
	fs.BoolVar(&o.settings.NoRerank, "no-rerank", false, "skip the reranker")
	fs.IntVar(&o.settings.Concurrency, "concurrency", 0, "cases in flight (default: max(4, CPUs))")
	promptRef := fs.String("prompt", "", "answer with this prompt version, e.g. support-answer@4 (default: the --env label's)")
	label := fs.String("label", "", "answer with this label's version of support-answer, e.g. staging")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	switch {
	case *promptRef != "" && *label != "":
		return usagef("give --prompt or --label, not both")
	case *promptRef != "":
		if !strings.Contains(*promptRef, "@") {
			return usagef("--prompt %q: want name@version, e.g. support-answer@4", *promptRef)
		}
		o.settings.Prompt = *promptRef
	case *label != "":
		o.settings.Prompt = "support-answer:" + *label
	}
	if err := app.done(); err != nil {
		return err
	}
	if o.set == "" {
		return usagef("--set is required (a test set name or ID, or a file)")
	}
	ths, err := gate.ParseThresholds(gate.KindMin, mins)
	if err != nil {
		return usageError{err}
	}
	dropThs, err := gate.ParseThresholds(gate.KindMaxDrop, drops)
	if err != nil {
		return usageError{err}
	}
	if len(dropThs) > 0 && o.baseline == "" {
		return usagef("--max-drop needs --baseline RUN_ID")
	}
	ths = append(ths, dropThs...)
	if *serverURL != "" {
		if apiKey.Value() == "" {
			return usagef("--server needs --api-key (or LLMOPS_API_KEY)")
		}
		if set(fs, "groundedness-threshold") {
			return usagef("--groundedness-threshold applies with --data: a server answers with its own (its runs record it)")
		}
		if set(fs, "top-k") {
			o.settings.TopK = app.cfg.TopK
		}
	}

	var out *evalRunOutcome
	if *serverURL != "" {
		out, err = evalRunRemote(ctx, client.New(*serverURL, apiKey.Value()), o, env.Stderr)
	} else {
		out, err = evalRunLocal(ctx, env, app, o)
	}
	if err != nil {
		return err
	}
	run := out.run
	var baseMetrics map[string]float64
	if out.base != nil {
		baseMetrics = out.base.Metrics
	}
	checks := gate.Check(run.Metrics, run.Counts, baseMetrics, ths)
	if run.Errors > *maxErrors {
		checks = append(checks, gate.Result{Threshold: gate.Threshold{Metric: "errors", Kind: "max-errors", Value: float64(*maxErrors)},
			Got: float64(run.Errors), Message: fmt.Sprintf("%d cases failed (allowed %d): their metrics are missing: FAIL", run.Errors, *maxErrors)})
	}
	passed := gate.Passed(checks) && run.Status == schema.RunDone
	if *junit != "" {
		if err := writeJUnit(*junit, run, checks, out.results); err != nil {
			return err
		}
	}
	rep := evals.NewReport(run, out.base, out.results, checks, passed)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(env.Stdout)
	}
	if !passed {
		return errGateFailed
	}
	return nil
}

// evalRunOptions are what llmops eval run asks for.
type evalRunOptions struct {
	set, name   string
	baseline    string
	skipInvalid bool
	settings    store.RunSettings
}

// evalRunOutcome is a finished run with its results and baseline.
type evalRunOutcome struct {
	run     *store.EvalRun
	base    *store.EvalRun
	results []store.CaseResult
}

// evalRunLocal runs on a data dir no server holds, through the same
// composition root serve uses.
func evalRunLocal(ctx context.Context, env *Env, app *appFlags, o evalRunOptions) (*evalRunOutcome, error) {
	stderr := env.Stderr
	a, err := app.open(ctx, env, server.AppOptions{RunProgress: func(r store.EvalRun) {
		fmt.Fprintf(stderr, "\r%d/%d cases", r.Done, r.Total)
	}})
	if err != nil {
		return nil, err
	}
	defer a.Close(context.WithoutCancel(ctx))
	st := a.Store
	actor := store.Actor{Kind: store.ActorCLI, Name: cliUser(env.Getenv)}
	if _, _, err := evals.EnsureSampleSet(ctx, st); err != nil {
		return nil, err
	}
	setRef := o.set
	if _, err := st.TestSet(ctx, setRef); store.ErrorCode(err) == store.ENOTFOUND {
		data, ferr := os.ReadFile(setRef)
		if ferr != nil {
			return nil, usagef("no test set %q, and not a readable file: %v", setRef, ferr)
		}
		imp, err := evals.ImportFile(ctx, st, actor, "", "", setRef, data, cases.Options{SkipInvalid: o.skipInvalid})
		if err != nil {
			return nil, err
		}
		for _, l := range imp.Skipped {
			fmt.Fprintf(stderr, "skipped %s\n", l.Error())
		}
		setRef = imp.Set.ID
	} else if err != nil {
		return nil, err
	}
	out := &evalRunOutcome{}
	if o.baseline != "" {
		if out.base, err = st.Run(ctx, o.baseline); err != nil {
			return nil, err
		}
		set, err := st.TestSet(ctx, setRef)
		if err != nil {
			return nil, err
		}
		if err := sameSet(out.base, set.ID, set.Name); err != nil {
			return nil, err
		}
	}
	run, err := a.Runner.Create(ctx, actor, setRef, 0, o.name, o.settings)
	if store.ErrorCode(err) == store.EINVALID {
		return nil, usageError{errors.New(store.ErrorMessage(err))}
	} else if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "run %s: %s v%d, %d cases, %s\n", run.ID, run.SetName, run.SetVersion, run.Total, server.SettingsText(run.Settings))
	err = a.Runner.Execute(ctx, run)
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, err
	}
	if err := a.Traces.Flush(ctx); err != nil {
		return nil, err
	}
	out.run = run
	if out.results, err = st.CaseResults(ctx, run.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// sameSet refuses a baseline of another test set: runs compare case by case.
func sameSet(base *store.EvalRun, setID, setName string) error {
	if base.SetID != setID {
		return usagef("--baseline %s is a run of %q, not of %q: compare runs of one test set", base.ID, base.SetName, setName)
	}
	return nil
}

// evalRunRemote runs on a server through /api/v1/evals and waits for the
// run; interrupting the command cancels the run.
func evalRunRemote(ctx context.Context, cl *client.Client, o evalRunOptions, stderr io.Writer) (*evalRunOutcome, error) {
	var got struct {
		Set store.TestSet `json:"set"`
	}
	err := cl.Get(ctx, "/api/v1/evals/sets/"+url.PathEscape(o.set), &got)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		data, ferr := os.ReadFile(o.set)
		if ferr != nil {
			return nil, usagef("the server has no test set %q, and it is not a readable file: %v", o.set, ferr)
		}
		var imp evals.Import
		fields := map[string]string{}
		if o.skipInvalid {
			fields["skip_invalid"] = "true"
		}
		if err := cl.Upload(ctx, "/api/v1/evals/sets", "file", filepath.Base(o.set), data, fields, &imp); err != nil {
			return nil, err
		}
		for _, l := range imp.Skipped {
			fmt.Fprintf(stderr, "skipped %s\n", l.Error())
		}
		got.Set = *imp.Set
	} else if err != nil {
		return nil, err
	}
	out := &evalRunOutcome{}
	if o.baseline != "" {
		out.base = &store.EvalRun{}
		if err := cl.Get(ctx, "/api/v1/evals/runs/"+url.PathEscape(o.baseline), out.base); err != nil {
			return nil, err
		}
		if err := sameSet(out.base, got.Set.ID, got.Set.Name); err != nil {
			return nil, err
		}
	}
	var run store.EvalRun
	err = cl.JSON(ctx, "/api/v1/evals/runs", map[string]any{"set": got.Set.ID, "name": o.name, "settings": o.settings}, &run)
	if errors.As(err, &ce) && ce.Code == store.EINVALID {
		return nil, usageError{errors.New(ce.Message)}
	} else if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "run %s on %s: %s v%d, %d cases, %s\n", run.ID, cl.BaseURL, run.SetName, run.SetVersion, run.Total, server.SettingsText(run.Settings))
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for !run.Finished() {
		select {
		case <-ctx.Done():
			var cancelled store.EvalRun
			_ = cl.JSON(context.WithoutCancel(ctx), "/api/v1/evals/runs/"+run.ID+"/cancel", map[string]any{}, &cancelled)
			fmt.Fprintln(stderr)
			return nil, ctx.Err()
		case <-tick.C:
		}
		if err := cl.Get(ctx, "/api/v1/evals/runs/"+run.ID, &run); err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "\r%d/%d cases", run.Done, run.Total)
	}
	fmt.Fprintln(stderr)
	var res struct {
		Results []store.CaseResult `json:"results"`
	}
	if err := cl.Get(ctx, "/api/v1/evals/runs/"+run.ID+"/results", &res); err != nil {
		return nil, err
	}
	out.run, out.results = &run, res.Results
	return out, nil
}

var errGateFailed = errors.New("eval gate failed")

func writeJUnit(path string, run *store.EvalRun, checks []gate.Result, results []store.CaseResult) error {
	reports := make([]gate.CaseReport, len(results))
	for i, r := range results {
		reports[i] = gate.CaseReport{ID: r.CaseID, Question: r.Question, Seconds: float64(r.LatencyMS) / 1000, Error: r.Error}
	}
	var buf bytes.Buffer
	if err := gate.WriteJUnit(&buf, "llmops eval "+run.SetName, checks, reports); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
