package beir

import (
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testdata/tiny is a 16-document collection with every quirk the loader
// counts: a qrels header, a judgement of a document not in the corpus
// (q-bike → d99), a judged query not in the queries file (q-ghost), a
// query with no judgement (q-unjudged), and a query that is also a corpus
// document (q-tea, as in ArguAna). testdata/tiny-gz is the same
// collection gzipped (gzip -n), with a qrels file without header.

func TestLoadTiny(t *testing.T) {
	t.Parallel()
	want := &Dataset{
		Name:       "tiny",
		CorpusSize: 16,
		Queries: []Query{
			{ID: "q-coffee", Text: "How long should coffee steep in a French press?", Rels: map[string]float64{"d01": 1}},
			{ID: "q-tomato", Text: "When can tomato seedlings be planted outside?", Rels: map[string]float64{"d03": 1}},
			{ID: "q-bike", Text: "How do I fix a flat tire on my bicycle?", Rels: map[string]float64{"d05": 2, "d06": 1}},
			{ID: "q-bread", Text: "How often do I feed a sourdough starter?", Rels: map[string]float64{"d07": 1}},
			{ID: "q-tea", Text: "Green tea is steeped in water well below boiling, for two minutes at most, or it turns bitter. How is black tea steeped?", Rels: map[string]float64{"d15": 1}},
			{ID: "q-puppy", Text: "How do I house train a puppy?", Rels: map[string]float64{"d10": 1}},
		},
		MissingDocs:    1,
		MissingQueries: 1,
		SkippedQueries: 1,
	}
	for _, dir := range []string{"tiny", "tiny-gz"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			got, err := Load(filepath.Join("testdata", dir), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Docs) != 16 {
				t.Fatalf("got %d docs, want 16", len(got.Docs))
			}
			first := Doc{ID: "d01", Title: "French press coffee", Text: "A French press brews coffee by steeping coarse grounds in hot water for about four minutes, then pressing the plunger down slowly."}
			if got.Docs[0] != first {
				t.Errorf("first doc: got %+v, want %+v", got.Docs[0], first)
			}
			if last := got.Docs[15]; last.ID != "q-tea" || last.Title != "Green tea" {
				t.Errorf("last doc: got %+v, want q-tea, Green tea", last)
			}
			w := *want
			w.Name = dir
			got.Docs = nil
			if !reflect.DeepEqual(got, &w) {
				t.Errorf("got  %+v\nwant %+v", got, &w)
			}

			// LoadQueries reads the same judgements without the bodies.
			lq, err := LoadQueries(filepath.Join("testdata", dir), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(lq, &w) {
				t.Errorf("LoadQueries: got  %+v\nwant %+v", lq, &w)
			}
		})
	}
}

// writeCollection writes a collection into a temp dir; names ending in .gz
// are gzipped.
func writeCollection(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zw := gzip.NewWriter(f)
			zw.Write([]byte(body))
			zw.Close()
		} else {
			f.WriteString(body)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const (
		corpus  = `{"_id":"d1","title":"","text":"one"}` + "\n" + `{"_id":"d2","title":"","text":"two"}` + "\n"
		queries = `{"_id":"q1","text":"first"}` + "\n"
		qrels   = "q1\td1\t1\n"
	)
	tests := []struct {
		name  string
		files map[string]string
		split string
		want  string // substring of the error
	}{
		{"malformed gzipped query line", map[string]string{
			"corpus.jsonl": corpus, "qrels/test.tsv": qrels,
			"queries.jsonl.gz": queries + `{"_id":"q2","text":"second"}` + "\n" + `{"_id": "q3", "text": "unterminated` + "\n",
		}, "", "queries.jsonl.gz:3: invalid JSON: "},
		{"malformed corpus line after a long one", map[string]string{
			"queries.jsonl": queries, "qrels/test.tsv": qrels,
			"corpus.jsonl": `{"_id":"d1","text":"` + strings.Repeat("long ", 1<<20) + `"}` + "\n\n" + "not json\n",
		}, "", "corpus.jsonl:3: invalid JSON: "},
		{"corpus line without _id", map[string]string{
			"queries.jsonl": queries, "qrels/test.tsv": qrels, "corpus.jsonl": corpus + `{"text":"three"}`,
		}, "", `corpus.jsonl:3: no "_id"`},
		{"duplicate corpus ID", map[string]string{
			"queries.jsonl": queries, "qrels/test.tsv": qrels, "corpus.jsonl": corpus + `{"_id":"d1","text":"again"}`,
		}, "", `corpus.jsonl:3: duplicate corpus ID "d1"`},
		{"qrels with two fields", map[string]string{
			"queries.jsonl": queries, "corpus.jsonl": corpus, "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1 d2 1\n",
		}, "", "test.tsv:3: want 3 tab-separated fields"},
		{"qrels score not a number", map[string]string{
			"queries.jsonl": queries, "corpus.jsonl": corpus, "qrels/test.tsv": qrels + "q1\td2\thigh\n",
		}, "", `test.tsv:2: score "high" is not a number`},
		{"no corpus", map[string]string{"queries.jsonl": queries, "qrels/test.tsv": qrels}, "", "no corpus.jsonl or corpus.jsonl.gz"},
		{"no queries", map[string]string{"corpus.jsonl": corpus, "qrels/test.tsv": qrels}, "", "no queries.jsonl or queries.jsonl.gz"},
		{"no qrels for the split", map[string]string{"corpus.jsonl": corpus, "queries.jsonl": queries, "qrels/test.tsv": qrels}, "dev", "dev.tsv"},
		{"bad split", map[string]string{"corpus.jsonl": corpus, "queries.jsonl": queries, "qrels/test.tsv": qrels}, "../x", "invalid split"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeCollection(t, tt.files)
			for _, load := range []func(string, LoadOptions) (*Dataset, error){Load, LoadQueries} {
				_, err := load(dir, LoadOptions{Split: tt.split})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got error %v, want one containing %q", err, tt.want)
				}
			}
		})
	}
}

func TestLoadMissingFileIsNotExist(t *testing.T) {
	t.Parallel()
	_, err := Load(t.TempDir(), LoadOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want an error that is fs.ErrNotExist", err)
	}
}

func TestLoadSplitAndLineEndings(t *testing.T) {
	t.Parallel()
	dir := writeCollection(t, map[string]string{
		"corpus.jsonl":   "\xef\xbb\xbf" + `{"_id":"d1","text":"one"}` + "\r\n" + `{"_id":"d2","text":"two"}`, // BOM, CRLF, no final newline
		"queries.jsonl":  `{"_id":"q1","text":"first"}` + "\r\n" + `{"_id":"q2","text":"second"}` + "\r\n",
		"qrels/test.tsv": "q1\td1\t1\r\n",
		"qrels/dev.tsv":  "q2\td2\t1\nq2\td1\t0\n",
	})
	ds, err := Load(dir, LoadOptions{Split: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Query{{ID: "q2", Text: "second", Rels: map[string]float64{"d2": 1, "d1": 0}}}
	if !reflect.DeepEqual(ds.Queries, want) || len(ds.Docs) != 2 || ds.SkippedQueries != 1 {
		t.Errorf("got %+v, want queries %+v, 2 docs, 1 skipped query", ds, want)
	}
}

// arguanaDir is the BEIR ArguAna copy, ../shared/datasets/arguana from the
// repository root; LLMOPS_BEIR_DIR overrides.
func arguanaDir() string {
	if d := os.Getenv("LLMOPS_BEIR_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets", "arguana")
}

// TestLoadArguAna checks the counts its README gives (it loads in about a
// second, so it runs whenever the copy is there).
func TestLoadArguAna(t *testing.T) {
	t.Parallel()
	dir := arguanaDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("ArguAna not found: %v", err)
	}
	for name, load := range map[string]func(string, LoadOptions) (*Dataset, error){"Load": Load, "LoadQueries": LoadQueries} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ds, err := load(dir, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ds.CorpusSize != 8674 || len(ds.Queries) != 1406 || ds.MissingDocs != 5 || ds.MissingQueries != 0 || ds.SkippedQueries != 0 {
				t.Errorf("got %d docs, %d queries, %d missing docs, %d missing queries, %d skipped queries; want 8674, 1406, 5, 0, 0",
					ds.CorpusSize, len(ds.Queries), ds.MissingDocs, ds.MissingQueries, ds.SkippedQueries)
			}
			if name == "Load" && len(ds.Docs) != 8674 {
				t.Errorf("got %d docs, want 8674", len(ds.Docs))
			}
			if name == "LoadQueries" && ds.Docs != nil {
				t.Errorf("LoadQueries returned %d docs, want none", len(ds.Docs))
			}
			if ds.Name != "arguana" && os.Getenv("LLMOPS_BEIR_DIR") == "" {
				t.Errorf("got name %q, want arguana", ds.Name)
			}
			if q := ds.Queries[0]; q.ID != "test-environment-aeghhgwpe-pro02a" || q.Rels["test-environment-aeghhgwpe-pro02b"] != 1 {
				t.Errorf("first query: got %s %v", q.ID, q.Rels)
			}
		})
	}
}

func TestDocContent(t *testing.T) {
	for _, tc := range []struct {
		doc         Doc
		title, text string
	}{
		{Doc{Title: " T ", Text: " body "}, "T", "body"},
		{Doc{Title: " Title only "}, "Title only", "Title only"},
		{Doc{Title: "  ", Text: "\n"}, "", ""},
	} {
		if title, text := tc.doc.Content(); title != tc.title || text != tc.text {
			t.Errorf("%+v: Content() = %q, %q; want %q, %q", tc.doc, title, text, tc.title, tc.text)
		}
	}
}
