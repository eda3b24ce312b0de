package chunk

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"llmops/rag/parse"
)

// TestSplitProperties checks every strategy, on the sample articles and on
// random documents with random configurations, for the promises of Split:
// no text lost, no duplication beyond what the strategy allows, sizes in
// bounds and exactly counted, indexes in order, true heading paths.
func TestSplitProperties(t *testing.T) {
	t.Parallel()
	tok := mustTokenizer(t)
	type trial struct {
		name string
		doc  *parse.Document
		cfg  Config
	}
	var trials []trial
	for _, doc := range sampleDocuments(t) {
		for _, cfg := range []Config{
			DefaultConfig(),
			{Strategy: StrategyHeading, MaxTokens: 60, MinTokens: 20},
			{Strategy: StrategyFixed, MaxTokens: 350, Overlap: 50},
			{Strategy: StrategyFixed, MaxTokens: 40, Overlap: 10},
			{Strategy: StrategySentence, MaxTokens: 350, Overlap: 1},
			{Strategy: StrategySentence, MaxTokens: 30, Overlap: 2},
		} {
			trials = append(trials, trial{doc.Title, doc, cfg})
		}
		trials = append(trials, trial{doc.Title + " (paged)", paged(doc), DefaultConfig()})
	}
	rng := rand.New(rand.NewPCG(20260914, 1))
	for i := range 250 {
		trials = append(trials, trial{fmt.Sprintf("random %d", i), randomDocument(rng), randomConfig(rng)})
	}
	for _, tr := range trials {
		chunks, err := Split(tr.doc, tr.cfg, tok)
		if err != nil {
			t.Fatalf("%s %+v: %v", tr.name, tr.cfg, err)
		}
		if err := checkChunks(tr.doc, tr.cfg, tok, chunks); err != nil {
			t.Errorf("%s %+v: %v", tr.name, tr.cfg, err)
		}
	}
}

func randomConfig(rng *rand.Rand) Config {
	cfg := Config{Strategy: []string{"", StrategyHeading, StrategyFixed, StrategySentence}[rng.IntN(4)]}
	cfg.MaxTokens = []int{minMaxTokens, 12, 30, 80, 200, 350, 600}[rng.IntN(7)]
	cfg.MinTokens = rng.IntN(min(cfg.MaxTokens, 100))
	switch cfg.strategy() {
	case StrategyFixed:
		cfg.Overlap = rng.IntN(cfg.MaxTokens)
	case StrategySentence:
		cfg.Overlap = rng.IntN(4)
	}
	return cfg
}

// checkChunks returns the first broken promise of Split, or nil.
func checkChunks(doc *parse.Document, cfg Config, tok Tokenizer, chunks []Chunk) error {
	sections := prepare(doc.Sections)
	input := visible(sectionTexts(sections)...)
	if len(input) > 0 && len(chunks) == 0 {
		return fmt.Errorf("no chunks for %d characters", len(input))
	}
	for i, c := range chunks {
		switch {
		case c.Index != i:
			return fmt.Errorf("chunk %d: Index %d", i, c.Index)
		case c.Tokens != tok.Count(c.Text):
			return fmt.Errorf("chunk %d: Tokens %d, Count(Text) %d", i, c.Tokens, tok.Count(c.Text))
		case c.Tokens > cfg.MaxTokens:
			return fmt.Errorf("chunk %d: %d tokens, max %d: %q", i, c.Tokens, cfg.MaxTokens, c.Text)
		case strings.TrimSpace(c.Text) == "":
			return fmt.Errorf("chunk %d: blank", i)
		case !utf8.ValidString(c.Text):
			return fmt.Errorf("chunk %d: invalid UTF-8", i)
		case cfg.strategy() == StrategySentence && !strings.Contains(c.Text, c.Core):
			return fmt.Errorf("chunk %d: core %q not in text %q", i, c.Core, c.Text)
		case cfg.strategy() != StrategySentence && c.Core != "":
			return fmt.Errorf("chunk %d: core %q outside the sentence strategy", i, c.Core)
		}
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.Text
	}
	got := visible(texts...)
	if !isSubsequence(input, got) {
		return fmt.Errorf("text lost: input %d visible characters are not all in the chunks, in order", len(input))
	}
	switch cfg.strategy() {
	case StrategyHeading:
		// Only merged heading lines may add text, and without merging nothing.
		extra := len(got) - len(input)
		var headingChars int
		for _, s := range sections {
			headingChars += len(visible(s.headings...))
		}
		if extra > headingChars || (cfg.MinTokens == 0 && extra != 0) {
			return fmt.Errorf("%d characters added, headings have %d", extra, headingChars)
		}
	case StrategyFixed:
		// Each boundary repeats at most Overlap words, plus one if the cut
		// fell inside a word too long for a chunk.
		extra := len(strings.Fields(strings.Join(texts, "\n"))) - len(strings.Fields(strings.Join(sectionTexts(sections), "\n")))
		if limit := (cfg.Overlap + 1) * max(len(chunks)-1, 0); extra > limit {
			return fmt.Errorf("%d words repeated, at most %d allowed", extra, limit)
		}
	case StrategySentence:
		// The cores partition the text.
		cores := make([]string, len(chunks))
		for i, c := range chunks {
			cores[i] = c.Core
		}
		if !slices.Equal(visible(cores...), input) {
			return fmt.Errorf("cores do not add up to the text")
		}
	}
	return checkHeadings(sections, cfg, chunks)
}

// checkHeadings finds where each chunk starts (for the sentence strategy,
// its core) and checks its Headings and Page against that section. Chunks
// are verbatim parts of the document, in order, except that a merged
// heading chunk has heading lines after a blank line: for those, the
// first paragraph is searched for. Fixed windows overlap, so a window may
// be any match that starts and ends after the previous one; in repetitive
// text several do, and the first whose section agrees is taken (taking
// the earliest keeps every later true position possible).
func checkHeadings(sections []section, cfg Config, chunks []Chunk) error {
	doc := joinSections(sections)
	from, prevEnd := 0, 0
	for i, c := range chunks {
		probe := c.Text
		switch {
		case cfg.strategy() == StrategySentence:
			probe = c.Core
		case cfg.strategy() == StrategyHeading && !strings.Contains(doc.text[from:], probe):
			probe, _, _ = strings.Cut(probe, "\n\n")
		}
		at, first := -1, -1
		for search := from; search <= len(doc.text); {
			k := strings.Index(doc.text[search:], probe)
			if k < 0 {
				break
			}
			p := search + k
			search = p + 1
			if cfg.strategy() == StrategyFixed && p+len(probe) <= prevEnd {
				continue
			}
			if first < 0 {
				first = p
			}
			sec := doc.sections[doc.sectionAt(p)]
			if slices.Equal(c.Headings, sec.headings) && c.Page == sec.page {
				at = p
				break
			}
			if cfg.strategy() != StrategyFixed {
				break // chunks that do not overlap are found at their first match
			}
		}
		switch {
		case first < 0:
			return fmt.Errorf("chunk %d: %q not found after byte %d", i, probe, from)
		case at < 0:
			sec := doc.sections[doc.sectionAt(first)]
			return fmt.Errorf("chunk %d: Headings %q page %d, but starts in %q page %d", i, c.Headings, c.Page, sec.headings, sec.page)
		}
		from, prevEnd = at+len(probe), at+len(probe)
		if cfg.strategy() == StrategyFixed {
			from = at + 1
		}
	}
	return nil
}

func sectionTexts(sections []section) []string {
	texts := make([]string, len(sections))
	for i, s := range sections {
		texts[i] = s.text
	}
	return texts
}

// visible returns the non-space runes of texts, in order.
func visible(texts ...string) []rune {
	var out []rune
	for _, t := range texts {
		for _, r := range t {
			if !unicode.IsSpace(r) {
				out = append(out, r)
			}
		}
	}
	return out
}

func isSubsequence(small, big []rune) bool {
	i := 0
	for _, r := range big {
		if i < len(small) && small[i] == r {
			i++
		}
	}
	return i == len(small)
}

func TestCutTokens(t *testing.T) {
	t.Parallel()
	tok := mustTokenizer(t)
	blobs := []string{
		strings.Repeat("aGVsbG8gd29ybGQ", 150),
		strings.Repeat("\u00e9t\u00e9\U0001F600\u4e2d", 150),
		strings.Repeat("=", 3000),
		"x",
	}
	for _, blob := range blobs {
		for _, limit := range []int{minMaxTokens, 50, 350} {
			s := newSplitter(blob, parse.KindText, tok, limit)
			pieces := s.cutTokens(span{0, len(blob)}, nil)
			pos := 0
			for _, p := range pieces {
				text := blob[p.lo:p.hi]
				switch {
				case p.lo != pos || p.hi <= p.lo:
					t.Fatalf("max %d: piece %v after byte %d", limit, p.span, pos)
				case p.tokens != tok.Count(text) || p.tokens > limit:
					t.Fatalf("max %d: piece %q has %d tokens (counted %d)", limit, text, p.tokens, tok.Count(text))
				case !utf8.ValidString(text):
					t.Fatalf("max %d: piece %q cuts a rune", limit, text)
				}
				pos = p.hi
			}
			if pos != len(blob) {
				t.Fatalf("max %d: pieces end at %d of %d", limit, pos, len(blob))
			}
			// Pieces are full: a piece and the next rune would not fit.
			for _, p := range pieces[:len(pieces)-1] {
				_, size := utf8.DecodeRuneInString(blob[p.hi:])
				if n := tok.Count(blob[p.lo : p.hi+size]); n <= limit {
					t.Errorf("max %d: piece %q stops early (%d tokens, %d with one more rune)", limit, blob[p.lo:p.hi], p.tokens, n)
				}
			}
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("Hello world. Second sentence.\n\n- a list\n- of items", 12, 3, 0)
	f.Add("aGVsbG8gd29ybGQ=aGVsbG8gd29ybGQ=aGVsbG8gd29ybGQ=", 8, 0, 1)
	f.Add("\u4e2d\u6587\u3002\u4e2d\u6587\u3002\n\n\ttabbed\n", 9, 1, 2)
	f.Fuzz(func(t *testing.T, text string, maxTokens, overlap, strategy int) {
		cfg := Config{
			Strategy:  []string{StrategyHeading, StrategyFixed, StrategySentence}[uint(strategy)%3],
			MaxTokens: minMaxTokens + int(uint(maxTokens)%200),
			MinTokens: 5,
		}
		cfg.Overlap = int(uint(overlap) % uint(min(cfg.MaxTokens, maxWindowWidth+1)))
		half := len(text) / 2
		doc := &parse.Document{Sections: []parse.Section{
			{Headings: []string{"A"}, Text: text[:half]},
			{Headings: []string{"A", "B"}, Text: text[half:], Kind: parse.KindCode},
		}}
		tok := mustTokenizer(t)
		chunks, err := Split(doc, cfg, tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkChunks(doc, cfg, tok, chunks); err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
	})
}
