package chunk

import (
	"io/fs"
	"math/rand/v2"
	"path"
	"strings"
	"testing"

	"llmops/rag/parse"
	sampledata "llmops/sample-data"
)

// The parsers are written elsewhere; these helpers build parse.Documents
// the way they will, closely enough to chunk real text.

// sampleDocuments returns the Markdown articles of the sample help centre.
func sampleDocuments(tb testing.TB) []*parse.Document {
	tb.Helper()
	var docs []*parse.Document
	err := fs.WalkDir(sampledata.FS(), "docs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".md" {
			return err
		}
		data, err := fs.ReadFile(sampledata.FS(), p)
		if err != nil {
			return err
		}
		docs = append(docs, markdownDocument(p, string(data)))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(docs) == 0 {
		tb.Fatal("no Markdown in sample-data/docs")
	}
	return docs
}

// markdownDocument is a rough Markdown parser: front matter is dropped,
// ATX headings make the heading path, fenced code and tables become
// sections of their own, and a section under a heading that asks a
// question is an FAQ entry.
func markdownDocument(name, src string) *parse.Document {
	doc := &parse.Document{Title: name, Format: parse.Markdown}
	if rest, ok := strings.CutPrefix(src, "---\n"); ok {
		if _, body, ok := strings.Cut(rest, "\n---\n"); ok {
			src = body
		}
	}
	var path []string
	var buf []string
	kind := parse.KindText
	flush := func() {
		text := strings.Join(buf, "\n")
		buf = buf[:0]
		if strings.TrimSpace(text) == "" {
			return
		}
		k := kind
		if k == parse.KindText && len(path) > 0 && strings.HasSuffix(path[len(path)-1], "?") {
			k, text = parse.KindQA, path[len(path)-1]+"\n"+text
		}
		doc.Sections = append(doc.Sections, parse.Section{Headings: append([]string(nil), path...), Text: text, Kind: k})
	}
	inFence := false
	for _, line := range strings.Split(src, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			if inFence {
				buf = append(buf, line)
				flush()
				kind = parse.KindText
			} else {
				flush()
				kind = parse.KindCode
				buf = append(buf, line)
			}
			inFence = !inFence
		case inFence:
			buf = append(buf, line)
		case strings.HasPrefix(line, "#"):
			flush()
			level := len(line) - len(strings.TrimLeft(line, "#"))
			path = append(path[:min(level-1, len(path))], strings.TrimSpace(line[level:]))
		case strings.HasPrefix(line, "|") != (kind == parse.KindTable):
			flush()
			kind = parse.KindText
			if strings.HasPrefix(line, "|") {
				kind = parse.KindTable
			}
			buf = append(buf, line)
		default:
			buf = append(buf, line)
		}
	}
	flush()
	return doc
}

// paged spreads a document's sections over pages, two or three a page, as
// a PDF parser would report them.
func paged(doc *parse.Document) *parse.Document {
	out := *doc
	out.Format = parse.PDF
	out.Sections = append([]parse.Section(nil), doc.Sections...)
	for i := range out.Sections {
		out.Sections[i].Page = 1 + i*2/5
	}
	return &out
}

// randomDocument builds a document with the shapes that make chunking hard:
// deep and shallow heading paths, tiny and huge sections, long lists,
// code, tables, words longer than any chunk, CJK, stray invalid UTF-8.
func randomDocument(rng *rand.Rand) *parse.Document {
	doc := &parse.Document{Title: "random", Format: parse.PDF}
	var path []string
	page := 1
	for range 1 + rng.IntN(12) {
		switch depth := rng.IntN(4); {
		case depth < len(path):
			path = path[:depth]
		case depth > len(path):
			path = append(path, randomWords(rng, 1+rng.IntN(4)))
		}
		if rng.IntN(3) == 0 && len(path) > 0 {
			path[len(path)-1] = randomWords(rng, 1+rng.IntN(4))
		}
		page += rng.IntN(2)
		kind := []string{parse.KindText, parse.KindText, parse.KindText, parse.KindCode, parse.KindTable, parse.KindQA, ""}[rng.IntN(7)]
		doc.Sections = append(doc.Sections, parse.Section{
			Headings: append([]string(nil), path...),
			Text:     randomText(rng, kind),
			Page:     page,
			Kind:     kind,
		})
	}
	return doc
}

func randomText(rng *rand.Rand, kind string) string {
	var b strings.Builder
	size := []int{0, 1, 3, 10, 40}[rng.IntN(5)]
	for i := range size {
		switch kind {
		case parse.KindCode:
			b.WriteString(strings.Repeat("    ", rng.IntN(3)) + "call(" + randomWords(rng, 1+rng.IntN(6)) + ");\n")
		case parse.KindTable:
			b.WriteString("| " + randomWords(rng, 1+rng.IntN(3)) + " | " + randomWords(rng, 1+rng.IntN(8)) + " |\n")
		default:
			if i > 0 {
				b.WriteString([]string{" ", " ", "\n", "\n\n", "\n- ", "\n1. ", "  \n   \n"}[rng.IntN(7)])
			}
			b.WriteString(randomSentence(rng))
		}
	}
	return b.String()
}

func randomSentence(rng *rand.Rand) string {
	switch rng.IntN(25) {
	case 0:
		return "https://example.com/" + strings.Repeat("a1b2c3/", 5+rng.IntN(300)) + "?q=4.2."
	case 1:
		return strings.Repeat("\u8fd9\u662f\u4e2d\u6587\u53e5\u5b50\u3002", 1+rng.IntN(60))
	case 2:
		return "Broken \xff\xfe bytes and e.g. Mr. Smith paid $4.20 for v5.0."
	case 3:
		return "\t\t"
	}
	s := randomWords(rng, 3+rng.IntN(30))
	return strings.ToUpper(s[:1]) + s[1:] + []string{".", ".", "?", "!", "", ":", ".\u201d"}[rng.IntN(7)]
}

var vocabulary = strings.Fields(`schedule shift employee manager location payroll export
	Slack the a of to and in is for on with approve swap time-off (see) "quoted" 4.2 12:30
	e.g. i.e. don't it's Rosterly's API_key /v1/shifts élève naïve über`)

func randomWords(rng *rand.Rand, n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = vocabulary[rng.IntN(len(vocabulary))]
	}
	return strings.Join(words, " ")
}
