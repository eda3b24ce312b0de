package index

import (
	"context"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
)

// WeightedTerm is one term of a weighted keyword query: an index term
// (analysed as Terms gives it) and its boost.
type WeightedTerm struct {
	Term   string
	Weight float64
}

// Terms analyses text as the index analyses chunk text (English stemming,
// stop words removed), one entry per token occurrence.
func (k *Keyword) Terms(text string) []string {
	k.mu.RLock()
	a := k.idx.Mapping().AnalyzerNamed(en.AnalyzerName)
	k.mu.RUnlock()
	if a == nil {
		return nil
	}
	toks := a.Analyze([]byte(text))
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		out = append(out, string(t.Term))
	}
	return out
}

// SearchTerms returns the top n chunks under BM25 for a disjunction of
// index terms, each boosted by its weight, within filter f (the query of
// pseudo-relevance feedback).
func (k *Keyword) SearchTerms(ctx context.Context, terms []WeightedTerm, n int, f Filter) ([]Hit, error) {
	or := bleve.NewDisjunctionQuery()
	for _, t := range terms {
		if t.Weight <= 0 {
			continue
		}
		q := bleve.NewTermQuery(t.Term)
		q.SetField("text")
		q.SetBoost(t.Weight)
		or.AddQuery(q)
	}
	if len(or.Disjuncts) == 0 {
		return nil, nil
	}
	return k.search(ctx, or, n, f)
}

// DocFreqs returns how many chunks hold each term (analysed as Terms
// gives it) and how many chunks the index holds.
func (k *Keyword) DocFreqs(ctx context.Context, terms []string) ([]uint64, uint64, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	adv, err := k.idx.Advanced()
	if err != nil {
		return nil, 0, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil {
		return nil, 0, err
	}
	out := make([]uint64, len(terms))
	for i, t := range terms {
		tfr, err := r.TermFieldReader(ctx, []byte(t), "text", false, false, false)
		if err != nil {
			return nil, 0, err
		}
		out[i] = tfr.Count()
		tfr.Close()
	}
	return out, n, nil
}
