package embed

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// Tokens longer than this are identifiers, hashes or base64, not words.
const maxTokenBytes = 40

// forEachToken calls fn with each lower-cased run of Unicode letters and
// digits in text. Apostrophes split words ("don't" → "don", "t"), so
// possessives and contractions leave short fragments that the caller drops
// with the stop words. The slice passed to fn is reused: copy it to keep it.
func forEachToken(text string, buf []byte, fn func(tok []byte)) []byte {
	buf = buf[:0]
	emit := func() {
		if len(buf) > 1 && len(buf) <= maxTokenBytes {
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

// stopWords is the Snowball English list (as used by bleve's "en"
// analyzer) without its apostrophe forms, plus the fragments that
// splitting contractions at the apostrophe leaves behind.
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

func isStopWord(tok []byte) bool {
	_, ok := stopWords[string(tok)]
	return ok
}

var stemEnvs = sync.Pool{New: func() any { return snowballstem.NewEnv("") }}

// stem applies the Snowball English (Porter2) stemmer. Tokens with digits
// are codes, versions or numbers, and stemming would only mangle them.
func stem(word string) string {
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
