// Package cases reads and writes eval test-set files: CSV, JSON Lines and
// JSON arrays of questions, as written by hand, by spreadsheets, or
// exported from RAGAS, Langfuse or BEIR.
//
// Field names are matched case-insensitively, ignoring spaces, '_' and
// '-' ("Reference Answer", "reference_answer" and "referenceAnswer" are
// the same column), with aliases for what other tools call them:
//
//	id                id, case_id, _id, qid, query_id
//	question          question, query, input, user_input, text (required)
//	reference_answer  reference_answer, ground_truth, reference, expected_output,
//	                  expected, ideal_answer, answer
//	document_ids      document_ids, doc_ids, reference_document_ids, relevant_docs,
//	                  documents, sources
//	chunk_ids         chunk_ids, reference_chunk_ids, reference_context_ids
//	tags              tags, plus the values of category, difficulty and topic
//	answerable        answerable, and its inverse unanswerable
//	relevance         relevance (a JSON object of document ID → grade)
//	trace_id          trace_id
//
// When a record has several aliases of one field, the first in the list
// above that is not empty wins; "answer" comes last because RAGAS exports
// use it for the model's answer beside the reference. Unknown fields
// (RAGAS contexts and scores, Langfuse metadata) are ignored. A JSON
// object where a text is expected (Langfuse's {"input": {"question": …}})
// is searched one level deep for the same field.
package cases

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"llmops/store"
)

// Limits of one file.
const (
	MaxCases         = 100_000
	MaxQuestionRunes = 4_000
)

// Formats Parse reads.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
	FormatJSON  = "json"
)

var (
	// ErrNoCases: the file holds no valid case.
	ErrNoCases = errors.New("no cases")
	// ErrTooManyCases: the file holds more than MaxCases cases.
	ErrTooManyCases = fmt.Errorf("more than %d cases", MaxCases)
)

// maxListed is how many bad lines an error spells out.
const maxListed = 20

// Options control Parse.
type Options struct {
	// Format is "csv", "jsonl" or "json"; empty detects it from the
	// name's extension, then from the content.
	Format string
	// SkipInvalid returns the valid cases and lists the bad lines in
	// Parsed.Skipped instead of failing.
	SkipInvalid bool
}

// Parsed is what Parse read.
type Parsed struct {
	Cases   []store.EvalCase
	Skipped []LineError // only with Options.SkipInvalid
	Format  string      // the format used
}

// LineError is a record Parse rejected.
type LineError struct {
	// Line is the 1-based physical line the record starts on or, when
	// Item is set, the 1-based position in a JSON array.
	Line int    `json:"line"`
	Item bool   `json:"item,omitempty"`
	Err  string `json:"error"`
}

func (e LineError) Error() string { return e.where() + ": " + e.Err }

// InvalidLinesError is Parse's error when some records are invalid and
// Options.SkipInvalid is off.
type InvalidLinesError struct {
	Name  string
	Lines []LineError
}

func (e *InvalidLinesError) Error() string {
	return fmt.Sprintf("%s: %s (use --skip-invalid to skip them): %s",
		e.Name, countInvalid(e.Lines), listLines(e.Lines))
}

// Parse reads a test-set file. name is used to detect the format and in
// errors. Without opts.SkipInvalid any invalid record fails the whole
// file with an *InvalidLinesError listing the bad lines.
func Parse(name string, data []byte, opts Options) (*Parsed, error) {
	if name == "" {
		name = "test set"
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	format, err := detectFormat(name, data, opts.Format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: %w: the file is empty", name, ErrNoCases)
	}
	c := &collector{ids: map[string]int{}, item: format == FormatJSON}
	switch format {
	case FormatCSV:
		err = readCSV(data, c)
	case FormatJSONL:
		err = readJSONL(data, c)
	case FormatJSON:
		err = readJSONArray(data, c)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.nameUnnamed()
	switch {
	case len(c.bad) > 0 && !opts.SkipInvalid:
		return nil, &InvalidLinesError{Name: name, Lines: c.bad}
	case len(c.cases) == 0 && len(c.bad) > 0:
		return nil, fmt.Errorf("%s: %w (%s: %s)", name, ErrNoCases, countInvalid(c.bad), listLines(c.bad))
	case len(c.cases) == 0:
		return nil, fmt.Errorf("%s: %w", name, ErrNoCases)
	}
	return &Parsed{Cases: c.cases, Skipped: c.bad, Format: format}, nil
}

// detectFormat picks the format: the one asked for, else the extension,
// else the first byte. A .json file that starts with '{' is taken as
// JSON Lines, which is how most tools write "JSON" test sets.
func detectFormat(name string, data []byte, asked string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(asked)); f {
	case FormatCSV, FormatJSONL, FormatJSON:
		return f, nil
	case "ndjson":
		return FormatJSONL, nil
	case "":
	default:
		return "", fmt.Errorf("unknown format %q (want csv, jsonl or json)", asked)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return FormatCSV, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	case ".json":
		if len(trimmed) > 0 && trimmed[0] == '{' {
			return FormatJSONL, nil
		}
		return FormatJSON, nil
	}
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return FormatJSON, nil
	case len(trimmed) > 0 && trimmed[0] == '{':
		return FormatJSONL, nil
	}
	return FormatCSV, nil
}

// collector turns records into cases as the readers find them.
type collector struct {
	item     bool // positions are JSON array items, not lines
	records  int  // records seen, valid or not
	cases    []store.EvalCase
	ordinals []int          // per case: its record's position, for generated IDs
	ids      map[string]int // explicit ID → line of its case
	bad      []LineError
}

// add builds a case from one record's fields; it fails only when the
// file holds too many cases.
func (c *collector) add(line int, fields map[string]value) error {
	c.records++
	ec, err := buildCase(fields)
	if err != nil {
		c.reject(line, err.Error())
		return nil
	}
	if ec.ID != "" {
		if first, dup := c.ids[ec.ID]; dup {
			c.reject(line, fmt.Sprintf("duplicate id %q (first on %s)", ec.ID, LineError{Line: first, Item: c.item}.where()))
			return nil
		}
		c.ids[ec.ID] = line
	}
	c.cases = append(c.cases, ec)
	c.ordinals = append(c.ordinals, c.records)
	if len(c.cases) > MaxCases {
		return fmt.Errorf("%w; split the file", ErrTooManyCases)
	}
	return nil
}

// invalid records a record that could not even be read.
func (c *collector) invalid(line int, msg string) {
	c.records++
	c.reject(line, msg)
}

func (c *collector) reject(line int, msg string) {
	c.bad = append(c.bad, LineError{Line: line, Item: c.item, Err: msg})
}

// nameUnnamed gives cases without an ID "c0007", after their position in
// the file (counting invalid records too, so fixing a bad line does not
// rename the cases after it), avoiding IDs the file uses.
func (c *collector) nameUnnamed() {
	for i := range c.cases {
		if c.cases[i].ID != "" {
			continue
		}
		id := fmt.Sprintf("c%04d", c.ordinals[i])
		for n := 2; ; n++ {
			if _, taken := c.ids[id]; !taken {
				break
			}
			id = fmt.Sprintf("c%04d-%d", c.ordinals[i], n)
		}
		c.ids[id] = 0
		c.cases[i].ID = id
	}
}

func (e LineError) where() string {
	if e.Item {
		return fmt.Sprintf("item %d", e.Line)
	}
	return fmt.Sprintf("line %d", e.Line)
}

func listLines(ls []LineError) string {
	var b strings.Builder
	for i, l := range ls {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(ls)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l.Error())
	}
	return b.String()
}

// countInvalid says "1 invalid line", "3 invalid items".
func countInvalid(ls []LineError) string {
	what := "line"
	if len(ls) > 0 && ls[0].Item {
		what = "item"
	}
	if len(ls) == 1 {
		return "1 invalid " + what
	}
	return fmt.Sprintf("%d invalid %ss", len(ls), what)
}
