package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"llmops/store"
)

// Canonical field names.
const (
	fieldID           = "id"
	fieldQuestion     = "question"
	fieldReference    = "reference_answer"
	fieldDocuments    = "document_ids"
	fieldChunks       = "chunk_ids"
	fieldTags         = "tags"
	fieldCategory     = "category"
	fieldDifficulty   = "difficulty"
	fieldTopic        = "topic"
	fieldAnswerable   = "answerable"
	fieldUnanswerable = "unanswerable"
	fieldRelevance    = "relevance"
	fieldTraceID      = "trace_id"
)

// aliases lists each field's names, best first (see the package doc).
var aliases = map[string][]string{
	fieldID:           {"id", "case_id", "qid", "query_id"},
	fieldQuestion:     {"question", "query", "input", "user_input", "text"},
	fieldReference:    {"reference_answer", "ground_truth", "reference", "expected_output", "expected", "ideal_answer", "answer"},
	fieldDocuments:    {"document_ids", "doc_ids", "reference_document_ids", "relevant_docs", "documents", "sources"},
	fieldChunks:       {"chunk_ids", "reference_chunk_ids", "reference_context_ids"},
	fieldTags:         {"tags"},
	fieldCategory:     {"category"},
	fieldDifficulty:   {"difficulty"},
	fieldTopic:        {"topic"},
	fieldAnswerable:   {"answerable"},
	fieldUnanswerable: {"unanswerable"},
	fieldRelevance:    {"relevance"},
	fieldTraceID:      {"trace_id"},
}

// foldedAliases is aliases with each name folded by normKey.
var foldedAliases = func() map[string][]string {
	m := make(map[string][]string, len(aliases))
	for field, names := range aliases {
		for _, n := range names {
			m[field] = append(m[field], normKey(n))
		}
	}
	return m
}()

// normKey folds a field name for matching: lower case, letters and digits
// only, so "_id" is "id" and "Expected Output" is "expectedoutput".
func normKey(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isQuestionKey reports whether a (normalised) column name names the question.
func isQuestionKey(nk string) bool {
	return slices.Contains(foldedAliases[fieldQuestion], nk)
}

// value is one field of a record: a CSV cell, or a JSON value when raw
// is set. key is the name the file used, for errors.
type value struct {
	key  string
	cell string
	raw  json.RawMessage
}

// lookup returns the best non-empty alias of field in a record keyed by
// normalised names.
func lookup(fields map[string]value, field string) (value, bool) {
	for _, a := range foldedAliases[field] {
		if v, ok := fields[a]; ok && !v.empty() {
			return v, true
		}
	}
	return value{}, false
}

func (v value) empty() bool {
	if v.raw == nil {
		return strings.TrimSpace(v.cell) == ""
	}
	switch jsonKind(v.raw) {
	case "null":
		return true
	case "a string":
		var s string
		return json.Unmarshal(v.raw, &s) == nil && strings.TrimSpace(s) == ""
	case "an array":
		return bytes.Equal(compact(v.raw), []byte("[]"))
	}
	return false
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// jsonKind names a JSON value's type for errors and type switches.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// text reads a single text: a cell, a JSON string or number, or a JSON
// object holding the same field one level down.
func (v value) text(field string) (string, error) {
	if v.raw == nil {
		return strings.TrimSpace(strings.ToValidUTF8(v.cell, "\uFFFD")), nil
	}
	switch k := jsonKind(v.raw); k {
	case "a string":
		var s string
		if err := json.Unmarshal(v.raw, &s); err != nil {
			return "", fmt.Errorf("%s: %w", v.key, err)
		}
		return strings.TrimSpace(s), nil
	case "a number":
		return string(bytes.TrimSpace(v.raw)), nil
	case "null":
		return "", nil
	case "an object":
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(v.raw, &inner); err == nil {
			keys := slices.Sorted(maps.Keys(inner))
			for _, a := range foldedAliases[field] {
				for _, k := range keys {
					if normKey(k) == a && jsonKind(inner[k]) == "a string" {
						return value{key: v.key + "." + k, raw: inner[k]}.text(field)
					}
				}
			}
		}
		return "", fmt.Errorf("%s: want a string, got an object without a %s field", v.key, field)
	default:
		return "", fmt.Errorf("%s: want a string, got %s", v.key, k)
	}
}

// list reads a list of IDs or tags: a JSON array of strings, a JSON
// string (split on ";", "|" and "," when split is set, else one item),
// or a CSV cell, always split, which may also hold a JSON or Python list
// ("['a.md', 'b.md']", as pandas writes them).
func (v value) list(split bool) ([]string, error) {
	if v.raw == nil {
		return splitCell(strings.ToValidUTF8(v.cell, "\uFFFD")), nil
	}
	switch k := jsonKind(v.raw); k {
	case "null":
		return nil, nil
	case "a string", "a number":
		s, err := v.text("")
		if err != nil {
			return nil, err
		}
		if split {
			return splitList(s), nil
		}
		return cleanList([]string{s}), nil
	case "an array":
		var items []json.RawMessage
		if err := json.Unmarshal(v.raw, &items); err != nil {
			return nil, fmt.Errorf("%s: %w", v.key, err)
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			switch k := jsonKind(it); k {
			case "a string", "a number":
				s, err := value{key: v.key, raw: it}.text("")
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			case "null":
			default:
				return nil, fmt.Errorf("%s[%d]: want a string, got %s", v.key, i, k)
			}
		}
		return cleanList(out), nil
	default:
		return nil, fmt.Errorf("%s: want a string or an array of strings, got %s", v.key, k)
	}
}

// splitCell splits a CSV cell into items.
func splitCell(cell string) []string {
	s := strings.TrimSpace(cell)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		var items []string
		if json.Unmarshal([]byte(s), &items) == nil {
			return cleanList(items)
		}
		inner := strings.Split(s[1:len(s)-1], ",")
		for i, it := range inner {
			inner[i] = strings.Trim(strings.TrimSpace(it), `"'`)
		}
		return cleanList(inner)
	}
	return splitList(s)
}

// splitList splits on ";", "|" and ",".
func splitList(s string) []string {
	return cleanList(strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' }))
}

// cleanList trims items and drops empty and repeated ones, keeping order.
func cleanList(items []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || seen[it] {
			continue
		}
		seen[it] = true
		out = append(out, it)
	}
	return out
}

// boolean reads true/false/yes/no/1/0; ok is false when the field is empty.
func (v value) boolean() (b, ok bool, err error) {
	var s string
	if v.raw == nil {
		s = v.cell
	} else {
		switch k := jsonKind(v.raw); k {
		case "a boolean":
			return bytes.HasPrefix(bytes.TrimSpace(v.raw), []byte("t")), true, nil
		case "null":
			return false, false, nil
		case "a string", "a number":
			if s, err = v.text(""); err != nil {
				return false, false, err
			}
		default:
			return false, false, fmt.Errorf("%s: want true or false, got %s", v.key, k)
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return false, false, nil
	case "true", "yes", "1":
		return true, true, nil
	case "false", "no", "0":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%s: want true/false/yes/no/1/0, got %q", v.key, clip(s, 40))
}

// grades reads a relevance map: a JSON object of ID → number (in CSV, a
// cell holding one).
func (v value) grades() (map[string]float64, error) {
	raw := v.raw
	if raw == nil {
		raw = json.RawMessage(strings.TrimSpace(v.cell))
	}
	if k := jsonKind(raw); k != "an object" {
		return nil, fmt.Errorf("%s: want an object of document ID to grade, got %s", v.key, k)
	}
	var m map[string]float64
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: want an object of document ID to grade: %v", v.key, err)
	}
	out := make(map[string]float64, len(m))
	for id, g := range m {
		id = strings.TrimSpace(id)
		if id == "" || math.IsNaN(g) || math.IsInf(g, 0) {
			return nil, fmt.Errorf("%s: invalid grade %q: %v", v.key, id, g)
		}
		out[id] = g
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// buildCase turns one record, keyed by normalised field names, into a case.
func buildCase(fields map[string]value) (store.EvalCase, error) {
	var ec store.EvalCase
	var err error
	text := func(field string, dst *string) {
		if v, ok := lookup(fields, field); ok && err == nil {
			*dst, err = v.text(field)
		}
	}
	list := func(field string, split bool) []string {
		v, ok := lookup(fields, field)
		if !ok || err != nil {
			return nil
		}
		var l []string
		l, err = v.list(split)
		return l
	}
	text(fieldQuestion, &ec.Question)
	if err != nil {
		return ec, err
	}
	if ec.Question == "" {
		return ec, fmt.Errorf("missing question")
	}
	if n := utf8.RuneCountInString(ec.Question); n > MaxQuestionRunes {
		return ec, fmt.Errorf("question is %d characters; the limit is %d", n, MaxQuestionRunes)
	}
	text(fieldID, &ec.ID)
	text(fieldReference, &ec.ReferenceAnswer)
	text(fieldTraceID, &ec.TraceID)
	ec.DocumentIDs = list(fieldDocuments, false)
	ec.ChunkIDs = list(fieldChunks, false)
	var tags []string
	tags = append(tags, list(fieldTags, true)...)
	for _, f := range []string{fieldCategory, fieldDifficulty, fieldTopic} {
		tags = append(tags, list(f, false)...)
	}
	if err != nil {
		return ec, err
	}
	ec.Tags = normTags(tags)
	if err := store.CheckCaseTags(ec.Tags); err != nil {
		return ec, errors.New(store.ErrorMessage(err))
	}
	if v, ok := lookup(fields, fieldRelevance); ok {
		if ec.Relevance, err = v.grades(); err != nil {
			return ec, err
		}
	}

	ans, hasAns, err := boolField(fields, fieldAnswerable)
	if err != nil {
		return ec, err
	}
	unans, hasUnans, err := boolField(fields, fieldUnanswerable)
	if err != nil {
		return ec, err
	}
	if hasAns && hasUnans && ans == unans {
		return ec, fmt.Errorf("answerable=%t and unanswerable=%t contradict each other", ans, unans)
	}
	ec.Unanswerable = hasAns && !ans || hasUnans && unans
	return ec, nil
}

func boolField(fields map[string]value, field string) (b, ok bool, err error) {
	v, found := lookup(fields, field)
	if !found {
		return false, false, nil
	}
	return v.boolean()
}

// normTags lower-cases, dedupes and sorts tags.
func normTags(tags []string) []string {
	for i, t := range tags {
		tags[i] = strings.ToLower(strings.TrimSpace(t))
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	if len(tags) > 0 && tags[0] == "" {
		tags = tags[1:]
	}
	if len(tags) == 0 {
		return nil
	}
	return tags
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
