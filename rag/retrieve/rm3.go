package retrieve

import (
	"cmp"
	"context"
	"slices"

	"llmops/rag/index"
)

// TermSearcher is a Searcher whose keyword index takes weighted term
// queries; *rag.KnowledgeBase is one. It can get BM25 pseudo-relevance
// feedback (RM3).
type TermSearcher interface {
	// KeywordTerms analyses text as the keyword index does.
	KeywordTerms(text string) []string
	// KeywordDocFreqs returns each term's chunk count and the index's.
	KeywordDocFreqs(ctx context.Context, terms []string) ([]uint64, uint64, error)
	SearchKeywordTerms(ctx context.Context, terms []index.WeightedTerm, n int, f index.Filter) ([]index.Hit, error)
}

// rm3Params define BM25 pseudo-relevance feedback (RM3): the query is
// expanded with the terms most probable in the first Docs hits (each
// hit's term distribution weighted by its score), mixed with the query's
// own terms at weight Orig, and BM25 runs again on the weighted terms.
type rm3Params struct {
	Docs      int     // feedback hits read
	Terms     int     // expansion terms kept
	Orig      float64 // weight of the original query's terms (λ)
	Fused     bool    // feedback hits from the fused list, not BM25's
	Mix       bool    // keyword list = z-score fusion of BM25 and RM3 (else RM3 replaces BM25)
	Questions bool    // only for queries of at most 30 content words
	KeepGate  bool    // the vector weight stays the one gated against BM25's own list
}

// defaultRM3 is FeedbackBM25's: the first 10 fused chunks, 30 expansion
// terms, the query's own terms weighing half, the vector weight gated
// against BM25's own list, for queries of at most 30 content words (on
// the long ArguAna queries, pasted passages, it measured worse)
// (docs/BENCHMARKS.md, "Retrieval, round two").
var defaultRM3 = rm3Params{Docs: 10, Terms: 30, Orig: 0.5, Fused: true, KeepGate: true, Questions: true}

// rm3 runs the second BM25 search of RM3 feedback and replaces (or mixes
// into) res.Keyword; changed reports whether it did, so that a skipped
// feedback (a corpus too large or too small, nothing to expand) costs no
// second fusion.
func (r *Retriever) rm3(ctx context.Context, o Options, p rm3Params, res *Result) (changed bool, err error) {
	ts, ok := r.s.(TermSearcher)
	if !ok {
		return false, nil
	}
	if _, chunks, err := ts.KeywordDocFreqs(ctx, nil); err != nil || chunks > maxFeedbackChunks || chunks < uint64(10*p.Docs) {
		return false, err
	}
	src := res.Keyword
	if p.Fused {
		src = res.Fused
	}
	if len(src) == 0 {
		return false, nil
	}
	refs, err := r.load(ctx, src, p.Docs)
	if err != nil {
		return false, err
	}
	var total float64
	dw := make([]float64, len(refs))
	for i, h := range refs {
		if p.Fused {
			dw[i] = float64(len(refs)-i) / float64(len(refs))
		} else {
			dw[i] = max(h.Score, 0)
		}
		total += dw[i]
	}
	if total == 0 {
		return false, nil
	}
	rm := map[string]float64{}
	for i, h := range refs {
		if h.Document == nil {
			continue
		}
		toks := ts.KeywordTerms(index.EntryOf(h.Document, &h.Chunk).Text)
		if len(toks) == 0 {
			continue
		}
		w := dw[i] / total / float64(len(toks))
		for _, t := range toks {
			rm[t] += w
		}
	}
	exp := make([]index.WeightedTerm, 0, len(rm))
	for t, w := range rm {
		exp = append(exp, index.WeightedTerm{Term: t, Weight: w})
	}
	slices.SortFunc(exp, func(a, b index.WeightedTerm) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	// Terms found in more than maxFeedbackDF chunks cost the most to
	// search (the longest postings) and BM25 weighs them least; leaving
	// them out bounds the second search's work whatever the corpus size.
	exp, err = keepRare(ctx, ts, exp, p.Terms)
	if err != nil {
		return false, err
	}
	var sum float64
	for _, t := range exp {
		sum += t.Weight
	}
	final := map[string]float64{}
	if sum > 0 {
		for _, t := range exp {
			final[t.Term] += (1 - p.Orig) * t.Weight / sum
		}
	}
	qt := ts.KeywordTerms(res.Query)
	for _, t := range qt {
		final[t] += p.Orig / float64(len(qt))
	}
	terms := make([]index.WeightedTerm, 0, len(final))
	for t, w := range final {
		terms = append(terms, index.WeightedTerm{Term: t, Weight: w})
	}
	slices.SortFunc(terms, func(a, b index.WeightedTerm) int { return cmp.Compare(a.Term, b.Term) })
	hits, err := ts.SearchKeywordTerms(ctx, terms, o.Candidates, o.Filter)
	if err != nil {
		return false, err
	}
	if p.Mix {
		res.Keyword = rerank(fuseZScore(res.Keyword, ranked(hits), 1, 1))
	} else {
		res.Keyword = ranked(hits)
	}
	return true, nil
}

// rerank renumbers a fused list as a stage list of its own.
func rerank(hits []Hit) []Hit {
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = Hit{ID: h.ID, Score: h.Score, Rank: i + 1}
	}
	return out
}

// A corpus of fewer than ten times the feedback chunks skips feedback too:
// there the "first results" are much of the corpus, not a topic (on a
// 16-chunk test set the feedback moved a right answer down a rank).
//
// maxFeedbackChunks is the largest corpus BM25 feedback runs on. At 100k
// synthetic chunks (llmops bench search) the second, 30-term BM25 search
// took the hybrid search from tens of milliseconds to about 100 even
// without the most common terms, against a 25 ms bar, so large corpora
// keep one BM25 search, as they keep the smaller embedding model
// (embed.LargeCorpus). No set this was measured on comes near it.
const maxFeedbackChunks = 50_000

// maxFeedbackDF is the most chunks an expansion term may be found in. It
// bounds the postings the second search reads (30 terms × 1,000); it was
// set from its cost (llmops bench search at 20k synthetic chunks: the
// hybrid p50 went from 8 to 62 ms with every term, 17 ms without those in
// over 10 % of chunks), not tuned on a set, and leaves corpora under
// 1,000 chunks untouched.
const maxFeedbackDF = 1000

// keepRare returns the first n terms of exp (sorted by weight) found in at
// most maxFeedbackDF chunks.
func keepRare(ctx context.Context, ts TermSearcher, exp []index.WeightedTerm, n int) ([]index.WeightedTerm, error) {
	out := exp[:0:0]
	for len(exp) > 0 && len(out) < n {
		batch := exp[:min(2*n, len(exp))]
		exp = exp[len(batch):]
		names := make([]string, len(batch))
		for i, t := range batch {
			names[i] = t.Term
		}
		df, _, err := ts.KeywordDocFreqs(ctx, names)
		if err != nil {
			return nil, err
		}
		for i, t := range batch {
			if len(out) < n && df[i] <= maxFeedbackDF {
				out = append(out, t)
			}
		}
	}
	return out, nil
}
