package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"llmops/server/loadtest"
)

var benchReviewCmd = &command{
	name: "bench review", short: "time building a week's review queue and report over synthetic answers",
	long: `Store --traces synthetic answers in last week (with the sample help centre
ingested, so the report clusters with the local embedder), then time building
the week's review queue (first build and a top-up rebuild), label --labels
items and time the weekly report. The bar: queue + report within 2 s at
100,000 answers. The data dir is temporary unless --dir is given.`,
	run: runBenchReview,
}

func runBenchReview(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, false)
	traces := fs.Int("traces", 100_000, "answers in the week")
	labels := fs.Int("labels", 500, "queue items to label before the report")
	dir := fs.String("dir", "", "data dir to build (default: a temporary one, removed after)")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if *traces < 1 || *labels < 0 {
		return usagef("--traces must be at least 1 and --labels at least 0")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "llmops-bench-review-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	rep, err := loadtest.BenchReview(ctx, app.cfg, loadtest.ReviewBenchOptions{Dir: *dir, Traces: *traces, Labels: *labels, Seed: 1}, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	total := rep.Build + rep.Report
	verdict := "ok"
	if total > 2*time.Second {
		verdict = "OVER"
	}
	fmt.Fprintf(w, "week                %s: %d traces stored, %d answers of real traffic (written in %s)\n", rep.Week, rep.Stored, rep.Traces, ms(rep.Write))
	fmt.Fprintf(w, "queue               %d items (%d mandatory, %d double assigned)\n", rep.Queue, rep.Mandatory, rep.Double)
	fmt.Fprintf(w, "build queue         %s, CPU %s (rebuild, topping up: %s)\n", ms(rep.Build), ms(rep.BuildCPU), ms(rep.Rebuild))
	fmt.Fprintf(w, "report              %s, CPU %s over %d labelled items, %d failing → %d clusters, %d knowledge gaps\n", ms(rep.Report), ms(rep.ReportCPU), rep.Labelled, rep.Failing, rep.Clusters, rep.Gaps)
	fmt.Fprintf(w, "queue + report      %s wall, %s CPU (bar 2s: %s)\n", ms(total), ms(rep.BuildCPU+rep.ReportCPU), verdict)
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(w, "load average        %s", load)
	}
	return nil
}
