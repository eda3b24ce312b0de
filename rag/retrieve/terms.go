package retrieve

import (
	"unicode"
	"unicode/utf8"

	"llmops/rag/text"
)

// The reranker and the query rewriter read text much as the keyword index
// does: lower-cased runs of letters and digits, English stop words
// dropped, stemmed (Snowball English). rag/embed has the same rules unexported; a
// second copy here keeps retrieve independent of the embedder's internals.

// maxTokenBytes: longer tokens are identifiers or hashes, not words.
const maxTokenBytes = 40

// words splits text into lower-cased words, stop words included, in
// order. Apostrophes split words ("don't" → "don", "t").
func words(text string) []string {
	var out []string
	var buf []byte
	emit := func() {
		if len(buf) > 0 && len(buf) <= maxTokenBytes {
			out = append(out, string(buf))
		}
		buf = buf[:0]
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				buf = append(buf, c)
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+('a'-'A'))
			default:
				emit()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		} else {
			emit()
		}
	}
	emit()
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
