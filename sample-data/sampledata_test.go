package sampledata_test

import (
	"io/fs"
	"strings"
	"testing"

	sampledata "llmops/sample-data"
)

// TestCorpusIsConsistent guards the sample data every demo and benchmark
// relies on: manifest and files agree, and every eval case points at real
// documents.
func TestCorpusIsConsistent(t *testing.T) {
	docs, err := sampledata.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]sampledata.Document{}
	formats := map[string]int{}
	for _, d := range docs {
		if _, dup := byID[d.ID]; dup {
			t.Errorf("duplicate document id %s", d.ID)
		}
		byID[d.ID] = d
		formats[d.Format]++
		data, err := fs.ReadFile(sampledata.FS(), d.Path)
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %s is missing or empty (%v)", d.ID, d.Path, err)
		}
		if d.Title == "" || d.Category == "" || d.ProductVersion == "" || d.LastUpdated == "" {
			t.Errorf("%s: incomplete metadata %+v", d.ID, d)
		}
	}
	if len(docs) < 40 || formats["html"] == 0 || formats["pdf"] == 0 || formats["markdown"] == 0 {
		t.Errorf("corpus has %d documents by format %v; want 40+ with Markdown, HTML and PDF", len(docs), formats)
	}
	n := 0
	_ = fs.WalkDir(sampledata.FS(), "docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
			id := strings.TrimPrefix(path[:len(path)-len(pathExt(path))], "docs/")
			if _, ok := byID[id]; !ok {
				t.Errorf("%s is not in the manifest", path)
			}
		}
		return nil
	})
	if n != len(docs) {
		t.Errorf("docs/ holds %d files, manifest lists %d", n, len(docs))
	}

	qs, err := sampledata.Questions()
	if err != nil {
		t.Fatal(err)
	}
	unanswerable := 0
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.ID] {
			t.Errorf("duplicate question id %s", q.ID)
		}
		seen[q.ID] = true
		if !q.Answerable {
			unanswerable++
			if len(q.DocumentIDs) != 0 {
				t.Errorf("%s is unanswerable but cites %v", q.ID, q.DocumentIDs)
			}
			continue
		}
		if len(q.DocumentIDs) == 0 || q.ReferenceAnswer == "" {
			t.Errorf("%s is answerable but has no documents or reference", q.ID)
		}
		for _, id := range q.DocumentIDs {
			if _, ok := byID[id]; !ok {
				t.Errorf("%s cites unknown document %s", q.ID, id)
			}
		}
	}
	if len(qs) < 80 || unanswerable == 0 {
		t.Errorf("eval set has %d questions, %d unanswerable; want 80+ including some unanswerable", len(qs), unanswerable)
	}
}

func pathExt(p string) string {
	if i := strings.LastIndex(p, "."); i > strings.LastIndex(p, "/") {
		return p[i:]
	}
	return ""
}
