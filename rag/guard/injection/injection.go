// Package injection scores a question or a passage for prompt injection
// and jailbreaks: text written to make a model drop its instructions,
// take on another role or leak its prompt.
//
// A Model is logistic regression over hashed features of normalised
// text (words, word pairs, character n-grams inside words, one feature
// per rag/guard rule that matches, and a lexicon that reads German,
// Spanish, French, Italian and Portuguese instruction words as the
// English ones), so it reads "1gn0re",
// "i g n o r e", "іgnore" with a Cyrillic і, full-width letters and a
// base64-encoded instruction the way it reads "ignore". Default is the
// model shipped in the binary (model.bin), trained by `llmops guard
// train` on the train split of deepset/prompt-injections; its threshold
// was chosen on that split by cross-validation. Score costs time linear
// in the text and allocates little; training is deterministic, so the
// same data gives a byte-identical model file.
package injection

import (
	_ "embed"
	"math"
	"slices"
	"sync"

	"llmops/rag/guard"
)

//go:embed model.bin
var shipped []byte

var (
	defaultOnce  sync.Once
	defaultModel *Model
)

// Default returns the shipped model, decoded once. It panics only if
// the embedded file is corrupt, which the package's tests rule out.
func Default() *Model {
	defaultOnce.Do(func() {
		m := new(Model)
		if err := m.UnmarshalBinary(shipped); err != nil {
			panic("injection: embedded model.bin: " + err.Error())
		}
		defaultModel = m
	})
	return defaultModel
}

// Model is a trained injection classifier. Its fields are read-only
// after Train or UnmarshalBinary; Score is safe for concurrent use.
type Model struct {
	features         FeatureSet
	bits             uint8
	charMin, charMax uint8
	segments         bool // score sentences too (see Score)
	tails            bool // with segments: the text from each sentence on, not each sentence
	threshold        float64
	bias             float64
	weights          []float32 // 1 << bits, dequantised
	info             Info
}

// Info describes how a model was made.
type Info struct {
	Features string `json:"features"` // e.g. "words+bigrams+chars+rules"
	Segments bool   `json:"segments"` // sentences are scored too
	// Tails (with Segments): what is scored is the text from each
	// sentence to its end, not each sentence alone.
	Tails bool `json:"tails"`
	// SentenceNegatives: the sentences of benign training texts were
	// trained on as benign texts too (Options.SentenceNegatives).
	SentenceNegatives bool    `json:"sentence_negatives"`
	L2                float64 `json:"l2"`            // training settings (Options)
	Epochs            int     `json:"epochs"`        //
	Folds             int     `json:"folds"`         //
	MinPrecision      float64 `json:"min_precision"` //
	Bits              int     `json:"hash_bits"`     // the weight table has 1 << Bits entries
	CharMin           int     `json:"char_min"`      // character n-gram lengths
	CharMax           int     `json:"char_max"`      //
	Threshold         float64 `json:"threshold"`     // Flagged is Score ≥ Threshold
	Examples          int     `json:"examples"`      // training examples
	Injections        int     `json:"injections"`    // of which injections
	CVF1              float64 `json:"cv_f1"`         // cross-validated on the training data at Threshold
	CVPrec            float64 `json:"cv_precision"`  //
	CVRecall          float64 `json:"cv_recall"`     //
}

// Info returns how m was made.
func (m *Model) Info() Info { return m.info }

// Flagged reports whether score (from Score) is at or above the model's
// threshold, chosen on the training data by cross-validation.
func (m *Model) Flagged(score float64) bool { return score >= m.threshold }

// Threshold is the score at and above which Flagged is true.
func (m *Model) Threshold() float64 { return m.threshold }

// Score returns the probability, between 0 and 1, that text is a prompt
// injection or jailbreak. Any string is safe, including invalid UTF-8;
// the work is linear in len(text). A model trained with Segments scores
// each sentence on its own as well (with Tails: the text from each
// sentence to its end) and returns the highest score, so an instruction
// appended to an ordinary question is not diluted by it.
func (m *Model) Score(text string) float64 {
	s := scratchPool.Get().(*scratch)
	z := m.bias
	var rules float64
	best := math.Inf(-1)
	cur := -1
	s.segs = s.segs[:0]
	s.visit(text, m.features, m.charMin, m.charMax, func(g group, h uint32, seg int) {
		hm := mix(h)
		w := float64(m.weights[hm&(1<<m.bits-1)])
		if hm>>31 == 1 {
			w = -w
		}
		s.sum[g] += w
		s.n[g]++
		if g == gRule {
			rules += w
			return
		}
		if m.segments {
			if seg != cur {
				s.segs = append(s.segs, segSum{})
				cur = seg
			}
			t := &s.segs[len(s.segs)-1]
			t.sum[g] += w
			t.n[g]++
		}
	})
	// Each sentence on its own, or (tails) the text from each sentence
	// on: the whole text is the first tail, scored below.
	var acc segSum
	for k := len(s.segs) - 1; k >= 1 || k == 0 && !m.tails; k-- {
		t := s.segs[k]
		if m.tails {
			for g := range acc.sum {
				acc.sum[g] += t.sum[g]
				acc.n[g] += t.n[g]
			}
			t = acc
		}
		zs := m.bias + rules
		for g := range t.sum {
			if t.n[g] > 0 {
				zs += float64(t.sum[g] * scale(group(g), t.n[g]))
			}
		}
		best = max(best, zs)
	}
	for g := range s.sum {
		if s.n[g] > 0 {
			z += float64(s.sum[g] * scale(group(g), s.n[g])) // float64(): never fused, as in training
		}
	}
	if len(s.segs) > 1 {
		z = max(z, best)
	}
	if cap(s.segs) > 1024 { // a huge text's sentences: not kept in the pool
		s.segs = nil
	}
	scratchPool.Put(s)
	return sigmoid(z)
}

// segSum is one sentence's (or tail's) weight sums and feature counts
// per group.
type segSum struct {
	sum [nGroups]float64
	n   [nGroups]int
}

func sigmoid(z float64) float64 {
	switch {
	case z > 40:
		return 1
	case z < -40:
		return 0
	}
	return 1 / (1 + math.Exp(-z))
}

// group is one feature group; counts and sums are kept per group.
type group int

const (
	gWord group = iota
	gBigram
	gChar
	gRule
	nGroups
)

// scale is the value of each of a group's n occurrences: 1/√n for the
// text groups, 1 for rule and blob indicators.
func scale(g group, n int) float64 {
	if g == gRule {
		return 1
	}
	return 1 / math.Sqrt(float64(n))
}

// scratch holds one Score call's buffers; scratchPool reuses them.
type scratch struct {
	norm normaliser
	blob []byte
	sum  [nGroups]float64
	n    [nGroups]int
	segs []segSum // per sentence, when the model scores sentences
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// visit normalises text (and any base64 blob it holds, decoded) and
// calls emit with the group and hash of every feature occurrence.
func (s *scratch) visit(text string, fs FeatureSet, charMin, charMax uint8, emit func(g group, h uint32, seg int)) {
	s.sum, s.n = [nGroups]float64{}, [nGroups]int{}
	s.norm.out, s.norm.cuts, s.norm.cut, s.norm.obfuscated = s.norm.out[:0], s.norm.cuts[:0], false, false
	s.norm.normalise(text)
	hadBlob := false
	s.blob = blobs(text, s.blob, func(dec []byte) {
		hadBlob = true
		s.norm.cut = true
		s.norm.normalise(string(dec))
	})
	out := s.norm.out
	if fs&Rules != 0 {
		found := guard.Check(text)
		for _, f := range found {
			emit(gRule, fnvString(seedRule, f.Rule), -1)
		}
		// Obfuscated text (or a decoded blob) is checked again in its
		// normalised form; a rule counts once.
		if s.norm.obfuscated || hadBlob {
			for _, f := range guard.Check(string(out)) {
				if !slices.ContainsFunc(found, func(g guard.Finding) bool { return g.Rule == f.Rule }) {
					emit(gRule, fnvString(seedRule, f.Rule), -1)
				}
			}
		}
		if hadBlob {
			emit(gRule, seedBlob, -1)
		}
	}
	prev := -1 // start of the previous word
	seg, cuts := 0, s.norm.cuts
	first := true // the word starts a sentence
	chars := func(g group, h uint32) { emit(g, h, seg) }
	// The last concept seen in this sentence and how many words ago.
	lastConcept, since := "", 0
	for i := 0; i < len(out); {
		for len(cuts) > 0 && cuts[0] <= i {
			seg++
			cuts = cuts[1:]
			first = true
			lastConcept = ""
		}
		j := i
		for j < len(out) && out[j] != ' ' {
			j++
		}
		word := out[i:j]
		if len(word) > 0 {
			if fs&Words != 0 {
				emit(gWord, fnv(seedWord, word), seg)
				if first && fs&Starts != 0 {
					emit(gWord, fnv(seedStart, word), seg)
				}
			}
			first = false
			if fs&Bigrams != 0 && prev >= 0 {
				emit(gBigram, fnv(seedBigram, out[prev:j]), seg)
			}
			if fs&Chars != 0 {
				charGrams(word, int(charMin), int(charMax), chars)
			}
			if fs&Lexicon != 0 {
				since++
				if c := concept(word); c != "" {
					emit(gWord, fnvString(seedLex, c), seg)
					if lastConcept != "" && since <= lexWindow {
						emit(gBigram, fnvString(fnvString(seedLexBi, lastConcept)^'|', c), seg)
					}
					lastConcept, since = c, 0
				}
			}
			prev = i
		}
		i = j + 1
	}
}

// lexWindow is how many words apart two concepts may be to make a pair
// ("ignore all of the previous instructions": IGNORE·ALL, ALL·PREVIOUS,
// PREVIOUS·INSTRUCTION).
const lexWindow = 3

// charGrams emits the byte n-grams of " word " for n in lo..hi.
func charGrams(word []byte, lo, hi int, emit func(group, uint32)) {
	// Position -1 and len(word) are the boundary marks.
	at := func(i int) byte {
		if i < 0 || i >= len(word) {
			return ' '
		}
		return word[i]
	}
	for n := lo; n <= hi; n++ {
		for start := -1; start+n <= len(word)+1; start++ {
			h := uint32(seedChar^2166136261) ^ uint32(n)
			for k := start; k < start+n; k++ {
				h ^= uint32(at(k))
				h *= 16777619
			}
			emit(gChar, h)
		}
	}
}
