package chunk

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"llmops/rag/parse"
)

// wordTokenizer counts words, so the sizes in these tests can be read off
// the text.
type wordTokenizer struct{}

func (wordTokenizer) Count(s string) int { return len(strings.Fields(s)) }

func words(n int, word string) string {
	return strings.TrimSpace(strings.Repeat(word+" ", n))
}

func mustSplit(t *testing.T, doc *parse.Document, cfg Config, tok Tokenizer) []Chunk {
	t.Helper()
	chunks, err := Split(doc, cfg, tok)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	return chunks
}

func texts(chunks []Chunk) []string {
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = c.Text
	}
	return out
}

func TestSplitHeadingKeepsSectionsThatFit(t *testing.T) {
	t.Parallel()
	doc := &parse.Document{Sections: []parse.Section{
		{Headings: []string{"Guide", "Install"}, Text: "\n  " + words(30, "install") + ".\n\n", Page: 1},
		{Headings: []string{"Guide", "Use"}, Text: words(30, "use") + ".", Page: 1, Kind: parse.KindText},
		{Headings: []string{"Guide", "Use"}, Text: "   "},
	}}
	got := mustSplit(t, doc, Config{MaxTokens: 40, MinTokens: 5}, wordTokenizer{})
	want := []Chunk{
		{Index: 0, Text: words(30, "install") + ".", Headings: []string{"Guide", "Install"}, Page: 1, Kind: parse.KindText, Tokens: 30},
		{Index: 1, Text: words(30, "use") + ".", Headings: []string{"Guide", "Use"}, Page: 1, Kind: parse.KindText, Tokens: 30},
	}
	if !slices.EqualFunc(got, want, chunksEqual) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func chunksEqual(a, b Chunk) bool {
	return a.Index == b.Index && a.Text == b.Text && slices.Equal(a.Headings, b.Headings) &&
		a.Page == b.Page && a.Kind == b.Kind && a.Tokens == b.Tokens && a.Core == b.Core
}

func TestSplitHeadingMergesSmallSections(t *testing.T) {
	t.Parallel()
	doc := &parse.Document{Sections: []parse.Section{
		{Headings: []string{"Slack"}, Text: "Intro.", Page: 1},
		{Headings: []string{"Slack", "Requirements"}, Text: words(20, "admin") + ".", Page: 1},
		{Headings: []string{"Slack", "Requirements"}, Text: "```\n/invite @Rosterly\n```", Page: 2, Kind: parse.KindCode},
		{Headings: []string{"Slack", "Connect"}, Text: "Click Connect.", Page: 2},
		{Headings: []string{"Teams"}, Text: words(12, "other") + ".", Page: 2}, // neither is small
	}}
	got := mustSplit(t, doc, Config{MaxTokens: 100, MinTokens: 10}, wordTokenizer{})
	want := []string{
		"Intro.\n\nRequirements\n" + words(20, "admin") + ".\n\n```\n/invite @Rosterly\n```\n\nConnect\nClick Connect.",
		words(12, "other") + ".",
	}
	if !slices.Equal(texts(got), want) {
		t.Fatalf("texts\n got %q\nwant %q", texts(got), want)
	}
	if c := got[0]; !slices.Equal(c.Headings, []string{"Slack"}) || c.Page != 1 || c.Kind != parse.KindText {
		t.Errorf("merged chunk: Headings %q, Page %d, Kind %s; want [Slack], 1, text", c.Headings, c.Page, c.Kind)
	}
}

func TestSplitHeadingMergeLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sections []parse.Section
		want     int // chunks
	}{
		{"different parents", []parse.Section{
			{Headings: []string{"A", "x"}, Text: "tiny"},
			{Headings: []string{"B", "y"}, Text: "tiny"},
		}, 2},
		{"parent after child", []parse.Section{
			{Headings: []string{"A", "x"}, Text: "tiny"},
			{Headings: []string{"A"}, Text: "tiny"},
		}, 2},
		{"both big enough", []parse.Section{
			{Headings: []string{"A", "x"}, Text: words(12, "big")},
			{Headings: []string{"A", "y"}, Text: words(12, "big")},
		}, 2},
		{"would exceed max", []parse.Section{
			{Headings: []string{"A", "x"}, Text: words(4, "small")},
			{Headings: []string{"A", "y"}, Text: words(48, "big")},
		}, 2},
		{"tiny fragments across pages", []parse.Section{
			{Headings: []string{"A", "x"}, Text: "tiny", Page: 1},
			{Headings: []string{"A", "y"}, Text: "tiny", Page: 2},
		}, 1},
		{"no merging below min zero", []parse.Section{
			{Headings: []string{"A"}, Text: "tiny"},
			{Headings: []string{"A"}, Text: "tiny"},
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustSplit(t, &parse.Document{Sections: tt.sections}, Config{MaxTokens: 50, MinTokens: 10}, wordTokenizer{})
			if len(got) != tt.want {
				t.Errorf("got %d chunks %q, want %d", len(got), texts(got), tt.want)
			}
		})
	}
	t.Run("min zero", func(t *testing.T) {
		t.Parallel()
		doc := &parse.Document{Sections: []parse.Section{{Text: "tiny"}, {Text: "tiny"}}}
		if got := mustSplit(t, doc, Config{MaxTokens: 50}, wordTokenizer{}); len(got) != 2 {
			t.Errorf("MinTokens 0: got %d chunks, want 2", len(got))
		}
	})
}

func TestSplitHeadingSplitsLargeSectionsGently(t *testing.T) {
	t.Parallel()
	para := func(w string) string { return words(15, w) + "." }
	doc := &parse.Document{Sections: []parse.Section{{
		Headings: []string{"Long"},
		Text:     para("one") + "\n\n" + para("two") + "\n\n" + para("three") + "\n\n" + para("four"),
	}}}
	got := mustSplit(t, doc, Config{MaxTokens: 35, MinTokens: 5}, wordTokenizer{})
	want := []string{para("one") + "\n\n" + para("two"), para("three") + "\n\n" + para("four")}
	if !slices.Equal(texts(got), want) {
		t.Errorf("got %q\nwant %q", texts(got), want)
	}
	for _, c := range got {
		if !slices.Equal(c.Headings, []string{"Long"}) {
			t.Errorf("Headings %q, want [Long]", c.Headings)
		}
	}
}

func TestSplitHeadingCodeSplitsOnlyWhenTooLong(t *testing.T) {
	t.Parallel()
	var lines []string
	for range 12 {
		lines = append(lines, "    call(a, b, c)")
	}
	code := "func main() {\n" + strings.Join(lines, "\n") + "\n}"
	doc := &parse.Document{Sections: []parse.Section{{Text: code, Kind: parse.KindCode}}}

	whole := mustSplit(t, doc, Config{MaxTokens: 60}, wordTokenizer{})
	if len(whole) != 1 || whole[0].Text != code {
		t.Fatalf("code that fits: got %q, want it whole", texts(whole))
	}
	split := mustSplit(t, doc, Config{MaxTokens: 20}, wordTokenizer{})
	if len(split) < 2 {
		t.Fatalf("code over max: got %d chunks, want several", len(split))
	}
	for _, c := range split {
		if c.Kind != parse.KindCode {
			t.Errorf("Kind %q, want code", c.Kind)
		}
		for _, line := range strings.Split(c.Text, "\n") {
			if line != "func main() {" && line != "}" && line != lines[0] {
				t.Errorf("line %q was cut or lost its indentation", line)
			}
		}
	}
}

func TestSplitCutsWordsLongerThanAChunk(t *testing.T) {
	t.Parallel()
	tok := mustTokenizer(t)
	blob := strings.Repeat("aGVsbG8gd29ybGQ", 200) // base64, no spaces
	doc := &parse.Document{Sections: []parse.Section{{Text: "Token: " + blob + " end."}}}
	for _, strategy := range []string{StrategyHeading, StrategyFixed, StrategySentence} {
		cfg := Config{Strategy: strategy, MaxTokens: 50, Overlap: 1}
		got := mustSplit(t, doc, cfg, tok)
		for _, c := range got {
			if c.Tokens > cfg.MaxTokens {
				t.Errorf("%s: chunk of %d tokens, max %d", strategy, c.Tokens, cfg.MaxTokens)
			}
		}
		if strategy != StrategySentence && !strings.Contains(strings.Join(texts(got), ""), blob) {
			t.Errorf("%s: the blob is not intact across chunks", strategy)
		}
	}
}

func TestSplitFixedOverlaps(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 100 {
		b.WriteString(string(rune('a'+i%26)) + "x ")
	}
	doc := &parse.Document{Sections: []parse.Section{
		{Headings: []string{"First"}, Text: b.String()[:100], Page: 1},
		{Headings: []string{"Second"}, Text: b.String()[100:], Page: 2},
	}}
	got := mustSplit(t, doc, Config{Strategy: StrategyFixed, MaxTokens: 30, Overlap: 5}, wordTokenizer{})
	for i, c := range got {
		if c.Tokens > 30 {
			t.Errorf("chunk %d: %d tokens, max 30", i, c.Tokens)
		}
		if i == 0 {
			continue
		}
		prev := strings.Fields(got[i-1].Text)
		if head := strings.Fields(c.Text)[:5]; !slices.Equal(head, prev[len(prev)-5:]) {
			t.Errorf("chunk %d starts %q, want the previous chunk's last 5 words %q", i, head, prev[len(prev)-5:])
		}
	}
	if last := got[len(got)-1]; !slices.Equal(last.Headings, []string{"Second"}) || last.Page != 2 {
		t.Errorf("last chunk: Headings %q page %d, want [Second] page 2", last.Headings, last.Page)
	}
}

func TestSplitSentenceWindows(t *testing.T) {
	t.Parallel()
	doc := &parse.Document{Sections: []parse.Section{
		{Headings: []string{"A"}, Text: "One one. Two two. Three three. Four four."},
		{Headings: []string{"B"}, Text: "Five five."},
		{Headings: []string{"B"}, Text: "| t | u |", Kind: parse.KindTable},
	}}
	cfg := Config{Strategy: StrategySentence, MaxTokens: 100, Overlap: 1}
	got := mustSplit(t, doc, cfg, wordTokenizer{})
	want := []struct{ core, text string }{
		{"One one.", "One one. Two two."},
		{"Two two.", "One one. Two two. Three three."},
		{"Three three.", "Two two. Three three. Four four."},
		{"Four four.", "Three three. Four four."},
		{"Five five.", "Five five."}, // windows stay inside a section
		{"| t | u |", "| t | u |"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d chunks %q, want %d", len(got), texts(got), len(want))
	}
	for i, w := range want {
		if got[i].Core != w.core || got[i].Text != w.text {
			t.Errorf("chunk %d: core %q text %q, want %q %q", i, got[i].Core, got[i].Text, w.core, w.text)
		}
	}

	// A tight MaxTokens drops context, the far side first, never the core.
	doc.Sections[0].Text = "One one one. Two two two. Three three three. Four four four."
	cfg.MaxTokens, cfg.Overlap = 8, 2
	got = mustSplit(t, doc, cfg, wordTokenizer{})
	if want := "Two two two. Three three three."; got[1].Core != "Two two two." || got[1].Text != want {
		t.Errorf("tight window: core %q text %q, want core %q text %q", got[1].Core, got[1].Text, "Two two two.", want)
	}
}

func TestSplitErrors(t *testing.T) {
	t.Parallel()
	tok := wordTokenizer{}
	if _, err := Split(&parse.Document{}, Config{Strategy: "magic", MaxTokens: 100}, tok); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad config: got %v, want ErrInvalidConfig", err)
	}
	if _, err := Split(nil, DefaultConfig(), tok); err == nil {
		t.Error("nil document: got no error")
	}
	if _, err := Split(&parse.Document{}, DefaultConfig(), nil); err == nil {
		t.Error("nil tokenizer: got no error")
	}
	if got := mustSplit(t, &parse.Document{}, DefaultConfig(), tok); len(got) != 0 {
		t.Errorf("empty document: got %d chunks", len(got))
	}
}

// TestSplitConcurrently shares one tokenizer, and its cache, between
// goroutines, as ingestion workers do; run it with -race.
func TestSplitConcurrently(t *testing.T) {
	t.Parallel()
	tok := mustTokenizer(t)
	docs := sampleDocuments(t)
	want := make([][]Chunk, len(docs))
	for i, d := range docs {
		want[i] = mustSplit(t, d, DefaultConfig(), tok)
	}
	errs := make(chan error, len(docs))
	for i, d := range docs {
		go func() {
			got, err := Split(d, DefaultConfig(), tok)
			if err == nil && !slices.EqualFunc(got, want[i], chunksEqual) {
				err = errors.New(d.Title + ": chunks differ from a sequential run")
			}
			errs <- err
		}()
	}
	for range docs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
