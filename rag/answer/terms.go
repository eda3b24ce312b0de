package answer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"llmops/rag/text"
)

// Tokens longer than this are identifiers, hashes or base64, not words.
const maxTokenBytes = 40

// word is one run of letters and digits of a text, stop words included.
type word struct {
	lower string
	stem  string
	// name: written the way names are (see isNameLike), which marks
	// product and integration names in questions.
	name    bool
	allCaps bool // HIPAA, PC
	// hyphenated: joined to the next word by a hyphen (self-hosted).
	hyphenated bool
}

// token is a content word: a word that is not a stop word.
type token struct {
	stem string
	name bool
	num  bool // contains a digit: an amount, limit, version or code
}

// words splits text into lower-cased, stemmed words. A period between
// digits stays in the word, so versions (5.0.1) and amounts (99.95)
// survive.
func words(text string) []word {
	var out []word
	start := -1
	sentenceStart := true // the next word opens a sentence, so its capital says nothing
	flush := func(end int) {
		if start < 0 {
			return
		}
		raw := text[start:end]
		start = -1
		name := isNameLike(raw, sentenceStart)
		sentenceStart = false
		if len(raw) > maxTokenBytes {
			return
		}
		lower := strings.ToLower(raw)
		hyphenated := end+1 < len(text) && text[end] == '-' && isWordByte(text[end+1])
		allCaps := name && strings.ToUpper(raw) == raw
		out = append(out, word{lower: lower, stem: stem(lower), name: name, allCaps: allCaps, hyphenated: hyphenated})
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		case r == '.' && start >= 0 && isASCIIDigit(text[i-1]) && i+1 < len(text) && isASCIIDigit(text[i+1]):
			// inside 4.2 or 99.95: keep going
		default:
			flush(i)
			switch r {
			case '.', '!', '?', ':', '\n', '|', '(', '"', '“', '。', '！', '？':
				sentenceStart = true
			}
		}
		i += size
	}
	flush(len(text))
	return out
}

// tokenize returns the content words of text in order: stop words and
// one-letter words dropped, but digits kept even alone, because "day 3"
// and "day 5" differ in exactly that.
func tokenize(text string) []token {
	ws := words(text)
	out := make([]token, 0, len(ws))
	for _, w := range ws {
		if t, ok := contentToken(w); ok {
			out = append(out, t)
		}
	}
	return out
}

// contentToken returns w as a token unless it is a stop word or a single
// letter.
func contentToken(w word) (token, bool) {
	num := strings.ContainsAny(w.lower, "0123456789")
	if !num && (utf8.RuneCountInString(w.lower) < 2 || isStopWord(w.lower)) {
		return token{}, false
	}
	return token{stem: w.stem, name: w.name, num: num}, true
}

// isNameLike reports whether a word is written the way names are: all
// capitals (HIPAA, POS), inner capitals (QuickBooks), or a leading capital
// when it does not open a sentence. "I" is not a name.
func isNameLike(word string, sentenceStart bool) bool {
	upper, letters := 0, 0
	first := true
	inner := false
	for _, r := range word {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if unicode.IsUpper(r) {
			upper++
			if !first {
				inner = true
			}
		}
		first = false
	}
	switch {
	case letters < 2:
		return false
	case upper == letters, inner:
		return true
	case upper == 1:
		r, _ := utf8.DecodeRuneInString(word)
		return unicode.IsUpper(r) && !sentenceStart
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= utf8.RuneSelf || isASCIIDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// questionFiller is what questions are wrapped in ("is there a way to",
// "can I get"): on top of the shared stop list, none of it says what the
// question is about.
var questionFiller = func() map[string]struct{} {
	const list = `s t d m
get gets got getting make makes made want wants need needs know tell please way ways
possible able anyone anything someone something thing things really still yes ok okay
us use used using one ones like much many`
	m := make(map[string]struct{})
	for _, w := range strings.Fields(list) {
		m[w] = struct{}{}
	}
	return m
}()

func isStopWord(lower string) bool {
	if text.IsStopWord(lower) {
		return true
	}
	_, ok := questionFiller[lower]
	return ok
}

// stem applies the shared Snowball English stemmer.
func stem(word string) string { return text.Stem(word) }
