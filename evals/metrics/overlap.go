package metrics

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"llmops/rag/text"
)

// StripCitations removes citation markers as rag/answer reads them ([1],
// [2][3], [1, 2], [1-3], 【1】) and the blanks before them: "Shifts swap
// [1][2]." becomes "Shifts swap.". A marker glued between two words
// becomes a space, so "done.[1]Next" becomes "done. Next".
func StripCitations(s string) string {
	locs := text.CitationMarkerGroup.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prev := 0
	for _, loc := range locs {
		b.WriteString(s[prev:loc[0]])
		prev = loc[1]
		if glued(s, loc[0], loc[1]) {
			b.WriteByte(' ')
		}
	}
	b.WriteString(s[prev:])
	return b.String()
}

// glued reports whether removing s[i:j] would join the text on its left to
// a word on its right.
func glued(s string, i, j int) bool {
	if i == 0 || j == len(s) {
		return false
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[j:])
	return !unicode.IsSpace(before) && (unicode.IsLetter(after) || unicode.IsDigit(after))
}

// asciiPunct is Python's string.punctuation, which SQuAD's normaliser
// removes.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// Normalize returns the tokens the text metrics compare, normalised as the
// SQuAD evaluation script does: citation markers stripped (see
// StripCitations), lower-cased, ASCII punctuation removed without leaving
// a gap ("don't" → "dont", "U.S." → "us"), the articles a, an and the
// dropped, and the rest split on white space. SQuAD leaves other
// punctuation in the words; here typographic apostrophes (’) are removed
// like ' and any other Unicode punctuation (— “ ” … 。) separates words,
// so "days—unless" is two tokens and "don’t" matches "don't".
func Normalize(s string) []string {
	s = strings.ToLower(StripCitations(s))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && strings.IndexByte(asciiPunct, byte(r)) >= 0,
			r == '’', r == '‘', r == 'ʼ':
		case unicode.IsPunct(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	toks := strings.Fields(b.String())
	out := toks[:0]
	for _, t := range toks {
		if t != "a" && t != "an" && t != "the" {
			out = append(out, t)
		}
	}
	return out
}

// TokenF1 is SQuAD's F1: the harmonic mean of precision and recall of the
// answer's tokens against the reference's, counting each shared token as
// often as it occurs in both (bag-of-tokens overlap). Tokens come from
// Normalize. ok=false when the reference has no tokens; an answer without
// tokens scores 0.
func TokenF1(answer, reference string) (float64, bool) {
	ref := Normalize(reference)
	if len(ref) == 0 {
		return 0, false
	}
	ans := Normalize(answer)
	if len(ans) == 0 {
		return 0, true
	}
	counts := make(map[string]int, len(ref))
	for _, t := range ref {
		counts[t]++
	}
	same := 0
	for _, t := range ans {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	return fMeasure(same, len(ans), len(ref)), true
}

// RougeL is the ROUGE-L F-measure (β = 1) between the answer and the
// reference tokens (from Normalize): with LCS the length of their longest
// common subsequence, P = LCS ÷ answer tokens, R = LCS ÷ reference tokens
// and F = 2PR ÷ (P + R). ok=false when the reference has no tokens; an
// answer without tokens scores 0.
func RougeL(answer, reference string) (float64, bool) {
	ref := Normalize(reference)
	if len(ref) == 0 {
		return 0, false
	}
	ans := Normalize(answer)
	if len(ans) == 0 {
		return 0, true
	}
	return fMeasure(lcs(ans, ref), len(ans), len(ref)), true
}

// fMeasure is the F1 of same matches out of got predicted and want
// expected items, 0 when nothing matches.
func fMeasure(same, got, want int) float64 {
	if same == 0 {
		return 0
	}
	p := float64(same) / float64(got)
	r := float64(same) / float64(want)
	return 2 * p * r / (p + r)
}

// lcs returns the length of the longest common subsequence of a and b, by
// dynamic programming over two rows: O(len(a)·len(b)) time,
// O(min(len(a), len(b))) space.
func lcs(a, b []string) int {
	if len(b) > len(a) {
		a, b = b, a
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
