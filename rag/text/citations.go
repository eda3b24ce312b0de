package text

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CitationMarker matches one citation marker: [1], [1, 2], [1-3], or the
// full-width 【1】 some models emit. Numbers have at most three digits, so
// "[2022]" stays text. It is the one definition of a marker: rag/answer
// parses and rewrites markers with it, evals strip them with it and the UI
// links them with it.
var CitationMarker = regexp.MustCompile(`\[\s*\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\s*\]|【\s*\d{1,3}(?:\s*[,、]\s*\d{1,3})*\s*】`)

// CitationMarkerGroup matches a run of adjacent markers with the blanks
// before it, so "shift [7][1]" can become "shift [1]" and "shift [7]."
// "shift.".
var CitationMarkerGroup = regexp.MustCompile(`[ \t]*(?:` + CitationMarker.String() + `)(?:[ \t]*(?:` + CitationMarker.String() + `))*`)

var markerNumber = regexp.MustCompile(`\d{1,3}`)

// SingleCitation returns n when marker (a CitationMarker match) cites one
// passage only, as in "[3]" or "【3】".
func SingleCitation(marker string) (int, bool) {
	nums := markerNumber.FindAllString(marker, 2)
	if len(nums) != 1 {
		return 0, false
	}
	n, err := strconv.Atoi(nums[0])
	return n, err == nil
}

// MergeCitationRuns leaves one marker group per run of text that cites
// the same passages: within a paragraph, or within the consecutive items
// of a list, a marker group followed by an identical one (the same
// numbers, whatever the spelling) is removed, so "A [1]. B [1]. C [1]."
// reads "A. B. C [1]." A run ends at a blank line, where prose meets a
// list item, at a fenced code block, and wherever the cited numbers
// change. rag/answer.ParseCitations gives the sentences of a run the
// marker at its end, so the merged text parses to the same citations.
func MergeCitationRuns(s string) string {
	if !CitationMarker.MatchString(s) {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	b.Grow(len(s))
	fenced := false
	for i := 0; i < len(lines); {
		class := lineClass(lines[i], fenced)
		if class == classFence {
			fenced = !fenced
		}
		if class != classProse && class != classOrdered && class != classBullet {
			b.WriteString(lines[i])
			i++
			continue
		}
		// A segment: consecutive lines of one class (a list item's
		// indented continuation lines count as the item's).
		j := i + 1
		for j < len(lines) {
			c := lineClass(lines[j], fenced)
			if c != class && !(class != classProse && c == classProse && isIndented(lines[j])) {
				break
			}
			j++
		}
		b.WriteString(mergeSegment(strings.Join(lines[i:j], "")))
		i = j
	}
	return b.String()
}

// Line classes for MergeCitationRuns.
const (
	classBlank = iota
	classFence // an opening or closing ``` line
	classCode  // inside a fence
	classProse
	classOrdered // "2. …", "2) …"
	classBullet  // "- …", "* …", "• …"
)

func lineClass(line string, fenced bool) int {
	t := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(t, "```"):
		return classFence
	case fenced:
		return classCode
	case t == "":
		return classBlank
	case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "• ") || strings.HasPrefix(t, "+ "):
		return classBullet
	}
	if i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }); i >= 1 && i <= 3 && (strings.HasPrefix(t[i:], ". ") || strings.HasPrefix(t[i:], ") ")) {
		return classOrdered
	}
	return classProse
}

func isIndented(line string) bool {
	return strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t")
}

// mergeSegment drops every marker group of seg that the next group
// repeats.
func mergeSegment(seg string) string {
	locs := CitationMarkerGroup.FindAllStringIndex(seg, -1)
	if len(locs) < 2 {
		return seg
	}
	var b strings.Builder
	prev := 0
	for k, loc := range locs {
		if k+1 < len(locs) && slices.Equal(citedNumbers(seg[loc[0]:loc[1]]), citedNumbers(seg[locs[k+1][0]:locs[k+1][1]])) {
			b.WriteString(seg[prev:loc[0]])
			if glued(seg, loc[0], loc[1]) {
				b.WriteByte(' ')
			}
			prev = loc[1]
		}
	}
	b.WriteString(seg[prev:])
	return b.String()
}

// citedNumbers returns the passage numbers of a marker group, sorted,
// without repeats: "[3][1, 3]" → 1, 3.
func citedNumbers(group string) []int {
	var out []int
	for _, m := range CitationMarker.FindAllString(group, -1) {
		out = append(out, MarkerNumbers(m)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MaxMarkerRange bounds a range in one marker: "[1-40]" is read as [1].
const MaxMarkerRange = 20

// MarkerNumbers expands one citation marker, in its order: "[1, 3-4]" →
// 1, 3, 4. Parts that are not numbers are skipped; a range wider than
// MaxMarkerRange or backwards counts as its first number.
func MarkerNumbers(m string) []int {
	var out []int
	inner := strings.Trim(m, "[]【】 ")
	for _, part := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ';' || r == '、' }) {
		lo, hi, isRange := strings.Cut(strings.ReplaceAll(part, "–", "-"), "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			continue
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || z < a || z-a > MaxMarkerRange {
				z = a
			}
		}
		for n := a; n <= z; n++ {
			out = append(out, n)
		}
	}
	return out
}

// glued reports whether removing s[i:j] would join the text on its left
// to a word on its right.
func glued(s string, i, j int) bool {
	if i == 0 || j == len(s) {
		return false
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[j:])
	return !unicode.IsSpace(before) && (unicode.IsLetter(after) || unicode.IsDigit(after))
}
