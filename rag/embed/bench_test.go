package embed

import (
	"context"
	"fmt"
	"llmops/rag/text"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syntheticCorpus returns n documents of about 150 words, written from a
// topic model over made-up words so that benchmarks need no data set: each
// document mixes two of 300 topics (Zipf-distributed words each), a
// corpus-wide Zipfian background and English stop words, roughly the
// make-up of a help-centre chunk. seed picks the documents; the vocabulary
// and topics are fixed.
func syntheticCorpus(n int, seed uint64) []string {
	const (
		vocabSize  = 60000
		topics     = 300
		topicWords = 400
		docWords   = 150
	)
	syllables := strings.Fields("ka lo mi ne su ta ri po ve da gen tor lin mar sel qu ex ion ber pra sti ful com ang")
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, vocabSize)
	for i := range vocab {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		fmt.Fprintf(&b, "%c", 'a'+rune(i%26)) // keeps most words distinct
		vocab[i] = b.String()
	}
	topicVocab := make([][]int, topics)
	for t := range topicVocab {
		topicVocab[t] = make([]int, topicWords)
		for j := range topicVocab[t] {
			topicVocab[t][j] = rng.IntN(vocabSize)
		}
	}
	stops := text.StopWords()

	docs := make([]string, n)
	rng = rand.New(rand.NewPCG(seed, 3))
	zipfTopic := rand.NewZipf(rng, 1.1, 2, topicWords-1)
	zipfAll := rand.NewZipf(rng, 1.05, 5, vocabSize-1)
	var b strings.Builder
	for i := range docs {
		b.Reset()
		t1, t2 := rng.IntN(topics), rng.IntN(topics)
		for w := range docWords {
			if w > 0 {
				b.WriteByte(' ')
			}
			switch r := rng.Float64(); {
			case r < 0.35:
				b.WriteString(stops[rng.IntN(len(stops))])
			case r < 0.60:
				b.WriteString(vocab[topicVocab[t1][zipfTopic.Uint64()]])
			case r < 0.75:
				b.WriteString(vocab[topicVocab[t2][zipfTopic.Uint64()]])
			default:
				b.WriteString(vocab[zipfAll.Uint64()])
			}
			if rng.IntN(15) == 0 {
				b.WriteByte('.')
			}
		}
		docs[i] = b.String()
	}
	return docs
}

var benchModels sync.Map // corpus size → *Local

func benchModel(b *testing.B, n int) *Local {
	if l, ok := benchModels.Load(n); ok {
		return l.(*Local)
	}
	l, err := Train(context.Background(), syntheticCorpus(n, 1), TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchModels.Store(n, l)
	return l
}

// BenchmarkEmbedDocuments embeds batches of 1,000 unseen ~150-word chunks
// with a model trained on 10k chunks, on all CPUs.
//
//	go test ./rag/embed -run '^$' -bench EmbedDocuments -cpu 2
func BenchmarkEmbedDocuments(b *testing.B) {
	l := benchModel(b, 10000)
	texts := syntheticCorpus(1000, 99)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := l.EmbedDocuments(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/time.Since(start).Seconds(), "chunks/s")
}

// BenchmarkEmbedDocumentsHelpCentre embeds the sample help centre's
// chunks (real English, ~120 words) with a model trained on them.
func BenchmarkEmbedDocumentsHelpCentre(b *testing.B) {
	chunks := chunkDocs(helpCentreDocs(b), 120)
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.text
	}
	ctx := context.Background()
	l, err := Train(ctx, texts, TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := l.EmbedDocuments(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/time.Since(start).Seconds(), "chunks/s")
}

func BenchmarkEmbedQuery(b *testing.B) {
	l := benchModel(b, 10000)
	q := strings.Join(strings.Fields(syntheticCorpus(1, 7)[0])[:12], " ")
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.EmbedQuery(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrain trains on 10k and 100k synthetic chunks and reports the
// model size and the peak heap in use while training.
//
//	go test ./rag/embed -run '^$' -bench Train -benchtime 1x -cpu 2
func BenchmarkTrain(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			texts := syntheticCorpus(n, 1)
			runtime.GC()
			before := heapObjects()
			peak := sampleHeap()
			b.ResetTimer()
			var l *Local
			for b.Loop() {
				var err error
				if l, err = Train(context.Background(), texts, TrainOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			data, err := l.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(data))/(1<<20), "model-MB")
			b.ReportMetric(float64(peak()-before)/(1<<20), "peak-extra-heap-MB")
			b.ReportMetric(float64(l.VocabularySize()), "terms")
		})
	}
}

// sampleHeap polls the bytes of heap objects (live and not yet swept)
// every 10 ms until the returned function is called, which reports the
// highest value seen. runtime/metrics, unlike ReadMemStats, does not stop
// the world, so sampling does not slow training down.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
