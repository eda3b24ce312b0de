// Package chunk cuts parsed documents into the chunks the retriever
// indexes: heading-aware recursive splitting by default, fixed token
// windows, or sentence windows. Sizes are in cl100k_base tokens, counted
// by a tokenizer that matches tiktoken exactly at a fraction of its cost.
package chunk

import (
	"errors"
	"slices"
	"strings"

	"llmops/rag/parse"
)

// Chunk is what the retriever indexes and the UI shows.
type Chunk struct {
	Index int    // position in the document, from 0
	Text  string // the text exactly as indexed, without the heading path
	// Headings is the heading path of the section where the chunk starts.
	Headings []string
	Page     int    // first page, for PDFs; 0 otherwise
	Kind     string // the section kind that holds most of the chunk's tokens
	Tokens   int    // Tokenizer.Count(Text)
	// Core is, for StrategySentence, the sentence the window in Text was
	// built around (for code, tables and FAQ entries, all of Text). It is
	// empty for other strategies.
	Core string
}

// Split chunks a parsed document with cfg, measuring with tok. It never
// loses text: every non-space character of every section is in some
// chunk's Text, in order (overlapping strategies repeat some). No chunk
// has more than cfg.MaxTokens tokens.
func Split(doc *parse.Document, cfg Config, tok Tokenizer) ([]Chunk, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if doc == nil || tok == nil {
		return nil, errors.New("chunk: nil document or tokenizer")
	}
	sections := prepare(doc.Sections)
	var chunks []Chunk
	switch cfg.strategy() {
	case StrategyFixed:
		chunks = splitFixed(sections, cfg, tok)
	case StrategySentence:
		chunks = splitSentences(sections, cfg, tok)
	default:
		chunks = splitHeadings(sections, cfg, tok)
	}
	for i := range chunks {
		chunks[i].Index = i
	}
	return chunks, nil
}

// section is a parse.Section ready to chunk: valid UTF-8, trimmed, with a
// kind, and with its own copy of the heading path, which chunks share.
type section struct {
	text     string
	headings []string
	page     int
	kind     string
}

// prepare drops empty sections and normalises the rest. Invalid UTF-8
// becomes U+FFFD so that byte offsets, counts and cuts agree.
func prepare(in []parse.Section) []section {
	out := make([]section, 0, len(in))
	for _, s := range in {
		kind := s.Kind
		if kind == "" {
			kind = parse.KindText
		}
		text := strings.ToValidUTF8(s.Text, "\uFFFD")
		sp := newSplitter(text, kind, nil, 0).trim(span{0, len(text)})
		if sp.lo == sp.hi {
			continue
		}
		out = append(out, section{
			text:     text[sp.lo:sp.hi],
			headings: slices.Clip(slices.Clone(s.Headings)),
			page:     s.Page,
			kind:     kind,
		})
	}
	return out
}

// chunkOf makes a chunk of a whole piece of one section.
func (s *section) chunkOf(p piece) Chunk {
	return Chunk{Text: s.text[p.lo:p.hi], Headings: s.headings, Page: s.page, Kind: s.kind, Tokens: p.tokens}
}
