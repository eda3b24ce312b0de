// Package loadtest holds llmops's load tests and whole-path benchmarks
// (llmops bench ask, chat and eval): each builds a temporary data dir and
// opens it through the same composition root as serve (server.OpenApp or
// server.New). Nothing in the product imports it but the CLI.
package loadtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"llmops/rag"
	"llmops/rag/assistant"
	sampledata "llmops/sample-data"
	"llmops/server"
	"llmops/store"
	"llmops/store/schema"
)

// AskBenchOptions size `llmops bench ask`.
type AskBenchOptions struct {
	Documents int // synthetic documents beside the sample help centre (10 chunks each)
	Rounds    int // times the sample eval set is asked
}

// AskBenchReport is what `llmops bench ask` measured.
type AskBenchReport struct {
	Chunks    int
	Asks      int
	Fallbacks int
	Latency   Percentiles // whole answer path: guard → groundedness, trace queued
}

// BenchAsk measures the whole answer path with the extractive answerer:
// a knowledge base of Documents synthetic documents plus the sample help
// centre, every sample question asked Rounds times through the assistant
// exactly as the API does (conversation off, trace written). cfg gives the
// answer settings (threshold, top-k); its model endpoints are ignored.
func BenchAsk(ctx context.Context, cfg server.Config, opts AskBenchOptions, progress io.Writer) (AskBenchReport, error) {
	var rep AskBenchReport
	dir, err := os.MkdirTemp("", "llmops-bench-ask-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	vocab, err := sampledata.Vocabulary()
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "building a knowledge base of %d synthetic documents…\n", opts.Documents)
	if _, err := BenchIngest(ctx, cfg, IngestBenchOptions{Dir: dir, Documents: opts.Documents, Sections: 10, Vocab: vocab, Seed: 1}, io.Discard); err != nil {
		return rep, err
	}
	app, err := openOffline(ctx, cfg, dir, server.AppOptions{})
	if err != nil {
		return rep, err
	}
	defer app.Close(context.WithoutCancel(ctx))
	if err := ingestSample(ctx, app); err != nil {
		return rep, err
	}
	stats, err := app.Knowledge.Stats(ctx)
	if err != nil {
		return rep, err
	}
	rep.Chunks = stats.Chunks
	asst := app.Assistant
	qs, err := sampledata.Questions()
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "asking %d questions %d times over %d chunks…\n", len(qs), opts.Rounds, rep.Chunks)
	var lat []time.Duration
	for range opts.Rounds {
		for _, q := range qs {
			req := request(q.Question)
			start := time.Now()
			res, err := asst.Ask(ctx, req, nil)
			if err != nil {
				return rep, err
			}
			lat = append(lat, time.Since(start))
			if res.Fallback {
				rep.Fallbacks++
			}
		}
	}
	rep.Asks, rep.Latency = len(lat), percentiles(lat)
	return rep, nil
}

// openOffline opens dir through the composition root with cfg's answer
// settings and the embedded offline models: benches measure our code, not
// a model server.
func openOffline(ctx context.Context, cfg server.Config, dir string, opts server.AppOptions) (*server.App, error) {
	cfg.DataDir = dir
	cfg.LLMBaseURL, cfg.LLMAPIKey, cfg.LLMModel, cfg.JudgeModel = "", "", "", ""
	cfg.EmbedBaseURL, cfg.EmbedAPIKey, cfg.EmbedModel = "", "", ""
	return server.OpenApp(ctx, cfg, slog.New(slog.DiscardHandler), opts)
}

// ingestSample adds the sample help centre and waits for the embedding
// model it may start learning.
func ingestSample(ctx context.Context, app *server.App) error {
	files, _, err := rag.SampleFiles()
	if err != nil {
		return err
	}
	app.Knowledge.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: "bench"}, files, nil)
	if j := app.Knowledge.CurrentJob(); j != nil {
		j.Wait()
	}
	return ctx.Err()
}

// request is a plain API ask of question, as benchmarks send it.
func request(question string) assistant.Request {
	return assistant.Request{Question: question, Channel: schema.ChannelBench, Actor: store.Actor{Kind: store.ActorCLI, Name: "bench"}, NoConversation: true}
}
