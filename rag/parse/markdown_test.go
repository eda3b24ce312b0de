package parse

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMarkdownPathological feeds inputs on which goldmark alone takes
// quadratic time (seconds for 64 KB); after splitMarkdown they are linear.
func TestMarkdownPathological(t *testing.T) {
	const size = 1 << 20
	staircase := func() string {
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			b.WriteString(strings.Repeat(" ", 2*i) + "- step\n")
		}
		return b.String()
	}
	tests := map[string]string{
		"nested quotes":     strings.Repeat(">", size) + " deep",
		"nested lists":      strings.Repeat("- ", size/2) + "deep",
		"nested ordered":    strings.Repeat("1. ", size/3) + "deep",
		"staircase":         staircase(),
		"emphasis":          "# T\n" + strings.Repeat("*a_", size/3),
		"unclosed links":    "# T\n" + strings.Repeat("[a](", size/4),
		"one long table":    "| a | b |\n|---|---|\n" + strings.Repeat("| c | d |\n", size/10),
		"many definitions":  strings.Repeat("[a]: /u\n", size/16) + strings.Repeat("[a] ", size/8),
		"quotes and fences": strings.Repeat("> ```\n> *a_\n", size/12),
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			doc, err := parseAs(testCtx(t), Markdown, "x.md", []byte(src), DefaultLimits())
			if elapsed := time.Since(start); elapsed > slowParse {
				t.Errorf("took %v for %d KB", elapsed, len(src)>>10)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSections(t, doc)
		})
	}
}

// TestMarkdownPieces checks that a document long enough to be parsed in
// pieces gives the same sections as its parts parsed alone.
func TestMarkdownPieces(t *testing.T) {
	data, err := os.ReadFile("testdata/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := splitFrontMatter(string(data))
	one, err := parseAs(testCtx(t), Markdown, "one.md", []byte(body), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	n := 2*markdownPiece/len(body) + 3
	many, err := parseAs(testCtx(t), Markdown, "many.md", []byte(strings.Repeat(body+"\n", n)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if pieces := len(splitMarkdown(strings.Repeat(body+"\n", n))); pieces < 2 {
		t.Fatalf("got %d piece, want several", pieces)
	}
	if len(many.Sections) != n*len(one.Sections) {
		t.Fatalf("got %d sections, want %d × %d", len(many.Sections), n, len(one.Sections))
	}
	for i, s := range many.Sections {
		want := one.Sections[i%len(one.Sections)]
		if s.Text != want.Text || s.Kind != want.Kind || strings.Join(s.Headings, ">") != strings.Join(want.Headings, ">") {
			t.Fatalf("section %d = %+v, want %+v", i, s, want)
		}
	}
}
