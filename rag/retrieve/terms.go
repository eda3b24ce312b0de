package retrieve

import (
	"llmops/rag/text"
)

// The reranker and the query rewriter read text as the embedder does
// (rag/text): lower-cased runs of letters and digits, English stop words
// dropped, stemmed (Snowball English).

// words splits text into lower-cased words, stop words included, in
// order.
func words(s string) []string {
	var out []string
	text.ForEachToken(s, nil, 1, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

// terms returns the stems of text's content words, in order.
func terms(text string, st *stemmer) []string {
	ws := words(text)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if len(w) > 1 && !isStopWord(w) {
			out = append(out, st.stem(w))
		}
	}
	return out
}

func isStopWord(w string) bool { return text.IsStopWord(w) }

// stemmer stems words with the Snowball English (Porter2) algorithm and
// remembers them: a text repeats its words, and stemming costs more than
// the rest of reading a word. (A cache shared by all calls was measured
// and did not pay for its locking.) One goroutine at a time.
type stemmer struct {
	cache map[string]string
}

func newStemmer() *stemmer { return &stemmer{cache: make(map[string]string, 256)} }

// stem leaves tokens with digits alone: they are codes, versions or
// numbers, and stemming would only mangle them.
func (s *stemmer) stem(w string) string {
	if st, ok := s.cache[w]; ok {
		return st
	}
	st := text.Stem(w)
	s.cache[w] = st
	return st
}

// passageTerms is the boundary between a question and a pasted passage:
// a query of more content words than this is a passage. The reranker
// keeps the fused order for passages, BM25 feedback skips them, and
// fusion weighs their vector list by Options.PassageVectorWeight.
const passageTerms = 30

// contentWords counts a text's words that are not stop words.
func contentWords(text string) int {
	n := 0
	for _, w := range words(text) {
		if len(w) > 1 && !isStopWord(w) {
			n++
		}
	}
	return n
}
