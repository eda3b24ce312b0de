package embed

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
)

// TrainOptions tunes Train. The zero value gives the defaults.
type TrainOptions struct {
	// Dim is the vector dimension, at most 1024. The default is
	// DefaultDim (512) for corpora of SmallCorpus to LargeCorpus texts
	// and SmallDim (256) outside that range (see the constants).
	Dim int
	// MaxVocab caps the vocabulary, keeping the terms found in the most
	// documents (default 20,000: about 10 MB at 512 dimensions, since the
	// model holds Dim+4 bytes per term). Rarer words still embed, through
	// their character n-grams, and BM25 matches them exactly.
	MaxVocab int
	// MinDF drops terms found in fewer documents (default 2; 1 for corpora
	// under 1,000 documents, where every word counts).
	MinDF int
	// MaxDocs caps the documents the SVD reads (default 50,000, evenly
	// spaced). Vocabulary and IDF still come from every document.
	MaxDocs int
	// PowerIters is the number of subspace iterations of the randomized
	// SVD (default 2). On ArguAna 1 to 6 score the same within 0.004.
	PowerIters int
	// Seed feeds the SVD's random start. Same seed and texts, same model.
	Seed uint64

	// Knobs measured on ArguAna (see arguana_test.go); not part of the
	// stable API.
	flatten   float64 // truncated SVD: document coordinates V Σ^flatten
	keepFirst bool    // truncated SVD: keep the first singular vector
	tfidf     bool    // (1 + ln tf)·IDF weights instead of log-entropy
	hashDims  int     // dimensions always reserved for hashed features
	lsaShare  float64 // squared weight of the LSA part when hashed dims exist
	buckets   int     // char n-gram buckets for out-of-vocabulary words
	oovWeight float64 // weight of an OOV word relative to a df=1 term
}

// Default dimensions. 512 measured better than 256 on ArguAna and no
// worse on NFCorpus, in every leave-one-dataset-out round
// (docs/BENCHMARKS.md, "Retrieval: a larger local model (issue 14,
// branch retr)"). Two kinds of corpus keep SmallDim:
//
//   - Fewer than SmallCorpus texts (the threshold where MinDF drops to
//     1): a corpus of n texts has at most n latent directions, so on the
//     316-chunk sample help centre 512 dimensions are the full-rank
//     TF-IDF space plus hashed features, no latent smoothing at all. Its
//     retrieval measured better so (nDCG@10 0.9091 vs 0.9025) but the
//     extractive answerer, which ranks sentences by this model's cosine,
//     measured worse (correctness_f1 0.449 vs 0.463), so small corpora
//     keep the model the answerer was tuned with.
//   - More than LargeCorpus texts: the exact vector scan costs time in
//     proportion to chunks × Dim (100k × 512 measured 1.9 times 100k ×
//     256), and rag retrains a model (at its new size) once an ingest
//     finds the corpus doubled (its RetrainFactor), so a corpus grown to
//     100k chunks is normally searched at 256 dimensions, the size the
//     search bars (100k chunks in 15 ms, 1M within 1.5 GiB) were set for.
const (
	DefaultDim  = 512
	SmallDim    = 256
	SmallCorpus = minDocsForDF2
	LargeCorpus = 50_000
)

const (
	maxDim        = 1024
	minDocsForDF2 = 1000
	oversample    = 16
)

func (o TrainOptions) withDefaults(texts int) (TrainOptions, error) {
	if o.Dim == 0 {
		o.Dim = DefaultDim
		if texts < SmallCorpus || texts > LargeCorpus {
			o.Dim = SmallDim
		}
	}
	if o.Dim < 8 || o.Dim > maxDim {
		return o, fmt.Errorf("embed: Dim %d out of range [8, %d]", o.Dim, maxDim)
	}
	if o.MaxVocab <= 0 {
		o.MaxVocab = 20000
	}
	if o.MaxDocs <= 0 {
		o.MaxDocs = 50000
	}
	if o.PowerIters <= 0 {
		o.PowerIters = 2
	}
	if o.flatten == 0 {
		o.flatten = 0.5
	}
	if o.lsaShare == 0 {
		o.lsaShare = 0.7
	}
	if o.buckets == 0 {
		o.buckets = 4096
	}
	if o.oovWeight == 0 {
		o.oovWeight = 0.5
	}
	if o.hashDims < 0 || o.hashDims > o.Dim {
		return o, fmt.Errorf("embed: hashDims %d out of range [0, %d]", o.hashDims, o.Dim)
	}
	return o, nil
}

// Train builds a Local model from the corpus's own texts: a latent
// semantic analysis (truncated SVD of the log-entropy weighted
// term-document matrix, by randomized subspace iteration). Terms that co-occur in documents get
// nearby vectors, so a query can match a passage that uses different
// words for the same topic, which BM25 cannot. Training is deterministic
// for the same texts and options, whatever the number of CPUs.
//
// When the corpus has fewer independent documents than Dim, the SVD keeps
// every direction there is (and so ranks exactly like TF-IDF cosine) and
// the remaining dimensions carry hashed term features, which also cover
// words the training never saw. An empty corpus gives a purely hashed
// model.
func Train(ctx context.Context, texts []string, opts TrainOptions) (*Local, error) {
	o, err := opts.withDefaults(len(texts))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	minDF := o.MinDF
	if minDF <= 0 {
		minDF = 2
		if len(texts) < minDocsForDF2 {
			minDF = 1
		}
	}

	// Pass 1: document frequencies, and each distinct surface word's stem.
	stems, stats, err := countTerms(ctx, texts)
	if err != nil {
		return nil, err
	}
	terms := make([]string, 0, len(stats))
	for t, st := range stats {
		if st.df >= minDF {
			terms = append(terms, t)
		}
	}
	slices.SortFunc(terms, func(a, b string) int {
		if c := cmp.Compare(stats[b].df, stats[a].df); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(terms) > o.MaxVocab {
		terms = terms[:o.MaxVocab]
	}
	// Alphabetical order: each term's index then depends on the
	// vocabulary alone, not on how document frequencies tie.
	slices.Sort(terms)
	index := make(map[string]int32, len(terms))
	idf := make([]float32, len(terms))
	n := float64(len(texts))
	for i, t := range terms {
		index[t] = int32(i)
		if o.tfidf {
			idf[i] = float32(idfOf(n, float64(stats[t].df)))
		} else {
			idf[i] = float32(entropyWeight(n, stats[t]))
		}
	}
	wordID := make(map[string]int32, len(stems))
	for w, s := range stems {
		if id, ok := index[s]; ok {
			wordID[w] = id
		}
	}

	// Pass 2: the weighted, L2-normalised document-term matrix of the
	// documents the SVD reads.
	sample := sampleDocs(len(texts), o.MaxDocs)
	x, err := buildMatrix(ctx, texts, sample, wordID, idf, !o.tfidf)
	if err != nil {
		return nil, err
	}

	lsa, err := termVectors(ctx, x, o.Dim-o.hashDims, o)
	if err != nil {
		return nil, err
	}
	k := lsa.k
	l := &Local{
		dim:       o.Dim,
		k:         k,
		nDocs:     len(texts),
		sigmaExp:  lsa.sigmaExp,
		lsaShare:  o.lsaShare,
		oovWeight: o.oovWeight,
		skipFirst: lsa.skipFirst,
		entropy:   !o.tfidf,
		terms:     terms,
		index:     index,
		idf:       idf,
		vecs:      lsa.vecs,
		buckets:   o.buckets,
	}
	if k > 0 {
		l.subword = quantizeMatrix(buildSubwords(terms, lsa.vecs, o.buckets), k)
	}
	// Quantise now so that a trained model and its reloaded copy embed
	// identically.
	data, err := l.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return LoadLocal(data)
}

// idfOf is a smoothed inverse document frequency, positive even for a
// term found in every document.
func idfOf(n, df float64) float64 { return math.Log(1 + n/df) }

// termStats are a term's corpus counts. They are integers, fixed point
// included, so that summing the workers' counts in any order gives the
// same bits and the model does not depend on the number of CPUs.
type termStats struct {
	df      int   // documents containing it
	cf      int   // occurrences
	tfLogTf int64 // Σ over documents of tf·ln tf, times fixedOne
}

// fixedOne is 1 in tfLogTf's fixed point: 2^-24 resolution, and room for
// 10^11 before overflow.
const fixedOne = 1 << 24

// entropyWeight is the log-entropy global weight 1 + Σ p ln p / ln n with
// p = tf/cf (Dumais 1991): 1 for a term concentrated in one document, 0
// for one spread evenly over all.
func entropyWeight(n float64, st termStats) float64 {
	if n <= 1 {
		return 1
	}
	cf := float64(st.cf)
	sumPLogP := float64(st.tfLogTf)/fixedOne/cf - math.Log(cf)
	return max(1+sumPLogP/math.Log(n), 1e-3)
}

// localWeight dampens a term's count in one text.
func localWeight(tf int, entropy bool) float64 {
	if tf+1 < len(logTable) {
		if entropy {
			return logTable[tf+1]
		}
		return 1 + logTable[tf]
	}
	if entropy {
		return math.Log(1 + float64(tf))
	}
	return 1 + math.Log(float64(tf))
}

// logTable holds ln n for small n: most terms occur a few times per chunk.
var logTable = func() [32]float64 {
	var t [32]float64
	for i := 1; i < len(t); i++ {
		t[i] = math.Log(float64(i))
	}
	return t
}()

// countTerms tokenises every text in parallel and returns the stem of each
// distinct content word and the document frequency of each stem.
func countTerms(ctx context.Context, texts []string) (map[string]string, map[string]termStats, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0), len(texts)/64))
	type part struct {
		stems map[string]string
		stats map[string]termStats
	}
	parts := make([]part, workers)
	chunk := (len(texts) + workers - 1) / max(workers, 1)
	err := parallelFor(ctx, workers, func(w int) {
		p := part{stems: map[string]string{}, stats: map[string]termStats{}}
		tf := map[string]int{}
		var buf []byte
		for i := w * chunk; i < min(len(texts), (w+1)*chunk); i++ {
			if i&255 == 0 && ctx.Err() != nil {
				return
			}
			clear(tf)
			buf = forEachToken(texts[i], buf, func(tok []byte) {
				if isStopWord(tok) {
					return
				}
				s, ok := p.stems[string(tok)]
				if !ok {
					w := string(tok)
					s = stem(w)
					p.stems[w] = s
				}
				tf[s]++
			})
			for s, c := range tf {
				st := p.stats[s]
				st.df++
				st.cf += c
				st.tfLogTf += int64(math.Round(float64(c) * math.Log(float64(c)) * fixedOne))
				p.stats[s] = st
			}
		}
		parts[w] = p
	})
	if err != nil {
		return nil, nil, err
	}
	stems, stats := parts[0].stems, parts[0].stats
	for _, p := range parts[1:] {
		for w, s := range p.stems {
			stems[w] = s
		}
		for s, c := range p.stats {
			st := stats[s]
			st.df += c.df
			st.cf += c.cf
			st.tfLogTf += c.tfLogTf
			stats[s] = st
		}
	}
	return stems, stats, nil
}

// sampleDocs picks up to max document indexes spread evenly over n.
func sampleDocs(n, limit int) []int {
	m := min(n, limit)
	out := make([]int, m)
	for i := range out {
		out[i] = int(int64(i) * int64(n) / int64(m))
	}
	return out
}

// buildMatrix returns the rows of the sampled documents, weighted
// (1 + ln tf) · idf and L2-normalised so long documents do not dominate
// the SVD. Documents with no vocabulary term are left out.
func buildMatrix(ctx context.Context, texts []string, docs []int, wordID map[string]int32, idf []float32, entropy bool) (*csr, error) {
	// Each block of documents fills its own arrays; they are then copied
	// once into arrays of the exact total size, so the transient peak is
	// twice the matrix rather than append's growth slack on top.
	type part struct {
		ptr []int
		col []int32
		val []float32
	}
	const block = 512
	parts := make([]part, (len(docs)+block-1)/block)
	err := parallelFor(ctx, len(parts), func(b int) {
		var buf []byte
		var ids []int32
		p := part{}
		for i := b * block; i < min(len(docs), (b+1)*block); i++ {
			ids = ids[:0]
			buf = forEachToken(texts[docs[i]], buf, func(tok []byte) {
				if id, ok := wordID[string(tok)]; ok {
					ids = append(ids, id)
				}
			})
			if len(ids) > 0 {
				p.col, p.val = weigh(ids, idf, entropy, p.col, p.val)
				p.ptr = append(p.ptr, len(p.col))
			}
		}
		parts[b] = p
	})
	if err != nil {
		return nil, err
	}
	nnz, rows := 0, 0
	for _, p := range parts {
		nnz += len(p.col)
		rows += len(p.ptr)
	}
	x := &csr{
		ptr:   make([]int, 1, rows+1),
		col:   make([]int32, 0, nnz),
		val:   make([]float32, 0, nnz),
		ncols: len(idf),
	}
	for i, p := range parts {
		base := len(x.col)
		x.col = append(x.col, p.col...)
		x.val = append(x.val, p.val...)
		for _, e := range p.ptr {
			x.ptr = append(x.ptr, base+e)
		}
		parts[i] = part{}
	}
	return x, nil
}

// weigh appends to col and val the distinct ids among ids (sorted in
// place) and their L2-normalised local·global weights.
func weigh(ids []int32, idf []float32, entropy bool, col []int32, val []float32) ([]int32, []float32) {
	slices.Sort(ids)
	start := len(val)
	var norm float64
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		w := localWeight(j-i, entropy) * float64(idf[ids[i]])
		col = append(col, ids[i])
		val = append(val, float32(w))
		norm += w * w
		i = j
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := start; i < len(val); i++ {
			val[i] *= inv
		}
	}
	return col, val
}

// lsaVectors are the term vectors U Σ^(sigmaExp-1), row-major V×k.
// Folding a document's weighted terms into them gives its LSA coordinates
// V Σ^sigmaExp.
type lsaVectors struct {
	vecs      qmatrix
	k         int // ≤ the k asked for: directions with no energy are dropped
	sigmaExp  float64
	skipFirst bool
}

// termVectors computes the term vectors of x. When the corpus has more
// directions than k (the SVD truncates), the spectrum is flattened to
// Σ^0.5 and the first singular vector, the corpus centroid that every
// document shares, is dropped: together they lift nDCG@10 on ArguAna by
// 0.004 to 0.009.
// When k holds every direction, the space is kept exact (Σ^1, all
// vectors), so cosines equal the weighted TF-IDF cosines of the training
// documents.
func termVectors(ctx context.Context, x *csr, k int, o TrainOptions) (lsaVectors, error) {
	nTerms, nDocs := x.ncols, x.rows()
	if k == 0 || nTerms == 0 || nDocs == 0 {
		return lsaVectors{}, nil
	}
	skip := 0
	if !o.keepFirst {
		skip = 1
	}
	l := (k + skip + oversample + panelWidth - 1) / panelWidth * panelWidth
	var lam []float64
	var u func(t, j int) float32 // left singular vector j at term t
	var err error
	if min(nTerms, nDocs) <= l {
		var m []float32
		lam, m, err = exactEig(ctx, x)
		r := len(lam)
		u = func(t, j int) float32 { return m[t*r+j] }
	} else {
		var p *panels
		lam, p, err = randomizedEig(ctx, x, l, o.PowerIters, o.Seed)
		u = func(t, j int) float32 { return p.p[j/panelWidth][t*panelWidth+j%panelWidth] }
	}
	if err != nil {
		return lsaVectors{}, err
	}
	// Keep directions with real energy; the rest of a rank-deficient
	// spectrum is rounding noise.
	r := 0
	for r < len(lam) && lam[r] > 1e-9*lam[0] && lam[r] > 0 {
		r++
	}
	out := lsaVectors{sigmaExp: 1}
	if r > k {
		out.sigmaExp, out.skipFirst = o.flatten, skip == 1
	} else {
		skip = 0
	}
	k = min(k, r-skip)
	out.k = k
	scale := make([]float64, k)
	for j := range k {
		scale[j] = math.Pow(math.Sqrt(lam[j+skip]), out.sigmaExp-1)
		// Orient each vector so most terms load positively: the sign of a
		// singular vector is arbitrary, and this makes it deterministic.
		var sum float64
		for t := range nTerms {
			sum += float64(u(t, j+skip))
		}
		if sum < 0 {
			scale[j] = -scale[j]
		}
	}
	out.vecs = qmatrix{cols: k, scale: make([]float32, nTerms), q: make([]int8, nTerms*k)}
	row := make([]float32, k)
	for t := range nTerms {
		for j := range row {
			row[j] = float32(float64(u(t, j+skip)) * scale[j])
		}
		out.vecs.setRow(t, row)
	}
	return out, nil
}

// exactEig eigendecomposes the smaller Gram matrix of x directly, for
// corpora too small for the randomized method. It returns the eigenvalues
// of X^T X (descending) and the matching left singular vectors, row-major
// nTerms × len(eigenvalues).
func exactEig(ctx context.Context, x *csr) ([]float64, []float32, error) {
	nTerms, nDocs := x.ncols, x.rows()
	r := min(nTerms, nDocs)
	u := make([]float32, nTerms*r)
	if nTerms <= nDocs {
		a := make([][]float64, nTerms)
		for i := range a {
			a[i] = make([]float64, nTerms)
		}
		for d := range nDocs {
			for p := x.ptr[d]; p < x.ptr[d+1]; p++ {
				for q := x.ptr[d]; q < x.ptr[d+1]; q++ {
					a[x.col[p]][x.col[q]] += float64(x.val[p]) * float64(x.val[q])
				}
			}
		}
		lam, w := symEig(a)
		slices.Reverse(lam)
		for t := range nTerms {
			for j := range r {
				u[t*r+j] = float32(w[t][r-1-j])
			}
		}
		return lam, u, ctx.Err()
	}
	// Documents are fewer: eigendecompose X X^T and map back, u = X^T v / σ.
	dense := make([][]float64, nDocs)
	for d := range dense {
		dense[d] = make([]float64, nTerms)
		for p := x.ptr[d]; p < x.ptr[d+1]; p++ {
			dense[d][x.col[p]] = float64(x.val[p])
		}
	}
	k := make([][]float64, nDocs)
	for i := range k {
		k[i] = make([]float64, nDocs)
		for j := range k[i] {
			var s float64
			for p := x.ptr[i]; p < x.ptr[i+1]; p++ {
				s += float64(x.val[p]) * dense[j][x.col[p]]
			}
			k[i][j] = s
		}
	}
	lam, w := symEig(k)
	slices.Reverse(lam)
	acc := make([]float64, nTerms*r)
	for j := range r {
		if lam[j] <= 0 {
			continue
		}
		inv := 1 / math.Sqrt(lam[j])
		for d := range nDocs {
			c := w[d][r-1-j] * inv
			if c == 0 {
				continue
			}
			for p := x.ptr[d]; p < x.ptr[d+1]; p++ {
				acc[int(x.col[p])*r+j] += float64(x.val[p]) * c
			}
		}
	}
	for i, v := range acc {
		u[i] = float32(v)
	}
	return lam, u, ctx.Err()
}

// randomizedEig approximates the top l eigenpairs of the term
// co-occurrence matrix X^T X by subspace iteration from a random start
// (Halko, Martinsson & Tropp 2011, algorithm 4.4) and a final
// Rayleigh–Ritz step.
func randomizedEig(ctx context.Context, x *csr, l, iters int, seed uint64) ([]float64, *panels, error) {
	nTerms := x.ncols
	q := newPanels(nTerms, l)
	rng := rand.New(rand.NewPCG(seed, 0x6c6c6d6f7073)) // "llmops"
	for _, p := range q.p {
		for i := range p {
			if rng.Uint64()&1 == 0 {
				p[i] = 1
			} else {
				p[i] = -1
			}
		}
	}
	y := newPanels(nTerms, l)
	if err := mulAAt(ctx, x, q, y); err != nil {
		return nil, nil, err
	}
	for range iters {
		if err := orthonormalize(ctx, y, q); err != nil {
			return nil, nil, err
		}
		if err := mulAAt(ctx, x, q, y); err != nil {
			return nil, nil, err
		}
	}
	t, err := symGram(ctx, q, y)
	if err != nil {
		return nil, nil, err
	}
	lam, w := symEig(t)
	slices.Reverse(lam)
	for i := range w {
		slices.Reverse(w[i])
	}
	// y is spent: reuse it for U = Q W.
	if err := mulDense(ctx, q, w, y); err != nil {
		return nil, nil, err
	}
	return lam, y, nil
}

// buildSubwords makes the table that places out-of-vocabulary words: each
// bucket of hashed character n-grams holds the sum of the unit vectors of
// the vocabulary terms containing those n-grams, so an unseen word lands
// near the known words it is spelled like ("rosterly's" near "roster").
func buildSubwords(terms []string, vecs qmatrix, buckets int) []float32 {
	k := vecs.cols
	table := make([]float32, buckets*k)
	row := make([]float32, k)
	for t, term := range terms {
		clear(row)
		vecs.addRow(row, t, 1)
		n := sumSquares(row)
		if n == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(n))
		forEachNgram(term, func(h uint64) {
			axpy(table[int(h%uint64(buckets))*k:][:k], row, inv)
		})
	}
	return table
}

// SetKnob sets one of the trainer's unexported knobs by name ("flatten",
// "tfidf" (v != 0), "hashDims", "lsaShare", "buckets", "oovWeight"), so
// harnesses in other packages (rag/retrieve's sweep) can measure them.
// It is for measurement only, not a stable API.
func (o *TrainOptions) SetKnob(name string, v float64) error {
	switch name {
	case "flatten":
		o.flatten = v
	case "tfidf":
		o.tfidf = v != 0
	case "hashDims":
		o.hashDims = int(v)
	case "lsaShare":
		o.lsaShare = v
	case "buckets":
		o.buckets = int(v)
	case "oovWeight":
		o.oovWeight = v
	default:
		return fmt.Errorf("embed: unknown knob %q", name)
	}
	return nil
}
