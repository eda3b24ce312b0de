// Package beir reads retrieval test collections in the BEIR folder layout:
//
//	corpus.jsonl[.gz]   {"_id", "title", "text", "metadata"} per line
//	queries.jsonl[.gz]  {"_id", "text"} per line
//	qrels/<split>.tsv   query-id <TAB> corpus-id <TAB> score, with an
//	                    optional header line
//
// It uses the standard library only, so anything (a test, a CLI command)
// can load a collection without pulling in the knowledge base.
package beir

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LoadOptions choose what to read.
type LoadOptions struct {
	// Split names the judgements file, qrels/<Split>.tsv (default "test").
	Split string
}

// DefaultSplit is the qrels split read when LoadOptions.Split is empty.
const DefaultSplit = "test"

// Doc is one corpus document.
type Doc struct {
	ID, Title, Text string
}

// Content returns the document's trimmed title and the text to index: its
// trimmed text, or its title when it has no text (a title-only document is
// still findable). text is "" when the document has neither.
func (d Doc) Content() (title, text string) {
	title, text = strings.TrimSpace(d.Title), strings.TrimSpace(d.Text)
	if text == "" {
		text = title
	}
	return title, text
}

// Query is one judged query.
type Query struct {
	ID, Text string
	// Rels maps corpus IDs to graded relevance (BEIR's score; 0 or less
	// is not relevant). Judgements of documents missing from the corpus
	// are left out, so Rels can be empty: such a query can only score 0,
	// as it does in BEIR.
	Rels map[string]float64
}

// Dataset is a loaded collection.
type Dataset struct {
	Name string // the folder's base name, e.g. "arguana"
	// Docs is the corpus in file order; nil after LoadQueries.
	Docs []Doc
	// CorpusSize is the number of corpus documents (len(Docs) after Load).
	CorpusSize int
	// Queries are the queries judged in the split, in the order they first
	// appear in the qrels file.
	Queries []Query
	// MissingDocs counts qrels lines whose corpus ID is not in the corpus
	// (ArguAna has 5); those judgements are dropped.
	MissingDocs int
	// MissingQueries counts the query IDs judged in the qrels but absent
	// from the queries file; their judgements are dropped.
	MissingQueries int
	// SkippedQueries counts queries of the queries file that have no
	// judgement in the split (e.g. the train or dev queries).
	SkippedQueries int
}

// maxLine bounds one JSON line. ArguAna's longest is about 40 KB; the
// bound only stops a file without newlines from filling memory.
const maxLine = 64 << 20

// Load reads the corpus, the queries and the judgements of opts.Split
// from dir. When both a plain and a gzipped file exist, the plain one is
// read. Errors name the file and, for bad content, the 1-based line.
func Load(dir string, opts LoadOptions) (*Dataset, error) {
	return load(dir, opts, true)
}

// LoadQueries is Load without the corpus bodies: only the corpus IDs are
// read (to drop judgements of missing documents), and Docs is nil.
func LoadQueries(dir string, opts LoadOptions) (*Dataset, error) {
	return load(dir, opts, false)
}

func load(dir string, opts LoadOptions, bodies bool) (*Dataset, error) {
	if opts.Split == "" {
		opts.Split = DefaultSplit
	}
	if strings.ContainsAny(opts.Split, `/\`) || opts.Split == ".." {
		return nil, fmt.Errorf("beir: invalid split %q", opts.Split)
	}
	name := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	ds := &Dataset{Name: name}

	// The qrels come first: they are small, they decide which queries
	// are kept, and a wrong split is then reported before the corpus is
	// read.
	qrels, err := readQrels(filepath.Join(dir, "qrels", opts.Split+".tsv"))
	if err != nil {
		return nil, err
	}

	texts := make(map[string]string, len(qrels.order))
	qpath, err := findJSONL(dir, "queries")
	if err != nil {
		return nil, err
	}
	err = readJSONL(qpath, func(line []byte) error {
		var q struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &q); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		if q.ID == "" {
			return errors.New(`no "_id"`)
		}
		if _, dup := texts[q.ID]; dup {
			return fmt.Errorf("duplicate query ID %q", q.ID)
		}
		texts[q.ID] = q.Text
		if qrels.rels[q.ID] == nil {
			ds.SkippedQueries++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	cpath, err := findJSONL(dir, "corpus")
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool)
	err = readJSONL(cpath, func(line []byte) error {
		var d struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		var err error
		if bodies {
			err = json.Unmarshal(line, &d)
		} else {
			// Title and Text are not decoded (the line is still
			// validated), so no body strings are allocated.
			err = json.Unmarshal(line, &struct {
				ID *string `json:"_id"`
			}{&d.ID})
		}
		if err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		if d.ID == "" {
			return errors.New(`no "_id"`)
		}
		if ids[d.ID] {
			return fmt.Errorf("duplicate corpus ID %q", d.ID)
		}
		ids[d.ID] = true
		if bodies {
			ds.Docs = append(ds.Docs, Doc{ID: d.ID, Title: d.Title, Text: d.Text})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ds.CorpusSize = len(ids)

	ds.Queries = make([]Query, 0, len(qrels.order))
	for _, qid := range qrels.order {
		text, ok := texts[qid]
		if !ok {
			ds.MissingQueries++
			continue
		}
		q := Query{ID: qid, Text: text, Rels: make(map[string]float64, len(qrels.rels[qid]))}
		for _, j := range qrels.rels[qid] {
			if !ids[j.doc] {
				ds.MissingDocs++
				continue
			}
			q.Rels[j.doc] = j.score
		}
		ds.Queries = append(ds.Queries, q)
	}
	return ds, nil
}

// judgement is one qrels line.
type judgement struct {
	doc   string
	score float64
}

type qrelsFile struct {
	order []string // query IDs in order of first appearance
	rels  map[string][]judgement
}

// readQrels reads a qrels TSV. The first line is a header when its score
// column is not a number (BEIR writes "query-id corpus-id score").
func readQrels(path string) (*qrelsFile, error) {
	q := &qrelsFile{rels: map[string][]judgement{}}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("beir: qrels: %w", err)
	}
	defer f.Close()
	err = readLines(path, f, func(n int, line []byte) error {
		fields := strings.Split(string(line), "\t")
		if len(fields) != 3 {
			return fmt.Errorf("want 3 tab-separated fields (query-id, corpus-id, score), got %d", len(fields))
		}
		qid, did := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		score, err := strconv.ParseFloat(strings.TrimSpace(fields[2]), 64)
		if err != nil {
			if n == 1 {
				return nil // the header
			}
			return fmt.Errorf("score %q is not a number", fields[2])
		}
		if qid == "" || did == "" {
			return errors.New("empty query-id or corpus-id")
		}
		if q.rels[qid] == nil {
			q.order = append(q.order, qid)
		}
		q.rels[qid] = append(q.rels[qid], judgement{did, score})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// findJSONL returns dir/base.jsonl, or dir/base.jsonl.gz when only that
// exists.
func findJSONL(dir, base string) (string, error) {
	for _, name := range []string{base + ".jsonl", base + ".jsonl.gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("beir: %w", err)
		}
	}
	return "", fmt.Errorf("beir: %s: no %s.jsonl or %s.jsonl.gz: %w", dir, base, base, fs.ErrNotExist)
}

// readJSONL calls fn with each non-blank line of a JSON Lines file,
// gunzipping a .gz one.
func readJSONL(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("beir: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("beir: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	return readLines(path, r, func(_ int, line []byte) error { return fn(line) })
}

// readLines calls fn with each non-blank line (without its line ending)
// and its 1-based number. An error is returned as "path:line: err".
func readLines(path string, r io.Reader, fn func(n int, line []byte) error) error {
	// A bufio.Reader rather than a Scanner: a line may be as long as it
	// likes up to maxLine, without a buffer sized for the worst case.
	br := bufio.NewReaderSize(r, 1<<20)
	var buf []byte
	for n := 1; ; n++ {
		buf = buf[:0]
		var err error
		for {
			var frag []byte
			frag, err = br.ReadSlice('\n')
			buf = append(buf, frag...)
			if err != bufio.ErrBufferFull {
				break
			}
			if len(buf) > maxLine {
				return fmt.Errorf("beir: %s:%d: line longer than %d bytes", path, n, maxLine)
			}
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("beir: %s:%d: %w", path, n, err)
		}
		line := bytes.TrimRight(buf, "\r\n")
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 BOM
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if ferr := fn(n, line); ferr != nil {
				return fmt.Errorf("beir: %s:%d: %w", path, n, ferr)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
