package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"llmops/evals/bench"
	sampledata "llmops/sample-data"
	"llmops/server/loadtest"
)

// The benches print their results on stdout and progress on stderr;
// results go to docs/BENCHMARKS.md with the command that produced them.

var benchIngestCmd = &command{
	name: "bench ingest", short: "measure ingestion, reopening, memory and query speed on synthetic documents",
	run: runBenchIngest,
}

func runBenchIngest(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, false)
	docs := fs.Int("docs", 10000, "synthetic documents to ingest")
	sections := fs.Int("sections", 10, "sections (about one chunk each) per document")
	dir := fs.String("dir", "", "data dir to build (default: a temporary one, removed after)")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "llmops-bench-")
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
	rep, err := loadtest.BenchIngest(ctx, app.cfg, loadtest.IngestBenchOptions{Dir: *dir, Documents: *docs, Sections: *sections, Vocab: vocab, Seed: 1}, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "documents           %d\n", rep.Documents)
	fmt.Fprintf(w, "chunks              %d\n", rep.Chunks)
	fmt.Fprintf(w, "ingest              %s (%.0f chunks/s end to end)\n", rep.Ingest.Round(time.Millisecond), rep.ChunksPerSec)
	fmt.Fprintf(w, "reopen to ready     %s (rebuilt: %v)\n", rep.Reopen.Round(time.Millisecond), rep.Rebuilt)
	fmt.Fprintf(w, "RSS after reopen    %.0f MiB (Go heap in use %.0f MiB)\n", rep.RSSMiB, rep.HeapMiB)
	fmt.Fprintf(w, "BM25 query p50      %s\n", rep.QueryKeyword)
	fmt.Fprintf(w, "vector query p50    %s (embedding excluded)\n", rep.QueryVector)
	fmt.Fprintf(w, "store file          %.0f MiB; keyword index %.0f MiB\n", rep.StoreFileMiB, rep.IndexDirMiB)
	fmt.Fprintf(w, "embedding model     %s\n", rep.EmbedModel)
	return nil
}

var benchAskCmd = &command{
	name: "bench ask", short: "measure the whole answer path with the extractive answerer",
	long: `Measure the whole answer path (guard → groundedness, trace queued) with
the extractive answerer over the sample help centre plus --docs synthetic
documents, with serve's answer flags (--groundedness-threshold, --top-k).`,
	run: runBenchAsk,
}

func runBenchAsk(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, true)
	docs := fs.Int("docs", 1000, "synthetic documents (10 chunks each) beside the sample help centre")
	rounds := fs.Int("rounds", 10, "times the sample eval set is asked")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	rep, err := loadtest.BenchAsk(ctx, app.cfg, loadtest.AskBenchOptions{Documents: *docs, Rounds: *rounds}, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "chunks              %d\n", rep.Chunks)
	fmt.Fprintf(w, "asks                %d (%d fell back)\n", rep.Asks, rep.Fallbacks)
	fmt.Fprintf(w, "answer path         p50 %s  p95 %s  p99 %s  max %s\n", rep.Latency.P50, rep.Latency.P95, rep.Latency.P99, rep.Latency.Max)
	return nil
}

var benchChatCmd = &command{
	name: "bench chat", short: "load-test streaming chats against a fake model on loopback",
	long: `Start a server on a temporary data dir with a fake OpenAI-compatible
model on loopback, then --concurrency clients stream sample questions and
send feedback on each answer for --duration. Reports the longest silence
a client saw on a stream (the server sends keepalive comments) and memory
sampled every 2 s (RSS at the start, after warm-up — a fifth of
--duration, at most a minute — and at the end). Fails when a chat errs, a
feedback record is lost, or a stream stays silent longer than the
keepalive interval.`,
	run: runBenchChat,
}

func runBenchChat(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, true)
	var o loadtest.ChatBenchOptions
	fs.IntVar(&o.Concurrency, "concurrency", 50, "simultaneous streaming chats")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long to keep asking")
	fs.DurationVar(&o.TTFT, "ttft", time.Second, "the fake model's time to first token")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if o.Concurrency < 1 || o.Duration <= 0 {
		return usagef("--concurrency and --duration must be positive")
	}
	rep, err := loadtest.BenchChat(ctx, app.cfg, o, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "chats               %d (%.1f/s), errors %d\n", rep.Chats, rep.ChatsPerSec, rep.Errors)
	for _, e := range rep.ErrorSamples {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	fmt.Fprintf(w, "feedback            %d sent, %d stored, %d lost\n", rep.FeedbackSent, rep.FeedbackStored, rep.FeedbackSent-rep.FeedbackStored)
	fmt.Fprintf(w, "time to first token p50 %s  p95 %s  p99 %s\n", rep.TTFT.P50, rep.TTFT.P95, rep.TTFT.P99)
	fmt.Fprintf(w, "whole answer        p50 %s  p95 %s  p99 %s  max %s\n", rep.Total.P50, rep.Total.P95, rep.Total.P99, rep.Total.Max)
	fmt.Fprintf(w, "trace writer        %d stalls, %d dropped\n", rep.TraceStalls, rep.TraceDropped)
	fmt.Fprintf(w, "longest silence     %.1fs on a stream, %.1fs waiting for the first token (keepalive every ≤ %s; %d keepalives seen)\n",
		rep.MaxGap.Seconds(), rep.MaxGapFirstToken.Seconds(), rep.KeepAliveEvery, rep.KeepAlives)
	flat := func(ok bool) string {
		if ok {
			return "flat"
		}
		return "NOT flat"
	}
	m0, mw, me, mx := rep.MemStart, rep.MemWarm, rep.MemEnd, rep.MemMax
	fmt.Fprintf(w, "RSS                 start %.0f MiB, after %s warm-up %.0f, end %.0f, max %.0f (%s: end within 15%% of warm-up; %d samples)\n",
		m0.RSS, rep.WarmUp.Round(time.Second), mw.RSS, me.RSS, mx.RSS, flat(rep.RSSFlat()), rep.MemSamples)
	fmt.Fprintf(w, "  anonymous         start %.0f MiB, warm %.0f, end %.0f (%s); Go heap in use %.0f, %.0f, %.0f; held by the Go runtime %.0f, %.0f, %.0f\n",
		m0.Anon, mw.Anon, me.Anon, flat(rep.AnonFlat()), m0.Heap, mw.Heap, me.Heap, m0.Held, mw.Held, me.Held)
	fmt.Fprintf(w, "  file-backed       start %.0f MiB, warm %.0f, end %.0f (store file %.0f MiB at the end)\n", m0.File, mw.File, me.File, rep.StoreFileMiB)
	if rep.Errors > 0 || rep.FeedbackStored != rep.FeedbackSent {
		return fmt.Errorf("load test failed: %d errors, %d feedback records lost", rep.Errors, rep.FeedbackSent-rep.FeedbackStored)
	}
	if rep.KeepAliveEvery > 0 && rep.MaxGap > rep.KeepAliveEvery {
		return fmt.Errorf("load test failed: a stream was silent for %.1fs, longer than the keepalive interval %s", rep.MaxGap.Seconds(), rep.KeepAliveEvery)
	}
	return nil
}

var benchCrashCmd = &command{
	name: "bench crash", short: "kill ingesting and serving llmops processes and check that no acknowledged write is lost",
	long: `Start --cycles child llmops processes (this binary) on one temporary
data dir, in turn "llmops ingest" of generated documents and "llmops
serve" on 127.0.0.1:0 answering asks and feedback from loopback clients,
and kill each with SIGKILL at a moment --seed picks. After each kill:
bbolt's consistency check on a read-only open, the app opened as serve
opens it, every printed ingest line's document present and complete,
every feedback answered 201 stored, and the keyword and vector indexes
holding exactly the store's chunks. Fails on any loss or check error.`,
	run: runBenchCrash,
}

func runBenchCrash(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, false)
	var o loadtest.CrashBenchOptions
	fs.IntVar(&o.Cycles, "cycles", 200, "child processes to start and kill")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the documents, versions and kill moments")
	fs.StringVar(&o.Dir, "dir", "", "folder for the data dir and documents (default: a temporary one, removed after)")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if o.Cycles < 1 {
		return usagef("--cycles must be positive")
	}
	rep, err := loadtest.BenchCrash(ctx, app.cfg, o, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "cycles              %d (%d ingest, %d serve) in %s, seed %d\n", rep.Cycles, rep.IngestCycles, rep.ServeCycles, rep.Elapsed.Round(time.Second), o.Seed)
	fmt.Fprintf(w, "kills               %d SIGKILL: %d of %d ingests (%d before their first printed line; %d finished first), %d serves (%d during start-up)\n",
		rep.Kills, rep.IngestKilled, rep.IngestCycles, rep.IngestKilledBeforeAck, rep.IngestFinished, rep.ServeKilled, rep.ServeKilledStartUp)
	fmt.Fprintf(w, "acknowledged writes %d (%d documents, %d feedback)\n", rep.AckedDocuments+rep.AckedFeedback, rep.AckedDocuments, rep.AckedFeedback)
	fmt.Fprintf(w, "lost                %d\n", rep.Lost)
	fmt.Fprintf(w, "check errors        %d (bbolt check, half-stored documents, index vs store, failed requests)\n", rep.CheckErrors)
	fmt.Fprintf(w, "keyword index       rebuilt at %d of %d restarts\n", rep.Rebuilds, rep.Cycles+1)
	fmt.Fprintf(w, "traces              %d answered, %d stored after the kill (queued, not acknowledged)\n", rep.TracesAnswered, rep.TracesStored)
	fmt.Fprintf(w, "at the end          %d documents, %d chunks\n", rep.Documents, rep.Chunks)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if rep.Lost > 0 || rep.CheckErrors > 0 {
		return fmt.Errorf("crash test failed: %d acknowledged writes lost, %d check errors", rep.Lost, rep.CheckErrors)
	}
	return nil
}

var benchRetrievalCmd = &command{
	name: "bench retrieval", args: "--beir DIR | --leave-one-out", short: "score the four retrieval pipelines on a BEIR dataset (nDCG@10, recall)",
	long: `Ingest a BEIR corpus into a temporary knowledge base and score the
keyword, vector, hybrid and hybrid + rerank pipelines on its queries;
--json prints exactly one object on stdout.

--leave-one-out scores every candidate retrieval design on the sample
help centre and each BEIR folder under --datasets (default
../shared/datasets; absent: the sample set alone; with NFCorpus, also a
set of pasted-passage queries built from its abstracts' first halves),
then, holding each set
out in turn, picks the design with the best mean gain over BM25 on the
others and reports its score on the one held out.`,
	run: runBenchRetrieval,
}

func runBenchRetrieval(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	dir := fs.String("beir", "", "BEIR folder: corpus.jsonl(.gz), queries.jsonl(.gz), qrels/test.tsv")
	ignore := fs.Bool("ignore-identical-ids", false, "drop hits whose ID equals the query ID (BEIR's ignore_identical_ids; ArguAna needs it)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	limit := fs.Int("limit", 0, "run only the first N queries (0: all)")
	loo := fs.Bool("leave-one-out", false, "compare the candidate designs on every set, holding each out in turn")
	datasets := fs.String("datasets", filepath.Join("..", "shared", "datasets"), "with --leave-one-out: a folder of BEIR folders")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if *loo {
		rep, err := bench.LeaveOneOut(ctx, bench.LOOOptions{Datasets: *datasets}, env.Stderr)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(rep)
		}
		return rep.WriteText(env.Stdout)
	}
	if *dir == "" {
		return usagef("--beir DIR or --leave-one-out is required")
	}
	rep, err := bench.Retrieval(ctx, bench.RetrievalOptions{Dir: *dir, IgnoreIdenticalIDs: *ignore, Limit: *limit}, env.Stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	rep.WriteText(env.Stdout)
	return nil
}

var benchEvalCmd = &command{
	name: "bench eval", short: "measure the eval runner's throughput with the extractive answerer",
	run: runBenchEval,
}

func runBenchEval(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, false, true)
	n := fs.Int("cases", 1000, "cases in the run (the sample questions, repeated)")
	conc := fs.Int("concurrency", 0, "cases in flight (0: max(4, CPUs))")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if *n < 1 {
		return usagef("--cases must be positive")
	}
	rep, err := loadtest.BenchEval(ctx, app.cfg, loadtest.EvalBenchOptions{Cases: *n, Concurrency: *conc}, env.Stderr)
	if err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "cases               %d (%d stored, %d errors)\n", rep.Cases, rep.Stored, rep.Errors)
	fmt.Fprintf(w, "concurrency         %d\n", rep.Concurrency)
	fmt.Fprintf(w, "run, results stored %s (%.0f cases/s)\n", rep.Elapsed.Round(time.Millisecond), rep.PerSecond)
	for _, k := range []string{"hit@5", "ndcg@10", "faithfulness", "correctness_f1", "refusal_correctness"} {
		fmt.Fprintf(w, "%-19s %.3f\n", k, rep.Metrics[k])
	}
	return nil
}
