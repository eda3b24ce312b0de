package embed

import (
	"context"
	"math"
	"slices"
	"sync"
)

// LocalName is the Model().Name of every Local model.
const LocalName = "llmops-lsa"

// Local is the embedded default embedder: term vectors learned from the
// corpus by Train, summed with log-entropy weights. It needs no network
// and no download, and the same model always gives the same vectors. A
// Local is safe for concurrent use.
type Local struct {
	model Model

	dim       int     // output dimension
	k         int     // LSA dimensions; dim-k hashed ones follow
	nDocs     int     // documents the IDF was counted on
	sigmaExp  float64 // parameters Train used, kept for MarshalBinary
	lsaShare  float64
	oovWeight float64
	skipFirst bool
	entropy   bool
	buckets   int

	terms    []string
	index    map[string]int32
	idf      []float32
	vecs     qmatrix // len(terms) × k
	subword  qmatrix // buckets × k, empty if k == 0
	oovIDF   float32 // IDF given to a word not in the vocabulary
	termNorm float64 // root mean square length of the term vectors

	scratch sync.Pool // *embedScratch
}

var _ Embedder = (*Local)(nil)

// Model reports the model. Version is a hash of the serialised model, so
// it changes whenever the vocabulary, the vectors or the parameters do:
// vectors of another version must be re-embedded.
func (l *Local) Model() Model { return l.model }

// VocabularySize is the number of terms with a learned vector.
func (l *Local) VocabularySize() int { return len(l.terms) }

// EmbedDocuments embeds passages, in parallel for large batches.
func (l *Local) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	// One contiguous backing array: fewer allocations, and vectors of a
	// batch sit together for the index's flat scans.
	backing := make([]float32, len(texts)*l.dim)
	const block = 64
	err := parallelFor(ctx, (len(texts)+block-1)/block, func(b int) {
		s := l.getScratch()
		defer l.scratch.Put(s)
		for i := b * block; i < min(len(texts), (b+1)*block); i++ {
			v := backing[i*l.dim : (i+1)*l.dim : (i+1)*l.dim]
			l.embed(texts[i], v, s)
			out[i] = v
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EmbedQuery embeds a search query. Queries and passages are weighted the
// same way: on ArguAna, whose queries are whole arguments, asymmetric
// weighting did not help.
func (l *Local) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := l.getScratch()
	defer l.scratch.Put(s)
	v := make([]float32, l.dim)
	l.embed(text, v, s)
	return v, nil
}

// embedScratch is per-goroutine working memory. words caches what each
// surface word maps to, because stemming costs more than the rest of
// embedding a word.
type embedScratch struct {
	buf   []byte
	ids   []int32
	oov   []string
	words map[string]wordRef
	lsa   []float32
	hash  []float32
	sub   []float32
}

// wordRef is what a surface word maps to: a vocabulary index, a stop
// word, or an out-of-vocabulary stem.
type wordRef struct {
	id   int32 // vocabulary index, or one of the negative constants below
	stem string
}

const (
	refStop = -1
	refOOV  = -2
)

// maxCachedWords bounds the scratch cache: enough for any one language's
// working vocabulary, small enough not to matter next to the model.
const maxCachedWords = 1 << 16

func (l *Local) getScratch() *embedScratch {
	if s, ok := l.scratch.Get().(*embedScratch); ok {
		return s
	}
	return &embedScratch{
		words: make(map[string]wordRef),
		lsa:   make([]float32, l.k),
		hash:  make([]float32, l.dim-l.k),
		sub:   make([]float32, l.k),
	}
}

func (l *Local) lookup(tok []byte, s *embedScratch) wordRef {
	if r, ok := s.words[string(tok)]; ok {
		return r
	}
	w := string(tok)
	r := wordRef{id: refStop}
	if !isStopWord(tok) {
		r = wordRef{id: refOOV, stem: stem(w)}
		if id, ok := l.index[r.stem]; ok {
			r = wordRef{id: id}
		}
	}
	if len(s.words) >= maxCachedWords {
		clear(s.words)
	}
	s.words[w] = r
	return r
}

// embed writes the unit vector of text into v (len l.dim).
func (l *Local) embed(text string, v []float32, s *embedScratch) {
	s.ids, s.oov = s.ids[:0], s.oov[:0]
	s.buf = forEachToken(text, s.buf, func(tok []byte) {
		switch r := l.lookup(tok, s); {
		case r.id >= 0:
			s.ids = append(s.ids, r.id)
		case r.id == refOOV:
			s.oov = append(s.oov, r.stem)
		}
	})
	clear(s.lsa)
	clear(s.hash)
	hashed := len(s.hash) > 0
	slices.Sort(s.ids)
	for i := 0; i < len(s.ids); {
		j := i + 1
		for j < len(s.ids) && s.ids[j] == s.ids[i] {
			j++
		}
		id := s.ids[i]
		w := localWeight(j-i, l.entropy) * float64(l.idf[id])
		if l.k > 0 {
			l.vecs.addRow(s.lsa, int(id), float32(w))
		}
		if hashed {
			addHashed(s.hash, l.terms[id], w)
		}
		i = j
	}
	slices.Sort(s.oov)
	for i := 0; i < len(s.oov); {
		j := i + 1
		for j < len(s.oov) && s.oov[j] == s.oov[i] {
			j++
		}
		w := localWeight(j-i, l.entropy) * float64(l.oovIDF)
		if l.k > 0 {
			l.addSubword(s, s.oov[i], w)
		}
		if hashed {
			addHashed(s.hash, s.oov[i], w)
		}
		i = j
	}

	clear(v)
	nl, nh := sumSquares(s.lsa), sumSquares(s.hash)
	switch {
	case nl == 0 && nh == 0:
		// Nothing to go on (empty text, only stop words). A zero vector
		// cannot be normalised (chromem-go would divide by zero), so use
		// a fixed unit vector that favours no passage in particular.
		v[0] = 1
		return
	case nh == 0:
		scaleInto(v[:l.k], s.lsa, 1/math.Sqrt(nl))
	case nl == 0:
		scaleInto(v[l.k:], s.hash, 1/math.Sqrt(nh))
	default:
		// Normalising each part first makes the cosine a fixed blend of
		// the LSA and the hashed-term similarities.
		scaleInto(v[:l.k], s.lsa, math.Sqrt(l.lsaShare/nl))
		scaleInto(v[l.k:], s.hash, math.Sqrt((1-l.lsaShare)/nh))
	}
}

// addSubword adds w times the vector of an out-of-vocabulary stem, scaled
// to the typical length of a term vector.
func (l *Local) addSubword(s *embedScratch, st string, w float64) {
	clear(s.sub)
	forEachNgram(st, func(h uint64) {
		l.subword.addRow(s.sub, int(h%uint64(l.buckets)), 1)
	})
	n := sumSquares(s.sub)
	if n == 0 {
		return
	}
	axpy(s.lsa, s.sub, float32(w*l.oovWeight*l.termNorm/math.Sqrt(n)))
}

// axpy adds a·x[:len(y)] to y, unrolled by four.
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		y4, x4 := y[i:i+4:i+4], x[i:i+4:i+4]
		y4[0] += a * x4[0]
		y4[1] += a * x4[1]
		y4[2] += a * x4[2]
		y4[3] += a * x4[3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

func sumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

func scaleInto(dst, src []float32, f float64) {
	for i, x := range src {
		dst[i] = x * float32(f)
	}
}
