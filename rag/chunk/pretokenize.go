package chunk

import (
	"unicode"
	"unicode/utf8"
)

// The cl100k_base pre-tokenizer is this regular expression, matched
// leftmost-first with backtracking:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// nextPiece implements it by hand, alternative by alternative, because
// that is where tiktoken-go spends most of its time. \s is unicode.IsSpace
// and \p{L}, \p{N} are unicode.Letter and unicode.Number, as in regexp2.

// runeClass sorts runes into the classes the expression distinguishes.
type runeClass uint8

const (
	classOther   runeClass = iota // [^\s\p{L}\p{N}]: punctuation, symbols, marks
	classLetter                   // \p{L}
	classNumber                   // \p{N}
	classSpace                    // \s other than \r and \n
	classNewline                  // [\r\n]
)

// asciiClass answers for the common case without unicode table look-ups.
var asciiClass = func() (t [utf8.RuneSelf]runeClass) {
	for r := range rune(utf8.RuneSelf) {
		t[r] = slowClass(r)
	}
	return t
}()

func classOf(r rune) runeClass {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	return slowClass(r)
}

func slowClass(r rune) runeClass {
	switch {
	case r == '\r' || r == '\n':
		return classNewline
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// nextPiece returns the byte length of the first pre-token of s, which
// must be non-empty valid UTF-8.
func nextPiece(s string) int {
	r0, n0 := utf8.DecodeRuneInString(s)
	c0 := classOf(r0)
	if r0 == '\'' {
		if n := contraction(s[1:]); n > 0 {
			return 1 + n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c0 == classLetter {
		return n0 + runOf(s[n0:], classLetter, -1)
	}
	if c0 != classNewline && c0 != classNumber && n0 < len(s) {
		if r1, n1 := utf8.DecodeRuneInString(s[n0:]); classOf(r1) == classLetter {
			return n0 + n1 + runOf(s[n0+n1:], classLetter, -1)
		}
	}
	// \p{N}{1,3}
	if c0 == classNumber {
		return n0 + runOf(s[n0:], classNumber, 2)
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	if c0 == classOther {
		n := n0 + runOf(s[n0:], classOther, -1)
		return n + runOf(s[n:], classNewline, -1)
	}
	if r0 == ' ' && n0 < len(s) {
		if r1, n1 := utf8.DecodeRuneInString(s[n0:]); classOf(r1) == classOther {
			n := n0 + n1 + runOf(s[n0+n1:], classOther, -1)
			return n + runOf(s[n:], classNewline, -1)
		}
	}
	return whitespacePiece(s)
}

// whitespacePiece matches \s*[\r\n]+|\s+(?!\S)|\s+ on s, which starts with
// whitespace. Backtracking makes the first alternative end after the last
// line break of the run, and the second leave the run's last character to
// prefix the word that follows.
func whitespacePiece(s string) int {
	end, afterBreak, last := 0, 0, 0
	for end < len(s) {
		r, n := utf8.DecodeRuneInString(s[end:])
		c := classOf(r)
		if c != classSpace && c != classNewline {
			break
		}
		last = end
		end += n
		if c == classNewline {
			afterBreak = end
		}
	}
	switch {
	case afterBreak > 0:
		return afterBreak
	case end == len(s) || last == 0:
		return end
	default:
		return last
	}
}

// runOf returns the byte length of the leading runes of s in class c, at
// most max runes (max < 0: no limit).
func runOf(s string, c runeClass, max int) int {
	n := 0
	for n < len(s) && max != 0 {
		r, size := utf8.DecodeRuneInString(s[n:])
		if classOf(r) != c {
			break
		}
		n += size
		max--
	}
	return n
}

// contraction matches (?i:s|t|re|ve|m|ll|d) at the start of s (the text
// after an apostrophe) and returns its length, or 0.
func contraction(s string) int {
	lower := func(i int) byte {
		if i >= len(s) {
			return 0
		}
		return s[i] | 0x20 // ASCII letters only; other bytes never match below
	}
	switch lower(0) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if lower(1) == 'e' {
			return 2
		}
	case 'l':
		if lower(1) == 'l' {
			return 2
		}
	}
	return 0
}
