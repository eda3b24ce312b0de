package injection

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FeatureSet selects the feature groups a model reads. The groups are
// hashed into one weight table; each group's occurrences are scaled by
// one over the square root of their number, so a long text does not
// outweigh a short one.
type FeatureSet uint16

const (
	// Words are the normalised words (unigrams).
	Words FeatureSet = 1 << iota
	// Bigrams are pairs of adjacent normalised words.
	Bigrams
	// Chars are character n-grams (CharMin..CharMax bytes) inside each
	// word with boundary marks, which survive misspellings, inflections
	// and words glued together by spacing tricks.
	Chars
	// Rules are the rag/guard heuristics: one feature per rule that
	// matches, so the classifier learns how far to trust each rule.
	Rules
	// Starts are the first word of each sentence (with Words): an
	// imperative ("write", "ignore", "generieren") reads differently
	// from a question ("how", "can", "wie").
	Starts
	// Lexicon reads the words injections are made of (ignore, forget,
	// previous, instructions, pretend, …) in English, German and a few
	// other languages as one English concept each, plus pairs of
	// concepts close together (lexicon.go), so an injection in one
	// language teaches the model about the others.
	Lexicon
)

// allFeatures is every group a model may read.
const allFeatures = Words | Bigrams | Chars | Rules | Starts | Lexicon

// String names the groups, e.g. "words+bigrams+chars+rules".
func (f FeatureSet) String() string {
	var parts []string
	for _, g := range []struct {
		bit  FeatureSet
		name string
	}{{Words, "words"}, {Bigrams, "bigrams"}, {Chars, "chars"}, {Rules, "rules"}, {Starts, "starts"}, {Lexicon, "lexicon"}} {
		if f&g.bit != 0 {
			parts = append(parts, g.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Group seeds keep the groups' hashes apart.
const (
	seedWord   = 0x9e3779b1
	seedBigram = 0x85ebca77
	seedChar   = 0xc2b2ae3d
	seedRule   = 0x27d4eb2f
	seedBlob   = 0x165667b1
	seedStart  = 0x3c6ef372
	seedLex    = 0xa54ff53a
	seedLexBi  = 0x510e527f
)

// fnv hashes b with FNV-1a from seed.
func fnv(seed uint32, b []byte) uint32 {
	h := seed ^ 2166136261
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// fnvString is fnv over a string (no conversion, no allocation).
func fnvString(seed uint32, s string) uint32 {
	h := seed ^ 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// mix finishes a hash (murmur3's fmix32), so the low bits used as the
// bucket and the top bit used as the sign are independent.
func mix(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// confusable maps letters that look like Latin ones (Cyrillic, Greek) to
// the Latin letter. Applied only inside words that mix scripts, so
// Russian or Greek text keeps its letters.
var confusable = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l', 'һ': 'h', 'ɡ': 'g',
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y',
}

// latinFold maps accented Latin letters to their base letters (and ß to
// s), so "ignórê" and "ignore" are one word.
func latinFold(r rune) rune {
	switch {
	case r < 0xc0:
		return r
	case strings.ContainsRune("àáâãäåāăą", r):
		return 'a'
	case strings.ContainsRune("çćĉċč", r):
		return 'c'
	case strings.ContainsRune("ďđ", r):
		return 'd'
	case strings.ContainsRune("èéêëēĕėęě", r):
		return 'e'
	case strings.ContainsRune("ìíîïĩīĭįı", r):
		return 'i'
	case strings.ContainsRune("ñńņňŉ", r):
		return 'n'
	case strings.ContainsRune("òóôõöøōŏő", r):
		return 'o'
	case strings.ContainsRune("ùúûüũūŭůűų", r):
		return 'u'
	case strings.ContainsRune("ýÿŷ", r):
		return 'y'
	case strings.ContainsRune("śŝşšș", r):
		return 's'
	case strings.ContainsRune("źżž", r):
		return 'z'
	case r == 'ß':
		return 's'
	}
	return r
}

// leet maps the digits and symbols used for letters ("1gn0r3").
func leet(c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1', '!', '|':
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7', '+':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	}
	return c
}

// isLeet reports whether c is one of leet's symbols or digits.
func isLeet(c byte) bool { return leet(c) != c }

// normaliser turns text into lower-case words separated by single
// spaces: format characters (zero-width) dropped, full-width forms and
// look-alike letters folded to ASCII, accents removed, leetspeak read
// as letters, and letters spaced out one by one ("i g n o r e") joined.
// Its buffers are reused across calls.
type normaliser struct {
	out  []byte // the words, space-separated
	word []rune // the word being read
	// cuts are the offsets in out where a sentence starts (after ".",
	// "?", "!" or a line break), for scoring sentences on their own.
	cuts []int
	cut  bool // the next word starts a sentence
	// obfuscated is set when normalising did more than change case,
	// accents and punctuation (leetspeak, look-alikes, full-width or
	// invisible characters, spaced-out letters): the rules then read the
	// normalised text too.
	obfuscated bool
}

// normalise appends s's words to n.out.
func (n *normaliser) normalise(s string) {
	// Tokens are runs of non-space runes; each becomes one or more words.
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) || r == '\\' && strings.HasPrefix(s[i:], `\n`) {
			if start >= 0 {
				n.token(s[start:i])
				start = -1
			}
			if r != ' ' && r != '\t' {
				n.cut = true
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		n.token(s[start:])
	}
	n.joinSpaced()
}

// token reads one whitespace-separated token: it reads a token that
// mixes letters with leet symbols as letters, then splits it into words
// at anything that is not a letter or digit.
func (n *normaliser) token(t string) {
	letters, leets := 0, 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case isLeet(c):
			leets++
		}
	}
	// "h4ck3d" and "1gn0r3" are words; "5.0.1", "24/7" and "$40" are not.
	useLeet := letters >= 2 && leets > 0 && leets <= 2*letters
	last := t[len(t)-1]
	if useLeet {
		n.obfuscated = true
		// A leading or trailing "!" or "+" is punctuation, not a letter.
		t = strings.TrimRight(t, "!?.,;:+|")
	}
	n.word = n.word[:0]
	latin, other := false, false
	for _, r := range t {
		if r >= 0xff01 && r <= 0xff5e { // full-width ASCII
			r -= 0xfee0
			n.obfuscated = true
		}
		if unicode.Is(unicode.Cf, r) {
			n.obfuscated = true
			continue
		}
		if useLeet && r < utf8.RuneSelf && isLeet(byte(r)) {
			r = rune(leet(byte(r)))
		}
		r = unicode.ToLower(r)
		if r == '\'' || r == '’' { // "don't" → "dont"
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			n.flush(latin && other)
			latin, other = false, false
			continue
		}
		r = latinFold(r) // accents are ordinary (German, French): not obfuscation
		if r < utf8.RuneSelf {
			latin = latin || unicode.IsLetter(r)
		} else if _, ok := confusable[r]; ok {
			other = true
		}
		n.word = append(n.word, r)
	}
	n.flush(latin && other)
	if last == '.' || last == '?' || last == '!' || last == ':' {
		n.cut = true
	}
}

// maxWord bounds a word's length: longer runs (blobs, URLs glued
// together) are cut, so per-word work stays bounded.
const maxWord = 64

// flush writes the word being read, folding look-alike letters when the
// word mixes scripts.
func (n *normaliser) flush(mixed bool) {
	if len(n.word) == 0 {
		return
	}
	if len(n.out) > 0 {
		n.out = append(n.out, ' ')
	}
	if n.cut && len(n.out) > 0 {
		n.cuts = append(n.cuts, len(n.out))
	}
	n.cut = false
	for i, r := range n.word {
		if i == maxWord {
			break
		}
		if mixed {
			if c, ok := confusable[r]; ok {
				r, n.obfuscated = c, true
			}
		}
		n.out = utf8.AppendRune(n.out, r)
	}
	n.word = n.word[:0]
}

// joinSpaced joins runs of three or more one-letter words ("i g n o r e")
// into one word, in place (the output is never longer than the input).
func (n *normaliser) joinSpaced() {
	b := n.out
	w, i := 0, 0
	c, cw := 0, 0 // the next cut to read, and to write
	for i < len(b) {
		// A cut at this word's input offset moves to its output offset;
		// cuts inside a joined run are dropped.
		for c < len(n.cuts) && n.cuts[c] < i {
			c++
		}
		if c < len(n.cuts) && n.cuts[c] == i {
			n.cuts[cw] = w
			if w > 0 {
				n.cuts[cw]++ // after the space written below
			}
			c++
			cw++
		}
		j := i
		for j < len(b) && b[j] != ' ' {
			j++
		}
		k, run := i, 0
		for k < len(b) && isSingle(b, k) {
			run++
			k += 2
		}
		if w > 0 {
			b[w] = ' '
			w++
		}
		if run >= 3 {
			n.obfuscated = true
			for x := range run {
				b[w] = b[i+2*x]
				w++
			}
			i = k
			continue
		}
		w += copy(b[w:], b[i:j])
		i = j + 1
	}
	n.out = b[:w]
	n.cuts = n.cuts[:cw]
}

// isSingle reports whether b[j] is a one-letter ASCII word.
func isSingle(b []byte, j int) bool {
	c := b[j]
	if !(c >= 'a' && c <= 'z') {
		return false
	}
	return (j == 0 || b[j-1] == ' ') && (j+1 == len(b) || b[j+1] == ' ')
}

// blobs finds base64-looking tokens (24+ characters of the base64
// alphabet with upper, lower case and digits or symbols) that decode to
// mostly printable text, and calls fn with each decoded text. At most
// maxBlobs are decoded and each is read at most once, so the work stays
// linear in s.
func blobs(s string, buf []byte, fn func(decoded []byte)) []byte {
	const maxBlobs = 8
	found := 0
	for i := 0; i < len(s) && found < maxBlobs; {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		tok := s[i:j]
		i = j
		if len(tok) < 24 || !mixedB64(tok) {
			continue
		}
		tok = strings.TrimRight(tok, "=")
		enc := base64.RawStdEncoding
		if strings.ContainsAny(tok, "-_") {
			enc = base64.RawURLEncoding
		}
		need := enc.DecodedLen(len(tok))
		if cap(buf) < need {
			buf = make([]byte, need)
		}
		// A bad last quantum still leaves the bytes before it decoded.
		nb, _ := enc.Decode(buf[:need], []byte(tok))
		dec := buf[:nb]
		if printable(dec) {
			found++
			fn(dec)
		}
	}
	return buf
}

func isB64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}

// mixedB64 reports whether tok has upper and lower case letters and a
// digit or symbol: words and hex ids do not.
func mixedB64(tok string) bool {
	var up, low, other bool
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z':
			low = true
		case c >= 'A' && c <= 'Z':
			up = true
		default:
			other = true
		}
	}
	return up && low && other
}

// printable reports whether at least 90 % of b is printable ASCII text
// with spaces in it (a sentence, not binary).
func printable(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	ok, spaces := 0, 0
	for _, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			ok++
		}
		if c == ' ' {
			spaces++
		}
	}
	return ok*10 >= len(b)*9 && spaces > 0
}
