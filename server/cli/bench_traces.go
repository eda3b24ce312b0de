package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	sampledata "llmops/sample-data"
	"llmops/server/loadtest"
)

var benchTracesCmd = &command{
	name: "bench traces", short: "build a store of synthetic traces and time ingest, the dashboard, filters, full-text search and a trace page",
	long: `Write --traces synthetic ask traces (spread over 30 days, --spans each)
through the trace writer — group commit with the secondary indexes, the
rollups and the full-text index — then start a server on that store and time
the 30-day dashboard, selective filters, full-text searches and a trace page
over loopback. The data dir is temporary unless --dir is given.`,
	run: runBenchTraces,
}

func runBenchTraces(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, false)
	traces := fs.Int("traces", 1_000_000, "traces to store")
	spans := fs.Int("spans", 10, "spans per trace")
	writers := fs.Int("writers", 4, "goroutines writing traces at once")
	requests := fs.Int("requests", 20, "timed requests per query")
	dir := fs.String("dir", "", "data dir to build (default: a temporary one, removed after)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if *traces < 1 {
		return usagef("--traces must be at least 1")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "llmops-bench-traces-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	stop, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	vocab, err := sampledata.Vocabulary()
	if err != nil {
		return err
	}
	rep, err := loadtest.BenchTraces(ctx, app.cfg, loadtest.TracesBenchOptions{Dir: *dir, Traces: *traces, Spans: *spans, Writers: *writers,
		Vocab: vocab, Seed: 1, Requests: *requests}, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	ok := func(good bool) string {
		if good {
			return "ok"
		}
		return "OVER"
	}
	fmt.Fprintf(w, "traces              %d (%d spans)\n", rep.Traces, rep.Spans)
	fmt.Fprintf(w, "ingest              %s: %.0f spans/s committed with indexes and rollups (bar 20000: %s)\n",
		rep.Ingest.Round(time.Millisecond), rep.RecordsPerSec, ok(rep.RecordsPerSec >= 20000))
	fmt.Fprintf(w, "full-text caught up %s after the first write\n", rep.Searchable.Round(time.Millisecond))
	fmt.Fprintf(w, "answer path         Write p50 %s (bar 100µs: %s); writer time per trace %s, off the answer path\n",
		rep.WriteP50, ok(rep.WriteP50 <= 100*time.Microsecond), rep.CommitPerTrace)
	fmt.Fprintf(w, "store file          %.0f MiB; full-text index %.0f MiB\n", rep.StoreMiB, rep.SearchMiB)
	for _, q := range rep.Queries {
		fmt.Fprintf(w, "%-36s p50 %-10s max %-10s bar %-6s %-4s  %s\n", q.Name, q.P50.Round(10*time.Microsecond), q.Max.Round(10*time.Microsecond), q.Bar, ok(q.P50 <= q.Bar), q.Results)
	}
	return nil
}
