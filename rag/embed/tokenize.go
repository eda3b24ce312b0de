package embed

import (
	"llmops/rag/text"
)

// forEachToken calls fn with each token of text (see text.ForEachToken)
// longer than one byte: single letters and digits carry no topic.
func forEachToken(s string, buf []byte, fn func(tok []byte)) []byte {
	return text.ForEachToken(s, buf, 2, fn)
}

func isStopWord(tok []byte) bool { return text.IsStopWordBytes(tok) }

// stem applies the shared Snowball English stemmer.
func stem(word string) string { return text.Stem(word) }
