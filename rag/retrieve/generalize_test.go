package retrieve

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"llmops/evals/beir"
	"llmops/rag"
)

// datasetsDir is ../shared/datasets from the repository root
// (LLMOPS_DATASETS overrides).
func datasetsDir() string {
	if d := os.Getenv("LLMOPS_DATASETS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets")
}

// genSet is one collection of the generalisation sweep.
type genSet struct {
	name string
	set  evalSet
	s    Searcher
	kb   *testKB
}

// beirKB ingests a BEIR folder as arguanaKB does.
func beirKB(tb testing.TB, dir string) (*testKB, evalSet) {
	tb.Helper()
	ds, err := beir.Load(dir, beir.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	t := mustOpenKB(tb)
	var files []rag.File
	var ids []string
	for i, d := range ds.Docs {
		title, text := d.Content()
		if text == "" {
			continue
		}
		files = append(files, rag.File{Name: fmt.Sprintf("beir/%05d.txt", i), Data: []byte(text), Meta: rag.Meta{Title: rag.ClipTitle(title)}})
		ids = append(ids, d.ID)
	}
	t.ingest(tb, files, ids)
	set := evalSet{doc: t.doc}
	for _, q := range ds.Queries {
		set.queries = append(set.queries, evalQuery{id: q.ID, text: q.Text, rels: q.Rels})
	}
	return t, set
}

// genSets loads the sample help centre and every BEIR set present.
func genSets(t *testing.T) []genSet {
	start := time.Now()
	kb := sampleKB(t)
	out := []genSet{{"sample", sampleSet(t, kb), newCachedSearcher(kb.kb), kb}}
	names := []string{"nfcorpus", "arguana"}
	if v := os.Getenv("LLMOPS_GEN_SETS"); v != "" {
		names = strings.Fields(v) // e.g. "nfcorpus": the BEIR sets to load
	}
	for _, name := range names {
		dir := filepath.Join(datasetsDir(), name)
		if _, err := os.Stat(dir); err != nil {
			t.Logf("%s not found: %v", name, err)
			continue
		}
		kb, set := beirKB(t, dir)
		set.excludeSelf = name == "arguana"
		out = append(out, genSet{name, set, newCachedSearcher(kb.kb), kb})
	}
	t.Logf("loaded %d sets in %s", len(out), time.Since(start).Round(time.Second))
	return out
}

// TestGeneralize prints nDCG@10 of every design variant on every set
// (LLMOPS_BEIR=1), with the learned embedder and, with
// LLMOPS_RETRIEVE_WEAK=1, the hashed and random ones too.
func TestGeneralize(t *testing.T) {
	if os.Getenv("LLMOPS_BEIR") == "" {
		t.Skip("set LLMOPS_BEIR=1 to run the generalisation sweep")
	}
	sets := genSets(t)
	const topK = 20
	for _, gs := range sets {
		embedders := []struct {
			name string
			s    Searcher
		}{{"learned", gs.s}}
		if os.Getenv("LLMOPS_RETRIEVE_WEAK") != "" {
			embedders = append(embedders,
				struct {
					name string
					s    Searcher
				}{"hashed", newCachedSearcher(newHashedVectors(t, gs.kb.kb, gs.kb.st))},
				struct {
					name string
					s    Searcher
				}{"random", newCachedSearcher(newRandomVectors(t, gs.kb.kb, gs.kb.st))})
		}
		for _, e := range embedders {
			for _, v := range genVariants(topK) {
				got := evaluate(t, e.s, gs.set, v.opts)
				t.Logf("%-9s %-8s %-30s bm25 %.4f vec %.4f fused %.4f final %.4f (%+.4f) w %.2f", gs.name, e.name, v.name,
					got.ndcg[0], got.ndcg[1], got.ndcg[2], got.ndcg[3], got.ndcg[3]-got.ndcg[0], got.weight)
			}
		}
	}
}

func genVariants(topK int) []variant {
	base := Options{TopK: topK}
	with := func(f func(*Options)) Options {
		o := base
		f(&o)
		return o
	}
	prf := func(docs int, beta float64) func(*Options) {
		return func(o *Options) { o.prf = &feedbackParams{Docs: docs, Beta: beta} }
	}
	in50 := func(floor, full float64) func(*Options) {
		return func(o *Options) { o.agree = &agreementParams{Top: 10, Against: 50, Floor: floor, Full: full} }
	}
	all := func(fs ...func(*Options)) Options {
		o := base
		for _, f := range fs {
			f(&o)
		}
		return o
	}
	convex := func(o *Options) { o.Fusion = FusionConvex }
	zs := func(o *Options) { o.Fusion = FusionZScore }
	top10 := func(o *Options) { o.agree = &agreementParams{Top: 10, Against: 10, Floor: 0.3, Full: 0.8} }
	if os.Getenv("LLMOPS_GEN_SET") == "final" {
		return []variant{
			{"rrf top10 (old default)", all(top10)},
			{"z top10", all(zs, top10)},
			{"z top10 prf5", all(zs, top10, prf(5, 1))},
			{"rrf top10 prf5", all(top10, prf(5, 1))},
		}
	}
	if os.Getenv("LLMOPS_GEN_SET") == "gate" {
		return []variant{
			{"default", base},
			{"convex in50 .3→.8", all(convex, in50(0.3, 0.8))},
			{"convex in50 .2→.6", all(convex, in50(0.2, 0.6))},
			{"rrf in50 .3→.8", all(in50(0.3, 0.8))},
			{"convex in50 .3→.8 prf5", all(convex, in50(0.3, 0.8), prf(5, 1))},
			{"rrf in50 .3→.8 prf3", all(in50(0.3, 0.8), prf(3, 1))},
			{"z in50 .3→.8 prf5", all(zs, in50(0.3, 0.8), prf(5, 1))},
		}
	}
	if os.Getenv("LLMOPS_GEN_SET") == "prf" {
		return []variant{
			{"default", base},
			{"prf 3 ×0.5", with(prf(3, 0.5))},
			{"prf 3 ×1", with(prf(3, 1))},
			{"prf 5 ×1", with(prf(5, 1))},
			{"prf 10 ×1", with(prf(10, 1))},
			{"prf 5 ×2", with(prf(5, 2))},
			{"z prf 5 ×1", with(func(o *Options) { o.Fusion = FusionZScore; prf(5, 1)(o) })},
			{"convex nogate prf 5 ×1", with(func(o *Options) { o.Fusion = FusionConvex; o.Gate = GateNone; prf(5, 1)(o) })},
		}
	}
	return []variant{
		{"default", base},
		{"rrf no gate", with(func(o *Options) { o.Gate = GateNone })},
		{"z", with(func(o *Options) { o.Fusion = FusionZScore })},
		{"z no gate", with(func(o *Options) { o.Fusion = FusionZScore; o.Gate = GateNone })},
		{"z no gate vec×0.5", with(func(o *Options) { o.Fusion = FusionZScore; o.Gate = GateNone; o.VectorWeight = 0.5 })},
		{"z no gate norerank", with(func(o *Options) { o.Fusion = FusionZScore; o.Gate = GateNone; o.NoRerank = true })},
		{"convex", with(func(o *Options) { o.Fusion = FusionConvex })},
		{"convex no gate", with(func(o *Options) { o.Fusion = FusionConvex; o.Gate = GateNone })},
	}
}
