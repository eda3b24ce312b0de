package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"llmops/rag"
	"llmops/rag/index"
	"llmops/server"
	"llmops/store"
	"llmops/store/schema"
)

// IngestBenchOptions sizes `llmops bench ingest`.
type IngestBenchOptions struct {
	Dir       string // data dir to create (must not exist or be empty)
	Documents int    // synthetic documents to ingest
	Sections  int    // sections per document (each ≈ one chunk)
	Vocab     []string
	Seed      uint64
}

// IngestBenchReport is what `llmops bench ingest` measured.
type IngestBenchReport struct {
	Documents     int
	Chunks        int
	Ingest        time.Duration
	ChunksPerSec  float64
	Reopen        time.Duration // store open + index check + vectors loaded, no rebuild
	Rebuilt       bool
	RSSMiB        float64 // resident set after reopen (GC'd), all chunks loaded
	HeapMiB       float64
	QueryKeyword  time.Duration // median BM25 query
	QueryVector   time.Duration // median vector query, embedding excluded
	StoreFileMiB  float64
	IndexDirMiB   float64
	EmbedModel    string
	ParseChunkCPU time.Duration
}

// BenchIngest ingests a synthetic corpus end to end (parse, chunk, embed,
// index, persist) into a fresh data dir, then reopens it as llmops serve
// would (server.OpenApp with cfg's settings, offline models) and measures
// start-up, memory and query latency.
func BenchIngest(ctx context.Context, cfg server.Config, opts IngestBenchOptions, progress io.Writer) (IngestBenchReport, error) {
	var rep IngestBenchReport
	if opts.Sections == 0 {
		opts.Sections = 10
	}
	if len(opts.Vocab) < 100 {
		return rep, fmt.Errorf("need a vocabulary of at least 100 words")
	}
	app, err := openOffline(ctx, cfg, opts.Dir, server.AppOptions{})
	if err != nil {
		return rep, err
	}
	kb := app.Knowledge
	rng := rand.New(rand.NewPCG(opts.Seed, 42))
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(opts.Vocab)-1))
	word := func() string { return opts.Vocab[zipf.Uint64()] }
	sentence := func() string {
		n := 8 + rng.IntN(14)
		w := make([]string, n)
		for i := range w {
			w[i] = word()
		}
		w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
		return strings.Join(w, " ") + "."
	}
	const batch = 200
	start := time.Now()
	actor := store.Actor{Kind: store.ActorCLI, Name: "bench"}
	for lo := 0; lo < opts.Documents; lo += batch {
		var files []rag.File
		for d := lo; d < min(lo+batch, opts.Documents); d++ {
			var b strings.Builder
			fmt.Fprintf(&b, "---\ntitle: Synthetic %d\ncategory: cat%d\n---\n\n# Synthetic document %d\n\n", d, d%7, d)
			for s := 0; s < opts.Sections; s++ {
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
				app.Close(context.WithoutCancel(ctx))
				return rep, fmt.Errorf("%s: %s", r.Name, r.Error)
			}
			rep.Documents++
			rep.Chunks += r.Chunks
		}
		if progress != nil {
			fmt.Fprintf(progress, "\r%d documents, %d chunks, %.0f chunks/s", rep.Documents, rep.Chunks, float64(rep.Chunks)/time.Since(start).Seconds())
		}
	}
	rep.Ingest = time.Since(start)
	rep.ChunksPerSec = float64(rep.Chunks) / rep.Ingest.Seconds()
	if progress != nil {
		fmt.Fprintln(progress)
	}
	// Let a retrain job triggered by growth finish: it is part of ingesting.
	if j := kb.CurrentJob(); j != nil {
		j.Wait()
	}
	if err := app.Close(context.WithoutCancel(ctx)); err != nil {
		return rep, err
	}

	runtime.GC()
	debug.FreeOSMemory()
	start = time.Now()
	if app, err = openOffline(ctx, cfg, opts.Dir, server.AppOptions{}); err != nil {
		return rep, err
	}
	defer app.Close(context.WithoutCancel(ctx))
	kb = app.Knowledge
	rep.Reopen, rep.Rebuilt = time.Since(start), kb.Rebuilt()
	stats, _ := kb.Stats(ctx)
	rep.EmbedModel = stats.Model
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	rep.RSSMiB = rssMiB()

	var kwTimes, vecTimes []time.Duration
	for range 50 {
		q := word() + " " + word() + " " + word()
		t0 := time.Now()
		if _, err := kb.SearchKeyword(ctx, q, 10, index.Filter{}); err != nil {
			return rep, err
		}
		kwTimes = append(kwTimes, time.Since(t0))
		v, err := kb.EmbedQuery(ctx, q)
		if err != nil {
			return rep, err
		}
		t0 = time.Now()
		if _, err := kb.SearchEmbedding(ctx, v, 10, index.Filter{}); err != nil {
			return rep, err
		}
		vecTimes = append(vecTimes, time.Since(t0))
	}
	rep.QueryKeyword, rep.QueryVector = median(kwTimes), median(vecTimes)
	if fi, err := os.Stat(app.Store.Path()); err == nil {
		rep.StoreFileMiB = float64(fi.Size()) / (1 << 20)
	}
	rep.IndexDirMiB = float64(dirSize(filepath.Join(opts.Dir, "index"))) / (1 << 20)
	return rep, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// rssMiB reads the process's resident set size (Linux); 0 elsewhere.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
