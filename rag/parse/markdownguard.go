package parse

import (
	"strings"
)

// goldmark cannot be cancelled, some inputs take it quadratic time, and its
// syntax tree costs many times the input. 64 KB of a line opening nested
// containers ("> > > …", "- - - …"), of a staircase of ever deeper list
// items, or of a paragraph of unmatched delimiters ("*a_*a_…", "[a](["),
// takes seconds; 64 MB would take days. No real document comes near, so
// splitMarkdown rewrites only such input, and cuts the source into pieces
// that goldmark parses one at a time:
//
//   - a line may open at most maxLineContainers block quotes and list
//     items; the markers beyond that are dropped, the text is kept (this
//     applies in code blocks too, whose lines goldmark reads the same way);
//   - indentation outside code fences is capped at maxIndent columns;
//   - a paragraph (a run of non-blank lines outside a code fence) with more
//     than maxInlineDelimiters delimiter characters has them all
//     backslash-escaped, so they read as the literal characters they are;
//   - pieces end before a top-level block after a blank line once they
//     pass markdownPiece bytes (so a link reference defined in one piece
//     does not resolve in another, which only costs the link), or at any
//     line outside a code fence past four times that.
const (
	maxLineContainers   = 32
	maxIndent           = 64
	maxInlineDelimiters = 2000
	markdownPiece       = 256 << 10
)

// markdownDelimiters are the characters that start inline constructs
// goldmark has to match up.
const markdownDelimiters = "*_[]`<!~"

func splitMarkdown(src string) []string {
	lines := strings.SplitAfter(src, "\n")
	var fence string // the open code fence ("```", "~~~~"), if any
	var block []int  // indexes of the lines of the current paragraph
	prefixes := make([]int, len(lines))
	var pieces []string
	pieceStart, pieceSize := 0, 0
	prevBlank := true
	cut := func(end int) {
		escapeBlock(lines, prefixes, block)
		block = block[:0]
		if end > pieceStart {
			pieces = append(pieces, strings.Join(lines[pieceStart:end], ""))
		}
		pieceStart, pieceSize = end, 0
	}
	for i := range lines {
		if fence == "" {
			lines[i] = capIndent(lines[i])
		}
		// Even in a fence: goldmark reads a line's container markers before
		// it knows the line is code.
		lines[i], prefixes[i] = capContainers(lines[i])
		line := lines[i]
		body := strings.TrimLeft(line[prefixes[i]:], " ")
		blank := strings.TrimSpace(body) == ""
		topLevel := line != "" && line[0] != ' ' && line[0] != '\t' && prefixes[i] == 0 && !blank
		if fence == "" && (pieceSize >= 4*markdownPiece || pieceSize >= markdownPiece && topLevel && (prevBlank || atxLevel(line) > 0)) {
			cut(i)
		}
		pieceSize += len(line)
		prevBlank = blank
		if fence != "" {
			if strings.HasPrefix(body, fence) && strings.TrimRight(strings.TrimLeft(body, fence[:1]), " \t\r\n") == "" {
				fence = ""
			}
			continue
		}
		if f := openingFence(body); f != "" {
			escapeBlock(lines, prefixes, block)
			block = block[:0]
			fence = f
			continue
		}
		if blank {
			escapeBlock(lines, prefixes, block)
			block = block[:0]
			continue
		}
		block = append(block, i)
	}
	cut(len(lines))
	return pieces
}

// capIndent shortens leading whitespace wider than maxIndent columns.
func capIndent(line string) string {
	width, i := 0, 0
	for ; i < len(line) && (line[i] == ' ' || line[i] == '\t'); i++ {
		if line[i] == '\t' {
			width += 4 - width%4
		} else {
			width++
		}
	}
	if width <= maxIndent {
		return line
	}
	return strings.Repeat(" ", maxIndent) + line[i:]
}

// openingFence returns the fence a line opens ("```", "~~~~"), or "".
func openingFence(body string) string {
	if len(body) < 3 || body[0] != '`' && body[0] != '~' {
		return ""
	}
	n := 0
	for n < len(body) && body[n] == body[0] {
		n++
	}
	if n < 3 {
		return ""
	}
	return body[:n]
}

// capContainers drops the container markers of a line beyond the first
// maxLineContainers. It returns the line and the length of its (kept)
// container prefix.
func capContainers(line string) (string, int) {
	pos, depth, cut := 0, 0, 0
	for {
		p := pos
		for p < len(line) && p-pos < 4 && line[p] == ' ' {
			p++
		}
		n := containerMarker(line[p:])
		if p-pos > 3 || n == 0 {
			break
		}
		depth++
		pos = p + n
		if depth == maxLineContainers {
			cut = pos
		}
	}
	if depth <= maxLineContainers {
		return line, pos
	}
	return line[:cut] + " " + strings.TrimLeft(line[pos:], " \t"), cut
}

// containerMarker returns the length of the block-quote or list marker
// that s starts with, or 0.
func containerMarker(s string) int {
	if s == "" {
		return 0
	}
	spaceAt := func(i int) bool { return i < len(s) && (s[i] == ' ' || s[i] == '\t') }
	switch c := s[0]; {
	case c == '>':
		return 1
	case c == '-' || c == '*' || c == '+':
		if spaceAt(1) {
			return 1
		}
	case c >= '0' && c <= '9':
		d := 0
		for d < len(s) && d < 9 && s[d] >= '0' && s[d] <= '9' {
			d++
		}
		if d < len(s) && (s[d] == '.' || s[d] == ')') && spaceAt(d+1) {
			return d + 1
		}
	}
	return 0
}

// escapeBlock backslash-escapes the inline delimiters of a paragraph that
// has too many of them, after each line's container prefix.
func escapeBlock(lines []string, prefixes []int, block []int) {
	count := 0
	for _, i := range block {
		count += countAny(lines[i][prefixes[i]:], markdownDelimiters)
	}
	if count <= maxInlineDelimiters {
		return
	}
	for _, i := range block {
		var b strings.Builder
		b.WriteString(lines[i][:prefixes[i]])
		for _, r := range lines[i][prefixes[i]:] {
			if r == '\\' || r < 0x80 && strings.IndexByte(markdownDelimiters, byte(r)) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		lines[i] = b.String()
	}
}

func countAny(s, chars string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(chars, s[i]) >= 0 {
			n++
		}
	}
	return n
}
