package review

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), tb.TempDir(), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

var testActor = store.Actor{Kind: store.ActorCLI, Name: "test"}

// writeWeek stores n answer traces spread over week 2026-W50 (plus eval,
// playground, ingest and CLI traces, which review must ignore, and a few
// answers of the weeks around it), with thumbs on some.
func writeWeek(tb testing.TB, st *store.Store, n int) (answers []*store.Trace, thumbs map[string]int) {
	tb.Helper()
	ctx := context.Background()
	w := st.NewTraceWriter(store.TraceWriterOptions{})
	monday, _ := store.ParseISOWeek("2026-W50")
	rng := rand.New(rand.NewPCG(5, 5))
	thumbs = map[string]int{}
	write := func(at time.Time, kind schema.TraceKind, channel string, i int) *store.Trace {
		q := fmt.Sprintf("how do I do thing %d", i%17)
		tr := &store.Trace{ID: store.NewIDAt(at), Kind: kind, Name: "ask", Start: at, End: at.Add(time.Second), Status: schema.StatusOK,
			Input: q, Output: "answer",
			Attributes: map[string]any{schema.AttrChannel: channel, schema.AttrQuestion: q, schema.AttrAnswer: "answer " + q,
				schema.AttrPrompt: []string{"support-answer@1", "support-answer@2"}[i%2], schema.AttrGroundedness: 0.2 + 0.8*rng.Float64(),
				schema.AttrThreshold: 0.35, schema.AttrEscalated: i%23 == 0, schema.AttrConversationID: fmt.Sprintf("c%d", i/2),
				schema.AttrCitations: []map[string]any{{"n": 1, "document_id": fmt.Sprintf("doc-%d", i%5), "source": "billing/x.md"}}}}
		if err := w.Write(ctx, tr); err != nil {
			tb.Fatal(err)
		}
		return tr
	}
	for i := range n {
		at := monday.Add(time.Duration(float64(7*24*time.Hour) * float64(i) / float64(n)))
		answers = append(answers, write(at, schema.KindAsk, []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI}[i%3], i))
		write(at, schema.KindEval, schema.ChannelEval, i)
		if i%10 == 0 {
			write(at, schema.KindPlayground, schema.ChannelPlayground, i)
			write(at, schema.KindAsk, schema.ChannelCLI, i)
			write(at, schema.KindIngest, schema.ChannelAPI, i)
		}
	}
	write(monday.Add(-time.Minute), schema.KindAsk, schema.ChannelChat, 1)
	write(monday.AddDate(0, 0, 7), schema.KindAsk, schema.ChannelChat, 1)
	if err := w.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	for i, tr := range answers {
		if i%7 == 0 {
			v := []int{1, -1}[rng.IntN(2)]
			if err := st.AddFeedback(ctx, testActor, &store.Feedback{TraceID: tr.ID, Value: v}); err != nil {
				tb.Fatal(err)
			}
			thumbs[tr.ID] = v
		}
	}
	return answers, thumbs
}

func TestAnswerSummariesAreRealTrafficOfTheWeek(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	answers, _ := writeWeek(t, st, 200)
	monday, _ := store.ParseISOWeek("2026-W50")
	got, err := st.AnswerSummaries(context.Background(), monday, monday.AddDate(0, 0, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids, want []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	for _, a := range answers {
		want = append(want, a.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("got %d answers, want the %d chat/widget/api asks of the week", len(ids), len(want))
	}
	if a := got[0]; a.Prompt != "support-answer@1" || a.Category != "billing" || !a.Grounded || a.Conversation != "c0" || len(a.Citations) != 1 {
		t.Errorf("summary %+v", a)
	}
}

// TestAnswerRecordTags: the lean decoder's tags are the schema's keys.
func TestAnswerRecordTags(t *testing.T) {
	t.Parallel()
	want := map[string]bool{schema.AttrChannel: true, schema.AttrFilterCategory: true, schema.AttrPrompt: true, schema.AttrConversationID: true,
		schema.AttrQuestion: true, schema.AttrGroundedness: true, schema.AttrThreshold: true, schema.AttrEscalated: true,
		schema.AttrFallback: true, schema.AttrCitations: true}
	// The record is unexported in store; read it back through a trace.
	st := openStore(t)
	at := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	attrs := map[string]any{}
	for k := range want {
		attrs[k] = nil
	}
	attrs[schema.AttrChannel], attrs[schema.AttrFilterCategory], attrs[schema.AttrPrompt] = schema.ChannelChat, "cat", "p@1"
	attrs[schema.AttrConversationID], attrs[schema.AttrQuestion], attrs[schema.AttrGroundedness] = "conv", "q?", 0.1
	attrs[schema.AttrThreshold], attrs[schema.AttrEscalated], attrs[schema.AttrFallback] = 0.5, true, true
	attrs[schema.AttrCitations] = []map[string]any{{"document_id": "d1"}}
	tr := &store.Trace{ID: store.NewIDAt(at), Kind: schema.KindAsk, Start: at, Status: schema.StatusOK, Attributes: attrs}
	w := st.NewTraceWriter(store.TraceWriterOptions{})
	if err := w.Write(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := st.AnswerSummariesOf(context.Background(), []string{tr.ID})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	wantSum := store.AnswerSummary{ID: tr.ID, Start: at, Kind: schema.KindAsk, Status: schema.StatusOK, Channel: schema.ChannelChat,
		Category: "cat", Prompt: "p@1", Conversation: "conv", Question: "q?", Groundedness: 0.1, Threshold: 0.5, Grounded: true,
		Escalated: true, Fallback: true, Citations: []string{"d1"}}
	if !reflect.DeepEqual(got[0], wantSum) {
		t.Errorf("summary\n got %+v\nwant %+v", got[0], wantSum)
	}
}

func TestReportMatchesBruteForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	answers, thumbs := writeWeek(t, st, 600)
	p := store.DefaultReviewPolicy()
	p.WeeklyTarget, p.FindingsSet = 120, ""
	if _, err := st.PutReviewPolicy(ctx, testActor, p); err != nil {
		t.Fatal(err)
	}
	var reviewers []string
	for i := range 3 {
		u := &store.User{Name: fmt.Sprintf("R%d", i), Email: fmt.Sprintf("r%d@example.com", i), Role: store.RoleReviewer, PasswordHash: []byte("x")}
		if err := st.CreateUser(ctx, testActor, u); err != nil {
			t.Fatal(err)
		}
		reviewers = append(reviewers, u.ID)
	}
	items, err := BuildQueue(ctx, st, testActor, "2026-W50")
	if err != nil {
		t.Fatal(err)
	}
	again, err := BuildQueue(ctx, st, testActor, "2026-W50")
	if err != nil || len(again) != len(items) {
		t.Fatalf("rebuilding the week: %d items, %v; want the same %d", len(again), err, len(items))
	}
	if len(items) < p.WeeklyTarget {
		t.Fatalf("%d items, want at least %d", len(items), p.WeeklyTarget)
	}
	byID := map[string]*store.Trace{}
	for _, a := range answers {
		byID[a.ID] = a
	}
	rng := rand.New(rand.NewPCG(11, 3))
	type key struct{ prompt, verdict string }
	wantVerdicts, wantPrompt := map[store.ReviewVerdict]int{}, map[key]int{}
	wantDocs := map[string]int{}
	var ka, kb []store.ReviewVerdict
	labelled := 0
	for i, it := range items {
		if i%4 == 3 {
			continue // left open
		}
		n := 1
		if it.Double {
			n = 2
		}
		var first store.ReviewVerdict
		for j := range n {
			v := store.Verdicts[rng.IntN(4)]
			l := store.ReviewLabel{Verdict: v, Grounded: rng.IntN(2) == 0, Cause: store.Causes[rng.IntN(len(store.Causes))]}
			who := it.Assignees[j]
			if _, err := st.LabelReviewItem(ctx, testActor, who, who, it.ID, l); err != nil {
				t.Fatal(err)
			}
			if j == 0 {
				first = v
			} else {
				ka, kb = append(ka, first), append(kb, v)
			}
		}
		labelled++
		wantVerdicts[first]++
		prompt, _ := byID[it.TraceID].Attributes[schema.AttrPrompt].(string)
		wantPrompt[key{prompt, string(first)}]++
		if first.Bad() {
			for _, c := range byID[it.TraceID].Attributes[schema.AttrCitations].([]map[string]any) {
				wantDocs[c["document_id"].(string)]++
			}
		}
	}
	r, err := BuildReport(ctx, st, nil, "2026-W50")
	if err != nil {
		t.Fatal(err)
	}
	if r.Items != len(items) || r.Labelled != labelled || !reflect.DeepEqual(r.Verdicts, wantVerdicts) {
		t.Errorf("items %d labelled %d verdicts %v; want %d, %d, %v", r.Items, r.Labelled, r.Verdicts, len(items), labelled, wantVerdicts)
	}
	gotPrompt := map[key]int{}
	for _, pm := range r.ByPrompt {
		for v, n := range pm.Verdicts {
			gotPrompt[key{pm.Prompt, string(v)}] = n
		}
	}
	if !reflect.DeepEqual(gotPrompt, wantPrompt) {
		t.Errorf("verdicts by prompt %v, want %v", gotPrompt, wantPrompt)
	}
	gotDocs := map[string]int{}
	for _, d := range r.Documents {
		gotDocs[d.DocumentID] = d.Answers
	}
	if !reflect.DeepEqual(gotDocs, wantDocs) {
		t.Errorf("documents in bad answers %v, want %v", gotDocs, wantDocs)
	}
	clustered := 0
	for _, c := range r.Clusters {
		clustered += c.Size
	}
	if r.Failing != wantVerdicts[store.VerdictPartial]+wantVerdicts[store.VerdictIncorrect]+wantVerdicts[store.VerdictShouldHaveRefused] ||
		(len(r.Clusters) < MaxClusters && clustered != r.Failing) {
		t.Errorf("failing %d, clustered %d in %d clusters", r.Failing, clustered, len(r.Clusters))
	}
	k, _, _ := CohensKappa(ka, kb)
	if r.Agreement.Items != len(ka) || len(ka) == 0 || r.Agreement.Kappa == nil || math.Abs(*r.Agreement.Kappa-k) > 1e-12 {
		t.Errorf("agreement %+v, want %d items, kappa %v", r.Agreement, len(ka), k)
	}
	done := 0
	for _, p := range r.Progress {
		done += p.Done
	}
	if want := labelled + len(ka); done != want || len(r.Progress) != len(reviewers) {
		t.Errorf("progress %+v: %d labels done, want %d over %d reviewers", r.Progress, done, want, len(reviewers))
	}
	// Thumbs and escalations per day, counted by brute force.
	monday, _ := store.ParseISOWeek("2026-W50")
	for d, day := range r.Trend {
		var want store.Rollup
		for _, a := range answers {
			if a.Start.Sub(monday)/(24*time.Hour) != time.Duration(d) {
				continue
			}
			want.Requests++
			if a.Attributes[schema.AttrEscalated] == true {
				want.Escalations++
			}
			switch thumbs[a.ID] {
			case 1:
				want.Up++
			case -1:
				want.Down++
			}
		}
		if day.Requests != want.Requests || day.Up != want.Up || day.Down != want.Down || day.Escalations != want.Escalations {
			t.Errorf("day %s: %+v, want requests %d up %d down %d escalations %d", day.Day, day, want.Requests, want.Up, want.Down, want.Escalations)
		}
	}
	if len(r.Trend) != 7 {
		t.Errorf("trend has %d days, want 7", len(r.Trend))
	}
}

func TestLabelToTestCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	answers, _ := writeWeek(t, st, 10)
	items, err := st.MergeReviewQueue(ctx, testActor, "2026-W50", func([]store.ReviewItem) []store.ReviewItem {
		return []store.ReviewItem{{ID: answers[0].ID, TraceID: answers[0].ID, Reason: []store.ReviewReason{store.ReasonSampled}, Assignees: []string{"ann"}},
			{ID: answers[2].ID, TraceID: answers[2].ID, Reason: []store.ReviewReason{store.ReasonThumbsDown}, Assignees: []string{"ann"}}}
	})
	if err != nil || len(items) != 2 {
		t.Fatal(items, err)
	}
	wrong := store.ReviewLabel{Verdict: store.VerdictIncorrect, Grounded: false, Cause: store.CauseWrongChunkFirst,
		CorrectedAnswer: "Go to Billing → Cancel.", Documents: []string{"billing/cancel.md", " doc-9 "}}
	it, err := st.LabelReviewItem(ctx, testActor, "ann", "Ann", items[0].ID, wrong)
	if err != nil || it.State != store.ReviewDone {
		t.Fatal(it, err)
	}
	// A second reviewer on a single-assigned item: conflict, showing Ann's.
	_, err = st.LabelReviewItem(ctx, testActor, "bob", "Bob", items[0].ID, store.ReviewLabel{Verdict: store.VerdictCorrect})
	var lc *store.LabelConflict
	if !errors.As(err, &lc) || lc.First.Reviewer != "ann" || store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("second reviewer: %v, want a conflict showing ann's label", err)
	}
	k, set, err := AddTestCase(ctx, st, testActor, it, it.Labels[0], "Review findings")
	if err != nil {
		t.Fatal(err)
	}
	want := store.EvalCase{ID: "review-" + answers[0].ID, Question: "how do I do thing 0", ReferenceAnswer: "Go to Billing → Cancel.",
		DocumentIDs: []string{"billing/cancel.md", "doc-9"}, Tags: []string{"chat", "from-trace", "review", "verdict-incorrect"}, TraceID: answers[0].ID}
	if !reflect.DeepEqual(k, want) || set.Name != "Review findings" || set.Cases != 1 {
		t.Errorf("case %+v in %+v\nwant %+v", k, set, want)
	}
	// Again: the same case, no second copy.
	if _, set, err = AddTestCase(ctx, st, testActor, it, it.Labels[0], set.ID); err != nil || set.Cases != 1 {
		t.Errorf("adding twice: %+v, %v", set, err)
	}
	refuse := store.ReviewLabel{Verdict: store.VerdictShouldHaveRefused, Grounded: false, CorrectedAnswer: "ignored", Cause: store.CausePolicy}
	it2, err := st.LabelReviewItem(ctx, testActor, "ann", "Ann", items[1].ID, refuse)
	if err != nil {
		t.Fatal(err)
	}
	k, set, err = AddTestCase(ctx, st, testActor, it2, it2.Labels[0], "Review findings")
	if err != nil || !k.Unanswerable || k.ReferenceAnswer != "" || set.Cases != 2 {
		t.Errorf("should have refused: %+v in %+v, %v; want an unanswerable case", k, set, err)
	}
	stored, _ := st.ReviewItem(ctx, items[1].ID)
	if stored.TestCase != "Review findings/review-"+answers[2].ID {
		t.Errorf("item records test case %q", stored.TestCase)
	}
	if _, err := st.TestSetVersion(ctx, set.ID, set.Version); err != nil {
		t.Fatal(err)
	}
}

// TestLoadInputsDecodesCandidatesOnly: sampling from the pre-filtered
// answers gives the queue sampling every answer gives, for policies that
// take each reason alone.
func TestLoadInputsDecodesCandidatesOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	answers, _ := writeWeek(t, st, 3000)
	monday, _ := store.ParseISOWeek("2026-W50")
	// An alert that fired for an hour on Tuesday.
	a := &store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", Threshold: 0.1, WindowCount: 10}
	if err := st.CreateAlert(ctx, testActor, a); err != nil {
		t.Fatal(err)
	}
	at := monday.Add(30 * time.Hour)
	if err := st.SetAlertState(ctx, a.ID, store.AlertFiring, nil, at); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAlertState(ctx, a.ID, store.AlertOK, nil, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, err := st.AnswerSummaries(ctx, monday, monday.AddDate(0, 0, 7), nil)
	if err != nil || len(all) != len(answers) {
		t.Fatalf("%d answers, %v", len(all), err)
	}
	full := DefaultPolicyNoTarget()
	policies := map[string]store.ReviewPolicy{"default": full}
	for _, only := range []string{"thumbs_down", "escalated", "low_groundedness", "alerts", "sampled"} {
		p := full
		p.ThumbsDown, p.Escalated, p.LowGroundedness, p.Alerts = only == "thumbs_down", only == "escalated", only == "low_groundedness", only == "alerts"
		if only != "sampled" {
			p.SampleRate = 0
		}
		policies[only] = p
	}
	for name, p := range policies {
		in, err := LoadInputs(ctx, st, "2026-W50", p)
		if err != nil {
			t.Fatal(err)
		}
		everything := in
		everything.Answers = all
		got, want := Sample(p, in), Sample(p, everything)
		if len(want) == 0 || !slices.EqualFunc(got, want, func(a, b store.ReviewItem) bool { return reflect.DeepEqual(a, b) }) {
			t.Errorf("%s: %d items from candidates, %d from every answer", name, len(got), len(want))
		}
		if len(in.Answers) >= len(all)/2 {
			t.Errorf("%s: decoded %d of %d answers; want only the candidates", name, len(in.Answers), len(all))
		}
		t.Logf("%s: decoded %d of %d answers, %d items", name, len(in.Answers), len(all), len(got))
	}
}

// DefaultPolicyNoTarget is the default policy with a target no fixture
// reaches, so every candidate shows in the queue.
func DefaultPolicyNoTarget() store.ReviewPolicy {
	p := store.DefaultReviewPolicy()
	p.WeeklyTarget = 10000
	return p
}
