// Package bench holds the benchmarks `llmops bench …` runs against the
// real knowledge base: Retrieval measures retrieval quality and latency
// on a BEIR collection.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"llmops/evals/beir"
	"llmops/evals/metrics"
	"llmops/rag"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// RetrievalOptions configure `llmops bench retrieval`.
type RetrievalOptions struct {
	Dir string // a BEIR folder (corpus, queries, qrels/test.tsv)
	// IgnoreIdenticalIDs drops a query's own document from its rankings
	// (BEIR's ignore_identical_ids; ArguAna's queries are corpus
	// documents, so it needs this).
	IgnoreIdenticalIDs bool
	Concurrency        int // queries retrieved at once (default runtime.NumCPU())
	Limit              int // evaluate only the first Limit queries (0: all)
}

// Metrics are one pipeline's mean scores over the queries and its
// latency percentiles.
type Metrics struct {
	NDCG10    float64 `json:"ndcg@10"`
	Recall100 float64 `json:"recall@100"`
	MRR10     float64 `json:"mrr@10"`
	P50Ms     float64 `json:"p50_ms"`
	P95Ms     float64 `json:"p95_ms"`
}

// Pipelines holds the four pipelines' metrics; a struct rather than a map
// so the JSON keeps this order.
type Pipelines struct {
	BM25         Metrics `json:"bm25"`
	Vector       Metrics `json:"vector"`
	Hybrid       Metrics `json:"hybrid"`
	HybridRerank Metrics `json:"hybrid+rerank"`
}

// RetrievalReport is what Retrieval measured. Only the tagged fields are
// JSON (the `--json` output has a fixed shape); the rest is for WriteText.
type RetrievalReport struct {
	Dataset      string    `json:"dataset"`
	Docs         int       `json:"docs"`    // corpus documents
	Queries      int       `json:"queries"` // queries evaluated
	ChunksPerSec float64   `json:"ingest_chunks_per_s"`
	Pipelines    Pipelines `json:"pipelines"`

	Chunks             int           `json:"-"` // chunks the corpus became
	IngestFailed       int           `json:"-"` // documents that could not be ingested (empty, unreadable)
	Duplicates         int           `json:"-"` // documents whose text another one already has (stored once)
	Ingest             time.Duration `json:"-"` // parse, chunk, embed, index and commit
	Retrain            time.Duration `json:"-"` // learning the embedding model from the whole corpus
	MissingDocs        int           `json:"-"` // judgements of documents not in the corpus, dropped
	MissingQueries     int           `json:"-"` // judged queries not in the queries file
	IgnoreIdenticalIDs bool          `json:"-"`
	// VectorErrors counts retrievals whose vector stage failed and went
	// on with BM25 alone; it should be 0.
	VectorErrors int           `json:"-"`
	Took         time.Duration `json:"-"`
}

// pipeline is one retrieval configuration under test. The names name the
// stages: only hybrid+rerank reranks (as the stages of TestArguAna in
// rag/retrieve), so bm25 and vector are the indexes' own rankings.
type pipeline struct {
	name string
	opts retrieve.Options
	out  func(*Pipelines) *Metrics
}

var pipelines = []pipeline{
	{"bm25", retrieve.Options{Mode: retrieve.ModeKeyword, NoRerank: true}, func(p *Pipelines) *Metrics { return &p.BM25 }},
	{"vector", retrieve.Options{Mode: retrieve.ModeVector, NoRerank: true}, func(p *Pipelines) *Metrics { return &p.Vector }},
	{"hybrid", retrieve.Options{Mode: retrieve.ModeHybrid, NoRerank: true}, func(p *Pipelines) *Metrics { return &p.Hybrid }},
	{"hybrid+rerank", retrieve.Options{Mode: retrieve.ModeHybrid}, func(p *Pipelines) *Metrics { return &p.HybridRerank }},
}

// Every query is retrieved twice per pipeline, because no single TopK
// gives both the production top 10 and 100 documents: Retriever raises
// Candidates (50) and RerankDepth (20) to TopK, so a TopK-100 call fuses
// longer lists and reranks 100 candidates, and its top 10 is not what
// serving returns. (Changing rag/retrieve to rerank only RerankDepth
// candidates would still leave the longer fused lists.)
const (
	// productionTopK is the largest TopK at which a call keeps the default
	// Candidates and RerankDepth, so its first results are exactly the
	// production ones (TestArguAna uses it too). nDCG@10, MRR@10 and the
	// latencies come from this call; 20 chunks leave at least 10 documents
	// unless documents have several chunks each or the query's own is
	// among them.
	productionTopK = retrieve.DefaultRerankDepth
	// recallTopK is the retriever's maximum. Recall@100 counts the distinct
	// documents among these 100 chunks, so fewer than 100 documents when
	// some have several chunks.
	recallTopK = 100
)

// Retrieval ingests the BEIR collection in opts.Dir into a temporary data
// dir through the real knowledge base (removed at the end), then runs
// every judged query through the real Retriever for the bm25, vector,
// hybrid and hybrid+rerank pipelines, one pipeline at a time so each
// latency is its own. progress (may be nil) gets a line per step.
//
// Scores are BEIR's, per query, averaged over every judged query (one
// whose only relevant document is missing from the corpus scores 0, as in
// BEIR). Two things differ from rag/retrieve's TestArguAna, which sees
// the same rankings: a hit on a text the knowledge base stored once for
// several corpus documents counts as all of them (see ingest), and the
// reported recall@100 and MRR@10 are extra.
func Retrieval(ctx context.Context, opts RetrievalOptions, progress io.Writer) (*RetrievalReport, error) {
	if progress == nil {
		progress = io.Discard
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.NumCPU()
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("bench retrieval: limit must not be negative (got %d)", opts.Limit)
	}
	start := time.Now()
	ds, err := beir.Load(opts.Dir, beir.LoadOptions{})
	if err != nil {
		return nil, err
	}
	queries := ds.Queries
	if opts.Limit > 0 && opts.Limit < len(queries) {
		queries = queries[:opts.Limit]
	}
	rep := &RetrievalReport{Dataset: ds.Name, Docs: len(ds.Docs), Queries: len(queries),
		MissingDocs: ds.MissingDocs, MissingQueries: ds.MissingQueries, IgnoreIdenticalIDs: opts.IgnoreIdenticalIDs}
	fmt.Fprintf(progress, "%s: %d docs, %d queries\n", ds.Name, len(ds.Docs), len(queries))
	if ds.MissingDocs > 0 || ds.MissingQueries > 0 {
		fmt.Fprintf(progress, "%s: qrels dropped: %d naming documents missing from the corpus, %d for queries missing from the queries file\n",
			ds.Name, ds.MissingDocs, ds.MissingQueries)
	}

	dir, err := os.MkdirTemp("", "llmops-bench-retrieval-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	// Closed before the store (defers run last in, first out).
	defer kb.Close()

	docOf, err := ingest(ctx, kb, st, ds.Docs, rep, progress)
	if err != nil {
		return nil, err
	}

	r := retrieve.New(kb, retrieve.Options{})
	for _, p := range pipelines {
		m, vecErrs, err := runPipeline(ctx, r, p, queries, docOf, opts, progress)
		if err != nil {
			return nil, err
		}
		*p.out(&rep.Pipelines) = m
		rep.VectorErrors += vecErrs
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// ingest adds the corpus, one text file per document, and waits until the
// embedding model has learned from all of it, as a settled server's has.
// Files are named by position, not by corpus ID: the name becomes the
// title of untitled documents, and ArguAna's IDs name the debate a query
// and its counter-argument share (see rag/retrieve/arguana_test.go).
//
// It returns the corpus IDs of each stored document ID, in corpus order.
// There can be several: the knowledge base stores identical bytes once (a
// "duplicate" upload; ArguAna has 109 texts that repeat an earlier one),
// so a hit on that document stands for every corpus document with its
// text, as a BEIR run would rank them side by side.
func ingest(ctx context.Context, kb *rag.KnowledgeBase, st *store.Store, docs []beir.Doc, rep *RetrievalReport, progress io.Writer) (map[string][]string, error) {
	var (
		files []rag.File
		ids   []string
	)
	for i, d := range docs {
		title, text := d.Content()
		if text == "" {
			rep.IngestFailed++
			continue
		}
		files = append(files, rag.File{Name: fmt.Sprintf("beir/%05d.txt", i), Data: []byte(text), Meta: rag.Meta{Title: rag.ClipTitle(title)}})
		ids = append(ids, d.ID)
	}
	return ingestFiles(ctx, kb, st, files, ids, rep, progress)
}

// ingestFiles is ingest's second half: files (ids[i] is the corpus ID of
// files[i]) in one Ingest call, then the embedding model made to learn
// from all of them.
func ingestFiles(ctx context.Context, kb *rag.KnowledgeBase, st *store.Store, files []rag.File, ids []string, rep *RetrievalReport, progress io.Writer) (map[string][]string, error) {
	actor := store.Actor{Kind: store.ActorCLI, Name: "bench retrieval"}

	// One Ingest call, as TestArguAna makes: the keyword index's segments,
	// and with them bleve's BM25 length normalisation, depend on how the
	// corpus is split into calls (1,000-document batches moved ArguAna's
	// BM25 nDCG@10 from 0.528 to 0.531).
	start := time.Now()
	finished, chunks := 0, 0
	results := kb.Ingest(ctx, actor, files, func(p rag.Progress) {
		if p.Result == nil {
			return
		}
		finished++
		chunks += p.Result.Chunks
		if finished%1000 == 0 {
			fmt.Fprintf(progress, "ingest: %d/%d docs, %d chunks, %.0f chunks/s\n", finished, len(files), chunks, float64(chunks)/time.Since(start).Seconds())
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	docOf := make(map[string][]string, len(files))
	for i, res := range results {
		switch res.Outcome {
		case schema.IngestCreated, schema.IngestUpdated:
			docOf[res.DocumentID] = append(docOf[res.DocumentID], ids[i])
			rep.Chunks += res.Chunks
		case schema.IngestDuplicate:
			docOf[res.DocumentID] = append(docOf[res.DocumentID], ids[i])
			rep.Duplicates++
		default:
			if rep.IngestFailed < 5 {
				fmt.Fprintf(progress, "ingest: %s (%s) failed: %s\n", res.Name, ids[i], res.Error)
			}
			rep.IngestFailed++
		}
	}
	rep.Ingest = time.Since(start)
	if rep.Ingest > 0 {
		rep.ChunksPerSec = float64(rep.Chunks) / rep.Ingest.Seconds()
	}
	if rep.IngestFailed > 0 {
		fmt.Fprintf(progress, "ingest: %d documents failed or were empty\n", rep.IngestFailed)
	}
	if rep.Duplicates > 0 {
		fmt.Fprintf(progress, "ingest: %d documents repeat an earlier one's text and were stored once\n", rep.Duplicates)
	}
	if len(docOf) == 0 {
		return nil, errors.New("bench retrieval: no document could be ingested")
	}

	// A retrain the growth started may be running; let it end, then make
	// sure the active model saw every chunk: the first model learns from
	// the first commit group (2,000 chunks) only, a growth retrain from
	// what was committed when it started.
	start = time.Now()
	if err := waitJob(ctx, kb.CurrentJob()); err != nil {
		return nil, err
	}
	stats, err := kb.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if stats.Model != "" {
		m, _, err := st.LoadEmbedModel(ctx, stats.Model)
		if err != nil {
			return nil, err
		}
		if m.Kind == "local" && m.Trained < stats.Chunks {
			fmt.Fprintf(progress, "embedding model: learned from %d chunks; retraining on all %d\n", m.Trained, stats.Chunks)
			j := kb.Reembed("bench retrieval: learn from the whole corpus")
			if err := waitJob(ctx, j); err != nil {
				return nil, err
			}
			if s := j.Status(); s.State != schema.JobDone {
				return nil, fmt.Errorf("bench retrieval: re-embed %s: %s", s.State, s.Error)
			}
		}
	}
	rep.Retrain = time.Since(start)
	fmt.Fprintf(progress, "ingest: %d docs → %d chunks in %s (%.0f chunks/s), model ready after %s more\n",
		len(files)-rep.IngestFailed, rep.Chunks, rep.Ingest.Round(time.Millisecond), rep.ChunksPerSec, rep.Retrain.Round(time.Millisecond))
	return docOf, nil
}

// waitJob waits for a re-embed job (nil: none), cancelling it when ctx
// ends.
func waitJob(ctx context.Context, j *rag.Job) error {
	if j == nil {
		return nil
	}
	done := make(chan struct{})
	go func() { j.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		j.Cancel()
		<-done
		return ctx.Err()
	}
}

// runPipeline retrieves every query with p at production depth (timed,
// for the @10 metrics), then at recall depth, and averages the scores.
func runPipeline(ctx context.Context, r *retrieve.Retriever, p pipeline, queries []beir.Query, docOf map[string][]string,
	opts RetrievalOptions, progress io.Writer) (Metrics, int, error) {
	var (
		ndcg, mrr, recall = make([]float64, len(queries)), make([]float64, len(queries)), make([]float64, len(queries))
		lat               = make([]time.Duration, len(queries))
		timed             = make([]bool, len(queries))
		mu                sync.Mutex
		vecErrs           int
	)
	// ranking retrieves q with TopK k and returns its documents.
	ranking := func(q beir.Query, k int) ([]string, time.Duration, error) {
		o := p.opts
		o.TopK = k
		t0 := time.Now()
		res, err := r.Retrieve(ctx, q.Text, &o)
		took := time.Since(t0)
		if err != nil {
			return nil, 0, fmt.Errorf("bench retrieval: %s: query %s: %w", p.name, q.ID, err)
		}
		if res.Errors["vector"] != nil {
			mu.Lock()
			vecErrs++
			mu.Unlock()
		}
		docs := make([]string, 0, len(res.Hits))
		for _, h := range res.Hits {
			if h.Document != nil {
				docs = append(docs, docOf[h.Document.ID]...)
			}
		}
		skip := ""
		if opts.IgnoreIdenticalIDs {
			skip = q.ID
		}
		return documentRanking(docs, skip), took, nil
	}

	start := time.Now()
	err := forEach(ctx, len(queries), opts.Concurrency, func(i int) error {
		q := queries[i]
		if strings.TrimSpace(q.Text) == "" {
			return nil // scores 0; the retriever refuses an empty question
		}
		docs, took, err := ranking(q, productionTopK)
		if err != nil {
			return err
		}
		ndcg[i], mrr[i] = ndcg10(docs, q.Rels), mrr10(docs, q.Rels)
		lat[i], timed[i] = took, true
		return nil
	}, func(done int) {
		if done%500 == 0 || done == len(queries) {
			fmt.Fprintf(progress, "%s: %d/%d queries\n", p.name, done, len(queries))
		}
	})
	if err != nil {
		return Metrics{}, 0, err
	}
	tTop := time.Since(start)

	start = time.Now()
	err = forEach(ctx, len(queries), opts.Concurrency, func(i int) error {
		q := queries[i]
		if strings.TrimSpace(q.Text) == "" {
			return nil
		}
		docs, _, err := ranking(q, recallTopK)
		if err != nil {
			return err
		}
		recall[i] = recall100(docs, q.Rels)
		return nil
	}, nil)
	if err != nil {
		return Metrics{}, 0, err
	}

	var samples []time.Duration
	for i, ok := range timed {
		if ok {
			samples = append(samples, lat[i])
		}
	}
	m := Metrics{NDCG10: metrics.Mean(ndcg), Recall100: metrics.Mean(recall), MRR10: metrics.Mean(mrr),
		P50Ms: percentileMs(samples, 0.50), P95Ms: percentileMs(samples, 0.95)}
	fmt.Fprintf(progress, "%s: nDCG@10 %.4f, recall@100 %.4f, MRR@10 %.4f, p50 %.1f ms, p95 %.1f ms (top %d in %s, top %d in %s)\n",
		p.name, m.NDCG10, m.Recall100, m.MRR10, m.P50Ms, m.P95Ms,
		productionTopK, tTop.Round(time.Millisecond), recallTopK, time.Since(start).Round(time.Millisecond))
	if vecErrs > 0 {
		fmt.Fprintf(progress, "%s: the vector stage failed on %d retrievals (BM25 alone was used)\n", p.name, vecErrs)
	}
	return m, vecErrs, nil
}

// forEach calls fn(0..n-1) from workers goroutines and stops at the first
// error or when ctx ends. done (may be nil) is called, one call at a
// time, with the number of calls finished so far.
func forEach(ctx context.Context, n, workers int, fn func(i int) error, done func(finished int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		first    error
		finished int
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				mu.Lock()
				finished++
				if done != nil {
					done(finished)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// WriteText writes the report as a table, for people.
func (r *RetrievalReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ignore := ""
	if r.IgnoreIdenticalIDs {
		ignore = ", identical IDs ignored"
	}
	fmt.Fprintf(ew, "BEIR %s: %d docs → %d chunks, %d queries%s\n", r.Dataset, r.Docs, r.Chunks, r.Queries, ignore)
	fmt.Fprintf(ew, "ingest: %.0f chunks/s (%s, then %s for the embedding model to learn the whole corpus)\n",
		r.ChunksPerSec, r.Ingest.Round(time.Millisecond), r.Retrain.Round(time.Millisecond))
	// Always shown, even when 0: a reader comparing with published scores
	// needs to know.
	fmt.Fprintf(ew, "qrels dropped: %d naming documents missing from the corpus, %d for queries missing from the queries file\n",
		r.MissingDocs, r.MissingQueries)
	fmt.Fprintf(ew, "corpus: %d documents empty or not ingested; %d repeat an earlier one's text (stored once, each found with it)\n",
		r.IngestFailed, r.Duplicates)
	if r.VectorErrors > 0 {
		fmt.Fprintf(ew, "warning: the vector stage failed on %d retrievals\n", r.VectorErrors)
	}
	fmt.Fprintf(ew, "\n%-14s %8s %11s %8s %8s %8s\n", "pipeline", "nDCG@10", "recall@100", "MRR@10", "p50 ms", "p95 ms")
	for _, p := range pipelines {
		m := p.out(&r.Pipelines)
		fmt.Fprintf(ew, "%-14s %8.4f %11.4f %8.4f %8.1f %8.1f\n", p.name, m.NDCG10, m.Recall100, m.MRR10, m.P50Ms, m.P95Ms)
	}
	fmt.Fprintf(ew, "\n@10 metrics and latency at top %d chunks (production depth), recall@100 at top %d chunks; took %s\n",
		productionTopK, recallTopK, r.Took.Round(time.Second))
	return ew.err
}

// errWriter keeps the first write error, so WriteText checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
