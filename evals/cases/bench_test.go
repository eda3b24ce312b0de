package cases

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkParseJSONL(b *testing.B) {
	var sb strings.Builder
	for i := range 10_000 {
		fmt.Fprintf(&sb, `{"id":"q%d","question":"How do I cancel plan %d?","reference_answer":"Under Billing.","document_ids":["billing/cancel.md"],"answerable":true,"category":"billing","difficulty":"easy"}`+"\n", i, i)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("q.jsonl", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
