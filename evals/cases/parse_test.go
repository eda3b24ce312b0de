package cases

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	sampledata "llmops/sample-data"
	"llmops/store"
)

func mustParse(t *testing.T, name, data string, opts Options) *Parsed {
	t.Helper()
	p, err := Parse(name, []byte(data), opts)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	full := store.EvalCase{
		ID:              "q1",
		Question:        "How do I cancel?",
		ReferenceAnswer: "Under Billing, choose Cancel.",
		DocumentIDs:     []string{"billing/cancel.md", "faq.md"},
		ChunkIDs:        []string{"d1-00001"},
		Tags:            []string{"billing", "easy", "urgent"},
	}
	unanswerable := store.EvalCase{ID: "q2", Question: "Do you sell hats?", Unanswerable: true, Tags: []string{"faq"}}
	tests := []struct {
		name, file, data string
		format           string
		want             []store.EvalCase
	}{
		{
			name: "jsonl", file: "set.jsonl", format: FormatJSONL,
			data: `{"id":"q1","question":"  How do I cancel? ","reference_answer":"Under Billing, choose Cancel.","document_ids":["billing/cancel.md","faq.md","billing/cancel.md"],"chunk_ids":"d1-00001","tags":"Urgent;billing","category":"Billing","difficulty":"easy","answerable":true}

{"id":"q2","question":"Do you sell hats?","answerable":false,"topic":"FAQ"}
`,
			want: []store.EvalCase{full, unanswerable},
		},
		{
			name: "json array", file: "set.json", format: FormatJSON,
			data: `[
  {"id":"q1","query":"How do I cancel?","ground_truth":"Under Billing, choose Cancel.","doc_ids":["billing/cancel.md","faq.md"],"reference_chunk_ids":["d1-00001"],"tags":["urgent","BILLING"],"difficulty":"easy","unanswerable":"no"},
  {"id":"q2","text":"Do you sell hats?","unanswerable":true,"tags":"faq"}
]`,
			want: []store.EvalCase{full, unanswerable},
		},
		{
			name: "csv", file: "set.csv", format: FormatCSV,
			data: "\uFEFFID,Question,Reference Answer,Document IDs,chunk_ids,Tags,Category,Difficulty,Answerable\r\n" +
				"q1,How do I cancel?,\"Under Billing, choose Cancel.\",billing/cancel.md;faq.md,d1-00001,urgent|billing,billing,Easy,yes\r\n" +
				",,,,,,,,\r\n" +
				"q2,Do you sell hats?,,,,faq,,,0\r\n",
			want: []store.EvalCase{full, unanswerable},
		},
		{
			name: "csv detected from content", file: "upload", format: FormatCSV,
			data: "question\nWhat is SSO?\n",
			want: []store.EvalCase{{ID: "c0001", Question: "What is SSO?"}},
		},
		{
			name: "json array detected from content", file: "upload", format: FormatJSON,
			data: "  [{\"question\":\"What is SSO?\"}]",
			want: []store.EvalCase{{ID: "c0001", Question: "What is SSO?"}},
		},
		{
			name: "jsonl detected from content", file: "upload.txt", format: FormatJSONL,
			data: "{\"question\":\"What is SSO?\"}",
			want: []store.EvalCase{{ID: "c0001", Question: "What is SSO?"}},
		},
		{
			name: "jsonl in a .json file", file: "set.json", format: FormatJSONL,
			data: "{\"question\":\"What is SSO?\"}\n{\"question\":\"And SAML?\"}\n",
			want: []store.EvalCase{{ID: "c0001", Question: "What is SSO?"}, {ID: "c0002", Question: "And SAML?"}},
		},
		{
			name: "ragas export", file: "ragas.jsonl", format: FormatJSONL,
			data: `{"user_input":"How do I cancel?","response":"Click cancel.","reference":"Under Billing, choose Cancel.","retrieved_contexts":["..."],"faithfulness":0.5}` + "\n" +
				`{"question":"Q2","answer":"model answer","ground_truth":"the reference","contexts":["x"]}`,
			want: []store.EvalCase{
				{ID: "c0001", Question: "How do I cancel?", ReferenceAnswer: "Under Billing, choose Cancel."},
				{ID: "c0002", Question: "Q2", ReferenceAnswer: "the reference"},
			},
		},
		{
			name: "langfuse export", file: "langfuse.json", format: FormatJSON,
			data: `[{"id":"lf-1","input":{"question":"How do I cancel?"},"expectedOutput":{"answer":"Cancel under Billing."},"metadata":{"k":"v"},"status":"ACTIVE"},
{"id":"lf-2","input":"Plain input","expected_output":"Plain output"}]`,
			want: []store.EvalCase{
				{ID: "lf-1", Question: "How do I cancel?", ReferenceAnswer: "Cancel under Billing."},
				{ID: "lf-2", Question: "Plain input", ReferenceAnswer: "Plain output"},
			},
		},
		{
			name: "beir queries", file: "queries.jsonl", format: FormatJSONL,
			data: `{"_id":"1","text":"what is a cell","metadata":{}}` + "\n" + `{"_id":2,"text":"dna"}`,
			want: []store.EvalCase{{ID: "1", Question: "what is a cell"}, {ID: "2", Question: "dna"}},
		},
		{
			name: "csv list cells as pandas writes them", file: "set.csv", format: FormatCSV,
			data: "question,documents,reference_context_ids\n" +
				"Q,\"['a.md', 'b.md']\",\"[\"\"c1\"\", \"\"c2\"\"]\"\n",
			want: []store.EvalCase{{ID: "c0001", Question: "Q", DocumentIDs: []string{"a.md", "b.md"}, ChunkIDs: []string{"c1", "c2"}}},
		},
		{
			name: "relevance and trace", file: "set.jsonl", format: FormatJSONL,
			data: `{"id":"q","question":"Q","document_ids":["a","b"],"relevance":{"a":2,"b":1},"trace_id":"01T"}`,
			want: []store.EvalCase{{ID: "q", Question: "Q", DocumentIDs: []string{"a", "b"}, Relevance: map[string]float64{"a": 2, "b": 1}, TraceID: "01T"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tt.file, tt.data, Options{})
			if p.Format != tt.format {
				t.Errorf("format %q, want %q", p.Format, tt.format)
			}
			if !reflect.DeepEqual(p.Cases, tt.want) {
				t.Errorf("got cases\n%+v\nwant\n%+v", p.Cases, tt.want)
			}
		})
	}
}

// TestAliases checks every alias of every field, in JSON Lines and as a
// CSV column.
func TestAliases(t *testing.T) {
	t.Parallel()
	for field, names := range aliases {
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				val, check := aliasProbe(field)
				q := `"question":"Q",`
				if field == fieldQuestion {
					q = ""
				}
				p := mustParse(t, "x.jsonl", fmt.Sprintf(`{%s%q:%s}`, q, name, val), Options{})
				if msg := check(p.Cases[0]); msg != "" {
					t.Errorf("jsonl %s: %s", name, msg)
				}
				if field == fieldRelevance {
					return
				}
				header, row := "question,"+strings.ToUpper(name), "Q,"+strings.Trim(val, `[]"`)
				if field == fieldQuestion {
					header, row = strings.ToUpper(name), strings.Trim(val, `"`)
				}
				p = mustParse(t, "x.csv", header+"\n"+row+"\n", Options{})
				if msg := check(p.Cases[0]); msg != "" {
					t.Errorf("csv %s: %s", name, msg)
				}
			})
		}
	}
}

// aliasProbe returns a JSON value for a field and a check that it landed.
func aliasProbe(field string) (string, func(store.EvalCase) string) {
	want := func(got, want any) string {
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("got %v, want %v", got, want)
		}
		return ""
	}
	switch field {
	case fieldID:
		return `"x9"`, func(c store.EvalCase) string { return want(c.ID, "x9") }
	case fieldQuestion:
		return `"Why?"`, func(c store.EvalCase) string { return want(c.Question, "Why?") }
	case fieldReference:
		return `"Because."`, func(c store.EvalCase) string { return want(c.ReferenceAnswer, "Because.") }
	case fieldDocuments:
		return `["d.md"]`, func(c store.EvalCase) string { return want(c.DocumentIDs, []string{"d.md"}) }
	case fieldChunks:
		return `["c-1"]`, func(c store.EvalCase) string { return want(c.ChunkIDs, []string{"c-1"}) }
	case fieldTags, fieldCategory, fieldDifficulty, fieldTopic:
		return `"Hard"`, func(c store.EvalCase) string { return want(c.Tags, []string{"hard"}) }
	case fieldAnswerable:
		return `"no"`, func(c store.EvalCase) string { return want(c.Unanswerable, true) }
	case fieldUnanswerable:
		return `"1"`, func(c store.EvalCase) string { return want(c.Unanswerable, true) }
	case fieldRelevance:
		return `{"d":3}`, func(c store.EvalCase) string { return want(c.Relevance, map[string]float64{"d": 3}) }
	case fieldTraceID:
		return `"t1"`, func(c store.EvalCase) string { return want(c.TraceID, "t1") }
	}
	panic("no probe for " + field)
}

func TestParseCSVLineNumbers(t *testing.T) {
	t.Parallel()
	data := "question,reference_answer,tags\n" + // line 1
		"\"Multi\nline, question\",\"a, b\",x\n" + // lines 2-3
		"\n" + // 4: blank
		"\"Another\",\"spans\n\nthree lines\",y\n" + // lines 5-7
		"too,few\n" + // 8: bad
		",ref only,z\n" + // 9: bad
		"\"bare\"quote,x,y\n" + // 10: bad
		"Last,,\n" // 11
	_, err := Parse("q.csv", []byte(data), Options{})
	var ile *InvalidLinesError
	if !errors.As(err, &ile) {
		t.Fatalf("got error %v, want an *InvalidLinesError", err)
	}
	want := `q.csv: 3 invalid lines (use --skip-invalid to skip them): line 8: has 2 fields, the header has 3; line 9: missing question; line 10: invalid CSV: extraneous or missing " in quoted-field`
	if err.Error() != want {
		t.Errorf("got error\n%s\nwant\n%s", err, want)
	}

	p := mustParse(t, "q.csv", data, Options{SkipInvalid: true})
	var qs []string
	for _, c := range p.Cases {
		qs = append(qs, c.ID+"="+c.Question)
	}
	if got, want := strings.Join(qs, " | "), "c0001=Multi\nline, question | c0002=Another | c0006=Last"; got != want {
		t.Errorf("got cases %q, want %q", got, want)
	}
	if got := p.Cases[1].ReferenceAnswer; got != "spans\n\nthree lines" {
		t.Errorf("got reference %q", got)
	}
	if len(p.Skipped) != 3 || p.Skipped[0].Line != 8 || p.Skipped[2].Line != 10 {
		t.Errorf("got skipped %v, want lines 8, 9, 10", p.Skipped)
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, data string
		want             string // the error, or with SkipInvalid the skipped lines joined by "; "
		skip             bool
	}{
		{
			name: "jsonl bad lines", file: "questions.jsonl",
			data: "{\"question\":\"ok\"}\n{\"question\":\"\"}\n\n{\"question\": nope}\n[1]\n{\"id\":\"a\",\"question\":\"ok\",\"answerable\":\"maybe\"}\n",
			want: `questions.jsonl: 4 invalid lines (use --skip-invalid to skip them): line 2: missing question; line 4: invalid JSON: invalid character 'o' in literal null (expecting 'u'); line 5: want a JSON object, got an array; line 6: answerable: want true/false/yes/no/1/0, got "maybe"`,
		},
		{
			name: "skip invalid", file: "questions.jsonl", skip: true,
			data: "{\"question\":\"ok\"}\n{\"question\":true}\n{\"question\":\"ok\",\"document_ids\":{\"a\":1}}\n",
			want: `line 2: question: want a string, got a boolean; line 3: document_ids: want a string or an array of strings, got an object`,
		},
		{
			name: "conflicting answerable", file: "q.jsonl", skip: true,
			data: `{"question":"Q","answerable":true,"unanswerable":"yes"}` + "\n" + `{"question":"Q","answerable":false,"unanswerable":false}` + "\n" + `{"question":"Q","answerable":false,"unanswerable":true}`,
			want: `line 1: answerable=true and unanswerable=true contradict each other; line 2: answerable=false and unanswerable=false contradict each other`,
		},
		{
			name: "duplicate ids", file: "q.jsonl", skip: true,
			data: `{"id":"a","question":"Q"}` + "\n" + `{"id":" a ","question":"Q2"}` + "\n" + `{"id":"b","question":"Q3"}`,
			want: `line 2: duplicate id "a" (first on line 1)`,
		},
		{
			name: "duplicate ids in a json array", file: "q.json", skip: true,
			data: `[{"id":"a","question":"Q"},{"id":"b","question":"Q"},{"id":"a","question":"Q"}]`,
			want: `item 3: duplicate id "a" (first on item 1)`,
		},
		{
			name: "json array items", file: "q.json",
			data: `[{"question":"Q"}, 3, {}]`,
			want: `q.json: 2 invalid items (use --skip-invalid to skip them): item 2: want a JSON object, got a number; item 3: missing question`,
		},
		{
			name: "question too long", file: "q.jsonl", skip: true,
			data: `{"question":"ok"}` + "\n" + `{"question":"` + strings.Repeat("é", MaxQuestionRunes+1) + `"}` + "\n" + `{"question":"` + strings.Repeat("é", MaxQuestionRunes) + `"}`,
			want: `line 2: question is 4001 characters; the limit is 4000`,
		},
		{
			name: "tags over the limits", file: "q.jsonl", skip: true,
			data: `{"question":"ok","tags":"a;A; a ;b","category":"c"}` + "\n" + `{"question":"Q","tags":"` + manyTags(21) + `"}` + "\n" +
				`{"question":"Q","tags":["ok","` + strings.Repeat("t", 65) + `"]}` + "\n" + `{"question":"Q","tags":"` + manyTags(20) + `"}`,
			want: `line 2: tags: at most 20 distinct tags (got 21); line 3: tags: each tag at most 64 characters`,
		},
		{name: "empty file", file: "q.csv", data: "", want: "q.csv: no cases: the file is empty"},
		{name: "blank file", file: "q.jsonl", data: "\uFEFF \n\r\n", want: "q.jsonl: no cases: the file is empty"},
		{name: "header only", file: "q.csv", data: "question,answer\n", want: "q.csv: no cases"},
		{
			name: "csv without question column", file: "q.csv", data: "id,answer,Doc IDs\n1,a,b\n",
			want: `q.csv: the header row has no question column (want one of question, query, input, user_input, text; found "id", "answer", "Doc IDs")`,
		},
		{
			name: "all invalid with skip", file: "q.jsonl", skip: true, data: "{}\n{\"x\":1}\n",
			want: "q.jsonl: no cases (2 invalid lines: line 1: missing question; line 2: missing question)",
		},
		{name: "not an array", file: "q.json", data: `{"question":"Q"}`, want: "", skip: true},
		{name: "forced json on an object", file: "q.txt", data: `{"question":"Q"}`, want: "q.txt: want a JSON array of objects (for one object per line, use the jsonl format)"},
		{name: "broken json array", file: "q.json", data: `[{"question":"Q"}, {"question": }]`, want: "q.json: item 2: invalid JSON: invalid character '}' looking for beginning of value"},
		{name: "unterminated json array", file: "q.json", data: `[{"question":"Q"}`, want: "q.json: invalid JSON: the array ends after item 1 without a ']'"},
		{name: "trailing data", file: "q.json", data: `[{"question":"Q"}] x`, want: "q.json: unexpected data after the JSON array"},
		{name: "unknown format", file: "q.json", data: `[]`, want: `q.json: unknown format "xml" (want csv, jsonl or json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{SkipInvalid: tt.skip}
			switch tt.name {
			case "forced json on an object":
				opts.Format = "json"
			case "unknown format":
				opts.Format = "xml"
			}
			p, err := Parse(tt.file, []byte(tt.data), opts)
			if err != nil {
				if err.Error() != tt.want {
					t.Errorf("got error\n%s\nwant\n%s", err, tt.want)
				}
				return
			}
			var got []string
			for _, l := range p.Skipped {
				got = append(got, l.Error())
			}
			if g := strings.Join(got, "; "); g != tt.want {
				t.Errorf("got skipped\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
}

// manyTags is n distinct tags, separated by ";".
func manyTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag%d", i)
	}
	return strings.Join(tags, ";")
}

func TestParseErrorListsAtMost20(t *testing.T) {
	t.Parallel()
	data := "{\"question\":\"ok\"}\n" + strings.Repeat("{}\n", 25)
	_, err := Parse("q.jsonl", []byte(data), Options{})
	var ile *InvalidLinesError
	if !errors.As(err, &ile) || len(ile.Lines) != 25 {
		t.Fatalf("got %v, want an *InvalidLinesError with 25 lines", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "q.jsonl: 25 invalid lines") || !strings.Contains(msg, "line 21: missing question; and 5 more") || strings.Contains(msg, "line 22") {
		t.Errorf("got %s", msg)
	}
}

func TestGeneratedIDs(t *testing.T) {
	t.Parallel()
	data := `{"question":"one"}
{"id":"c0003","question":"explicit"}
{"question":""}
{"question":"four"}
{"id":"c0004","question":"taken"}`
	p := mustParse(t, "q.jsonl", data, Options{SkipInvalid: true})
	var ids []string
	for _, c := range p.Cases {
		ids = append(ids, c.ID)
	}
	if got, want := strings.Join(ids, ","), "c0001,c0003,c0004-2,c0004"; got != want {
		t.Errorf("got IDs %s, want %s", got, want)
	}
}

func TestTooManyCases(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("question\n", 1) + strings.Repeat("q\n", MaxCases+1)
	_, err := Parse("big.csv", []byte(data), Options{})
	if !errors.Is(err, ErrTooManyCases) {
		t.Fatalf("got %v, want ErrTooManyCases", err)
	}
	p := mustParse(t, "ok.csv", "question\n"+strings.Repeat("q\n", MaxCases), Options{})
	if len(p.Cases) != MaxCases || p.Cases[MaxCases-1].ID != "c100000" {
		t.Errorf("got %d cases, last %s", len(p.Cases), p.Cases[len(p.Cases)-1].ID)
	}
}

func TestSampleSet(t *testing.T) {
	t.Parallel()
	data, err := fs.ReadFile(sampledata.FS(), "evals/questions.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, "questions.jsonl", string(data), Options{})
	if len(p.Cases) != 90 {
		t.Fatalf("got %d cases, want 90", len(p.Cases))
	}
	qs, err := sampledata.Questions()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range p.Cases {
		q := qs[i]
		want := []string{q.Category, q.Difficulty}
		if q.Difficulty < q.Category {
			want = []string{q.Difficulty, q.Category}
		}
		if c.ID != q.ID || c.Question != q.Question || c.ReferenceAnswer != q.ReferenceAnswer ||
			c.Unanswerable == q.Answerable || !reflect.DeepEqual(c.Tags, want) ||
			len(c.DocumentIDs) != len(q.DocumentIDs) {
			t.Errorf("case %d: got %+v from %+v", i, c, q)
		}
	}
	if got := p.Cases[0].Tags; !reflect.DeepEqual(got, []string{"easy", "mobile"}) {
		t.Errorf("q001 tags %v, want [easy mobile]", got)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	in := []store.EvalCase{
		{ID: "a", Question: "Quote \" and <html> & newline\nhere", ReferenceAnswer: "ref", DocumentIDs: []string{"x, y.md", "z"}, ChunkIDs: []string{"c1"}, Tags: []string{"a;b", "c"}, Relevance: map[string]float64{"z": 2}, TraceID: "t", Unanswerable: true},
		{ID: "b", Question: "Plain"},
	}
	data := Marshal(in)
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("got %d lines, want 2:\n%s", n, data)
	}
	p := mustParse(t, "export.jsonl", string(data), Options{})
	if !reflect.DeepEqual(p.Cases, in) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", p.Cases, in)
	}
	sample, _ := fs.ReadFile(sampledata.FS(), "evals/questions.jsonl")
	p1 := mustParse(t, "questions.jsonl", string(sample), Options{})
	p2 := mustParse(t, "export.jsonl", string(Marshal(p1.Cases)), Options{})
	if !reflect.DeepEqual(p1.Cases, p2.Cases) {
		t.Error("the sample set does not round-trip")
	}
}
