package parse

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// An FAQ file (CSV or JSON) becomes one KindQA Section per question, with
// the question as its heading and "Q: …\nA: …" as its text. Categories and
// tags, which belong to single rows, are gathered into the document's Meta
// as comma-separated lists, since a Section carries no metadata.

// faqColumns are the accepted names of each FAQ field, compared after
// lower-casing and trimming. title/body is a fallback pair for exports of
// help-centre articles.
var faqColumns = map[string][]string{
	"question": {"question", "questions", "q"},
	"answer":   {"answer", "answers", "a"},
	"category": {"category", "section", "topic"},
	"tags":     {"tags", "tag", "keywords", "labels"},
}

// faqEntry is one question and its answer.
type faqEntry struct {
	question, answer, category string
	tags                       []string
}

// faqBuilder turns entries into Sections and Meta.
type faqBuilder struct {
	b          *sectionBuilder
	categories []string
	tags       []string
	seen       map[string]bool
}

func newFAQBuilder(ctx context.Context, lim Limits) *faqBuilder {
	return &faqBuilder{b: newSectionBuilder(ctx, lim), seen: map[string]bool{}}
}

// add adds one entry; entries without a question or an answer are skipped.
func (f *faqBuilder) add(e faqEntry) {
	q, a := cleanLine(e.question), cleanText(e.answer)
	if q == "" || a == "" {
		return
	}
	f.b.add(Section{Headings: []string{q}, Text: "Q: " + q + "\nA: " + a, Kind: KindQA})
	f.collect(&f.categories, "c:", e.category)
	for _, t := range e.tags {
		f.collect(&f.tags, "t:", t)
	}
}

func (f *faqBuilder) collect(list *[]string, kind, v string) {
	if v = cleanLine(v); v != "" && !f.seen[kind+strings.ToLower(v)] {
		f.seen[kind+strings.ToLower(v)] = true
		*list = append(*list, v)
	}
}

func (f *faqBuilder) document(title string) (*Document, error) {
	sections, err := f.b.done()
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	if len(f.categories) > 0 {
		meta["category"] = strings.Join(f.categories, ",")
	}
	if len(f.tags) > 0 {
		meta["tags"] = strings.Join(f.tags, ",")
	}
	return &Document{Title: title, Meta: meta, Sections: sections}, nil
}

// splitTags splits a tags cell: "a, b; c" or "a|b".
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' })
}

// --- CSV ---

// isFAQHeader reports whether line is a CSV header with question and
// answer columns: the content cue Detect uses for CSV.
func isFAQHeader(line string) bool {
	if !strings.ContainsAny(line, ",;\t") {
		return false
	}
	r := csv.NewReader(strings.NewReader(line))
	r.Comma = csvDelimiter(line)
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return false
	}
	_, ok := faqHeaderIndex(header)
	return ok
}

// faqHeaderIndex maps each FAQ field to its column. ok is false without
// both a question and an answer column.
func faqHeaderIndex(header []string) (map[string]int, bool) {
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		for field, names := range faqColumns {
			if _, done := idx[field]; !done && containsString(names, h) {
				idx[field] = i
			}
		}
	}
	if _, ok := idx["question"]; !ok {
		idx["question"], ok = indexOf(header, "title")
		if !ok {
			delete(idx, "question")
		}
	}
	if _, ok := idx["answer"]; !ok {
		idx["answer"], ok = indexOf(header, "body")
		if !ok {
			delete(idx, "answer")
		}
	}
	_, q := idx["question"]
	_, a := idx["answer"]
	return idx, q && a
}

func indexOf(header []string, name string) (int, bool) {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i, true
		}
	}
	return 0, false
}

// csvDelimiter picks the delimiter of a header line: the most frequent of
// comma, semicolon (spreadsheets in many European locales) and tab.
func csvDelimiter(header string) rune {
	best, bestN := ',', strings.Count(header, ",")
	for _, d := range []rune{';', '\t'} {
		if n := strings.Count(header, string(d)); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// parseCSV reads an FAQ spreadsheet export: a header row naming question
// and answer columns (and optionally category and tags), then one row per
// question. Rows may be ragged, as spreadsheets write them; quoting must be
// right, or a stray quote would silently swallow the rest of the file.
func parseCSV(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = csvDelimiter(firstLine(text))
	r.FieldsPerRecord = -1 // spreadsheets drop trailing empty cells
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, csvError(err)
	}
	idx, ok := faqHeaderIndex(header)
	if !ok {
		return nil, invalidf("CSV needs a header row with question and answer columns (found: %s)", describeColumns(header))
	}
	f := newFAQBuilder(ctx, lim)
	for f.b.err == nil {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		cell := func(field string) string {
			if i, ok := idx[field]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		f.add(faqEntry{
			question: cell("question"),
			answer:   cell("answer"),
			category: cell("category"),
			tags:     splitTags(cell("tags")),
		})
	}
	return f.document("")
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return invalidf("CSV is malformed at line %d: %v", pe.Line, pe.Err)
	}
	return invalidf("CSV is malformed: %v", err)
}

// describeColumns lists header names for an error message, shortened.
func describeColumns(header []string) string {
	var names []string
	for _, h := range header {
		if h = truncateRunes(cleanLine(h), 30); h != "" {
			names = append(names, h)
		}
		if len(names) == 8 {
			names = append(names, "…")
			break
		}
	}
	if len(names) == 0 {
		return "no column names"
	}
	return strings.Join(names, ", ")
}

// --- JSON ---

// faqListKeys are the keys under which an object may hold the FAQ array.
var faqListKeys = []string{"faqs", "faq", "items", "questions", "entries", "data"}

// parseJSON reads an FAQ in JSON: an array of objects with question and
// answer fields, or an object holding such an array (and maybe a title).
func parseJSON(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, invalidf("not valid JSON: %v (at byte %d)", se, se.Offset)
		}
		return nil, invalidf("not valid JSON: %v", err)
	}
	title := ""
	if obj, ok := v.(map[string]any); ok {
		title, _ = lookupFold(obj, "title").(string)
		v = nil
		for _, k := range faqListKeys {
			if list, ok := lookupFold(obj, k).([]any); ok {
				v = list
				break
			}
		}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errJSONShape
	}
	f := newFAQBuilder(ctx, lim)
	matched := 0
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, errJSONShape
		}
		e, ok := jsonFAQEntry(obj)
		if !ok {
			continue
		}
		matched++
		f.add(e)
		if f.b.err != nil {
			break
		}
	}
	if matched == 0 && len(list) > 0 {
		return nil, errJSONShape
	}
	return f.document(title)
}

// jsonFAQEntry reads one FAQ object; ok is false if it has no question or
// no answer field.
func jsonFAQEntry(obj map[string]any) (faqEntry, bool) {
	field := func(name string) (string, bool) {
		for _, key := range faqColumns[name] {
			if v := lookupFold(obj, key); v != nil {
				return jsonString(v), true
			}
		}
		return "", false
	}
	q, okQ := field("question")
	if !okQ {
		q, okQ = jsonString(lookupFold(obj, "title")), lookupFold(obj, "title") != nil
	}
	a, okA := field("answer")
	if !okA {
		a, okA = jsonString(lookupFold(obj, "body")), lookupFold(obj, "body") != nil
	}
	if !okQ || !okA {
		return faqEntry{}, false
	}
	cat, _ := field("category")
	e := faqEntry{question: q, answer: a, category: cat}
	for _, key := range faqColumns["tags"] {
		switch t := lookupFold(obj, key).(type) {
		case string:
			e.tags = splitTags(t)
		case []any:
			for _, x := range t {
				e.tags = append(e.tags, jsonString(x))
			}
		default:
			continue
		}
		break
	}
	return e, true
}

// lookupFold returns obj[key], matching the key without regard to case;
// the exact key wins, then the first match in sorted order, so the result
// does not depend on map iteration.
func lookupFold(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	var keys []string
	for k := range obj {
		if strings.EqualFold(k, key) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	return obj[keys[0]]
}

// jsonString renders a JSON value as text: strings as is, lists of strings
// as paragraphs (an answer may be written as a list of paragraphs).
func jsonString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, jsonString(x))
		}
		return strings.Join(parts, "\n\n")
	case map[string]any:
		return ""
	default:
		return fmt.Sprint(v)
	}
}
