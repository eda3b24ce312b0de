package parse

import (
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		data string
		want Format
	}{
		{"report.pdf", "%PDF-1.7\n...", PDF},
		{"report.bin", "\r\n%PDF-1.4\n...", PDF},
		{"page.txt", "<!DOCTYPE html><html><body>x</body></html>", HTML},
		{"page", "  <html lang=en><p>x</p></html>", HTML},
		{"fragment.txt", "<div><p>Hello</p></div>", HTML},
		{"fragment.html", "Hello, <b>world</b>", HTML},
		{"doc.txt", "---\ntitle: A\n---\nBody", Markdown},
		{"doc.txt", "Intro\n\n## Setup\n\nText", Markdown},
		{"doc", "Run this:\n\n```sh\nmake\n```\n", Markdown},
		{"readme.md", "Just prose, no cues.", Markdown},
		{"comment.md", "<!-- note -->\nProse.", Markdown},
		{"faq.txt", "Question,Answer\nWhy?,Because.\n", CSV},
		{"faq", "q;a\nWhy?;Because.\n", CSV},
		{"people.csv", "name,email\n", CSV},
		{"data.txt", `[{"question": "Why?", "answer": "Because."}]`, JSON},
		{"data.json", `{"faqs": [}`, JSON},
		{"notes.md.bak", "[link](http://x) is not JSON", Text},
		{"notes", "Plain words.\n#hashtag is not a heading\n", Text},
		{"notes.txt", "caf\xe9 cr\xe8me", Text},
		{"notes.txt", "\xff\xfeH\x00i\x00", Text},
	}
	for _, tt := range tests {
		got, err := Detect(tt.name, []byte(tt.data))
		if err != nil || got != tt.want {
			t.Errorf("Detect(%q, %.30q) = %q, %v; want %q", tt.name, tt.data, got, err, tt.want)
		}
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"plain ascii", "plain ascii", true},
		{"\xef\xbb\xbfBOM stripped", "BOM stripped", true},
		{"caf\xe9 \x93quoted\x94", "café “quoted”", true},                             // Windows-1252
		{"na\xc3\xafve and one bad \xff byte", "naïve and one bad \uFFFD byte", true}, // UTF-8 with damage
		{"\xfe\xff\x00H\x00i", "Hi", true},                                            // UTF-16 BE
		{"\x00\x01\x02", "", false},
		{"\xfd\xfc\xfb\xfa text", "", false},             // another script, or noise
		{"na\xc3\xafve \xff\xfe\xfd\xfc\xfb", "", false}, // too damaged for UTF-8
	}
	for _, tt := range tests {
		got, err := decodeText([]byte(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("decodeText(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCleanText(t *testing.T) {
	in := "  a \t b  \r\n\r\n\r\n c\u00a0\u00a0d\u200b e\u00adf ﬁne\x07\n\n"
	want := "a b\n\nc d ef fine"
	if got := cleanText(in); got != want {
		t.Errorf("cleanText = %q, want %q", got, want)
	}
}

func TestFrontMatter(t *testing.T) {
	front, body, ok := splitFrontMatter("---\r\ntitle: \"Say \\\"hi\\\"\"\r\nTags:\n  - a\n  - 'b, c'\nsummary: >\n  one\n  two\nnested:\n  key: v\nurl: http://x # not a comment here? yes it is\nempty:\n---\n# Body\n")
	if !ok || body != "# Body\n" {
		t.Fatalf("split = %q, %q, %v", front, body, ok)
	}
	got := parseFrontMatter(front)
	want := map[string]string{"title": `Say "hi"`, "tags": "a,b, c", "summary": "one two", "url": "http://x", "empty": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("meta[%q] = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["nested"]; ok {
		t.Errorf("nested map kept: %q", got["nested"])
	}
	if _, _, ok := splitFrontMatter("---\n\nA thematic break, then prose.\n\n---\n"); ok {
		t.Error("a pair of thematic breaks was taken for front matter")
	}
}

func TestBoilerplateWords(t *testing.T) {
	for s, want := range map[string]bool{
		"main-nav": true, "site-footer": true, "cookieBanner": true, "breadcrumbs": true,
		"article-feedback": true, "navy-blue": false, "address": false, "help-article": false, "callout callout-info": false,
	} {
		if got := hasBoilerplateWord(s); got != want {
			t.Errorf("hasBoilerplateWord(%q) = %v, want %v", s, got, want)
		}
	}
}
