package chunk

import (
	"slices"
	"strings"
)

// splitFixed is StrategyFixed: the document's text, sections separated by
// blank lines, cut into windows of at most MaxTokens tokens at whitespace,
// each starting Overlap tokens (rounded down to whole words) before the
// previous one ended.
func splitFixed(sections []section, cfg Config, tok Tokenizer) []Chunk {
	doc := joinSections(sections)
	s := newSplitter(doc.text, "", tok, cfg.MaxTokens)
	// Words are the units of a window; a word over MaxTokens is cut into
	// token pieces.
	spans := wordSpans(doc.text, span{0, len(doc.text)})
	words := make([]piece, 0, len(spans))
	for _, w := range spans {
		words = s.leaves(w, s.count(w), []boundary{atTokens}, words)
	}
	var out []Chunk
	done := 0 // words[:done] are in a chunk already
	for i := 0; i < len(words); {
		p, n := s.fill(words[i:])
		if i+n <= done {
			i = done // the overlap left no room for a new word
			continue
		}
		out = append(out, doc.chunkOf(p))
		done = i + n
		if done == len(words) {
			break
		}
		i = overlapStart(words, i, done, cfg)
	}
	return out
}

// overlapStart returns where the window after words[start:end] begins:
// whole words worth at most Overlap tokens before end, leaving room for
// the next word, and always after start.
func overlapStart(words []piece, start, end int, cfg Config) int {
	next, overlap := end, 0
	for next > start+1 {
		n := words[next-1].tokens
		if overlap+n > cfg.Overlap || overlap+n+words[end].tokens >= cfg.MaxTokens {
			break
		}
		overlap += n
		next--
	}
	return next
}

// joined is a document's sections as one text.
type joined struct {
	text     string
	starts   []int // where each section begins in text
	sections []section
}

func joinSections(sections []section) *joined {
	d := &joined{sections: sections, starts: make([]int, len(sections))}
	var b strings.Builder
	for i, sec := range sections {
		if i > 0 {
			b.WriteString("\n\n")
		}
		d.starts[i] = b.Len()
		b.WriteString(sec.text)
	}
	d.text = b.String()
	return d
}

// chunkOf takes Headings and Page from the section where p starts and Kind
// from the section that holds most of its bytes.
func (d *joined) chunkOf(p piece) Chunk {
	first := d.sectionAt(p.lo)
	kind, most := d.sections[first].kind, 0
	for i := first; i < len(d.sections) && d.starts[i] < p.hi; i++ {
		end := d.starts[i] + len(d.sections[i].text)
		if n := min(end, p.hi) - max(d.starts[i], p.lo); n > most {
			kind, most = d.sections[i].kind, n
		}
	}
	sec := &d.sections[first]
	return Chunk{Text: d.text[p.lo:p.hi], Headings: sec.headings, Page: sec.page, Kind: kind, Tokens: p.tokens}
}

// sectionAt returns the index of the section holding byte off of text.
func (d *joined) sectionAt(off int) int {
	i, _ := slices.BinarySearch(d.starts, off+1)
	return i - 1
}
