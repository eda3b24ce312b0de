package answer

import (
	"context"
	"testing"

	sampledata "llmops/sample-data"
	"llmops/store"
)

// sampleContexts returns the sample eval questions with their BM25 top-5
// chunks, as the answer path sees them.
func sampleContexts(b *testing.B) ([]string, [][]store.ChunkRef) {
	b.Helper()
	kb := openSampleKB(b)
	qs, err := sampledata.Questions()
	if err != nil {
		b.Fatal(err)
	}
	var questions []string
	var contexts [][]store.ChunkRef
	for _, q := range qs {
		questions = append(questions, q.Question)
		contexts = append(contexts, kb.retrieve(b, q.Question, 5))
	}
	return questions, contexts
}

// BenchmarkExtractive measures one answer from 5 context chunks, cycling
// through the sample eval questions (fallbacks included).
func BenchmarkExtractive(b *testing.B) {
	questions, contexts := sampleContexts(b)
	e := &Extractive{}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		k := i % len(questions)
		if _, err := e.Answer(ctx, questions[k], contexts[k]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGround measures parsing and grounding a model-style answer of
// three cited sentences against 5 context chunks.
func BenchmarkGround(b *testing.B) {
	questions, contexts := sampleContexts(b)
	e := &Extractive{MaxSentences: 3}
	var texts []string
	var ctxs [][]store.ChunkRef
	for k, q := range questions {
		a, err := e.Answer(context.Background(), q, contexts[k])
		if err != nil {
			b.Fatal(err)
		}
		if !a.Fallback {
			texts = append(texts, a.Text)
			ctxs = append(ctxs, contexts[k])
		}
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		k := i % len(texts)
		if err := Ground(ctx, &Answer{Text: texts[k]}, ctxs[k], nil); err != nil {
			b.Fatal(err)
		}
	}
}
