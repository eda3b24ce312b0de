package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"llmops/rag"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// SearchOptions configure `llmops bench search`.
type SearchOptions struct {
	// Dir is the data dir: built with Chunks synthetic chunks when it holds
	// none, reused as it is when it already holds at least that many (so
	// a 1M-chunk corpus is built once).
	Dir     string
	Chunks  int      // chunks to build (10 per synthetic document)
	Queries int      // queries timed per pipeline (default 200)
	Vocab   []string // words of the synthetic documents and queries
	Seed    uint64
}

// Latency is one pipeline's query latency.
type Latency struct {
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
}

// SearchPipelines are the four pipelines' latencies, in this JSON order.
type SearchPipelines struct {
	BM25         Latency `json:"bm25"`
	Vector       Latency `json:"vector"`
	Hybrid       Latency `json:"hybrid"`
	HybridRerank Latency `json:"hybrid+rerank"`
}

// SearchReport is what Search measured; --json prints the tagged fields.
type SearchReport struct {
	Chunks    int             `json:"chunks"`
	Pipelines SearchPipelines `json:"pipelines"`
	RSSMiB    float64         `json:"rss_mib"`      // after the corpus was reopened and every query ran
	AnonMiB   float64         `json:"rss_anon_mib"` // of RSSMiB, anonymous memory (the Go heap, the vectors)
	FileMiB   float64         `json:"rss_file_mib"` // of RSSMiB, mapped files (the binary, bbolt, the keyword index)
	PeakRSS   float64         `json:"peak_rss_mib"` // the process's high-water mark, building included
	Open      time.Duration   `json:"-"`            // reopening the data dir: store, indexes, vectors
	Built     time.Duration   `json:"-"`            // building the corpus (0: reused)
	Model     string          `json:"-"`
	Queries   int             `json:"-"`
}

// searchPipelines are Retrieval's four pipelines at TopK 10.
var searchPipelines = []struct {
	name string
	opts retrieve.Options
	out  func(*SearchPipelines) *Latency
}{
	{"bm25", retrieve.Options{Mode: retrieve.ModeKeyword, NoRerank: true, TopK: 10}, func(p *SearchPipelines) *Latency { return &p.BM25 }},
	{"vector", retrieve.Options{Mode: retrieve.ModeVector, NoRerank: true, TopK: 10}, func(p *SearchPipelines) *Latency { return &p.Vector }},
	{"hybrid", retrieve.Options{Mode: retrieve.ModeHybrid, NoRerank: true, TopK: 10}, func(p *SearchPipelines) *Latency { return &p.Hybrid }},
	{"hybrid+rerank", retrieve.Options{Mode: retrieve.ModeHybrid, TopK: 10}, func(p *SearchPipelines) *Latency { return &p.HybridRerank }},
}

// Search measures query latency of the four retrieval pipelines over a
// synthetic corpus of opts.Chunks chunks: the corpus is ingested through
// the real knowledge base (once; a data dir that already holds enough
// chunks is reused), closed, reopened as a server would open it, and
// every pipeline runs the same queries one at a time, so each latency is
// one query with the machine to itself (query embedding included).
func Search(ctx context.Context, opts SearchOptions, progress io.Writer) (*SearchReport, error) {
	if progress == nil {
		progress = io.Discard
	}
	if opts.Chunks < 1 {
		return nil, fmt.Errorf("bench search: chunks must be positive (got %d)", opts.Chunks)
	}
	if opts.Queries <= 0 {
		opts.Queries = 200
	}
	if len(opts.Vocab) < 100 {
		return nil, errors.New("bench search: need a vocabulary of at least 100 words")
	}
	rep := &SearchReport{Queries: opts.Queries}
	rng := rand.New(rand.NewPCG(opts.Seed, 7))
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(opts.Vocab)-1))
	word := func() string { return opts.Vocab[zipf.Uint64()] }

	have, err := countChunks(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	if have < opts.Chunks {
		start := time.Now()
		if err := buildSynthetic(ctx, opts.Dir, opts.Chunks-have, have/10, word, rng, progress); err != nil {
			return nil, err
		}
		rep.Built = time.Since(start)
	}

	runtime.GC()
	debug.FreeOSMemory()
	start := time.Now()
	st, kb, err := openKB(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	defer kb.Close()
	rep.Open = time.Since(start)
	stats, err := kb.Stats(ctx)
	if err != nil {
		return nil, err
	}
	rep.Chunks, rep.Model = stats.Chunks, stats.Model
	fmt.Fprintf(progress, "search: %d chunks, %d vectors (%s), opened in %s\n", stats.Chunks, stats.Vectors, stats.Model, rep.Open.Round(time.Millisecond))

	queries := make([]string, opts.Queries)
	for i := range queries {
		queries[i] = word() + " " + word() + " " + word()
	}
	r := retrieve.New(kb, retrieve.Options{})
	for _, p := range searchPipelines {
		// One untimed pass warms caches and the keyword index's segments.
		for _, q := range queries[:min(20, len(queries))] {
			if _, err := r.Retrieve(ctx, q, &p.opts); err != nil {
				return nil, err
			}
		}
		lat := make([]time.Duration, 0, len(queries))
		for _, q := range queries {
			t0 := time.Now()
			res, err := r.Retrieve(ctx, q, &p.opts)
			if err != nil {
				return nil, fmt.Errorf("bench search: %s: %w", p.name, err)
			}
			lat = append(lat, time.Since(t0))
			if len(res.Errors) > 0 {
				return nil, fmt.Errorf("bench search: %s: a stage failed: %v", p.name, res.Errors)
			}
		}
		*p.out(&rep.Pipelines) = Latency{P50Ms: percentileMs(lat, 0.50), P95Ms: percentileMs(lat, 0.95)}
		fmt.Fprintf(progress, "search: %-13s p50 %.1f ms, p95 %.1f ms\n", p.name, p.out(&rep.Pipelines).P50Ms, p.out(&rep.Pipelines).P95Ms)
	}
	rep.RSSMiB, rep.PeakRSS = procStatusMiB("VmRSS:"), procStatusMiB("VmHWM:")
	rep.AnonMiB, rep.FileMiB = procStatusMiB("RssAnon:"), procStatusMiB("RssFile:")
	return rep, nil
}

func openKB(ctx context.Context, dir string) (*store.Store, *rag.KnowledgeBase, error) {
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, kb, nil
}

// countChunks returns how many chunks dir's store holds (0 for a new dir).
func countChunks(ctx context.Context, dir string) (int, error) {
	if _, err := os.Stat(filepath.Join(dir, "llmops.db")); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	ks, err := st.KnowledgeStats(ctx)
	return ks.Chunks, err
}

// buildSynthetic ingests about n chunks as Markdown documents of ten
// sections of nine Zipf-distributed sentences each (as bench ingest's),
// numbered from first, in 200-document calls, and waits for the
// embedding model's retraining to finish.
func buildSynthetic(ctx context.Context, dir string, n, first int, word func() string, rng *rand.Rand, progress io.Writer) error {
	st, kb, err := openKB(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	defer kb.Close()
	sentence := func() string {
		w := make([]string, 8+rng.IntN(14))
		for i := range w {
			w[i] = word()
		}
		w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
		return strings.Join(w, " ") + "."
	}
	const sections, batch = 10, 200
	docs := (n + sections - 1) / sections
	actor := store.Actor{Kind: store.ActorCLI, Name: "bench search"}
	start, chunks := time.Now(), 0
	for lo := first; lo < first+docs; lo += batch {
		var files []rag.File
		for d := lo; d < min(lo+batch, first+docs); d++ {
			var b strings.Builder
			fmt.Fprintf(&b, "---\ntitle: Synthetic %d\ncategory: cat%d\n---\n\n# Synthetic document %d\n\n", d, d%7, d)
			for range sections {
				fmt.Fprintf(&b, "## %s %s\n\n", word(), word())
				for range 9 {
					b.WriteString(sentence())
					b.WriteByte(' ')
				}
				b.WriteString("\n\n")
			}
			files = append(files, rag.File{Name: "bench/doc-" + strconv.Itoa(d) + ".md", Data: []byte(b.String())})
		}
		for _, r := range kb.Ingest(ctx, actor, files, nil) {
			if r.Outcome == schema.IngestFailed {
				return fmt.Errorf("bench search: %s: %s", r.Name, r.Error)
			}
			chunks += r.Chunks
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(progress, "\rbuild: %d chunks, %.0f chunks/s", chunks, float64(chunks)/time.Since(start).Seconds())
	}
	fmt.Fprintln(progress)
	return waitJob(ctx, kb.CurrentJob())
}

// procStatusMiB reads a /proc/self/status line in kB as MiB (Linux; 0
// elsewhere).
func procStatusMiB(key string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// WriteText writes the report as a table, for people.
func (r *SearchReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%d chunks (model %s), reopened in %s", r.Chunks, r.Model, r.Open.Round(time.Millisecond))
	if r.Built > 0 {
		fmt.Fprintf(ew, ", built in %s", r.Built.Round(time.Second))
	}
	fmt.Fprintf(ew, "\n%d queries of 3 words, top 10, one at a time\n\n%-14s %8s %8s\n", r.Queries, "pipeline", "p50 ms", "p95 ms")
	for _, p := range searchPipelines {
		l := p.out(&r.Pipelines)
		fmt.Fprintf(ew, "%-14s %8.1f %8.1f\n", p.name, l.P50Ms, l.P95Ms)
	}
	fmt.Fprintf(ew, "\nRSS %.0f MiB after the queries (%.0f anonymous, %.0f mapped files; peak %.0f MiB)\n", r.RSSMiB, r.AnonMiB, r.FileMiB, r.PeakRSS)
	return ew.err
}
