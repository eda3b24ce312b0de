package text

import (
	"regexp"
	"strconv"
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
