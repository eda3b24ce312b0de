package index

import (
	"context"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/scorer"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// The unfiltered keyword query is a bleve MatchQuery on "text": one term
// searcher per analysed token in a disjunction (min 1), BM25 scored. Bleve
// scores every document holding any of the terms, and queries with a
// common word spend most of their time on documents that cannot enter the
// top n. topK returns what bleve returns (same IDs, order and scores)
// while skipping those documents (MaxScore, Turtle & Flood 1995), reading
// bleve's own postings. It mirrors bleve v2.6.3:
//
//   - search/searcher/search_term.go: docTotal is the reader's DocCount,
//     avgDocLength is ceil(FieldCardinality("text")/docTotal), docTerm is
//     the term reader's Count.
//   - search/scorer/scorer_term.go: idf = ln(1+(N-df+0.5)/(df+0.5)); a
//     posting scores idf·tf·k1/(tf+k1·(1-b+b·len/avgdl)) with tf = √freq
//     and len = 1/norm², times queryWeight = boost·idf·queryNorm.
//   - search/searcher/search_disjunction_slice.go: term searchers sorted by
//     Count (sort.Sort, an insertion sort and so stable at up to 12);
//     queryNorm = 1/√Σ(boost·idf)² over all of them, duplicates included.
//   - search/scorer/scorer_disjunction.go: a document's score is the sum,
//     in that order, of its matching terms' scores times the coordination
//     factor matched/total.
//   - search/collector/topn.go, search/sort.go: score descending, ties to
//     the earlier hit (the lower internal document number).
//
// Anything else (more terms than bleve's slice disjunction takes, another
// scoring model, synonyms, nested mappings, any error) is left to bleve.

// topKSlack widens every bound before a document is skipped: scores are
// sums of rounded products, and a bound a few ulps short must not drop a
// document bleve keeps.
const topKSlack = 1e-9

// topKBounds caches, per term, the highest BM25 saturation
// tf·k1/(tf+k1·(1-b+b·len/avgdl)) any posting of the term reaches, learnt
// from queries that read all the term's postings. The bound a term's
// postings give a query is then idf·queryWeight times it rather than times
// k1, its limit: bleve's avgDocLength is the field's distinct terms per
// document (FieldCardinality), about 1, so real chunks saturate far below
// k1 and the formula's own bound prunes next to nothing. Entries hold for
// one state of the index (gen, odd while Apply or Reset changes it; bleve's
// merges keep the live postings) and one avgDocLength.
type topKBounds struct {
	gen          atomic.Uint64
	mu           sync.Mutex
	at           uint64
	avgDocLength float64
	sat          map[string]float64
}

// topKBoundsMax caps the cache (it is cleared when full).
const topKBoundsMax = 1 << 16

// changing brackets a change of the index: call it before and after.
func (b *topKBounds) changing() { b.gen.Add(1) }

// lookup returns the cached saturation of each term (0 if unknown).
func (b *topKBounds) lookup(gen uint64, avgDocLength float64, clauses []*topKClause) []float64 {
	out := make([]float64, len(clauses))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.at != gen || b.avgDocLength != avgDocLength {
		return out
	}
	for i, c := range clauses {
		out[i] = b.sat[c.term]
	}
	return out
}

// learn records the saturation of the clauses whose postings were all read
// and scored.
func (b *topKBounds) learn(gen uint64, avgDocLength float64, clauses []*topKClause) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sat == nil || b.at != gen || b.avgDocLength != avgDocLength || len(b.sat) >= topKBoundsMax {
		b.sat, b.at, b.avgDocLength = map[string]float64{}, gen, avgDocLength
	}
	for _, c := range clauses {
		w := math.Abs(c.idf * c.queryWeight)
		if !c.done || c.advanced || !(w > 0) {
			continue
		}
		if sat := c.best / w; sat >= 0 && !math.IsInf(sat, 0) {
			b.sat[c.term] = sat
		}
	}
}

// topKClause is one term searcher of the disjunction.
type topKClause struct {
	tfr         bleveindex.TermFieldReader
	tfd         bleveindex.TermFieldDoc
	doc         uint64 // current document number
	done        bool
	count       uint64 // documents holding the term (bleve's docTerm)
	idf         float64
	queryWeight float64
	bound       float64 // no posting of the term scores more
	term        string
	advanced    bool    // skipped postings: best is not the term's maximum
	best        float64 // the best score seen
}

func (c *topKClause) next() error {
	d, err := c.tfr.Next(c.tfd.Reset())
	return c.set(d, err)
}

// advance moves to the first posting at or after doc (doc must be past
// the current one: scorch restarts the reader on a backward seek).
func (c *topKClause) advance(doc uint64, buf bleveindex.IndexInternalID) error {
	c.advanced = true
	d, err := c.tfr.Advance(bleveindex.NewIndexInternalID(buf, doc), c.tfd.Reset())
	return c.set(d, err)
}

func (c *topKClause) set(d *bleveindex.TermFieldDoc, err error) error {
	if err != nil {
		return err
	}
	if d == nil {
		c.done = true
		return nil
	}
	if len(d.ID) != 8 {
		return errTopKFallback
	}
	c.doc = d.ID.Value()
	return nil
}

// score is TermQueryScorer.Score's BM25 branch, written as bleve writes it
// so that it rounds the same way.
func (c *topKClause) score(avgDocLength float64) float64 {
	var tf float64
	if c.tfd.Freq < scorer.MaxSqrtCache {
		tf = scorer.SqrtCache[int(c.tfd.Freq)]
	} else {
		tf = math.Sqrt(float64(c.tfd.Freq))
	}
	fieldLength := 1 / (c.tfd.Norm * c.tfd.Norm)
	score := c.idf * (tf * search.BM25_k1) /
		(tf + search.BM25_k1*(1-search.BM25_b+(search.BM25_b*fieldLength/avgDocLength)))
	if c.queryWeight != 1.0 {
		score = score * c.queryWeight
	}
	c.best = max(c.best, score)
	return score
}

type topKFallback struct{}

func (topKFallback) Error() string { return "keyword top-k: left to bleve" }

// errTopKFallback means topK does not handle the query; bleve does.
var errTopKFallback error = topKFallback{}

// topKHit is a collected document: its internal number and score.
type topKHit struct {
	doc   uint64
	score float64
}

// worse reports whether a ranks after b in bleve's order.
func (a topKHit) worse(b topKHit) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.doc > b.doc
}

// topKHeap keeps the best n hits with the worst at the root.
type topKHeap []topKHit

func (h topKHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		w := l
		if r := l + 1; r < len(h) && h[r].worse(h[l]) {
			w = r
		}
		if !h[w].worse(h[i]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

func (h topKHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].worse(h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// topK returns the top n chunks for the MatchQuery q on "text", unfiltered,
// as bleve would; errTopKFallback when it does not handle the query. The
// caller holds k.mu.
func (k *Keyword) topK(ctx context.Context, q string, n int) ([]Hit, error) {
	if n <= 0 {
		return nil, errTopKFallback
	}
	m, ok := k.idx.Mapping().(*mapping.IndexMappingImpl)
	if !ok || m.ScoringModel != bleveindex.BM25Scoring || m.SynonymCount() > 0 || m.CountNested() > 0 {
		return nil, errTopKFallback
	}
	analyzer := m.AnalyzerNamed(m.AnalyzerNameForPath("text"))
	if analyzer == nil {
		return nil, errTopKFallback
	}
	tokens := analyzer.Analyze([]byte(q))
	if len(tokens) == 0 || len(tokens) > searcher.DisjunctionHeapTakeover ||
		(searcher.DisjunctionMaxClauseCount != 0 && len(tokens) > searcher.DisjunctionMaxClauseCount) {
		return nil, errTopKFallback
	}

	gen := k.bounds.gen.Load()
	adv, err := k.idx.Advanced()
	if err != nil {
		return nil, errTopKFallback
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, errTopKFallback
	}
	defer r.Close()
	// the reader is of state gen if no change began before it was opened
	stable := gen%2 == 0 && k.bounds.gen.Load() == gen
	br, ok := r.(bleveindex.BM25Reader)
	if !ok {
		return nil, errTopKFallback
	}
	docTotal, err := r.DocCount()
	if err != nil {
		return nil, errTopKFallback
	}
	card, err := br.FieldCardinality("text")
	if err != nil || docTotal == 0 {
		return nil, errTopKFallback
	}
	avgDocLength := math.Ceil(float64(card) / float64(docTotal))
	if !(avgDocLength > 0) {
		return nil, errTopKFallback // bleve scores tf-idf then
	}

	clauses := make([]*topKClause, 0, len(tokens))
	defer func() {
		for _, c := range clauses {
			_ = c.tfr.Close()
		}
	}()
	for _, t := range tokens {
		tfr, err := r.TermFieldReader(ctx, t.Term, "text", true, true, false)
		if err != nil {
			return nil, errTopKFallback
		}
		c := &topKClause{tfr: tfr, count: tfr.Count(), term: string(t.Term)}
		c.idf = math.Log(1 + (float64(docTotal)-float64(c.count)+0.5)/
			(float64(c.count)+0.5))
		clauses = append(clauses, c)
	}
	sort.SliceStable(clauses, func(i, j int) bool { return clauses[i].count < clauses[j].count })
	const boost = 1.0 // the MatchQuery's, unset
	sumOfSquaredWeights := 0.0
	for _, c := range clauses {
		sum := boost * c.idf
		sumOfSquaredWeights += sum * sum
	}
	queryNorm := 1.0 / math.Sqrt(sumOfSquaredWeights)
	var sats []float64
	if stable {
		sats = k.bounds.lookup(gen, avgDocLength, clauses)
	}
	for i, c := range clauses {
		c.queryWeight = boost * c.idf * queryNorm
		// tf·k1/(tf+k1·x) < k1 for every tf and length; idf·queryWeight
		// is boost·idf²·queryNorm, never negative.
		sat := search.BM25_k1
		if sats != nil && sats[i] > 0 {
			sat = sats[i]
		}
		c.bound = math.Abs(c.idf*c.queryWeight) * sat
		if math.IsNaN(c.bound) || math.IsInf(c.bound, 0) {
			return nil, errTopKFallback
		}
	}

	hits, err := maxScore(ctx, clauses, n, avgDocLength)
	if err != nil {
		return nil, errTopKFallback
	}
	if stable && k.bounds.gen.Load() == gen {
		k.bounds.learn(gen, avgDocLength, clauses)
	}
	out := make([]Hit, len(hits))
	buf := make(bleveindex.IndexInternalID, 8)
	for i, h := range hits {
		id, err := r.ExternalID(bleveindex.NewIndexInternalID(buf, h.doc))
		if err != nil {
			return nil, errTopKFallback
		}
		out[i] = Hit{ID: id, Score: h.score}
	}
	return out, nil
}

// maxScore runs the disjunction of clauses (in bleve's order) document at
// a time and returns the best n hits, best first. Clauses are also ranked
// by bound: once the n-th best score is known, the lowest-bound clauses
// whose bounds together cannot beat it are non-essential — no document
// holding only their terms is a candidate, and they are only advanced to
// the candidates of the others.
func maxScore(ctx context.Context, clauses []*topKClause, n int, avgDocLength float64) ([]topKHit, error) {
	total := len(clauses)
	ft := float64(total)
	byBound := make([]int, total)
	for i := range byBound {
		byBound[i] = i
	}
	sort.SliceStable(byBound, func(i, j int) bool { return clauses[byBound[i]].bound < clauses[byBound[j]].bound })
	prefix := make([]float64, total+1) // prefix[j]: sum of the j lowest bounds
	for j, i := range byBound {
		prefix[j+1] = prefix[j] + clauses[i].bound
	}
	for _, c := range clauses {
		if err := c.next(); err != nil {
			return nil, err
		}
	}

	heap := make(topKHeap, 0, n+1)
	full := false
	theta := 0.0
	cannotBeat := func(bound float64) bool { return full && bound*(1+topKSlack) <= theta }
	nonEssential := 0
	contrib := make([]float64, total)
	has := make([]bool, total)
	buf := make(bleveindex.IndexInternalID, 8)

	for step := 0; ; step++ {
		if step&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		d, any := uint64(math.MaxUint64), false
		for _, i := range byBound[nonEssential:] {
			if c := clauses[i]; !c.done && (!any || c.doc < d) {
				d, any = c.doc, true
			}
		}
		if !any {
			break
		}
		matched, partial := 0, 0.0
		for _, i := range byBound[nonEssential:] {
			c := clauses[i]
			has[i] = !c.done && c.doc == d
			if has[i] {
				contrib[i] = c.score(avgDocLength)
				matched++
				partial += contrib[i]
			}
		}
		skip := cannotBeat((partial + prefix[nonEssential]) * float64(matched+nonEssential) / ft)
		for j := nonEssential - 1; j >= 0 && !skip; j-- {
			i := byBound[j]
			c := clauses[i]
			if !c.done && c.doc < d {
				if err := c.advance(d, buf); err != nil {
					return nil, err
				}
			}
			has[i] = !c.done && c.doc == d
			if has[i] {
				contrib[i] = c.score(avgDocLength)
				matched++
				partial += contrib[i]
			}
			skip = cannotBeat((partial + prefix[j]) * float64(matched+j) / ft)
		}
		if !skip {
			var sum float64
			for i := range clauses {
				if has[i] {
					sum += contrib[i]
				}
			}
			coord := float64(matched) / ft
			h := topKHit{doc: d, score: sum * coord}
			if !full || h.score > theta {
				heap = append(heap, h)
				heap.up(len(heap) - 1)
				if len(heap) > n {
					heap[0] = heap[len(heap)-1]
					heap = heap[:len(heap)-1]
					heap.down(0)
				}
				if len(heap) == n {
					full, theta = true, heap[0].score
					for nonEssential < total && cannotBeat(prefix[nonEssential+1]*float64(nonEssential+1)/ft) {
						nonEssential++
					}
				}
			}
		}
		for _, i := range byBound[nonEssential:] {
			if c := clauses[i]; !c.done && c.doc == d {
				if err := c.next(); err != nil {
					return nil, err
				}
			}
		}
	}

	sort.Slice(heap, func(i, j int) bool { return heap[j].worse(heap[i]) })
	return heap, nil
}
