// Package text is the English word handling shared by the embedder, the
// retriever and the answerer: one stop list and one stemmer, so the three
// agree on what a content word is.
package text

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// stopWords is the Snowball English list (as bleve's "en" analyzer uses
// it) without its apostrophe forms, plus the fragments that splitting
// contractions at the apostrophe leaves behind.
var stopWords = func() map[string]struct{} {
	const list = `i me my myself we our ours ourselves you your yours yourself yourselves
he him his himself she her hers herself it its itself they them their theirs themselves
what which who whom this that these those am is are was were be been being have has had
having do does did doing would should could ought cannot a an the and but if or because
as until while of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there
when where why how all any both each few more most other some such no nor not only own
same so than too very
ll ve re isn aren wasn weren hasn haven hadn doesn don didn won wouldn shan shouldn can
couldn mustn let also may might must shall will just`
	m := make(map[string]struct{})
	for _, w := range strings.Fields(list) {
		m[w] = struct{}{}
	}
	return m
}()

// IsStopWord reports whether a lower-cased word is a stop word.
func IsStopWord(w string) bool {
	_, ok := stopWords[w]
	return ok
}

// IsStopWordBytes is IsStopWord for a byte slice, without allocating.
func IsStopWordBytes(w []byte) bool {
	_, ok := stopWords[string(w)]
	return ok
}

// StopWords returns the stop list, sorted.
func StopWords() []string {
	out := make([]string, 0, len(stopWords))
	for w := range stopWords {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

var stemEnvs = sync.Pool{New: func() any { return snowballstem.NewEnv("") }}

// Stem applies the Snowball English (Porter2) stemmer to a lower-cased
// word. Words with digits are codes, versions or numbers, and stemming
// would only mangle them, so they come back unchanged.
func Stem(word string) string {
	for i := 0; i < len(word); i++ {
		if c := word[i]; c >= '0' && c <= '9' {
			return word
		}
	}
	env := stemEnvs.Get().(*snowballstem.Env)
	env.SetCurrent(word)
	english.Stem(env)
	s := env.Current()
	stemEnvs.Put(env)
	return s
}

// MaxTokenBytes: longer tokens are identifiers, hashes or base64, not words.
const MaxTokenBytes = 40

// ForEachToken calls fn with each lower-cased run of Unicode letters,
// digits and combining marks in text, minBytes to MaxTokenBytes long.
// Apostrophes split words ("don't" → "don", "t"), so contractions leave
// short fragments that callers drop with the stop words. The slice passed
// to fn is reused: copy it to keep it. buf is scratch space, returned for
// reuse.
func ForEachToken(text string, buf []byte, minBytes int, fn func(tok []byte)) []byte {
	buf = buf[:0]
	minBytes = max(minBytes, 1)
	emit := func() {
		if len(buf) >= minBytes && len(buf) <= MaxTokenBytes {
			fn(buf)
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
	return buf
}
