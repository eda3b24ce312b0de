package parse

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sampledata "llmops/sample-data"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures built by the tests, *.golden files and fuzz seeds")

// slowParse bounds a parse of hostile input: far above what the guarded,
// linear parsers take even under -race on a busy machine (seconds), far
// below what the inputs cost a parser without the guards (minutes to
// days, or forever). A timing check tighter than this would fail on a
// loaded CI machine, not on a regression: nine 1 MB parses in parallel
// under -race took 69 s at a load average of 60.
const slowParse = 3 * time.Minute

// testCtx returns a context with a deadline, so a parser that hangs fails
// the test instead of stalling it.
func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*slowParse)
	tb.Cleanup(cancel)
	return ctx
}

// TestBuiltFixtures keeps the binary fixtures and the fuzz seeds equal to
// what the builders make; -update rewrites them.
func TestBuiltFixtures(t *testing.T) {
	fixtures := fuzzSeeds(t)
	fixtures["testdata/handbook.pdf"] = samplePDF()
	fixtures["testdata/report.docx"] = sampleDOCX(t)
	for path, want := range fixtures {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the builder makes; run go test -update", path)
		}
	}
}

// TestGolden parses each fixture in testdata, and the two sample-data
// PDFs, and compares the Document, as JSON, with its .golden file in
// testdata.
func TestGolden(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"rosterly-security-whitepaper.pdf":       sampleDocs + "/security/rosterly-security-whitepaper.pdf",
		"enterprise-service-level-agreement.pdf": sampleDocs + "/security/enterprise-service-level-agreement.pdf",
	}
	for _, e := range entries {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".golden") {
			files[e.Name()] = filepath.Join("testdata", e.Name())
		}
	}
	if len(files) < 9 {
		t.Errorf("found %d golden inputs, want at least 9", len(files))
	}
	for name, path := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(testCtx(t), name, data, DefaultLimits())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update and review the diff)\ngot:\n%s", golden, got)
			}
		})
	}
}

// sampleDocs is the Rosterly help centre every demo uses.
const sampleDocs = "../../sample-data/docs"

// sampleFiles returns every file under sample-data/docs, by path relative
// to sample-data ("docs/billing/x.md").
func sampleFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	err := fs.WalkDir(sampledata.FS(), "docs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[path], err = fs.ReadFile(sampledata.FS(), path)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// htmlBoilerplate are strings of the sample pages' site chrome (header,
// nav, breadcrumbs, feedback widget, footer, analytics) that appear in no
// article body.
var htmlBoilerplate = []string{
	"©", "All rights reserved", "Cookie", "gtag", "dataLayer", "RHC-4471-PROD",
	"Was this article helpful", "Skip to content", "Search the help center",
	"Terms of Service", "Privacy Policy", "Contact support", "Help Center",
	"About Rosterly", "System status", "Thanks for your feedback", "querySelectorAll",
}

func TestSampleData(t *testing.T) {
	manifest, err := sampledata.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]sampledata.Document{}
	for _, m := range manifest {
		byPath[m.Path] = m
	}
	files := sampleFiles(t)
	if len(files) != len(manifest) {
		t.Errorf("sample-data/docs has %d files, the manifest lists %d", len(files), len(manifest))
	}
	for path, data := range files {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			m, ok := byPath[path]
			if !ok {
				t.Fatalf("%s is not in the manifest", path)
			}
			doc, err := Parse(testCtx(t), path, data, DefaultLimits())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(doc.Format) != m.Format {
				t.Errorf("format = %q, want %q", doc.Format, m.Format)
			}
			if doc.Title != m.Title {
				t.Errorf("title = %q, want %q", doc.Title, m.Title)
			}
			if m.Format != "pdf" {
				want := map[string]string{
					"category": m.Category, "product_version": m.ProductVersion,
					"last_updated": m.LastUpdated, "tags": strings.Join(m.Tags, ","),
				}
				for k, v := range want {
					if doc.Meta[k] != v {
						t.Errorf("Meta[%q] = %q, want %q", k, doc.Meta[k], v)
					}
				}
			}
			all := checkSections(t, doc)
			for i, s := range doc.Sections {
				if len(s.Headings) == 0 {
					t.Errorf("section %d has no headings: %.60q", i, s.Text)
				}
			}
			switch m.Format {
			case "html":
				for _, s := range htmlBoilerplate {
					if strings.Contains(all, s) {
						t.Errorf("output contains boilerplate %q", s)
					}
				}
			case "markdown":
				if strings.Contains(all, "product_version:") {
					t.Errorf("front matter leaked into the text")
				}
			case "pdf":
				if strings.Contains(all, "Page 1 of") {
					t.Errorf("page footer not removed")
				}
				if len(doc.Sections) < 3 {
					t.Errorf("got %d page sections, want at least 3", len(doc.Sections))
				}
			}
		})
	}
}

// checkSections checks what every document must satisfy, and returns all
// its text and headings for further checks.
func checkSections(t *testing.T, doc *Document) string {
	t.Helper()
	var all strings.Builder
	for i, s := range doc.Sections {
		if strings.TrimSpace(s.Text) == "" {
			t.Errorf("section %d is empty", i)
		}
		for _, h := range s.Headings {
			if h == "" {
				t.Errorf("section %d has an empty heading in %q", i, s.Headings)
			}
		}
		switch s.Kind {
		case KindText, KindCode, KindTable, KindQA:
		default:
			t.Errorf("section %d has kind %q", i, s.Kind)
		}
		all.WriteString(strings.Join(s.Headings, "\n") + "\n" + s.Text + "\n")
	}
	return all.String()
}

func BenchmarkParseSampleData(b *testing.B) {
	files := sampleFiles(b)
	var total int64
	for _, data := range files {
		total += int64(len(data))
	}
	ctx := context.Background()
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for path, data := range files {
			if _, err := Parse(ctx, path, data, DefaultLimits()); err != nil {
				b.Fatalf("%s: %v", path, err)
			}
		}
	}
}
