package evals

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"llmops/rag/answer"
	"llmops/store"
)

func refs(texts ...string) []store.ChunkRef {
	out := make([]store.ChunkRef, len(texts))
	for i, t := range texts {
		out[i] = store.ChunkRef{Chunk: store.Chunk{ID: "D1-0000" + string(rune('0'+i)), DocumentID: "D1", Text: t}, Document: &store.Document{ID: "D1", Title: "Billing"}}
	}
	return out
}

func TestFaithfulnessAndCitationPrecision(t *testing.T) {
	ctx := context.Background()
	chunks := refs(
		"Only the account owner can cancel a subscription. Cancelling takes effect at the end of the billing period.",
		"Locations are added under Settings, Locations. Each location has its own time zone.",
	)
	cases := []struct {
		name      string
		text      string
		faith     float64
		faithOK   bool
		precision float64
		precOK    bool
	}{
		{"all supported, right citations",
			"Only the account owner can cancel a subscription [1]. Each location has its own time zone [2].", 1, true, 1, true},
		{"one invented claim", // 1 of 2 sentences supported
			"Only the account owner can cancel a subscription [1]. Refunds are paid within 60 days by Paychex [1].", 0.5, true, 0.5, true},
		{"supported but cited to the wrong chunk", // faithful to the context, wrong citation
			"Only the account owner can cancel a subscription [2].", 1, true, 0, true},
		{"all claims unsupported",
			"Payroll exports run nightly to Gusto [1]. Managers approve overtime by SMS [2].", 0, true, 0, true},
		{"no citations at all: faithfulness still applies, precision does not",
			"Only the account owner can cancel a subscription.", 1, true, 0, false},
		{"empty answer", "", 0, false, 0, false},
	}
	for _, c := range cases {
		sentences := answer.ParseCitations(c.text)
		f, ok, err := faithfulness(ctx, sentences, chunks)
		if err != nil || ok != c.faithOK || math.Abs(f-c.faith) > 1e-9 {
			t.Errorf("%s: faithfulness %.3f %v %v, want %.3f %v", c.name, f, ok, err, c.faith, c.faithOK)
		}
		p, ok, err := citationPrecision(ctx, sentences, chunks)
		if err != nil || ok != c.precOK || math.Abs(p-c.precision) > 1e-9 {
			t.Errorf("%s: citation precision %.3f %v %v, want %.3f %v", c.name, p, ok, err, c.precision, c.precOK)
		}
	}
}

func TestScoreRetrieval(t *testing.T) {
	r := &resolver{byKey: map[string]string{"billing/cancel": "D1", "mobile/apps": "D2", "D1": "D1", "D2": "D2"}}
	out := store.CaseResult{Retrieved: []string{"D3-00000", "D1-00002", "D1-00001", "D4-00000", "D2-00000"}, Context: 3, Metrics: map[string]float64{}}
	scoreRetrieval(&out, store.EvalCase{DocumentIDs: []string{"billing/cancel", "mobile/apps", "missing/doc"}}, r)
	// Documents ranked: D3, D1, D4, D2; relevant D1, D2 and one missing.
	want := map[string]float64{
		"hit@1": 0, "hit@5": 1, "recall@5": 2.0 / 3, "recall@10": 2.0 / 3, "mrr@10": 0.5,
		// DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4)
		"ndcg@10": (1/math.Log2(3) + 1/math.Log2(5)) / (1 + 1/math.Log2(3) + 0.5),
		// Context: the first 3 chunks → documents D3, D1: one of two relevant; one of three references.
		"context_precision": 0.5, "context_recall": 1.0 / 3,
	}
	for k, v := range want {
		if got, ok := out.Metrics[k]; !ok || math.Abs(got-v) > 1e-9 {
			t.Errorf("%s = %v (%v), want %.4f", k, got, ok, v)
		}
	}
	// Chunk references are scored at chunk level.
	out2 := store.CaseResult{Retrieved: out.Retrieved, Context: 3, Metrics: map[string]float64{}}
	scoreRetrieval(&out2, store.EvalCase{ChunkIDs: []string{"D1-00001"}}, r)
	if out2.Metrics["mrr@10"] != 1.0/3 || out2.Metrics["hit@1"] != 0 || out2.Metrics["context_recall"] != 1 {
		t.Errorf("chunk level: %v", out2.Metrics)
	}
	// No references, or an unanswerable case: no retrieval metrics.
	for _, c := range []store.EvalCase{{}, {Unanswerable: true, DocumentIDs: []string{"D1"}}} {
		out3 := store.CaseResult{Retrieved: out.Retrieved, Metrics: map[string]float64{}}
		scoreRetrieval(&out3, c, r)
		if len(out3.Metrics) != 0 {
			t.Errorf("%+v: metrics %v", c, out3.Metrics)
		}
	}
}

func TestCompare(t *testing.T) {
	res := func(id string, tags []string, m map[string]float64) store.CaseResult {
		return store.CaseResult{CaseID: id, Tags: tags, Metrics: m}
	}
	a := []store.CaseResult{
		res("1", []string{"billing"}, map[string]float64{"hit@5": 1, "false_refusal": 0}),
		res("2", []string{"billing"}, map[string]float64{"hit@5": 1, "false_refusal": 0}),
		res("3", []string{"mobile"}, map[string]float64{"hit@5": 0, "false_refusal": 1}),
		res("4", nil, map[string]float64{"hit@5": 1}),
	}
	b := []store.CaseResult{
		res("1", []string{"billing"}, map[string]float64{"hit@5": 0, "false_refusal": 1}), // loss on both
		res("2", []string{"billing"}, map[string]float64{"hit@5": 1, "false_refusal": 0}), // tie
		res("3", []string{"mobile"}, map[string]float64{"hit@5": 1, "false_refusal": 0}),  // win on both
		res("5", nil, map[string]float64{"hit@5": 1}),                                     // only in b
	}
	c := Compare(a, b, "", "")
	if c.Matched != 3 || c.OnlyA != 1 || c.OnlyB != 1 {
		t.Fatalf("matched %d, only a %d, only b %d", c.Matched, c.OnlyA, c.OnlyB)
	}
	var hit, fr Delta
	for _, d := range c.Deltas {
		switch d.Key {
		case "hit@5":
			hit = d
		case "false_refusal":
			fr = d
		}
	}
	if hit.Wins != 1 || hit.Losses != 1 || hit.Ties != 1 || hit.N != 3 || hit.Mean != 0 {
		t.Errorf("hit@5 delta %+v", hit)
	}
	// Lower is better: the case that stopped refusing is a win.
	if fr.Wins != 1 || fr.Losses != 1 || fr.Ties != 1 {
		t.Errorf("false_refusal delta %+v", fr)
	}
	// Sorted by hit@5 change, losses first among equal sizes, ties last.
	if c.Cases[0].CaseID != "1" || c.Cases[0].Verdict != "loss" || c.Cases[1].Verdict != "win" || c.Cases[2].Verdict != "tie" {
		t.Errorf("order: %+v", c.Cases)
	}
	// Tag filter.
	if c := Compare(a, b, "billing", "hit@5"); c.Matched != 2 || c.Cases[0].CaseID != "1" {
		t.Errorf("tag billing: %+v", c)
	}
	// A consistent improvement is significant; no change is not.
	var xa, xb []store.CaseResult
	for i := range 60 {
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		xa = append(xa, res(id, nil, map[string]float64{"faithfulness": 0.6}))
		xb = append(xb, res(id, nil, map[string]float64{"faithfulness": 0.8}))
	}
	d := Compare(xa, xb, "", "").Deltas[0]
	if !d.Improved || d.Regressed || math.Abs(d.Mean-0.2) > 1e-9 || d.Lo > 0.2+1e-9 || d.Hi < 0.2-1e-9 {
		t.Errorf("consistent improvement: %+v", d)
	}
	if d := Compare(xa, xa, "", "").Deltas[0]; d.Improved || d.Regressed || d.Significant() {
		t.Errorf("no change: %+v", d)
	}
	if rs := Compare(xb, xa, "", "").Regressions(); len(rs) != 1 || rs[0].Key != "faithfulness" {
		t.Errorf("regressions: %+v", rs)
	}
}

func TestImportBEIR(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	imp, err := ImportBEIR(ctx, st, testActor, "", "beir/testdata/tiny", "")
	if err != nil {
		t.Fatal(err)
	}
	if imp.Set.Name != "tiny" || imp.Set.Source != "beir" || imp.Added == 0 || len(imp.Notes) == 0 {
		t.Fatalf("import: %+v %+v", imp, imp.Set)
	}
	v, _ := st.TestSetVersion(ctx, imp.Set.ID, 0)
	for _, c := range v.Cases {
		if c.ID == "q-bike" {
			if len(c.DocumentIDs) != 2 || c.Relevance["d05"] != 2 {
				t.Errorf("q-bike: %+v (the judgement of the missing d99 is dropped, grades kept)", c)
			}
			return
		}
	}
	t.Errorf("q-bike not imported: %+v", v.Cases)
}

// TestCompareLarge: from normalFrom pairs on, the interval is the normal
// one (mean ± 1.96 standard errors, computed here independently), so it
// costs one pass instead of a bootstrap's thousands; it still brackets
// the true change.
func TestCompareLarge(t *testing.T) {
	var a, b []store.CaseResult
	var diffs, bs []float64
	for i := range 20000 {
		id := fmt.Sprint(i)
		va := float64(i%10) / 10
		vb := min(1, va+float64(i%2)*0.1)
		a = append(a, store.CaseResult{CaseID: id, Metrics: map[string]float64{"hit@5": va}})
		b = append(b, store.CaseResult{CaseID: id, Metrics: map[string]float64{"hit@5": vb}})
		diffs, bs = append(diffs, vb-va), append(bs, vb)
	}
	d := Compare(a, b, "", "").Deltas[0]
	s := Summarize(b, "")[0]
	normal := func(xs []float64) (lo, hi float64) {
		var sum, ss float64
		for _, x := range xs {
			sum += x
		}
		m := sum / float64(len(xs))
		for _, x := range xs {
			ss += (x - m) * (x - m)
		}
		half := 1.959963984540054 * math.Sqrt(ss/float64(len(xs)-1)/float64(len(xs)))
		return m - half, m + half
	}
	if lo, hi := normal(diffs); math.Abs(d.Lo-lo) > 1e-9 || math.Abs(d.Hi-hi) > 1e-9 {
		t.Errorf("delta interval [%v, %v], want the normal one [%v, %v]", d.Lo, d.Hi, lo, hi)
	}
	if lo, hi := normal(bs); math.Abs(s.Lo-lo) > 1e-9 || math.Abs(s.Hi-hi) > 1e-9 {
		t.Errorf("summary interval [%v, %v], want the normal one [%v, %v]", s.Lo, s.Hi, lo, hi)
	}
	// Half the cases gain 0.1 except those already at 0.9 → 1.0 capped: mean gain 0.05.
	if d.N != 20000 || !d.Improved || d.Lo > d.Mean || d.Hi < d.Mean || math.Abs(d.Mean-0.05) > 1e-9 {
		t.Errorf("delta %+v", d)
	}
	if s.N != 20000 || s.Lo >= s.Mean || s.Hi <= s.Mean || s.Hi-s.Lo > 0.02 {
		t.Errorf("summary %+v", s)
	}
}

func TestResolverWarnings(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var writes []store.DocumentWrite
	for _, src := range []string{"help/billing/faq.md", "help/mobile/faq.md", "help/billing/cancel.md"} {
		d := &store.Document{Source: src, Title: src, Hash: src}
		writes = append(writes, store.DocumentWrite{Doc: d, Chunks: []store.Chunk{{Text: "text of " + src}}, Vectors: [][]float32{{1, 0}}, Model: "m"})
	}
	if _, err := st.CommitDocuments(ctx, testActor, writes); err != nil {
		t.Fatal(err)
	}
	r, err := newResolver(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := st.ListDocuments(ctx)
	ids := map[string]string{}
	for _, d := range docs {
		ids[d.Source] = d.ID
	}
	for ref, want := range map[string]string{
		"help/billing/faq.md": ids["help/billing/faq.md"], "billing/faq": ids["help/billing/faq.md"],
		"mobile/faq.md": ids["help/mobile/faq.md"], "cancel": ids["help/billing/cancel.md"], ids["help/mobile/faq.md"]: ids["help/mobile/faq.md"],
	} {
		if got := r.doc(ref); got != want {
			t.Errorf("doc(%q) = %q, want %q", ref, got, want)
		}
	}
	ws := r.warnings([]store.EvalCase{{DocumentIDs: []string{"faq", "billing/faq", "nope"}, ChunkIDs: []string{"gone-00001", ids["help/billing/cancel.md"] + "-00000"}}})
	if len(ws) != 3 || !strings.Contains(ws[0], `"nope"`) || !strings.Contains(ws[1], `"faq"`) || !strings.Contains(ws[2], "1 reference chunks") {
		t.Errorf("warnings: %q", ws)
	}
}
