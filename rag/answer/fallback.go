package answer

import (
	"strings"

	"llmops/store"
)

// DefaultThreshold is the groundedness below which an answer is replaced
// by the fallback: with fewer than 60% of its claims supported, an answer
// misleads more often than it helps.
const DefaultThreshold = 0.6

// maxClosest bounds the documents a fallback suggests.
const maxClosest = 3

// ClosestTitles names the closest documents of a fallback's context:
// distinct titles in quotes (“Billing”), best first, at most three; a
// document without a title is named by its file name, never its path
// (the ingesting machine's, and this text reaches the widget's visitors).
func ClosestTitles(closest []store.ChunkRef) []string {
	var titles []string
	seen := make(map[string]bool)
	for _, ref := range closest {
		if ref.Document == nil || len(titles) == maxClosest {
			continue
		}
		title := strings.TrimSpace(ref.Document.Title)
		if title == "" {
			src := ref.Document.Source
			title = src[strings.LastIndexAny(src, `/\`)+1:]
		}
		if title == "" || seen[title] {
			continue
		}
		seen[title] = true
		titles = append(titles, "“"+title+"”")
	}
	return titles
}

// FallbackText says plainly that the documentation does not cover the
// question and names the closest documents of the context (distinct
// titles, best first), so the reader has somewhere to go next.
func FallbackText(closest []store.ChunkRef) string {
	const plain = "The documentation does not cover this."
	titles := ClosestTitles(closest)
	switch len(titles) {
	case 0:
		return plain
	case 1:
		return plain + " The closest article is " + titles[0] + "."
	}
	return plain + " The closest articles are " + strings.Join(titles[:len(titles)-1], ", ") + " and " + titles[len(titles)-1] + "."
}

// ApplyThreshold replaces a with the fallback answer when its
// groundedness is below threshold (normally DefaultThreshold), or when
// its relevance was scored (ScoreRelevance, or the extractive answerer)
// and is below DefaultMinRelevance: a grounded answer to another question
// misleads as much as an ungrounded one. A threshold of 0 never falls
// back. It reports whether it fell back.
// Ground must have scored a first.
func ApplyThreshold(a *Answer, chunks []store.ChunkRef, threshold float64) bool {
	if a.Fallback {
		return true
	}
	// A threshold of 0 turns falling back off, for relevance too.
	relevant := !a.relevanceScored || a.Relevance >= DefaultMinRelevance || threshold == 0
	if a.Groundedness >= threshold && relevant {
		return false
	}
	fallBack(a, chunks)
	return true
}

// fallBack turns a into the fallback answer. Groundedness, Relevance and
// Removed are kept: they explain the decision in the trace.
func fallBack(a *Answer, closest []store.ChunkRef) {
	a.Text = FallbackText(closest)
	a.Sentences = nil
	a.Citations = nil
	a.Fallback = true
}
