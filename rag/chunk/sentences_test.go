package chunk

import (
	"slices"
	"testing"
)

func TestSentences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", []string{}},
		{"blank", " \n\t ", []string{}},
		{"one", "Hello world.", []string{"Hello world."}},
		{"no punctuation", "  Hello world  ", []string{"Hello world"}},
		{"three", "One. Two! Three?", []string{"One.", "Two!", "Three?"}},
		{"abbreviations", "Use a chat tool, e.g. Slack or Teams. Mr. Smith agrees, i.e. yes. Pro vs. Enterprise differ.",
			[]string{"Use a chat tool, e.g. Slack or Teams.", "Mr. Smith agrees, i.e. yes.", "Pro vs. Enterprise differ."}},
		{"decimals and versions", "Rosterly 4.2 shipped. It costs $4.50 per user. Upgrade to v5.0. Then relax.",
			[]string{"Rosterly 4.2 shipped.", "It costs $4.50 per user.", "Upgrade to v5.0.", "Then relax."}},
		{"urls", "See https://help.rosterly.com/a.b?x=1. Or mail support@rosterly.com. Done.",
			[]string{"See https://help.rosterly.com/a.b?x=1.", "Or mail support@rosterly.com.", "Done."}},
		{"initials", "Made in the U.S. Army style. Plan B. Next.", []string{"Made in the U.S. Army style.", "Plan B.", "Next."}},
		{"lower case continues", "The total is approx. five. it is fine. Next one.", []string{"The total is approx. five. it is fine.", "Next one."}},
		{"no.", "See No. 5 below. Go.", []string{"See No. 5 below.", "Go."}},
		{"ellipsis", "Wait... What? Fine…  Really.", []string{"Wait...", "What?", "Fine…", "Really."}},
		{"quotes", `She said "Stop." Then she left. "Why?" he asked. (It rained.) Done.`,
			[]string{`She said "Stop."`, "Then she left.", `"Why?" he asked.`, "(It rained.)", "Done."}},
		{"curly quotes", "He wrote \u201cClick Save.\u201d Nothing happened.", []string{"He wrote \u201cClick Save.\u201d", "Nothing happened."}},
		{"markdown emphasis", "Click **Save.** Then **Publish**.", []string{"Click **Save.**", "Then **Publish**."}},
		{"bullet list", "Requirements\n- Owner or Admin role\n- A Slack workspace\n* Another item",
			[]string{"Requirements", "- Owner or Admin role", "- A Slack workspace", "* Another item"}},
		{"numbered list", "1. In Rosterly, go to Settings.\n2. Click Connect. You are redirected.\n10. Save",
			[]string{"1. In Rosterly, go to Settings.", "2. Click Connect.", "You are redirected.", "10. Save"}},
		{"hard-wrapped paragraph", "This sentence is wrapped\nover two lines. Next\nLine is separate",
			[]string{"This sentence is wrapped\nover two lines.", "Next", "Line is separate"}},
		{"list item continuation", "- An item that wraps\n  onto the next line\n- Second", []string{"- An item that wraps\n  onto the next line", "- Second"}},
		{"paragraphs", "First paragraph\n\nSecond paragraph.", []string{"First paragraph", "Second paragraph."}},
		{"table rows", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"| a | b |", "|---|---|", "| 1 | 2 |"}},
		{"CJK full stop", "\u8fd9\u662f\u7b2c\u4e00\u53e5\u3002\u8fd9\u662f\u7b2c\u4e8c\u53e5\uff01\u5bf9\u5417\uff1f",
			[]string{"\u8fd9\u662f\u7b2c\u4e00\u53e5\u3002", "\u8fd9\u662f\u7b2c\u4e8c\u53e5\uff01", "\u5bf9\u5417\uff1f"}},
		{"CJK quote", "\u4ed6\u8bf4\u300c\u597d\u3002\u300d\u7136\u540e\u8d70\u4e86\u3002", []string{"\u4ed6\u8bf4\u300c\u597d\u3002\u300d", "\u7136\u540e\u8d70\u4e86\u3002"}},
		{"windows line ends", "One.\r\nTwo\r\n", []string{"One.", "Two"}},
		{"stop at the very end of a word", "Go.Now", []string{"Go.Now"}},
		{"punctuation only", "?!", []string{"?!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Sentences(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sentences(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestSentencesKeepAllText checks on the sample articles that sentences
// are trimmed, in order, and lose no character.
func TestSentencesKeepAllText(t *testing.T) {
	t.Parallel()
	for _, doc := range sampleDocuments(t) {
		for _, sec := range doc.Sections {
			got := Sentences(sec.Text)
			if !slices.Equal(visible(got...), visible(sec.Text)) {
				t.Fatalf("%s: sentences of %q lose text: %q", doc.Title, sec.Text, got)
			}
			for _, s := range got {
				if s == "" || s != trimmed(s) {
					t.Fatalf("%s: sentence %q is empty or untrimmed", doc.Title, s)
				}
			}
		}
	}
}

func trimmed(s string) string {
	sp := newSplitter(s, "", nil, 0).trim(span{0, len(s)})
	return s[sp.lo:sp.hi]
}

func FuzzSentences(f *testing.F) {
	for _, s := range []string{"One. Two!", "e.g. this\nand that", "1. a\n2. b", "\u4e2d\u3002\u6587", "\"Hi.\" ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := Sentences(text)
		if !slices.Equal(visible(got...), visible(text)) {
			t.Fatalf("Sentences(%q) = %q loses or adds text", text, got)
		}
		for _, s := range got {
			if s == "" || s != trimmed(s) {
				t.Fatalf("Sentences(%q): %q is empty or untrimmed", text, s)
			}
		}
	})
}
