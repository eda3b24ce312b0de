package embed

import (
	"context"
	"fmt"
	"html"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	sampledata "llmops/sample-data"
)

// helpCentreDocs returns the sample help centre as plain text, one document
// per file, extracted crudely: front matter dropped, HTML tags and scripts
// stripped, PDF text-show strings pulled out. Good enough for ranking.
func helpCentreDocs(tb testing.TB) []evalDoc {
	tb.Helper()
	manifest, err := sampledata.Manifest()
	if err != nil {
		tb.Fatal(err)
	}
	docs := make([]evalDoc, 0, len(manifest))
	for _, m := range manifest {
		data, err := fs.ReadFile(sampledata.FS(), m.Path)
		if err != nil {
			tb.Fatal(err)
		}
		var text string
		switch m.Format {
		case "markdown":
			text = stripFrontMatter(string(data))
		case "html":
			text = stripHTML(string(data))
		case "pdf":
			text = pdfText(data)
		default:
			tb.Fatalf("%s: unknown format %q", m.Path, m.Format)
		}
		docs = append(docs, evalDoc{m.ID, m.Title + "\n\n" + text})
	}
	return docs
}

func stripFrontMatter(s string) string {
	if rest, ok := strings.CutPrefix(s, "---\n"); ok {
		if _, body, ok := strings.Cut(rest, "\n---\n"); ok {
			return body
		}
	}
	return s
}

var (
	htmlDrop = regexp.MustCompile(`(?is)<(script|style|nav|header|footer)\b.*?</(script|style|nav|header|footer)>`)
	htmlMain = regexp.MustCompile(`(?is)<main\b[^>]*>(.*)</main>`)
	htmlTag  = regexp.MustCompile(`(?s)<[^>]*>`)
	pdfShow  = regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
)

func stripHTML(s string) string {
	s = htmlDrop.ReplaceAllString(s, " ")
	if m := htmlMain.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	return html.UnescapeString(htmlTag.ReplaceAllString(s, "\n"))
}

func pdfText(data []byte) string {
	var b strings.Builder
	for _, m := range pdfShow.FindAllSubmatch(data, -1) {
		s := strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(string(m[1]))
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}

// chunkDocs splits each document at blank lines into chunks of about
// words words, as a heading-blind stand-in for the real chunker. Chunk IDs
// are "docID#n".
func chunkDocs(docs []evalDoc, words int) []evalDoc {
	var out []evalDoc
	for _, d := range docs {
		var cur []string
		n := 0
		flush := func() {
			if len(cur) > 0 {
				out = append(out, evalDoc{fmt.Sprintf("%s#%d", d.id, n), strings.Join(cur, "\n\n")})
				n++
				cur = nil
			}
		}
		count := 0
		for _, p := range strings.Split(d.text, "\n\n") {
			if strings.TrimSpace(p) == "" {
				continue
			}
			cur = append(cur, p)
			count += len(strings.Fields(p))
			if count >= words {
				flush()
				count = 0
			}
		}
		flush()
	}
	return out
}

// docLevel maps a chunk ranking to document IDs, each at its best rank.
func docLevel(chunks []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range chunks {
		id, _, _ := strings.Cut(c, "#")
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func sampleQueries(tb testing.TB) []evalQuery {
	tb.Helper()
	qs, err := sampledata.Questions()
	if err != nil {
		tb.Fatal(err)
	}
	var out []evalQuery
	for _, q := range qs {
		if len(q.DocumentIDs) == 0 {
			continue // unanswerable: nothing to retrieve
		}
		rels := map[string]float64{}
		for _, id := range q.DocumentIDs {
			rels[id] = 1
		}
		out = append(out, evalQuery{id: q.ID, text: q.Question, rels: rels})
	}
	return out
}

// sampleResult is hit@5 and nDCG@10 per document for each retriever.
type sampleResult struct {
	names      []string
	hit5, ndcg []float64
}

func (r sampleResult) String() string {
	var b strings.Builder
	for i, n := range r.names {
		fmt.Fprintf(&b, "%s %.3f/%.3f  ", n, r.hit5[i], r.ndcg[i])
	}
	return b.String()
}

func (r sampleResult) get(name string) (hit5, ndcg float64) {
	for i, n := range r.names {
		if n == name {
			return r.hit5[i], r.ndcg[i]
		}
	}
	panic("no result " + name)
}

func evalSample(tb testing.TB, docs []evalDoc, queries []evalQuery, opts TrainOptions, chunked bool) sampleResult {
	tb.Helper()
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.text
	}
	l, err := Train(context.Background(), texts, opts)
	if err != nil {
		tb.Fatal(err)
	}
	const depth = 100
	bm := bm25Rankings(tb, docs, queries, depth)
	dn := denseRankings(tb, l, docs, queries, depth)
	toDocs := func(ids []string) []string {
		if chunked {
			return docLevel(ids)
		}
		return ids
	}
	var res sampleResult
	add := func(name string, fn func(i int) []string) {
		hits, ndcg := 0, 0.0
		for i, q := range queries {
			ranked := toDocs(fn(i))
			if hitAt(ranked, q.rels, 5) {
				hits++
			}
			ndcg += ndcgAt10(ranked, q.rels)
		}
		res.names = append(res.names, name)
		res.hit5 = append(res.hit5, float64(hits)/float64(len(queries)))
		res.ndcg = append(res.ndcg, ndcg/float64(len(queries)))
	}
	add("bm25", func(i int) []string { return bm[i].ids() })
	add("dense", func(i int) []string { return dn[i].ids() })
	for _, w := range []float64{1, 0.5, 2} {
		add(fmt.Sprintf("rrf(w=%.1f)", w), func(i int) []string {
			return RRF([][]string{bm[i].ids(), dn[i].ids()}, []float64{1, w}, 60)
		})
	}
	for _, a := range []float64{0.5, 0.3} {
		add(fmt.Sprintf("cvx(a=%.1f)", a), func(i int) []string { return convexFusion(bm[i], dn[i], a) })
	}
	add("rrf(len-gated)", func(i int) []string {
		return RRF([][]string{bm[i].ids(), dn[i].ids()}, []float64{1, lengthGate(queries[i].text)}, 60)
	})
	return res
}

// TestSampleDataRetrieval checks hit@5 (per document) on the sample
// help centre's answerable questions, for whole documents and for
// ~120-word chunks, and that fusing the Local embedder with BM25 never
// ranks worse than BM25 alone.
func TestSampleDataRetrieval(t *testing.T) {
	docs := helpCentreDocs(t)
	queries := sampleQueries(t)
	for _, tc := range []struct {
		name    string
		docs    []evalDoc
		chunked bool
	}{
		{"documents", docs, false},
		{"chunks", chunkDocs(docs, 120), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			variants := []struct {
				name string
				opts TrainOptions
			}{{"default", TrainOptions{}}}
			if os.Getenv("LLMOPS_BEIR_SWEEP") != "" {
				variants = append(variants, sweepVariants()...)
			}
			t.Logf("%d docs, %d questions; hit@5/nDCG@10", len(tc.docs), len(queries))
			for _, v := range variants {
				r := evalSample(t, tc.docs, queries, v.opts, tc.chunked)
				t.Logf("%-22s %s", v.name, r)
				if v.name != "default" {
					continue
				}
				bmHit, _ := r.get("bm25")
				for _, name := range []string{"rrf(w=1.0)", "rrf(len-gated)"} {
					if hit, _ := r.get(name); hit < bmHit || hit < 0.9 {
						t.Errorf("%s: hit@5 %.3f, want at least 0.9 and BM25's %.3f", name, hit, bmHit)
					}
				}
			}
		})
	}
}
