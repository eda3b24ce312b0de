package cases

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics, every case it returns has a question
// within the limit and a unique ID, and its export reads back the same.
func FuzzParse(f *testing.F) {
	f.Add([]byte("question,answer,tags\n\"a, b\",c,x|y\n,,\n"), uint8(0))
	f.Add([]byte(`{"id":"1","question":"q","document_ids":["a"],"answerable":false}`+"\n"+`{"query":"r","tags":"A;b"}`), uint8(1))
	f.Add([]byte(`[{"input":{"question":"q"}},{"text":"t","relevance":{"a":1}}]`), uint8(2))
	f.Add([]byte("\uFEFFQuestion;x\n\"unterminated\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := Options{Format: []string{"", FormatCSV, FormatJSONL, FormatJSON}[mode%4], SkipInvalid: mode&4 != 0}
		p, err := Parse("fuzz", data, opts)
		if err != nil {
			return
		}
		ids := map[string]bool{}
		for _, c := range p.Cases {
			if strings.TrimSpace(c.Question) == "" || utf8.RuneCountInString(c.Question) > MaxQuestionRunes {
				t.Fatalf("bad question %q", c.Question)
			}
			if c.ID == "" || ids[c.ID] {
				t.Fatalf("empty or repeated ID %q", c.ID)
			}
			ids[c.ID] = true
		}
		back, err := Parse("export.jsonl", Marshal(p.Cases), Options{})
		if err != nil {
			t.Fatalf("export does not parse: %v", err)
		}
		if !reflect.DeepEqual(back.Cases, p.Cases) {
			t.Fatalf("export round trip:\ngot  %+v\nwant %+v", back.Cases, p.Cases)
		}
	})
}
