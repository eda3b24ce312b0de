package guard

import (
	"regexp"

	"llmops/rag/text"
)

// placeholderRe matches the placeholders redaction leaves (<EMAIL_1>):
// they are not words of the question.
var placeholderRe = regexp.MustCompile(`<[A-Z]+_\d+>`)

// ScopeScore is the retrieval confidence the scope guard holds a question
// to: the share of the question's content words (stemmed, stop words
// left out) that appear anywhere in the retrieved passages, 0..1. A
// question about the product shares most of its words with the passages
// retrieval found for it; one about the weather shares none or one. No
// passages, or a question of stop words only, scores 0 and 1.
func ScopeScore(question string, passages []string) float64 {
	question = placeholderRe.ReplaceAllString(question, " ")
	terms := map[string]bool{}
	var buf []byte
	buf = text.ForEachToken(question, buf, 2, func(tok []byte) {
		w := string(tok)
		if !text.IsStopWord(w) {
			terms[text.Stem(w)] = false
		}
	})
	if len(terms) == 0 {
		return 1
	}
	if len(passages) == 0 {
		return 0
	}
	// Stemming every passage word costs more than the rest: only words
	// that start like a question term are stemmed (a stem is nearly
	// always a prefix of its word's first three letters' word).
	prefixes := map[string]bool{}
	for t := range terms {
		prefixes[t[:min(3, len(t))]] = true
	}
	for _, p := range passages {
		buf = text.ForEachToken(p, buf, 2, func(tok []byte) {
			if !prefixes[string(tok[:min(3, len(tok))])] || text.IsStopWordBytes(tok) {
				return
			}
			if s := text.Stem(string(tok)); len(s) > 0 {
				if _, ok := terms[s]; ok {
					terms[s] = true
				}
			}
		})
	}
	found := 0
	for _, ok := range terms {
		if ok {
			found++
		}
	}
	return float64(found) / float64(len(terms))
}
