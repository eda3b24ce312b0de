package retrieve

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/search"

	"llmops/rag/embed"
	"llmops/rag/index"
	"llmops/store"
)

// learnedVectors is a Searcher whose vectors come from a local model
// trained here with chosen options (exact scan), so embedder variants can
// be compared on one ingested knowledge base.
type learnedVectors struct {
	Searcher
	m    *embed.Local
	dim  int
	ids  []string
	flat []float32
}

func newLearnedVectors(tb testing.TB, s Searcher, st *store.Store, o embed.TrainOptions) *learnedVectors {
	tb.Helper()
	var texts []string
	h := &learnedVectors{Searcher: s}
	err := st.ForEachChunk(context.Background(), func(d *store.Document, c *store.Chunk) error {
		h.ids = append(h.ids, c.ID)
		texts = append(texts, index.EntryOf(d, c).Text)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := embed.Train(context.Background(), texts, o)
	if err != nil {
		tb.Fatal(err)
	}
	vecs, err := m.EmbedDocuments(context.Background(), texts)
	if err != nil {
		tb.Fatal(err)
	}
	h.m, h.dim = m, len(vecs[0])
	for _, v := range vecs {
		h.flat = append(h.flat, v...)
	}
	return h
}

func (h *learnedVectors) EmbedQuery(ctx context.Context, q string) ([]float32, error) {
	return h.m.EmbedQuery(ctx, q)
}

func (h *learnedVectors) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	return h.m.EmbedDocuments(ctx, texts)
}

func (h *learnedVectors) SearchEmbedding(ctx context.Context, v []float32, n int, _ index.Filter) ([]index.Hit, error) {
	hits := make([]index.Hit, len(h.ids))
	for i, id := range h.ids {
		var s float32
		row := h.flat[i*h.dim : (i+1)*h.dim]
		for j, x := range v {
			s += x * row[j]
		}
		hits[i] = index.Hit{ID: id, Score: float64(s)}
	}
	return topHits(hits, n), ctx.Err()
}

// TestSweepBM25Dim measures, on every set of genSets, BM25's k1 and b
// (bleve v2.6 exposes them only as the process-wide search.BM25_k1 and
// BM25_b; LLMOPS_SWEEP_BM25="k1,b ..."), the local embedder's dimension
// (LLMOPS_SWEEP_DIMS="256 384 512", the models trained here on the
// ingested chunks and scanned exactly) and gate variants at those
// dimensions. docs/BENCHMARKS.md, "Retrieval: a larger local model",
// has the results:
//
//	LLMOPS_BEIR=1 LLMOPS_SWEEP="bm25 dim" go test ./rag/retrieve -run TestSweepBM25Dim -v -timeout 90m
//	LLMOPS_BEIR=1 LLMOPS_SWEEP=gate LLMOPS_SWEEP_DIMS="256 512" go test ./rag/retrieve -run TestSweepBM25Dim -v -timeout 90m
func TestSweepBM25Dim(t *testing.T) {
	what := os.Getenv("LLMOPS_SWEEP")
	if os.Getenv("LLMOPS_BEIR") == "" || what == "" {
		t.Skip("set LLMOPS_BEIR=1 LLMOPS_SWEEP=bm25|dim")
	}
	sets := genSets(t)
	const topK = 20
	opts := []variant{
		{"default", Options{TopK: topK}},
		{"default + feedback", Options{TopK: topK, Feedback: FeedbackVector}},
	}
	k1, b := search.BM25_k1, search.BM25_b
	defer func() { search.BM25_k1, search.BM25_b = k1, b }()
	for _, gs := range sets {
		for _, what := range strings.Fields(what) {
			switch what {
			case "bm25":
				for _, p := range strings.Fields(envOr("LLMOPS_SWEEP_BM25", "1.2,0.75 0.9,0.4 1.2,0.5 0.9,0.75 1.5,0.75 1.2,0.9")) {
					a, c, _ := strings.Cut(p, ",")
					search.BM25_k1, _ = strconv.ParseFloat(a, 64)
					search.BM25_b, _ = strconv.ParseFloat(c, 64)
					s := newCachedSearcher(gs.kb.kb)
					for _, v := range opts {
						got := evaluate(t, s, gs.set, v.opts)
						t.Logf("%-9s k1=%s b=%s %-20s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, a, c, v.name,
							got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
					}
				}
			case "gate":
				search.BM25_k1, search.BM25_b = k1, b
				for _, d := range strings.Fields(envOr("LLMOPS_SWEEP_DIMS", "256")) {
					n, _ := strconv.Atoi(d)
					s := newCachedSearcher(newLearnedVectors(t, gs.kb.kb, gs.kb.st, embed.TrainOptions{Dim: n}))
					for _, v := range gateVariants(topK) {
						got := evaluate(t, s, gs.set, v.opts)
						t.Logf("%-9s dim=%d %-26s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, n, v.name,
							got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
					}
				}
			case "fbq":
				// The production model (the dimension rule), feedback for
				// every query, for none, and for questions only.
				search.BM25_k1, search.BM25_b = k1, b
				for _, v := range []variant{
					{"default", Options{TopK: topK}},
					{"default+fb", Options{TopK: topK, Feedback: FeedbackVector}},
					{"fb for questions", Options{TopK: topK, Feedback: FeedbackVector, fbQuestions: true}},
				} {
					got := evaluate(t, gs.s, gs.set, v.opts)
					t.Logf("%-9s %-20s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, v.name,
						got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
				}
			case "knobs":
				// Trainer knobs at the production dimension rule (512 for
				// NFCorpus and ArguAna, 256 for the sample set), default
				// pipeline. LLMOPS_SWEEP_KNOBS="base flatten=0.75 tfidf=1 ...".
				search.BM25_k1, search.BM25_b = k1, b
				for _, spec := range strings.Fields(envOr("LLMOPS_SWEEP_KNOBS", "base flatten=0.25 flatten=0.75 flatten=1 tfidf=1 hashDims=64 MaxVocab=40000 oovWeight=0.25")) {
					var o embed.TrainOptions
					for _, kv := range strings.Split(spec, ",") {
						k, val, ok := strings.Cut(kv, "=")
						if !ok {
							continue
						}
						x, _ := strconv.ParseFloat(val, 64)
						switch k {
						case "MaxVocab":
							o.MaxVocab = int(x)
						case "MinDF":
							o.MinDF = int(x)
						case "Dim":
							o.Dim = int(x)
						default:
							if err := o.SetKnob(k, x); err != nil {
								t.Fatal(err)
							}
						}
					}
					s := newCachedSearcher(newLearnedVectors(t, gs.kb.kb, gs.kb.st, o))
					got := evaluate(t, s, gs.set, Options{TopK: topK})
					t.Logf("%-9s knobs %-24s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, spec,
						got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
				}
			case "prior":
				// The lexical reranker's weight on the fused order against
				// its lexical features, with the production model.
				search.BM25_k1, search.BM25_b = k1, b
				for _, p := range strings.Fields(envOr("LLMOPS_SWEEP_PRIOR", "1 0.5 1.5 2 3")) {
					x, _ := strconv.ParseFloat(p, 64)
					w := defaultLexWeights
					w.prior = x
					got := evaluate(t, gs.s, gs.set, Options{TopK: topK, Reranker: LexicalReranker{w: &w}})
					t.Logf("%-9s prior %-5s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, p,
						got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
				}
			case "rm3":
				// BM25 pseudo-relevance feedback (RM3), production model.
				search.BM25_k1, search.BM25_b = k1, b
				for _, v := range rm3Variants(topK) {
					got := evaluate(t, gs.s, gs.set, v.opts)
					t.Logf("%-9s rm3 %-28s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, v.name,
						got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
				}
			case "dim":
				search.BM25_k1, search.BM25_b = k1, b
				for _, d := range strings.Fields(envOr("LLMOPS_SWEEP_DIMS", "256 384 512")) {
					n, _ := strconv.Atoi(d)
					lv := newLearnedVectors(t, gs.kb.kb, gs.kb.st, embed.TrainOptions{Dim: n})
					s := newCachedSearcher(lv)
					for _, v := range opts {
						got := evaluate(t, s, gs.set, v.opts)
						t.Logf("%-9s dim=%d %-20s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, n, v.name,
							got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
					}
				}
			}
		}
	}
}

func gateVariants(topK int) []variant {
	wide := &agreementParams{Top: 10, Against: 50, Floor: 0.3, Full: 0.8}
	open := &agreementParams{Top: 10, Against: 50, Floor: -1, Full: 0}
	v := func(fb bool, short *agreementParams, all *agreementParams) Options {
		o := Options{TopK: topK, agree: all, agreeShort: short, shortTerms: 30}
		if fb {
			o.Feedback = FeedbackVector
		}
		return o
	}
	return []variant{
		{"default", v(false, nil, nil)},
		{"default+fb", v(true, nil, nil)},
		{"wide", v(false, nil, wide)},
		{"wide+fb", v(true, nil, wide)},
		{"short≤30 wide", v(false, wide, nil)},
		{"short≤30 wide+fb", v(true, wide, nil)},
		{"short≤30 open", v(false, open, nil)},
		{"short≤30 open+fb", v(true, open, nil)},
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func rm3Variants(topK int) []variant {
	v := func(p rm3Params) Options { return Options{TopK: topK, bm25fb: &p} }
	all := []variant{
		{"default", Options{TopK: topK}},
		{"bm25 10d 10t .5", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.5})},
		{"bm25 10d 20t .5 mix", v(rm3Params{Docs: 10, Terms: 20, Orig: 0.5, Mix: true})},
		{"bm25 10d 10t .7", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.7})},
		{"bm25 5d 10t .5", v(rm3Params{Docs: 5, Terms: 10, Orig: 0.5})},
		{"fused 10d 10t .5", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.5, Fused: true})},
		{"fused 5d 20t .5 mix", v(rm3Params{Docs: 5, Terms: 20, Orig: 0.5, Fused: true, Mix: true})},
		{"fused 10d 10t .5 q", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.5, Fused: true, Questions: true})},
		{"bm25 10d 10t .5 q", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.5, Questions: true})},
		{"bm25 10d 10t .5 keep", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.5, KeepGate: true})},
		{"fused 10d 10t .5 keep", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.5, Fused: true, KeepGate: true})},
		{"bm25 10d 20t .5 mix keep", v(rm3Params{Docs: 10, Terms: 20, Orig: 0.5, Mix: true, KeepGate: true})},
		{"fused 10d 10t .7 keep", v(rm3Params{Docs: 10, Terms: 10, Orig: 0.7, Fused: true, KeepGate: true})},
		{"fused 10d 20t .5 keep", v(rm3Params{Docs: 10, Terms: 20, Orig: 0.5, Fused: true, KeepGate: true})},
		{"fused 10d 30t .5 keep", v(rm3Params{Docs: 10, Terms: 30, Orig: 0.5, Fused: true, KeepGate: true})},
		{"fused 10d 40t .5 keep", v(rm3Params{Docs: 10, Terms: 40, Orig: 0.5, Fused: true, KeepGate: true})},
		{"fused 10d 50t .5 keep", v(rm3Params{Docs: 10, Terms: 50, Orig: 0.5, Fused: true, KeepGate: true})},
		{"fused 20d 30t .5 keep", v(rm3Params{Docs: 20, Terms: 30, Orig: 0.5, Fused: true, KeepGate: true})},
		{"bm25 10d 30t .5 keep", v(rm3Params{Docs: 10, Terms: 30, Orig: 0.5, KeepGate: true})},
		{"fused 20d 20t .5 keep", v(rm3Params{Docs: 20, Terms: 20, Orig: 0.5, Fused: true, KeepGate: true})},
		{"fused 10d 20t .3 keep", v(rm3Params{Docs: 10, Terms: 20, Orig: 0.3, Fused: true, KeepGate: true})},
		{"fused 5d 20t .5 keep", v(rm3Params{Docs: 5, Terms: 20, Orig: 0.5, Fused: true, KeepGate: true})},
	}
	if only := os.Getenv("LLMOPS_SWEEP_RM3"); only != "" {
		var out []variant
		for _, x := range all {
			if x.name == "default" || slices.ContainsFunc(strings.Split(only, "|"), func(o string) bool { return strings.Contains(x.name, o) }) {
				out = append(out, x)
			}
		}
		return out
	}
	return all
}
