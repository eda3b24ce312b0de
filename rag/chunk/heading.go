package chunk

import (
	"llmops/rag/parse"
	"slices"
	"strings"
)

// splitHeadings is StrategyHeading: a section that fits is one chunk, a
// larger one is split at its gentlest boundaries, and a small whole
// section joins its neighbour when both sit under one parent heading.
func splitHeadings(sections []section, cfg Config, tok Tokenizer) []Chunk {
	var out []Chunk
	var open *draft // the last chunk of whole sections, still open to merges
	for i := range sections {
		sec := &sections[i]
		n := tok.Count(sec.text)
		if open != nil && open.absorb(sec, n, cfg, tok) {
			continue
		}
		if open != nil {
			out = append(out, open.chunk())
			open = nil
		}
		if n <= cfg.MaxTokens {
			open = newDraft(sec, n)
			continue
		}
		s := newSplitter(sec.text, sec.kind, tok, cfg.MaxTokens)
		for _, p := range s.split(span{0, len(sec.text)}, n, boundariesFor(sec.kind)) {
			out = append(out, sec.chunkOf(p))
		}
	}
	if open != nil {
		out = append(out, open.chunk())
	}
	return out
}

// draft is a chunk made of whole sections.
type draft struct {
	first  *section
	text   string
	tokens int
	last   []string // heading path of the last section absorbed
	kinds  []kindShare
}

type kindShare struct {
	kind   string
	tokens int
}

func newDraft(sec *section, n int) *draft {
	return &draft{first: sec, text: sec.text, tokens: n, last: sec.headings, kinds: []kindShare{{sec.kind, n}}}
}

// absorb appends sec, which has n tokens, if one of the two is smaller than
// MinTokens, sec sits under the draft's parent heading and the result
// fits. Headings of sec that the draft does not show yet become lines of
// the text, so a reader (and the index) still sees them.
func (d *draft) absorb(sec *section, n int, cfg Config, tok Tokenizer) bool {
	// An FAQ entry is one question and its answer: it stays its own chunk,
	// however short, so a hit cites exactly that answer.
	if sec.kind == parse.KindQA || d.first.kind == parse.KindQA {
		return false
	}
	small := d.tokens < cfg.MinTokens || n < cfg.MinTokens
	if !small || d.tokens+n > cfg.MaxTokens || !d.covers(sec.headings) {
		return false
	}
	text := d.text + "\n\n" + headingLines(d.last, sec.headings) + sec.text
	c := tok.Count(text)
	if c > cfg.MaxTokens {
		return false
	}
	d.text, d.tokens, d.last = text, c, sec.headings
	for i := range d.kinds {
		if d.kinds[i].kind == sec.kind {
			d.kinds[i].tokens += n
			return true
		}
	}
	d.kinds = append(d.kinds, kindShare{sec.kind, n})
	return true
}

// covers reports whether a section with heading path h may join the
// draft: it sits under the parent heading of the draft's first section and
// no higher (a sibling, a child, a sibling's child). The draft's heading
// path then holds for everything in it up to that parent, and the heading
// lines that absorb adds name the rest.
func (d *draft) covers(h []string) bool {
	first := d.first.headings
	parent := first[:max(len(first)-1, 0)]
	return len(h) >= len(first) && slices.Equal(h[:len(parent)], parent)
}

// headingLines returns the headings of path that the text so far, last
// written under prev, does not show, one per line. Returning to a parent
// repeats the parent's own heading so its text is not read as the child's.
func headingLines(prev, path []string) string {
	k := 0
	for k < len(prev) && k < len(path) && prev[k] == path[k] {
		k++
	}
	if k == len(path) && k < len(prev) && k > 0 {
		k--
	}
	if k == len(path) {
		return ""
	}
	return strings.Join(path[k:], "\n") + "\n"
}

func (d *draft) chunk() Chunk {
	kind := d.kinds[0]
	for _, k := range d.kinds[1:] {
		if k.tokens > kind.tokens {
			kind = k
		}
	}
	return Chunk{Text: d.text, Headings: d.first.headings, Page: d.first.page, Kind: kind.kind, Tokens: d.tokens}
}
