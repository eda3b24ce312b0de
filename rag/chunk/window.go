package chunk

import "llmops/rag/parse"

// splitSentences is StrategySentence: every sentence of a text section is
// the core of one chunk whose text adds up to Overlap sentences on each
// side, from the same section, as far as MaxTokens allows. Code, tables
// and FAQ entries have no sentences worth windowing; they are chunked as
// by the heading strategy, with Core equal to Text.
func splitSentences(sections []section, cfg Config, tok Tokenizer) []Chunk {
	var out []Chunk
	for i := range sections {
		sec := &sections[i]
		s := newSplitter(sec.text, sec.kind, tok, cfg.MaxTokens)
		whole := span{0, len(sec.text)}
		if sec.kind != parse.KindText {
			for _, p := range s.split(whole, s.count(whole), boundariesFor(sec.kind)) {
				c := sec.chunkOf(p)
				c.Core = c.Text
				out = append(out, c)
			}
			continue
		}
		var cores []piece
		for _, sent := range sentenceSpans(sec.text, whole, nil) {
			// A sentence over MaxTokens becomes several cores.
			cores = append(cores, s.split(sent, s.count(sent), []boundary{atWords, atTokens})...)
		}
		for c := range cores {
			ch := sec.chunkOf(s.window(cores, c, cfg.Overlap))
			ch.Core = sec.text[cores[c].lo:cores[c].hi]
			out = append(out, ch)
		}
	}
	return out
}

// window returns the text from width cores before cores[c] to width cores
// after it, dropping the farthest core while it has more than max tokens.
func (s *splitter) window(cores []piece, c, width int) piece {
	lo, hi := max(c-width, 0), min(c+width, len(cores)-1)
	for lo < hi {
		if s.estimate(cores[lo:hi+1]) <= s.max {
			sp := span{cores[lo].lo, cores[hi].hi}
			if n := s.count(sp); n <= s.max {
				return piece{sp, n}
			}
		}
		if c-lo >= hi-c {
			lo++
		} else {
			hi--
		}
	}
	return cores[c]
}
