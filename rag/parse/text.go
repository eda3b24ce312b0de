package parse

import (
	"context"
	"strings"
)

// parseText reads a plain-text file: one Section, no headings, paragraphs
// split on blank lines. Lines that look like headings are not guessed at:
// plain text has no markup to tell a heading from a short sentence.
func parseText(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	b := newSectionBuilder(ctx, lim)
	for _, para := range splitParagraphs(text) {
		b.paragraph(para)
	}
	sections, err := b.done()
	if err != nil {
		return nil, err
	}
	return &Document{Title: fileStem(name), Sections: sections}, nil
}

// splitParagraphs splits text on blank lines (lines of only whitespace).
func splitParagraphs(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var paras []string
	var cur []string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				paras = append(paras, strings.Join(cur, "\n"))
				cur = cur[:0]
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		paras = append(paras, strings.Join(cur, "\n"))
	}
	return paras
}
