package retrieve

import (
	"context"
	"errors"
	"math"

	"llmops/rag/index"
)

// PassageEmbedder embeds passages with the model the vector index holds;
// *rag.KnowledgeBase is one. A Searcher that is one gets vector
// pseudo-relevance feedback.
type PassageEmbedder interface {
	EmbedTexts(ctx context.Context, texts []string) ([][]float32, error)
}

// Pseudo-relevance feedback settings.
const (
	FeedbackVector = "vector" // Rocchio on the query vector, then a second vector search
	FeedbackBM25   = "bm25"   // RM3: the query expanded with its first chunks' terms, then a second BM25 search
	FeedbackNone   = "none"
)

// DefaultFeedback is the feedback a zero Options gets.
const DefaultFeedback = FeedbackBM25

// defaultFeedbackParams are FeedbackVector's.
var defaultFeedbackParams = feedbackParams{Docs: 5, Beta: 1}

// feedbackOn reports whether o asks for vector feedback (a measured
// variant's params count as asking).
func (o *Options) feedbackOn() bool {
	return o.Mode != ModeKeyword && (o.prf != nil || o.Feedback == FeedbackVector)
}

// bm25Feedback returns the RM3 settings o asks for, or nil. Only hybrid
// retrieval gets them: keyword mode stays BM25 alone, the baseline every
// gain is measured against.
func (o *Options) bm25Feedback() *rm3Params {
	switch {
	case o.Mode != ModeHybrid:
		return nil
	case o.bm25fb != nil:
		return o.bm25fb
	case o.Feedback == FeedbackBM25:
		p := defaultRM3
		return &p
	}
	return nil
}

func (o *Options) feedbackParams() feedbackParams {
	if o.prf != nil {
		return *o.prf
	}
	return defaultFeedbackParams
}

// feedbackParams define vector pseudo-relevance feedback (Rocchio): the
// query vector moves towards the mean of the first fused chunks' vectors,
// and the vector search runs again from there.
type feedbackParams struct {
	Docs int     // fused chunks read
	Beta float64 // weight of their mean, the query's being 1
}

// feedback runs the second vector search of pseudo-relevance feedback and
// replaces res.Vector with its list.
func (r *Retriever) feedback(ctx context.Context, o Options, qv []float32, res *Result) error {
	pe, ok := r.s.(PassageEmbedder)
	if !ok || len(res.Fused) == 0 {
		return nil
	}
	p := o.feedbackParams()
	refs, err := r.load(ctx, res.Fused, p.Docs)
	if err != nil {
		return err
	}
	texts := make([]string, 0, len(refs))
	for _, h := range refs {
		if h.Document != nil {
			texts = append(texts, index.EntryOf(h.Document, &h.Chunk).Text)
		}
	}
	if len(texts) == 0 {
		return nil
	}
	vecs, err := pe.EmbedTexts(ctx, texts)
	if err != nil {
		return err
	}
	q := make([]float64, len(qv))
	add := func(v []float32, w float64) error {
		if len(v) != len(q) {
			return errors.New("feedback: passage and query vectors differ in length")
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if n == 0 {
			return nil
		}
		w /= math.Sqrt(n)
		for i, x := range v {
			q[i] += w * float64(x)
		}
		return nil
	}
	if err := add(qv, 1); err != nil {
		return err
	}
	for _, v := range vecs {
		if err := add(v, p.Beta/float64(len(vecs))); err != nil {
			return err
		}
	}
	nq := make([]float32, len(q))
	for i, x := range q {
		nq[i] = float32(x)
	}
	hits, err := r.s.SearchEmbedding(ctx, nq, o.Candidates, o.Filter)
	if err != nil {
		return err
	}
	res.Vector = ranked(hits)
	return nil
}
