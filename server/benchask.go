package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"llmops/rag"
	sampledata "llmops/sample-data"
	"llmops/store"
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
// exactly as the API does (conversation off, trace written).
func BenchAsk(ctx context.Context, opts AskBenchOptions, progress io.Writer) (AskBenchReport, error) {
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
	if _, err := rag.BenchIngest(ctx, rag.IngestBenchOptions{Dir: dir, Documents: opts.Documents, Sections: 10, Vocab: vocab, Seed: 1}, io.Discard); err != nil {
		return rep, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return rep, err
	}
	defer st.Close()
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: log})
	if err != nil {
		return rep, err
	}
	defer kb.Close()
	files, _, err := rag.SampleFiles()
	if err != nil {
		return rep, err
	}
	kb.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: "bench"}, files, nil)
	if j := kb.CurrentJob(); j != nil {
		j.Wait()
	}
	stats, err := kb.Stats(ctx)
	if err != nil {
		return rep, err
	}
	rep.Chunks = stats.Chunks
	tw := st.NewTraceWriter(store.TraceWriterOptions{Logger: log})
	defer tw.Close(context.WithoutCancel(ctx))
	asst, err := NewAssistant(DefaultConfig(), st, kb, tw, log, nil)
	if err != nil {
		return rep, err
	}
	qs, err := sampledata.Questions()
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "asking %d questions %d times over %d chunks…\n", len(qs), opts.Rounds, rep.Chunks)
	var lat []time.Duration
	for range opts.Rounds {
		for _, q := range qs {
			req := assistantRequest(q.Question)
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
