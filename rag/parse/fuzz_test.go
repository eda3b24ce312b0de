package parse

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"llmops/store"
)

// The fuzzers check one property: for any input, parsing returns within a
// time bound, without panicking, either a *store.Error or a document with
// a title and non-empty, valid UTF-8 sections. Plain `go test` runs only
// the seeds: the f.Add calls and testdata/fuzz/<FuzzName>/.

// fuzzLimits keep a fuzz iteration cheap.
var fuzzLimits = Limits{MaxBytes: 4 << 20, MaxUncompressed: 16 << 20, MaxPages: 200, MaxSections: 20_000}

// timeBound is the property's time bound: 5 s per input while fuzzing;
// for the seeds under plain go test (maybe -race on a busy machine),
// slowParse, as for the other hostile inputs.
func timeBound() time.Duration {
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return 5 * time.Second
	}
	return slowParse
}

func checkParse(t *testing.T, parse func(context.Context) (*Document, error)) {
	fuzzTimeBound := timeBound()
	ctx, cancel := context.WithTimeout(context.Background(), 2*fuzzTimeBound)
	defer cancel()
	// A parser stuck in a loop that never checks ctx would stall the fuzzer
	// silently; crashing the process instead makes the engine save the
	// input and shows where it was stuck.
	watchdog := time.AfterFunc(4*fuzzTimeBound, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("parse did not return in %v:\n%s", 4*fuzzTimeBound, buf[:runtime.Stack(buf, true)]))
	})
	defer watchdog.Stop()
	start := time.Now()
	doc, err := parse(ctx)
	if elapsed := time.Since(start); elapsed > fuzzTimeBound {
		t.Fatalf("parsing took %v, want under %v", elapsed, fuzzTimeBound)
	}
	if err != nil {
		var se *store.Error
		if !errors.As(err, &se) || se.Message == "" {
			t.Fatalf("err = %v (%T), want a *store.Error with a message", err, err)
		}
		return
	}
	if doc.Title == "" || !utf8.ValidString(doc.Title) {
		t.Fatalf("title %q is empty or not UTF-8", doc.Title)
	}
	if len(doc.Sections) == 0 {
		t.Fatal("no error and no sections")
	}
	for i, s := range doc.Sections {
		if strings.TrimSpace(s.Text) == "" || !utf8.ValidString(s.Text) {
			t.Fatalf("section %d text %q is empty or not UTF-8", i, s.Text)
		}
		for _, h := range s.Headings {
			if h == "" || !utf8.ValidString(h) {
				t.Fatalf("section %d has heading %q", i, h)
			}
		}
	}
}

// addFixtures seeds a fuzzer with the testdata files that have one of exts.
func addFixtures(f *testing.F, add func(name string, data []byte), exts ...string) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		for _, ext := range exts {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ext) {
				data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				add(e.Name(), data)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	addFixtures(f, func(name string, data []byte) { f.Add(name, data) }, ".md", ".html", ".pdf", ".docx", ".csv", ".json", ".txt")
	f.Add("x.txt", []byte(""))
	f.Add("x.json", []byte(`[{"q": "a", "a": "b"}]`))
	f.Add("x.html", []byte("<p>one<li>two<table><tr><td>3"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		checkParse(t, func(ctx context.Context) (*Document, error) { return Parse(ctx, name, data, fuzzLimits) })
	})
}

// fuzzFormat fuzzes one parser directly, past Detect, so every input
// reaches it.
func fuzzFormat(f *testing.F, format Format, name string, exts []string, seeds ...string) {
	addFixtures(f, func(_ string, data []byte) { f.Add(data) }, exts...)
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, func(ctx context.Context) (*Document, error) { return parseAs(ctx, format, name, data, fuzzLimits) })
	})
}

func FuzzMarkdown(f *testing.F) {
	fuzzFormat(f, Markdown, "x.md", []string{".md"},
		"---\ntags:\n  - a\n  - b\ntitle: 'It''s'\n---\n# T\n", "> > > - [x](y)\n  ```\n  code", "| a |\n|---|\n| `b` |")
}

func FuzzHTML(f *testing.F) {
	fuzzFormat(f, HTML, "x.html", []string{".html"},
		"<main><h1>a<h2>b</h1><pre>c</pre><table><tr><td><table><td>d</table></table>",
		"<script>x</script ><title><script></title><!-- <style> -->text", "<body class=sidebar><div role=main><p hidden>x</p>y")
}

func FuzzPDF(f *testing.F) {
	fuzzFormat(f, PDF, "x.pdf", []string{".pdf"})
	f.Add(validPDF())
	f.Add(encryptedPDF())
	f.Add(selfPrevPDF())
}

func FuzzDOCX(f *testing.F) {
	fuzzFormat(f, DOCX, "x.docx", []string{".docx"})
	f.Add(buildDOCX(f, wordPara("Heading1", "A")+wordPara("", "b"), nil))
}

func FuzzCSV(f *testing.F) {
	fuzzFormat(f, CSV, "x.csv", []string{".csv"}, "q;a\n1;2\n", "question\tanswer\tTags\nx\ty\ta|b\n", "\xef\xbb\xbfQuestion,Answer\n\"a\"\"b\",c\n")
}

func FuzzJSON(f *testing.F) {
	fuzzFormat(f, JSON, "x.json", []string{".json"}, `{"items": [{"title": "t", "body": ["a", "b"]}]}`, `[[]]`, `{"faqs": {}}`)
}

// fuzzSeeds are committed corpus entries in Go's corpus file format, so
// `go test` replays them and a fuzzing run starts from structured input.
func fuzzSeeds(tb testing.TB) map[string][]byte {
	bytesEntry := func(data []byte) []byte {
		return []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data))
	}
	return map[string][]byte{
		"testdata/fuzz/FuzzPDF/seed-valid":         bytesEntry(validPDF()),
		"testdata/fuzz/FuzzPDF/seed-handbook":      bytesEntry(samplePDF()),
		"testdata/fuzz/FuzzPDF/seed-encrypted":     bytesEntry(encryptedPDF()),
		"testdata/fuzz/FuzzPDF/seed-xrefstream":    bytesEntry(xrefStreamPDF(nil)),
		"testdata/fuzz/FuzzDOCX/seed-report":       bytesEntry(sampleDOCX(tb)),
		"testdata/fuzz/FuzzMarkdown/seed-nested":   bytesEntry([]byte("# A\n\n- b\n  1. c\n     ```\n     d\n     ```\n> e\n\n| f | g |\n|---|---|\n| h |\n")),
		"testdata/fuzz/FuzzHTML/seed-unclosed":     bytesEntry([]byte("<html><body><nav>x<main><h2>T<p>a<ul><li>b<li>c</ul><pre>d</main>")),
		"testdata/fuzz/FuzzCSV/seed-semicolons":    bytesEntry([]byte("Frage;Question;Answer;Category\nx;Why?;Because.;misc\n")),
		"testdata/fuzz/FuzzParse/seed-utf16-text":  []byte(fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", "notes.txt", "\xff\xfeH\x00i\x00\n\x00")),
		"testdata/fuzz/FuzzParse/seed-latin1-text": []byte(fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", "notes.txt", "caf\xe9 cr\xe8me")),
	}
}
