package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"llmops/evals/beir"
	"llmops/rag"
	"llmops/rag/chunk"
	"llmops/rag/retrieve"
	sampledata "llmops/sample-data"
	"llmops/store"
)

// Candidate is one retrieval configuration leave-one-out chooses among.
type Candidate struct {
	Name string
	Opts retrieve.Options
}

// Candidates are the designs `bench retrieval --leave-one-out` chooses
// among; BM25 alone is the baseline every gain is measured against. They
// differ in how the two lists are fused (rank-based RRF, min-max convex,
// per-query z-scores) and whether the vector search is repeated from the
// query moved towards its first results, or BM25 from the query expanded
// with their terms (pseudo-relevance feedback, vector or RM3), and how
// much the vector list weighs for pasted passages (queries of more than
// 30 content words; 1 for the older designs, as they were measured); all
// keep the agreement gate and the lexical reranker. Each is a method, not
// a constant tuned to a set; docs/BENCHMARKS.md has the measurements.
var Candidates = []Candidate{
	{"rrf", retrieve.Options{Fusion: retrieve.FusionRRF, Feedback: retrieve.FeedbackNone, PassageVectorWeight: 1}},
	{"rrf + feedback", retrieve.Options{Fusion: retrieve.FusionRRF, Feedback: retrieve.FeedbackVector, PassageVectorWeight: 1}},
	{"convex", retrieve.Options{Fusion: retrieve.FusionConvex, Feedback: retrieve.FeedbackNone, PassageVectorWeight: 1}},
	{"zscore", retrieve.Options{Fusion: retrieve.FusionZScore, Feedback: retrieve.FeedbackNone, PassageVectorWeight: 1}},
	{"zscore + feedback", retrieve.Options{Fusion: retrieve.FusionZScore, Feedback: retrieve.FeedbackVector, PassageVectorWeight: 1}},
	{"zscore + bm25 feedback", retrieve.Options{Fusion: retrieve.FusionZScore, Feedback: retrieve.FeedbackBM25, PassageVectorWeight: 1}},
	{"zscore + bm25 fb + passages × 0.7", retrieve.Options{Fusion: retrieve.FusionZScore, Feedback: retrieve.FeedbackBM25, PassageVectorWeight: 0.7}},
	{"zscore + bm25 fb + passages × 0.5", retrieve.Options{Fusion: retrieve.FusionZScore, Feedback: retrieve.FeedbackBM25, PassageVectorWeight: 0.5}},
	{"zscore + bm25 fb + passages × 0.3", retrieve.Options{Fusion: retrieve.FusionZScore, Feedback: retrieve.FeedbackBM25, PassageVectorWeight: 0.3}},
}

// DefaultCandidate names the candidate a zero retrieve.Options is.
func DefaultCandidate() string {
	for _, c := range Candidates {
		if c.Opts.Fusion == retrieve.DefaultFusion && c.Opts.Feedback == retrieve.DefaultFeedback &&
			c.Opts.PassageVectorWeight == retrieve.DefaultPassageVectorWeight {
			return c.Name
		}
	}
	return ""
}

// LOOOptions configure `llmops bench retrieval --leave-one-out`.
type LOOOptions struct {
	// Datasets is a folder of BEIR folders (../shared/datasets); those
	// with a qrels/test.tsv are used. Missing or empty: the sample help
	// centre alone, and leave-one-out is skipped.
	Datasets    string
	Concurrency int
}

// SetScores are every candidate's nDCG@10 on one set, and BM25's.
type SetScores struct {
	Name    string             `json:"name"`
	Queries int                `json:"queries"`
	BM25    float64            `json:"bm25"`
	Scores  map[string]float64 `json:"candidates"` // by candidate name
}

// HeldOut is one leave-one-out round: the candidate chosen on the other
// sets and what it scores on the held-out one.
type HeldOut struct {
	Set    string  `json:"set"`
	Chosen string  `json:"chosen"`
	NDCG   float64 `json:"ndcg@10"`
	BM25   float64 `json:"bm25"`
}

// LOOReport is what LeaveOneOut measured.
type LOOReport struct {
	Sets    []SetScores   `json:"sets"`
	HeldOut []HeldOut     `json:"held_out"` // empty with fewer than two sets
	Took    time.Duration `json:"-"`
}

// LeaveOneOut scores every candidate on the sample help centre and on
// each BEIR set in opts.Datasets (hybrid + rerank at production depth,
// nDCG@10), then, holding each set out in turn, chooses the candidate
// with the best mean gain over BM25 on the others — among those that lose
// no more than 0.002 to BM25 on any of them, when one does — and reports
// its score on the held-out set: what the choice predicts for a corpus it
// never saw.
func LeaveOneOut(ctx context.Context, opts LOOOptions, progress io.Writer) (*LOOReport, error) {
	if progress == nil {
		progress = io.Discard
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	start := time.Now()
	rep := &LOOReport{}
	sets, err := looSets(opts.Datasets, progress)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		sc, err := scoreSet(ctx, s, opts, progress)
		if err != nil {
			return nil, fmt.Errorf("bench retrieval: %s: %w", s.name, err)
		}
		rep.Sets = append(rep.Sets, *sc)
	}
	if len(rep.Sets) > 1 {
		for i := range rep.Sets {
			c := choose(rep.Sets, i)
			h := rep.Sets[i]
			rep.HeldOut = append(rep.HeldOut, HeldOut{Set: h.Name, Chosen: c, NDCG: h.Scores[c], BM25: h.BM25})
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// choose returns the candidate chosen on every set but out.
func choose(sets []SetScores, out int) string {
	best, bestSafe := "", ""
	var bestGain, bestSafeGain float64
	for _, c := range Candidates {
		var gain float64
		safe := true
		n := 0
		for i, s := range sets {
			if i == out {
				continue
			}
			d := s.Scores[c.Name] - s.BM25
			gain += d
			safe = safe && d >= -0.002
			n++
		}
		gain /= float64(n)
		if best == "" || gain > bestGain {
			best, bestGain = c.Name, gain
		}
		if safe && (bestSafe == "" || gain > bestSafeGain) {
			bestSafe, bestSafeGain = c.Name, gain
		}
	}
	if bestSafe != "" {
		return bestSafe
	}
	return best
}

// looSet is one collection: files to ingest and judged queries.
type looSet struct {
	name          string
	files         []rag.File
	ids           []string // corpus ID of each file
	queries       []beir.Query
	skipIdentical bool
}

// looSets loads the sample help centre and the BEIR sets in dir.
func looSets(dir string, progress io.Writer) ([]looSet, error) {
	files, ids, err := rag.SampleFiles()
	if err != nil {
		return nil, err
	}
	qs, err := sampledata.Questions()
	if err != nil {
		return nil, err
	}
	sample := looSet{name: "sample", files: files, ids: ids}
	for _, q := range qs {
		if !q.Answerable || len(q.DocumentIDs) == 0 {
			continue
		}
		rels := map[string]float64{}
		for _, id := range q.DocumentIDs {
			rels[id] = 1
		}
		sample.queries = append(sample.queries, beir.Query{ID: q.ID, Text: q.Question, Rels: rels})
	}
	sets := []looSet{sample}
	entries, err := os.ReadDir(dir)
	if dir == "" || err != nil {
		fmt.Fprintf(progress, "leave-one-out: no datasets folder (%v); the sample help centre alone\n", err)
		return sets, nil
	}
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "qrels", "test.tsv")); err != nil {
			continue
		}
		ds, err := beir.Load(sub, beir.LoadOptions{})
		if err != nil {
			return nil, err
		}
		s := looSet{name: ds.Name, queries: ds.Queries}
		// ArguAna's queries are corpus documents (BEIR evaluates it with
		// ignore_identical_ids); no other set has a query ID in its corpus.
		corpus := make(map[string]bool, len(ds.Docs))
		for i, d := range ds.Docs {
			corpus[d.ID] = true
			title, text := d.Content()
			if text == "" {
				continue
			}
			s.files = append(s.files, rag.File{Name: fmt.Sprintf("beir/%05d.txt", i), Data: []byte(text), Meta: rag.Meta{Title: rag.ClipTitle(title)}})
			s.ids = append(s.ids, d.ID)
		}
		for _, q := range ds.Queries {
			s.skipIdentical = s.skipIdentical || corpus[q.ID]
		}
		sets = append(sets, s)
		if ds.Name == halvesFrom {
			sets = append(sets, halves(ds))
		}
	}
	return sets, nil
}

// halvesFrom is the BEIR set the passage set is built from: NFCorpus,
// whose abstracts are long enough to halve and whose own queries are
// short titles, so the two sets measure different query lengths.
const halvesFrom = "nfcorpus"

// halves builds a set of pasted-passage queries from a BEIR corpus, as
// ArguAna's are: every 8th document of at least 80 words is split at the
// sentence boundary nearest its middle; the first half (text only) is a
// query and the second half, under the document's title, stays in the
// corpus as the one relevant document. Nothing is judged by hand, and
// no query is in the corpus.
func halves(ds *beir.Dataset) looSet {
	s := looSet{name: ds.Name + "-halves"}
	for i, d := range ds.Docs {
		title, text := d.Content()
		if text == "" {
			continue
		}
		if i%8 == 0 {
			if q, rest, ok := halve(text); ok {
				s.queries = append(s.queries, beir.Query{ID: "half-" + d.ID, Text: q, Rels: map[string]float64{d.ID: 1}})
				text = rest
			}
		}
		s.files = append(s.files, rag.File{Name: fmt.Sprintf("beir/%05d.txt", i), Data: []byte(text), Meta: rag.Meta{Title: rag.ClipTitle(title)}})
		s.ids = append(s.ids, d.ID)
	}
	return s
}

// halve splits text at the sentence boundary nearest its middle word;
// false when it has fewer than 80 words or 2 sentences.
func halve(text string) (first, second string, ok bool) {
	sents := chunk.Sentences(text)
	total := 0
	for _, x := range sents {
		total += len(strings.Fields(x))
	}
	if total < 80 || len(sents) < 2 {
		return "", "", false
	}
	best, bestD, n := 0, total, 0
	for i := 1; i < len(sents); i++ {
		n += len(strings.Fields(sents[i-1]))
		if d := max(n, total-n) - min(n, total-n); d < bestD {
			best, bestD = i, d
		}
	}
	return strings.Join(sents[:best], " "), strings.Join(sents[best:], " "), true
}

// scoreSet ingests one set into a temporary knowledge base and scores
// BM25 and every candidate.
func scoreSet(ctx context.Context, s looSet, opts LOOOptions, progress io.Writer) (*SetScores, error) {
	dir, err := os.MkdirTemp("", "llmops-bench-loo-")
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
	defer kb.Close()
	rep := &RetrievalReport{}
	docOf, err := ingestFiles(ctx, kb, st, s.files, s.ids, rep, progress)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "%s: %d documents → %d chunks, %d queries\n", s.name, len(s.files), rep.Chunks, len(s.queries))
	// Every candidate asks the indexes the same first searches; ask once.
	r := retrieve.New(newCachedSearcher(kb), retrieve.Options{})
	ropts := RetrievalOptions{IgnoreIdenticalIDs: s.skipIdentical, Concurrency: opts.Concurrency}
	out := &SetScores{Name: s.name, Queries: len(s.queries), Scores: map[string]float64{}}
	score := func(o retrieve.Options) (float64, error) {
		m, _, err := scoreNDCG(ctx, r, o, s.queries, docOf, ropts)
		return m, err
	}
	if out.BM25, err = score(retrieve.Options{Mode: retrieve.ModeKeyword, NoRerank: true}); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "%s: %-40s %.4f\n", s.name, "bm25", out.BM25)
	for _, c := range Candidates {
		v, err := score(c.Opts)
		if err != nil {
			return nil, err
		}
		out.Scores[c.Name] = v
		fmt.Fprintf(progress, "%s: %-40s %.4f (%+.4f)\n", s.name, c.Name, v, v-out.BM25)
	}
	return out, nil
}

// scoreNDCG is mean nDCG@10 of o at production depth over queries.
func scoreNDCG(ctx context.Context, r *retrieve.Retriever, o retrieve.Options, queries []beir.Query, docOf map[string][]string, opts RetrievalOptions) (float64, int, error) {
	ndcg := make([]float64, len(queries))
	o.TopK = productionTopK
	err := forEach(ctx, len(queries), opts.Concurrency, func(i int) error {
		q := queries[i]
		if strings.TrimSpace(q.Text) == "" {
			return nil
		}
		res, err := r.Retrieve(ctx, q.Text, &o)
		if err != nil {
			return fmt.Errorf("query %s: %w", q.ID, err)
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
		ndcg[i] = ndcg10(documentRanking(docs, skip), q.Rels)
		return nil
	}, nil)
	var sum float64
	for _, v := range ndcg {
		sum += v
	}
	return sum / float64(max(1, len(queries))), len(queries), err
}

// WriteText writes the per-set table and the leave-one-out rounds.
func (r *LOOReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	// Columns as wide as their longest name (fmt counts runes).
	nw, sw := len("candidate"), len("mean gain")
	for _, c := range Candidates {
		nw = max(nw, utf8.RuneCountInString(c.Name+" (default)"))
	}
	for _, s := range r.Sets {
		sw = max(sw, utf8.RuneCountInString(s.Name))
	}
	fmt.Fprintf(ew, "nDCG@10, hybrid + rerank at production depth (%d chunks)\n\n%-*s", productionTopK, nw, "candidate")
	for _, s := range r.Sets {
		fmt.Fprintf(ew, " %*s", sw, s.Name)
	}
	fmt.Fprintf(ew, " %*s\n%-*s", sw, "mean gain", nw, "bm25")
	for _, s := range r.Sets {
		fmt.Fprintf(ew, " %*.4f", sw, s.BM25)
	}
	fmt.Fprintln(ew)
	for _, c := range Candidates {
		name := c.Name
		if name == DefaultCandidate() {
			name += " (default)"
		}
		fmt.Fprintf(ew, "%-*s", nw, name)
		var gain float64
		for _, s := range r.Sets {
			fmt.Fprintf(ew, " %*.4f", sw, s.Scores[c.Name])
			gain += s.Scores[c.Name] - s.BM25
		}
		fmt.Fprintf(ew, " %+*.4f\n", sw, gain/float64(max(1, len(r.Sets))))
	}
	if len(r.HeldOut) > 0 {
		fmt.Fprintf(ew, "\nleave one out: chosen on the other sets, scored on the held-out one\n%-*s %-*s %8s %8s %8s\n", sw, "held out", nw, "chosen", "nDCG@10", "bm25", "gain")
		var gain float64
		for _, h := range r.HeldOut {
			fmt.Fprintf(ew, "%-*s %-*s %8.4f %8.4f %+8.4f\n", sw, h.Set, nw, h.Chosen, h.NDCG, h.BM25, h.NDCG-h.BM25)
			gain += h.NDCG - h.BM25
		}
		fmt.Fprintf(ew, "mean held-out gain %+.4f\n", gain/float64(len(r.HeldOut)))
	}
	fmt.Fprintf(ew, "took %s\n", r.Took.Round(time.Second))
	return ew.err
}
