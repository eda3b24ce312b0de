package chunk

import (
	"strings"
	"testing"
)

// BenchmarkSplit chunks every sample Markdown article once per iteration.
// Ingestion must sustain 2,000 chunks/s including embedding and indexing,
// so chunking should stay far above that.
//
//	go test -run '^$' -bench . -benchmem ./rag/chunk/
func BenchmarkSplit(b *testing.B) {
	docs := sampleDocuments(b)
	tok := mustTokenizer(b)
	var size int64
	for _, d := range docs {
		for _, s := range d.Sections {
			size += int64(len(s.Text))
		}
	}
	for _, cfg := range []Config{
		DefaultConfig(),
		{Strategy: StrategyFixed, MaxTokens: 350, Overlap: 50},
		{Strategy: StrategySentence, MaxTokens: 350, Overlap: 1},
	} {
		b.Run(cfg.Strategy, func(b *testing.B) {
			b.SetBytes(size)
			chunks := 0
			for b.Loop() {
				for _, d := range docs {
					out, err := Split(d, cfg, tok)
					if err != nil {
						b.Fatal(err)
					}
					chunks += len(out)
				}
			}
			b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
		})
	}
}

// BenchmarkCount compares the tokenizer with tiktoken-go on the sample
// articles, which is why chunking can afford exact counts.
func BenchmarkCount(b *testing.B) {
	var sb strings.Builder
	for _, d := range sampleDocuments(b) {
		for _, s := range d.Sections {
			sb.WriteString(s.Text + "\n\n")
		}
	}
	text := sb.String()
	b.Run("chunk", func(b *testing.B) {
		tok := mustTokenizer(b)
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.Count(text)
		}
	})
	b.Run("tiktoken-go", func(b *testing.B) {
		ref := mustReference(b)
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			ref.EncodeOrdinary(text)
		}
	})
}
