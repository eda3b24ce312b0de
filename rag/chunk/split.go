package chunk

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"

	"llmops/rag/parse"
)

// span is a byte range of the text being chunked.
type span struct{ lo, hi int }

// piece is a span with its exact token count.
type piece struct {
	span
	tokens int
}

// boundary is a place text may be cut, from the gentlest to the harshest.
type boundary int

const (
	atParagraphs boundary = iota // blank lines
	atLines
	atSentences
	atWords
	atTokens // inside a word: the last resort
)

// boundariesFor lists where a section of the given kind may be cut. Code,
// tables and FAQ entries are cut at lines first, so a row or a statement
// stays whole.
func boundariesFor(kind string) []boundary {
	switch kind {
	case parse.KindCode, parse.KindTable:
		return []boundary{atLines, atWords, atTokens}
	case parse.KindQA:
		return []boundary{atLines, atSentences, atWords, atTokens}
	}
	return []boundary{atParagraphs, atLines, atSentences, atWords, atTokens}
}

// splitter cuts one text into pieces of at most max tokens.
type splitter struct {
	text string
	tok  Tokenizer
	max  int
	// keepIndent keeps the indentation that starts a piece, for code and
	// tables where it carries meaning.
	keepIndent bool
}

func newSplitter(text, kind string, tok Tokenizer, max int) *splitter {
	return &splitter{text: text, tok: tok, max: max, keepIndent: kind == parse.KindCode || kind == parse.KindTable}
}

func (s *splitter) count(sp span) int { return s.tok.Count(s.text[sp.lo:sp.hi]) }

// split cuts sp, which has n tokens, into pieces of at most max tokens,
// packed greedily, trying the boundaries bs from the gentlest.
func (s *splitter) split(sp span, n int, bs []boundary) []piece {
	return s.pack(s.leaves(sp, n, bs, nil))
}

// leaves appends the smallest useful pieces of sp: sp itself if it fits,
// otherwise the leaves of its parts at the next boundary. Each part is
// counted once; only parts that are still too big are counted again, in
// their own parts.
func (s *splitter) leaves(sp span, n int, bs []boundary, out []piece) []piece {
	if n <= s.max {
		return append(out, piece{sp, n})
	}
	if bs[0] == atTokens {
		return s.cutTokens(sp, out)
	}
	parts := s.cut(sp, bs[0])
	if len(parts) == 1 && parts[0] == sp {
		return s.leaves(sp, n, bs[1:], out) // no such boundary here
	}
	for _, p := range parts {
		out = s.leaves(p, s.count(p), bs[1:], out)
	}
	return out
}

// cut returns the non-blank parts of sp between boundaries of kind b.
func (s *splitter) cut(sp span, b boundary) []span {
	var parts []span
	switch b {
	case atParagraphs:
		start := -1
		for line := range s.lines(sp) {
			blank := strings.TrimSpace(s.text[line.lo:line.hi]) == ""
			switch {
			case blank && start >= 0:
				parts = append(parts, s.trim(span{start, line.lo}))
				start = -1
			case !blank && start < 0:
				start = line.lo
			}
		}
		if start >= 0 {
			parts = append(parts, s.trim(span{start, sp.hi}))
		}
	case atLines:
		for line := range s.lines(sp) {
			if t := s.trim(line); t.lo < t.hi {
				parts = append(parts, t)
			}
		}
	case atSentences:
		parts = sentenceSpans(s.text, sp, nil)
	case atWords:
		parts = wordSpans(s.text, sp)
	}
	return parts
}

// lines yields the lines of sp, without their line breaks.
func (s *splitter) lines(sp span) iter.Seq[span] {
	return func(yield func(span) bool) {
		for lo := sp.lo; lo <= sp.hi; {
			hi := strings.IndexByte(s.text[lo:sp.hi], '\n')
			if hi < 0 {
				yield(span{lo, sp.hi})
				return
			}
			if !yield(span{lo, lo + hi}) {
				return
			}
			lo += hi + 1
		}
	}
}

// trim drops the whitespace around sp; with keepIndent, only blank lines
// before it and whitespace after it.
func (s *splitter) trim(sp span) span {
	t := s.text[sp.lo:sp.hi]
	body := strings.TrimLeftFunc(t, unicode.IsSpace)
	if body == "" {
		return span{sp.hi, sp.hi}
	}
	lo := sp.hi - len(body)
	if s.keepIndent {
		lo = sp.lo + strings.LastIndexByte(t[:lo-sp.lo], '\n') + 1
	}
	return span{lo, sp.lo + len(strings.TrimRightFunc(t, unicode.IsSpace))}
}

// wordSpans returns the runs of non-space characters in text[sp.lo:sp.hi].
func wordSpans(text string, sp span) []span {
	words := make([]span, 0, strings.Count(text[sp.lo:sp.hi], " ")+1) // about right
	start := -1
	for i, r := range text[sp.lo:sp.hi] {
		switch space := unicode.IsSpace(r); {
		case space && start >= 0:
			words = append(words, span{sp.lo + start, sp.lo + i})
			start = -1
		case !space && start < 0:
			start = i
		}
	}
	if start >= 0 {
		words = append(words, span{sp.lo + start, sp.hi})
	}
	return words
}

// cutTokens cuts a span with no gentler boundary (a long URL, a base64
// blob) into the longest prefixes of at most max tokens, at rune
// boundaries.
func (s *splitter) cutTokens(sp span, out []piece) []piece {
	for sp.lo < sp.hi {
		p := s.longestPrefix(sp)
		out = append(out, p)
		sp.lo = p.hi
	}
	return out
}

// longestPrefix finds the longest prefix of sp, ending at a rune boundary,
// that has at most max tokens, or failing that the first rune, so callers
// always advance. It gallops (each guess twice the last) and then bisects,
// so it counts a few times the prefix, never the whole of a long span;
// that keeps Tokenizer to one method at no real cost.
func (s *splitter) longestPrefix(sp span) piece {
	fits := piece{span{sp.lo, sp.lo}, 0}
	var tooBig int // end of the shortest prefix known not to fit; set before the gallop breaks
	for step := 4 * s.max; ; step *= 2 {
		end := s.runeStart(min(fits.hi+step, sp.hi), fits.hi)
		if n := s.count(span{sp.lo, end}); n <= s.max {
			fits = piece{span{sp.lo, end}, n}
			if end == sp.hi {
				return fits
			}
			continue
		}
		tooBig = end
		break
	}
	for {
		mid := s.runeStart((fits.hi+tooBig)/2, fits.hi)
		if mid == tooBig {
			break
		}
		if n := s.count(span{sp.lo, mid}); n <= s.max {
			fits = piece{span{sp.lo, mid}, n}
		} else {
			tooBig = mid
		}
	}
	if fits.hi == sp.lo {
		_, size := utf8.DecodeRuneInString(s.text[sp.lo:sp.hi])
		one := span{sp.lo, sp.lo + size}
		return piece{one, s.count(one)}
	}
	return fits
}

// runeStart moves i back to the start of its rune; if that is not after
// floor, it moves i forward to the start of the next rune instead.
func (s *splitter) runeStart(i, floor int) int {
	for j := i; j > floor; j-- {
		if j == len(s.text) || utf8.RuneStart(s.text[j]) {
			return j
		}
	}
	_, size := utf8.DecodeRuneInString(s.text[floor:])
	return floor + size
}

// pack joins consecutive leaves into pieces of at most max tokens,
// greedily, then evens out the last two if the last is very small.
func (s *splitter) pack(leaves []piece) []piece {
	var out []piece
	var firstLeaf []int
	for i := 0; i < len(leaves); {
		p, next := s.fill(leaves[i:])
		out = append(out, p)
		firstLeaf = append(firstLeaf, i)
		i += next
	}
	if k := len(out); k >= 2 && out[k-1].tokens < s.max/4 {
		if a, b, ok := s.rebalance(leaves[firstLeaf[k-2]:]); ok {
			out[k-2], out[k-1] = a, b
		}
	}
	return out
}

// fill packs as many leading leaves as fit in max tokens and returns the
// piece and how many leaves it took. It plans with the leaves' counts,
// which are nearly exact, and checks with one count of the joined text.
func (s *splitter) fill(leaves []piece) (piece, int) {
	n, est := 1, leaves[0].tokens
	for n < len(leaves) {
		add := s.gapTokens(leaves[n-1], leaves[n]) + leaves[n].tokens
		if est+add > s.max {
			break
		}
		est += add
		n++
	}
	for ; n > 1; n-- {
		sp := span{leaves[0].lo, leaves[n-1].hi}
		if c := s.count(sp); c <= s.max {
			return piece{sp, c}, n
		}
	}
	return leaves[0], 1
}

// rebalance splits leaves into two pieces of about equal size, if both
// then fit in max tokens.
func (s *splitter) rebalance(leaves []piece) (piece, piece, bool) {
	total := s.estimate(leaves)
	best, bestSize := 0, total
	left := 0
	for k := 1; k < len(leaves); k++ {
		if k > 1 {
			left += s.gapTokens(leaves[k-2], leaves[k-1])
		}
		left += leaves[k-1].tokens
		if size := max(left, total-left); size < bestSize {
			best, bestSize = k, size
		}
	}
	if best == 0 {
		return piece{}, piece{}, false
	}
	a := span{leaves[0].lo, leaves[best-1].hi}
	b := span{leaves[best].lo, leaves[len(leaves)-1].hi}
	na, nb := s.count(a), s.count(b)
	if na > s.max || nb > s.max {
		return piece{}, piece{}, false
	}
	return piece{a, na}, piece{b, nb}, true
}

// estimate is the planned size of leaves joined with their gaps.
func (s *splitter) estimate(leaves []piece) int {
	n := 0
	for i, l := range leaves {
		if i > 0 {
			n += s.gapTokens(leaves[i-1], l)
		}
		n += l.tokens
	}
	return n
}

// gapTokens estimates what the text between two leaves adds: nothing for
// no gap or one space (the next word's token absorbs it), else one token.
func (s *splitter) gapTokens(a, b piece) int {
	if gap := s.text[a.hi:b.lo]; gap == "" || gap == " " {
		return 0
	}
	return 1
}
