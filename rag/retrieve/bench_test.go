package retrieve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/rag"
	sampledata "llmops/sample-data"
)

// BenchmarkRetrieve measures retrieval latency over synthetic corpora of
// 10k chunks (and 100k with LLMOPS_BENCH_100K=1: ingesting them takes
// about a minute), built like `llmops bench ingest` builds them: Markdown
// documents of 10 sections drawn from the sample help centre's
// vocabulary. Queries are the sample eval set's questions. Query
// embedding is excluded: each question is embedded before the clock
// starts. Reported: p50/p95 of the whole call and p50 of each stage.
//
//	go test ./rag/retrieve -run '^$' -bench Retrieve -benchtime 400x
//	LLMOPS_BENCH_100K=1 go test ./rag/retrieve -run '^$' -bench Retrieve -benchtime 200x -timeout 30m
func BenchmarkRetrieve(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("LLMOPS_BENCH_100K") != "" {
		sizes = append(sizes, 100_000)
	}
	for _, chunks := range sizes {
		b.Run(fmt.Sprintf("%dk", chunks/1000), func(b *testing.B) {
			kb := syntheticKB(b, chunks/10)
			st, err := kb.kb.Stats(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%d documents, %d chunks, %d vectors, model %s", st.Documents, st.Chunks, st.Vectors, st.Model)
			s, queries := preEmbed(b, kb.kb)
			for _, v := range []struct {
				name string
				opts Options
			}{
				{"hybrid+rerank", Options{}},
				{"hybrid", Options{NoRerank: true}},
				{"keyword", Options{Mode: ModeKeyword, NoRerank: true}},
				{"vector", Options{Mode: ModeVector, NoRerank: true}},
			} {
				b.Run(v.name, func(b *testing.B) { benchRetrieve(b, New(s, v.opts), queries) })
			}
		})
	}
}

func benchRetrieve(b *testing.B, r *Retriever, queries []string) {
	var total []time.Duration
	stages := map[string][]time.Duration{}
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		start := time.Now()
		res, err := r.Retrieve(context.Background(), q, nil)
		total = append(total, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		for k, d := range res.Timings {
			stages[k] = append(stages[k], d)
		}
	}
	ms := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / 1e6
	}
	b.ReportMetric(ms(total, 0.5), "p50-ms")
	b.ReportMetric(ms(total, 0.95), "p95-ms")
	for _, k := range []string{"keyword", "vector", "fuse", "load", "rerank"} {
		if ds := stages[k]; len(ds) > 0 {
			b.ReportMetric(ms(ds, 0.5), k+"-p50-ms")
		}
	}
}

// preEmbedded answers EmbedQuery from vectors made in advance, so that
// benchmarks time retrieval without query embedding.
type preEmbedded struct {
	Searcher
	vecs map[string][]float32
}

func (p *preEmbedded) EmbedQuery(ctx context.Context, q string) ([]float32, error) {
	if v, ok := p.vecs[q]; ok {
		return v, nil
	}
	return p.Searcher.EmbedQuery(ctx, q)
}

func preEmbed(b *testing.B, s Searcher) (Searcher, []string) {
	b.Helper()
	qs, err := sampledata.Questions()
	if err != nil {
		b.Fatal(err)
	}
	p := &preEmbedded{Searcher: s, vecs: map[string][]float32{}}
	var queries []string
	for _, q := range qs {
		v, err := s.EmbedQuery(b.Context(), q.Question)
		if err != nil {
			b.Fatal(err)
		}
		p.vecs[q.Question] = v
		queries = append(queries, q.Question)
	}
	return p, queries
}

// syntheticKB ingests docs generated documents of 10 sections (about one
// chunk each), the way rag.BenchIngest makes them.
func syntheticKB(b *testing.B, docs int) *testKB {
	b.Helper()
	vocab := sampleVocabulary(b)
	kb := mustOpenKB(b)
	rng := rand.New(rand.NewPCG(1, 42))
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	word := func() string { return vocab[zipf.Uint64()] }
	sentence := func() string {
		w := make([]string, 8+rng.IntN(14))
		for i := range w {
			w[i] = word()
		}
		w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
		return strings.Join(w, " ") + "."
	}
	const batch = 200
	for lo := 0; lo < docs; lo += batch {
		var files []rag.File
		for d := lo; d < min(lo+batch, docs); d++ {
			var sb strings.Builder
			fmt.Fprintf(&sb, "---\ntitle: Synthetic %d\ncategory: cat%d\n---\n\n# Synthetic document %d\n\n", d, d%7, d)
			for range 10 {
				fmt.Fprintf(&sb, "## %s %s\n\n", word(), word())
				for range 9 {
					sb.WriteString(sentence())
					sb.WriteByte(' ')
				}
				sb.WriteString("\n\n")
			}
			files = append(files, rag.File{Name: "bench/doc-" + strconv.Itoa(d) + ".md", Data: []byte(sb.String())})
		}
		for _, r := range kb.kb.Ingest(b.Context(), testActor, files, nil) {
			if r.Outcome == "failed" {
				b.Fatalf("%s: %s", r.Name, r.Error)
			}
		}
	}
	if j := kb.kb.CurrentJob(); j != nil {
		j.Wait()
	}
	return kb
}

var (
	vocabOnce sync.Once
	vocab     []string
	vocabErr  error
)

// sampleVocabulary is the words of the sample help centre's Markdown, as
// `llmops bench ingest` draws them.
func sampleVocabulary(tb testing.TB) []string {
	tb.Helper()
	vocabOnce.Do(func() { vocab, vocabErr = sampledata.Vocabulary() })
	if vocabErr != nil {
		tb.Fatal(vocabErr)
	}
	return vocab
}
