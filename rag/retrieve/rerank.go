package retrieve

import (
	"cmp"
	"context"
	"math"
	"slices"

	"llmops/rag/chunk"
)

// Reranker reorders fused candidates, best first. The hits come with their
// Chunk and Document; a reranker returns them (or a subset) with Score set
// to its own score.
type Reranker interface {
	Rerank(ctx context.Context, query string, hits []Hit) ([]Hit, error)
}

var (
	_ Reranker = LexicalReranker{}
	_ Reranker = (*RemoteReranker)(nil)
)

// LexicalReranker is the embedded default: it needs no model and no
// network. It adds to the fused rank how well a candidate holds the words
// of the question: in its title and heading path, within one sentence,
// and side by side in the question's order. Long queries (more than 30
// content words: a pasted passage, not a question) keep the fused order,
// since on them these features measured worse than fusion alone. The zero
// value is ready to use.
type LexicalReranker struct {
	w *lexWeights // nil: defaultLexWeights
}

// lexWeights weight the reranker's features. The defaults won on the
// sample help centre with each of three embedders and cost nothing on
// ArguAna. Measured and left out: weighting query words by their rarity
// among the candidates (idf), the share of query words anywhere in the
// chunk, and in two adjacent sentences — each lowered nDCG@10.
type lexWeights struct {
	prior    float64 // fused rank, (D-i)/D for the i-th of D candidates
	heading  float64 // share of the query in the title and heading path
	sentence float64 // best share of the query within one sentence
	phrase   float64 // share of the query's adjacent word pairs found adjacent
	idf      bool    // weight query words by rarity among the candidates
	maxTerms int     // longer queries keep the fused order (0: no limit)
}

var defaultLexWeights = lexWeights{prior: 1, heading: 1, sentence: 1, phrase: 1, maxTerms: passageTerms}

// Rerank scores every hit and sorts by score; ties keep the fused order.
func (r LexicalReranker) Rerank(ctx context.Context, query string, hits []Hit) ([]Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := defaultLexWeights
	if r.w != nil {
		w = *r.w
	}
	st := newStemmer()
	q := newQueryTerms(query, st)
	out := slices.Clone(hits)
	if len(q.stems) == 0 || (w.maxTerms > 0 && q.content > w.maxTerms) {
		return out, nil
	}
	feats := make([]features, len(hits))
	for i := range hits {
		feats[i] = q.features(&hits[i], st)
	}
	weights := q.weights(feats, w.idf)
	n := float64(len(hits))
	order := make([]int, len(out))
	for i := range out {
		f := &feats[i]
		out[i].Score = w.prior*(n-float64(i))/n + w.heading*share(f.head, weights) +
			w.sentence*f.bestSentence(weights) + w.phrase*f.phrase
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(out[b].Score, out[a].Score) })
	sorted := make([]Hit, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted, nil
}

// queryTerms is a query read once for all candidates.
type queryTerms struct {
	stems   []string       // unique content stems, in order
	index   map[string]int // stem → position in stems
	pairs   [][2]int       // adjacent content words of the query, as stem indexes
	content int            // content words, repeats included
}

func newQueryTerms(query string, st *stemmer) queryTerms {
	q := queryTerms{index: map[string]int{}}
	toks := terms(query, st)
	q.content = len(toks)
	prev := -1
	seenPair := map[[2]int]bool{}
	for _, t := range toks {
		i, ok := q.index[t]
		if !ok {
			i = len(q.stems)
			q.index[t] = i
			q.stems = append(q.stems, t)
		}
		if p := [2]int{prev, i}; prev >= 0 && prev != i && !seenPair[p] {
			seenPair[p] = true
			q.pairs = append(q.pairs, p)
		}
		prev = i
	}
	return q
}

// features is what a candidate offers the query: which query terms it has
// and where. Words are compared as stems, stop words aside, so "clock in
// from the app" has the pairs clock–app.
type features struct {
	in        []bool   // query term i is in the title, headings or text
	head      []bool   // … in the title or heading path
	sentences [][]bool // … in each sentence of the text
	phrase    float64  // share of the query's pairs found adjacent
}

func (q *queryTerms) features(h *Hit, st *stemmer) features {
	n := len(q.stems)
	f := features{in: make([]bool, n), head: make([]bool, n)}
	mark := func(toks []string, set []bool) {
		for _, t := range toks {
			if i, ok := q.index[t]; ok {
				set[i] = true
				f.in[i] = true
			}
		}
	}
	pairs := map[[2]int]bool{}
	addPairs := func(toks []string) {
		prev := -1
		for _, t := range toks {
			i, ok := q.index[t]
			if !ok {
				i = -1
			}
			if prev >= 0 && i >= 0 {
				pairs[[2]int{prev, i}] = true
			}
			prev = i
		}
	}
	heads := h.Chunk.Headings
	if h.Document != nil {
		heads = append([]string{h.Document.Title}, heads...)
	}
	for _, hd := range heads {
		toks := terms(hd, st)
		mark(toks, f.head)
		addPairs(toks)
	}
	for _, s := range chunk.Sentences(h.Chunk.Text) {
		set := make([]bool, n)
		toks := terms(s, st)
		mark(toks, set)
		addPairs(toks)
		f.sentences = append(f.sentences, set)
	}
	if len(q.pairs) > 0 {
		found := 0
		for _, p := range q.pairs {
			if pairs[p] {
				found++
			}
		}
		f.phrase = float64(found) / float64(len(q.pairs))
	}
	return f
}

// weights gives each query term its share of the query: equal shares, or
// with idf 1 + its BM25-style IDF among the candidates. Terms no
// candidate has get 0: they cannot change the order.
func (q *queryTerms) weights(feats []features, idf bool) []float64 {
	n := float64(len(feats))
	w := make([]float64, len(q.stems))
	for i := range q.stems {
		df := 0.0
		for j := range feats {
			if feats[j].in[i] {
				df++
			}
		}
		switch {
		case df == 0:
		case idf:
			w[i] = 1 + math.Log(1+(n-df+0.5)/(df+0.5))
		default:
			w[i] = 1
		}
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum > 0 {
		for i := range w {
			w[i] /= sum
		}
	}
	return w
}

// share is the summed weight of the terms set holds.
func share(set []bool, w []float64) float64 {
	var s float64
	for i, ok := range set {
		if ok {
			s += w[i]
		}
	}
	return s
}

// bestSentence is the largest share any one sentence holds: the query's
// words close together, not scattered over the chunk.
func (f *features) bestSentence(w []float64) float64 {
	var b float64
	for _, set := range f.sentences {
		b = max(b, share(set, w))
	}
	return b
}
