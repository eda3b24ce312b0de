package chunk

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"llmops/rag/parse"
)

// Quality flags returned by Flags.
const (
	FlagShort = "short" // under MinTokens/2 tokens: too little to retrieve on
	FlagLong  = "long"  // over MaxTokens by more than 10%
	FlagCut   = "cut"   // ends in the middle of a sentence
)

// Flags returns the quality problems of c under cfg, for the document page
// of the UI: FlagShort, FlagLong and FlagCut, in that order, or none.
// Chunks made under another configuration can be long; "cut" ignores code,
// tables, FAQ entries and chunks that are only a heading.
func Flags(c Chunk, cfg Config) []string {
	var flags []string
	if c.Tokens < cfg.MinTokens/2 {
		flags = append(flags, FlagShort)
	}
	if c.Tokens*10 > cfg.MaxTokens*11 {
		flags = append(flags, FlagLong)
	}
	if endsMidSentence(c) {
		flags = append(flags, FlagCut)
	}
	return flags
}

// endsMidSentence reports whether c stops where a reader would expect more:
// its last line is prose that does not end in sentence punctuation.
func endsMidSentence(c Chunk) bool {
	switch c.Kind {
	case parse.KindCode, parse.KindTable, parse.KindQA:
		return false
	}
	text := strings.TrimRightFunc(c.Text, unicode.IsSpace)
	if text == "" {
		return false
	}
	lastLine := strings.TrimSpace(text[strings.LastIndexByte(text, '\n')+1:])
	if isListItem(lastLine) || strings.HasPrefix(lastLine, "|") || strings.HasPrefix(lastLine, "#") {
		return false
	}
	if !strings.Contains(text, "\n") && slices.ContainsFunc(c.Headings, func(h string) bool { return strings.EqualFold(h, lastLine) }) {
		return false // a heading on its own
	}
	r, _ := utf8.DecodeLastRuneInString(strings.TrimRightFunc(lastLine, isCloser))
	return !isStop(r) && !isFullWidthStop(r)
}

// isListItem reports whether line starts with a bullet or a number
// followed by "." or ")".
func isListItem(line string) bool {
	for _, bullet := range []string{"- ", "* ", "+ ", "• "} {
		if strings.HasPrefix(line, bullet) {
			return true
		}
	}
	digits := strings.TrimLeft(line, "0123456789")
	return len(digits) < len(line) && (strings.HasPrefix(digits, ". ") || strings.HasPrefix(digits, ") "))
}
