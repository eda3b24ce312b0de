package answer

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"llmops/rag/text"
)

// MarkerRE matches one citation marker (text.CitationMarker, the one
// definition): everything here that finds, strips or rewrites markers
// builds on it.
var MarkerRE = text.CitationMarker

// markersAfterStop matches a sentence stop followed by marker groups:
// models write "… shift.[1]" and "… shift. [1][2]" as often as "… shift [1].".
var markersAfterStop = regexp.MustCompile(`([.!?。！？])((?:[ \t]*(?:` + MarkerRE.String() + `))+)`)

// markerNumbers expands one marker: "[1, 3-4]" → 1, 3, 4 (rag/text's
// reading, whose range bound keeps text from making the parser allocate
// at will). A function rather than a call in place: parameters named text
// shadow the package here.
func markerNumbers(m string) []int { return text.MarkerNumbers(m) }

// ParseCitations splits a model's answer into sentences and the context
// numbers each cites, with the markers removed from the text. Markers may
// sit before or after the sentence's final stop. One marker may cite a
// run: sentences of one paragraph, or items of one list, without a
// marker take the citations of the next marker in the same run ("A. B
// [1]." cites [1] twice; see text.MergeCitationRuns, which writes runs
// so). A sentence after the last marker of its run cites nothing, and
// Ground still scores every sentence against what it cites, so an
// unsupported claim in a run scores low rather than slipping through.
// A Markdown list item ("2. Click Save [1]", "- Open Settings [1]") loses
// its marker to Sentence.Item and Ordered, and the sentences after it on
// its line continue it, so render gives the list back.
func ParseCitations(text string) []Sentence {
	text = markersAfterStop.ReplaceAllString(text, " $2$1")
	var out []Sentence
	for _, block := range blankLine.Split(text, -1) {
		from := len(out)
		out = parseBlock(out, block)
		inheritRuns(out[from:])
	}
	return out
}

// blankLine separates paragraphs and lists: a run never spans one.
var blankLine = regexp.MustCompile(`\n[ \t]*\n`)

// inheritRuns gives each sentence without citations those of the next
// sentence with some in its run: the same paragraph, or the same list.
func inheritRuns(ss []Sentence) {
	var carry []int
	for i := len(ss) - 1; i >= 0; i-- {
		if i+1 < len(ss) && !sameRun(ss[i], ss[i+1]) {
			carry = nil
		}
		if len(ss[i].Cites) > 0 {
			carry = ss[i].Cites
		} else if carry != nil {
			ss[i].Cites = slices.Clone(carry)
		}
	}
}

// sameRun reports whether two neighbouring sentences of one block belong
// to one run: both prose, or both items of one kind of list.
func sameRun(a, b Sentence) bool {
	return (a.Item > 0) == (b.Item > 0) && a.Ordered == b.Ordered
}

// parseBlock appends the sentences of one block of text to out.
func parseBlock(out []Sentence, text string) []Sentence {
	for _, ls := range lineSentences(text) {
		s := ls.text
		cites := parseMarkers(s)
		var prev *Sentence
		if len(out) > 0 {
			prev = &out[len(out)-1]
		}
		item, ordered := 0, false
		if n, num, rest, ok := cutListMarker(s); ok && ls.lineStart {
			s, item, ordered = rest, n, num
			if !num {
				item = 1
				if prev != nil && prev.Item > 0 && !prev.Ordered {
					item = prev.Item + 1
				}
			}
		} else if !ls.lineStart && prev != nil && prev.Item > 0 {
			item, ordered = prev.Item, prev.Ordered
		}
		body := cleanSentence(MarkerRE.ReplaceAllString(s, ""))
		if !hasWord(body) {
			// A stray marker line ("[2]") belongs to the sentence above it.
			if prev != nil {
				prev.Cites = mergeCites(prev.Cites, cites)
			}
			continue
		}
		out = append(out, Sentence{Text: body, Cites: cites, Item: item, Ordered: ordered})
	}
	return out
}

// cutListMarker splits a Markdown list marker off s: "3. Save" → 3, true,
// "Save"; "- Save" → 0, false, "Save". Numbers have at most three digits,
// so a line opening with a year is not a step.
func cutListMarker(s string) (n int, ordered bool, rest string, ok bool) {
	for _, p := range []string{"- ", "* ", "• "} {
		if strings.HasPrefix(s, p) {
			return 0, false, strings.TrimSpace(s[len(p):]), true
		}
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 1 || i > 3 || !strings.HasPrefix(s[i:], ". ") && !strings.HasPrefix(s[i:], ") ") {
		return 0, false, s, false
	}
	n, _ = strconv.Atoi(s[:i])
	return n, true, strings.TrimSpace(s[i+2:]), true
}

// parseMarkers returns the numbers of every marker in s, in order of first
// appearance, without repeats.
func parseMarkers(s string) []int {
	var out []int
	for _, m := range MarkerRE.FindAllString(s, -1) {
		out = mergeCites(out, markerNumbers(m))
	}
	return out
}

// mergeCites appends the numbers of add that cites lacks.
func mergeCites(cites, add []int) []int {
	for _, n := range add {
		if !slices.Contains(cites, n) {
			cites = append(cites, n)
		}
	}
	return cites
}

// cleanSentence tidies what removing markers leaves: doubled spaces and a
// space before the final stop ("shift [1]." → "shift .").
func cleanSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{" .", " ,", " ;", " :", " !", " ?", " 。"} {
		s = strings.ReplaceAll(s, p, p[1:])
	}
	return s
}

// hasWord reports whether s contains a letter or digit.
func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// MarkerGroupRE matches a run of adjacent markers with the blanks before
// it (text.CitationMarkerGroup).
var MarkerGroupRE = text.CitationMarkerGroup

// keepMarkers rewrites every marker group in text to cite only the numbers
// keep accepts, dropping groups left empty together with the blank before
// them, and returns how many numbers it dropped.
func keepMarkers(text string, keep func(n int) bool) (string, int) {
	dropped := 0
	text = MarkerGroupRE.ReplaceAllStringFunc(text, func(group string) string {
		var kept []int
		for _, m := range MarkerRE.FindAllString(group, -1) {
			for _, n := range markerNumbers(m) {
				if keep(n) {
					kept = mergeCites(kept, []int{n})
				} else {
					dropped++
				}
			}
		}
		if len(kept) == 0 {
			return ""
		}
		lead := group[:len(group)-len(strings.TrimLeft(group, " \t"))]
		return lead + strings.TrimSpace(markers(kept))
	})
	return text, dropped
}
