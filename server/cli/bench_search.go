package cli

import (
	"context"
	"encoding/json"
	"os"

	"llmops/evals/bench"
	sampledata "llmops/sample-data"
)

var benchSearchCmd = &command{
	name: "bench search", args: "[--chunks N]", short: "time bm25, vector, hybrid and hybrid+rerank queries over N synthetic chunks",
	long: `Build a knowledge base of --chunks synthetic chunks (or reuse --dir when
it already holds that many), reopen it as serve would, and time 3-word
top-10 queries through the four retrieval pipelines one at a time
(query embedding included). --json prints exactly one object:
{"chunks":N,"pipelines":{"bm25":{"p50_ms","p95_ms"},...},"rss_mib",
"rss_anon_mib","rss_file_mib","peak_rss_mib"}.`,
	run: runBenchSearch,
}

func runBenchSearch(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	chunks := fs.Int("chunks", 100000, "synthetic chunks in the corpus")
	queries := fs.Int("queries", 200, "queries timed per pipeline")
	dir := fs.String("dir", "", "data dir to build or reuse (default: a temporary one, removed after)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if *chunks < 1 || *queries < 1 {
		return usagef("--chunks and --queries must be positive")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "llmops-bench-search-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	vocab, err := sampledata.Vocabulary()
	if err != nil {
		return err
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	rep, err := bench.Search(ctx, bench.SearchOptions{Dir: *dir, Chunks: *chunks, Queries: *queries, Vocab: vocab, Seed: 1}, env.Stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	return rep.WriteText(env.Stdout)
}
