package chunk

import (
	"context"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"llmops/rag/parse"
	sampledata "llmops/sample-data"
)

// numberedHeading matches the numbered section headings of the sample
// PDFs ("2. Compliance and certifications") on a line of their own.
var numberedHeading = regexp.MustCompile(`^(\d{1,2})\. [A-Z][^.]*$`)

// TestSamplePDFHeadingPaths chunks the sample PDFs as ingestion does and
// checks every chunk's heading path: each chunk is labelled with the
// section its text starts in, each heading line inside a chunk's text
// is followed by that section's text in the same chunk (none stranded at
// the end), and reading the chunks in order meets every numbered section
// once, in order.
func TestSamplePDFHeadingPaths(t *testing.T) {
	tok, err := NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file     string
		sections int // numbered sections of the document
	}{
		{"docs/security/rosterly-security-whitepaper.pdf", 11},
		{"docs/security/enterprise-service-level-agreement.pdf", 9},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := fs.ReadFile(sampledata.FS(), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := parse.Parse(context.Background(), tt.file, data, parse.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := Split(doc, DefaultConfig(), tok)
			if err != nil {
				t.Fatal(err)
			}
			var seen []string // numbers of the sections met, in reading order
			for _, c := range chunks {
				t.Logf("chunk #%d %q: %.60q … %.40q", c.Index, c.Headings, c.Text, c.Text[max(0, len(c.Text)-40):])
				if len(c.Headings) == 0 || c.Headings[0] != doc.Title {
					t.Errorf("chunk #%d heading path %q, want it to start with the title %q", c.Index, c.Headings, doc.Title)
				}
				last := c.Headings[len(c.Headings)-1]
				if m := numberedHeading.FindStringSubmatch(last); m != nil && (len(seen) == 0 || seen[len(seen)-1] != m[1]) {
					seen = append(seen, m[1])
				}
				lines := strings.Split(c.Text, "\n")
				for i, l := range lines {
					m := numberedHeading.FindStringSubmatch(strings.TrimSpace(l))
					if m == nil {
						continue
					}
					if i == 0 {
						t.Errorf("chunk #%d labelled %q opens with heading %q: its path should name it", c.Index, c.Headings, l)
					}
					rest := strings.TrimSpace(strings.Join(lines[i+1:], "\n"))
					if rest == "" || numberedHeading.MatchString(strings.Split(rest, "\n")[0]) {
						t.Errorf("chunk #%d: heading %q has no text after it in the chunk", c.Index, l)
					}
					seen = append(seen, m[1])
				}
			}
			var want []string
			for i := 1; i <= tt.sections; i++ {
				want = append(want, strconv.Itoa(i))
			}
			if !slices.Equal(seen, want) {
				t.Errorf("sections met in reading order %v, want %v", seen, want)
			}
		})
	}
}
