package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentences splits text into sentences, in order, each trimmed of
// surrounding whitespace; every non-space character of text is in exactly
// one of them.
//
// A sentence ends at . ! ? or … followed by whitespace (closing quotes and
// brackets stay with it), or at the full-width 。！？ even without a space.
// A period does not end a sentence after an abbreviation (e.g., i.e., Mr.,
// vs.), initials (U.S.), a list number at the start of a line (1.),
// or when the next word starts in lower case; decimals (4.2) and URLs
// (example.com/a.b) never end one because no space follows the period.
// A line break ends a sentence unless the next line starts in lower case
// (a hard-wrapped paragraph), so list items, table rows and headings
// without punctuation come out as sentences of their own.
func Sentences(text string) []string {
	spans := sentenceSpans(text, span{0, len(text)}, nil)
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = text[sp.lo:sp.hi]
	}
	return out
}

// sentenceSpans appends the sentences of text[sp.lo:sp.hi] to out.
func sentenceSpans(text string, sp span, out []span) []span {
	s := text[sp.lo:sp.hi]
	start := -1 // of the current sentence, or -1 between sentences
	flush := func(end int) {
		if start >= 0 {
			out = append(out, span{sp.lo + start, sp.lo + len(strings.TrimRightFunc(s[:end], unicode.IsSpace))})
			start = -1
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n':
			if !continuesSentence(s[i+1:]) {
				flush(i)
			}
		case unicode.IsSpace(r):
		default:
			if start < 0 {
				start = i
			}
			if end, ok := sentenceEnd(s, i); ok {
				flush(end)
				i = end
				continue
			}
		}
		i += size
	}
	flush(len(s))
	return out
}

// continuesSentence reports whether the line after a line break carries on
// the same sentence: it starts, after indentation, with a lower-case letter.
func continuesSentence(rest string) bool {
	rest = strings.TrimLeft(rest, " \t")
	r, _ := utf8.DecodeRuneInString(rest)
	return unicode.IsLower(r)
}

// sentenceEnd reports whether the rune at s[i] ends a sentence and, if so,
// where the sentence ends (after any closing quotes or brackets).
func sentenceEnd(s string, i int) (int, bool) {
	r, size := utf8.DecodeRuneInString(s[i:])
	if isFullWidthStop(r) {
		end := i + size
		end += runLen(s[end:], func(r rune) bool { return isFullWidthStop(r) || isCloser(r) })
		return end, true
	}
	if !isStop(r) {
		return 0, false
	}
	stops := i + size + runLen(s[i+size:], isStop)
	end := stops + runLen(s[stops:], isCloser)
	if end < len(s) {
		if next, _ := utf8.DecodeRuneInString(s[end:]); !unicode.IsSpace(next) {
			return 0, false // 4.2, example.com, a?b
		}
	}
	next, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s[end:], unicode.IsSpace))
	if unicode.IsLower(next) {
		return 0, false
	}
	if stops-i == 1 && r == '.' && !periodEnds(s, i, next) {
		return 0, false
	}
	return end, true
}

// periodEnds decides the hard case, a single period followed by a space
// and a word that is not lower case, by looking at the word before it.
func periodEnds(s string, i int, next rune) bool {
	wordStart := strings.LastIndexFunc(s[:i], unicode.IsSpace) + 1
	word := strings.TrimLeftFunc(s[wordStart:i], isOpener)
	lower := strings.ToLower(word)
	switch {
	case word == "":
		return true
	case abbreviations[lower], isInitials(word):
		return false
	case lower == "no" && unicode.IsDigit(next): // No. 5
		return false
	case isDigits(word) && strings.TrimLeft(s[strings.LastIndexByte(s[:wordStart], '\n')+1:wordStart], " \t") == "":
		return false // "1." numbering a list item
	}
	return true
}

// abbreviations are words that are followed by a period and rarely end a
// sentence. "etc." is not here: it often does, and when it does not the
// next word is usually lower case.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "cf": true, "vs": true, "viz": true, "approx": true, "ca": true,
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"fig": true, "figs": true, "eq": true, "vol": true, "ch": true, "sec": true, "dept": true,
	"incl": true, "al": true, "resp": true, "ext": true, "tel": true,
}

// isInitials reports whether word is single letters joined by periods:
// U.S, a.m. A lone capital is not taken for an initial: in help articles
// "Plan B." ends sentences more often than "John F." starts names.
func isInitials(word string) bool {
	parts := strings.Split(word, ".")
	for _, part := range parts {
		r, size := utf8.DecodeRuneInString(part)
		if size != len(part) || !unicode.IsLetter(r) {
			return false
		}
	}
	return len(parts) > 1
}

func isDigits(s string) bool {
	return s != "" && strings.TrimLeft(s, "0123456789") == ""
}

func isStop(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }

func isFullWidthStop(r rune) bool { return r == '。' || r == '！' || r == '？' || r == '｡' }

// isCloser matches what may follow a sentence's final stop and belongs to
// it: closing quotes and brackets, Markdown emphasis and code marks.
func isCloser(r rune) bool { return strings.ContainsRune("\"')]}*_`”’»」』）】〕〉》", r) }

func isOpener(r rune) bool { return strings.ContainsRune("\"'([{*_`“‘«「『（", r) }

// runLen returns the byte length of the leading runes of s that match f.
func runLen(s string, f func(rune) bool) int {
	if i := strings.IndexFunc(s, func(r rune) bool { return !f(r) }); i >= 0 {
		return i
	}
	return len(s)
}
