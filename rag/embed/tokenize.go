package embed

import (
	"unicode"
	"unicode/utf8"

	"llmops/rag/text"
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

func isStopWord(tok []byte) bool { return text.IsStopWordBytes(tok) }

// stem applies the shared Snowball English stemmer.
func stem(word string) string { return text.Stem(word) }
