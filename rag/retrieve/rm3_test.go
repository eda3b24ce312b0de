package retrieve

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"llmops/rag"
)

// BM25 feedback (RM3) reaches a chunk that shares no word with the
// question through the terms of the chunks the question does find, and
// leaves long queries and keyword mode alone.
func TestBM25Feedback(t *testing.T) {
	kb := mustOpenKB(t)
	files := []rag.File{
		{Name: "a.txt", Data: []byte("Forgot your password? Open the security settings and choose reset password. The reset link expires after one hour.")},
		{Name: "b.txt", Data: []byte("Two-factor authentication lives in the security settings too; recovery codes unlock the account when the phone is lost.")},
		{Name: "c.txt", Data: []byte("Invoices are emailed to the billing contact on the first day of every month.")},
		{Name: "d.txt", Data: []byte("The mobile app works offline and syncs when the network returns.")},
	}
	ids := []string{"a", "b", "c", "d"}
	// Feedback needs a corpus of at least ten times its 10 chunks.
	topics := []string{"kitchen", "garden", "river", "mountain", "violin", "harbour", "comet", "lantern", "meadow", "glacier"}
	for i := range 100 {
		files = append(files, rag.File{Name: fmt.Sprintf("f%03d.txt", i),
			Data: []byte(fmt.Sprintf("Note %d on the %s and the %s, filed under %s.", i, topics[i%10], topics[(i/10)%10], topics[(i+3)%10]))})
		ids = append(ids, fmt.Sprintf("f%03d", i))
	}
	kb.ingest(t, files, ids)
	r := New(kb.kb, Options{})
	ctx := context.Background()
	docs := func(hits []Hit) []string {
		var out []string
		for _, h := range hits {
			out = append(out, kb.docOf[h.Document.ID])
		}
		return out
	}
	keywordDocs := func(res *Result) []string {
		refs, err := r.load(ctx, res.Keyword, len(res.Keyword))
		if err != nil {
			t.Fatal(err)
		}
		return docs(refs)
	}

	plain, err := r.Retrieve(ctx, "reset my password", &Options{Feedback: FeedbackNone})
	if err != nil {
		t.Fatal(err)
	}
	if got := keywordDocs(plain); slices.Contains(got, "b") {
		t.Fatalf("plain BM25 found %v; the test needs b out of its reach", got)
	}
	// Feedback from the first chunk alone (the default reads 10, here
	// mostly fillers).
	one := defaultRM3
	one.Docs = 1
	fb, err := r.Retrieve(ctx, "reset my password", &Options{bm25fb: &one})
	if err != nil {
		t.Fatal(err)
	}
	if got := keywordDocs(fb); len(got) == 0 || got[0] != "a" || !slices.Contains(got, "b") {
		t.Errorf("BM25 list with feedback = %v, want a first and b reached through 'security settings'", got)
	}
	def, err := r.Retrieve(ctx, "reset my password", &Options{Feedback: FeedbackBM25})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := def.Timings["bm25_feedback"]; !ok {
		t.Errorf("no bm25_feedback timing: %v", def.Timings)
	}
	if def := (Options{}).withDefaults(); def.Feedback != FeedbackBM25 {
		t.Errorf("default feedback = %q, want %q", def.Feedback, FeedbackBM25)
	}

	// Keyword mode is BM25 alone; a pasted passage (over 30 content
	// words) keeps its own BM25 list.
	kwOnly, err := r.Retrieve(ctx, "reset my password", &Options{Mode: ModeKeyword, Feedback: FeedbackBM25})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kwOnly.Timings["bm25_feedback"]; ok {
		t.Error("keyword mode ran BM25 feedback")
	}
	long := strings.Repeat("password reset expires link hour forgot security settings choose open ", 4)
	lr, err := r.Retrieve(ctx, long, &Options{Feedback: FeedbackBM25})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lr.Timings["bm25_feedback"]; ok {
		t.Error("a long query ran BM25 feedback")
	}
	if err := (Options{Feedback: FeedbackBM25}).withDefaults().validate(); err != nil {
		t.Error(err)
	}
}
