package review

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// stream is a synthetic week of answers: conversations of 1–4 answers over
// three channels, four categories and two prompt versions, with thumbs
// down, escalations, low groundedness and one alert window sprinkled in at
// the given rates.
func stream(n int, seed uint64, down, esc, low float64) (Inputs, time.Time) {
	rng := rand.New(rand.NewPCG(seed, 7))
	monday, _ := store.ParseISOWeek("2026-W50")
	in := Inputs{Feedback: map[string][]store.Feedback{}}
	conv := 0
	left := 0
	for i := range n {
		if left == 0 {
			conv++
			left = 1 + rng.IntN(4)
		}
		left--
		at := monday.Add(time.Duration(float64(7*24*time.Hour) * float64(i) / float64(n)))
		a := store.AnswerSummary{ID: store.NewIDAt(at), Start: at, Kind: schema.KindAsk, Status: schema.StatusOK,
			Channel:      []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI}[rng.IntN(3)],
			Category:     []string{"billing", "scheduling", "payroll", "account"}[rng.IntN(4)],
			Prompt:       []string{"support-answer@1", "support-answer@2"}[rng.IntN(2)],
			Conversation: fmt.Sprintf("conv-%d", conv), Question: fmt.Sprintf("question %d", i),
			Grounded: true, Groundedness: 0.5 + rng.Float64()/2, Threshold: 0.35}
		if rng.Float64() < low {
			a.Groundedness = 0.1
		}
		a.Escalated = rng.Float64() < esc
		if rng.Float64() < down {
			in.Feedback[a.ID] = []store.Feedback{{TraceID: a.ID, Value: -1}}
		} else if rng.Float64() < 0.05 {
			in.Feedback[a.ID] = []store.Feedback{{TraceID: a.ID, Value: 1}}
		}
		in.Answers = append(in.Answers, a)
	}
	return in, monday
}

func TestSampleSyntheticStream(t *testing.T) {
	t.Parallel()
	in, monday := stream(20000, 1, 0.0005, 0.0005, 0.0005)
	in.Alerts = []Window{{monday.Add(50 * time.Hour), monday.Add(50*time.Hour + 3*time.Minute)}}
	p := store.DefaultReviewPolicy()

	// The sample rate: the share of answers the hash draws.
	drawn := 0
	for _, a := range in.Answers {
		if hashUnit("sample:", a.ID) < p.SampleRate {
			drawn++
		}
	}
	rate := float64(drawn) / float64(len(in.Answers))
	// 3 standard errors of a 5 % binomial share over 20,000 draws.
	if tol := 3 * math.Sqrt(p.SampleRate*(1-p.SampleRate)/float64(len(in.Answers))); math.Abs(rate-p.SampleRate) > tol {
		t.Errorf("sampled %.4f of answers, want %.2f ± %.4f", rate, p.SampleRate, tol)
	}
	t.Logf("sample rate %.4f (want %.2f)", rate, p.SampleRate)

	items := Sample(p, in)
	mandatoryConvs := map[string]bool{}
	for i := range in.Answers {
		if rs := reasons(p, &in, &in.Answers[i]); isMandatory(rs) {
			mandatoryConvs[in.Answers[i].Conversation] = true
		}
	}
	ids, convs := map[string]bool{}, map[string]bool{}
	sampled := 0
	for _, it := range items {
		if ids[it.ID] {
			t.Errorf("item %s is queued twice", it.ID)
		}
		if convs[it.Conversation] {
			t.Errorf("conversation %s has two items", it.Conversation)
		}
		ids[it.ID], convs[it.Conversation] = true, true
		switch {
		case isMandatory(it.Reason) && !mandatoryConvs[it.Conversation]:
			t.Errorf("item %s has mandatory reasons %v its conversation does not", it.ID, it.Reason)
		case !isMandatory(it.Reason):
			sampled++
		}
	}
	for conv := range mandatoryConvs {
		if !convs[conv] {
			t.Errorf("conversation %s has a mandatory answer but no item", conv)
		}
	}
	if len(mandatoryConvs) == 0 || len(mandatoryConvs) >= p.WeeklyTarget {
		t.Fatalf("%d mandatory conversations; the fixture should have some, under the target", len(mandatoryConvs))
	}
	if len(items) != p.WeeklyTarget {
		t.Errorf("queue has %d items, want the weekly target %d (%d mandatory)", len(items), p.WeeklyTarget, len(mandatoryConvs))
	}
	// Every reason shows up.
	for _, r := range []store.ReviewReason{store.ReasonThumbsDown, store.ReasonEscalated, store.ReasonLowGroundedness, store.ReasonAlert, store.ReasonSampled} {
		if !slices.ContainsFunc(items, func(it store.ReviewItem) bool { return slices.Contains(it.Reason, r) }) {
			t.Errorf("no item has reason %s", r)
		}
	}
	// The sample is balanced over its 24 strata: no stratum has two more
	// sampled items than another.
	per := map[string]int{}
	for _, it := range items {
		if !isMandatory(it.Reason) {
			per[it.Channel+"/"+it.Category+"/"+it.Prompt]++
		}
	}
	lo, hi := math.MaxInt, 0
	for _, ch := range []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI} {
		for _, cat := range []string{"billing", "scheduling", "payroll", "account"} {
			for _, pr := range []string{"support-answer@1", "support-answer@2"} {
				n := per[ch+"/"+cat+"/"+pr]
				lo, hi = min(lo, n), max(hi, n)
			}
		}
	}
	if hi-lo > 1 {
		t.Errorf("sampled items per stratum %v, want all 24 strata within one of each other", per)
	}
	// A bigger target: 200 − mandatory sampled items, still balanced.
	big := p
	big.WeeklyTarget = 200
	per = map[string]int{}
	bigItems := Sample(big, in)
	for _, it := range bigItems {
		if !isMandatory(it.Reason) {
			per[it.Channel+"/"+it.Category+"/"+it.Prompt]++
		}
	}
	lo, hi = math.MaxInt, 0
	for _, n := range per {
		lo, hi = min(lo, n), max(hi, n)
	}
	if len(bigItems) != 200 || len(per) != 24 || hi-lo > 1 {
		t.Errorf("target 200: %d items, sampled per stratum %v", len(bigItems), per)
	}
	// Double assigned: round(10 % × 50).
	if d := countDouble(items); d != 5 {
		t.Errorf("%d items double assigned, want 5", d)
	}

	// Deterministic: the same answers in another order give the same queue.
	shuffled := in
	shuffled.Answers = slices.Clone(in.Answers)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled.Answers), func(i, j int) {
		shuffled.Answers[i], shuffled.Answers[j] = shuffled.Answers[j], shuffled.Answers[i]
	})
	again := Sample(p, shuffled)
	if !slices.EqualFunc(items, again, func(a, b store.ReviewItem) bool { return a.ID == b.ID && a.Double == b.Double }) {
		t.Error("the same week sampled in another order gives another queue")
	}

	// Mandatory items beyond the target are all kept; nothing is sampled.
	busy, _ := stream(5000, 2, 0.05, 0.02, 0.02)
	items = Sample(p, busy)
	mandatory := 0
	for _, it := range items {
		if !isMandatory(it.Reason) {
			t.Fatalf("item %s was sampled though mandatory items exceed the target", it.ID)
		}
		mandatory++
	}
	if mandatory <= p.WeeklyTarget {
		t.Fatalf("%d mandatory items; the busy fixture should exceed the target", mandatory)
	}
}

func countDouble(items []store.ReviewItem) int {
	n := 0
	for _, it := range items {
		if it.Double {
			n++
		}
	}
	return n
}

// TestPlanTopsUpToTarget: a week rebuilt later adds late mandatory items
// but never grows the sample past the target, and keeps what is queued.
func TestPlanTopsUpToTarget(t *testing.T) {
	t.Parallel()
	in, _ := stream(4000, 3, 0, 0, 0)
	p := store.DefaultReviewPolicy()
	first := Plan(p, []string{"u1", "u2"}, nil, Sample(p, in))
	if len(first) != p.WeeklyTarget {
		t.Fatalf("first build has %d items, want %d", len(first), p.WeeklyTarget)
	}
	// A thumbs down arrives on an answer of an unqueued conversation.
	queued := map[string]bool{}
	for _, it := range first {
		queued[it.Conversation] = true
	}
	var late string
	for _, a := range in.Answers {
		if !queued[a.Conversation] {
			late = a.ID
			in.Feedback[a.ID] = []store.Feedback{{TraceID: a.ID, Value: -1}}
			break
		}
	}
	added := Plan(p, []string{"u1", "u2"}, first, Sample(p, in))
	if len(added) != 1 || added[0].ID != late || !slices.Contains(added[0].Reason, store.ReasonThumbsDown) {
		t.Errorf("rebuild added %+v, want only the late thumbs down %s", added, late)
	}
}

func TestAssignFairness(t *testing.T) {
	t.Parallel()
	items := make([]store.ReviewItem, 203)
	for i := range items {
		items[i].ID = store.NewIDAt(time.Date(2026, 12, 8, 0, 0, i, 0, time.UTC))
	}
	markDouble(items, 0.10)
	if d := countDouble(items); d != 20 {
		t.Errorf("%d of 203 items double assigned, want round(20.3) = 20", d)
	}
	reviewers := []string{"ann", "bob", "cat", "dan", "eve"}
	// In two builds, as a week's queue is topped up.
	Assign(reviewers, nil, items[:120])
	Assign(reviewers, items[:120], items[120:])
	per := map[string]int{}
	for _, it := range items {
		want := 1
		if it.Double {
			want = 2
		}
		if len(it.Assignees) != want {
			t.Fatalf("item %s (double %v) has assignees %v", it.ID, it.Double, it.Assignees)
		}
		if it.Double && it.Assignees[0] == it.Assignees[1] {
			t.Errorf("double item %s assigned twice to %s", it.ID, it.Assignees[0])
		}
		for _, a := range it.Assignees {
			per[a]++
		}
	}
	lo, hi := math.MaxInt, 0
	for _, r := range reviewers {
		lo, hi = min(lo, per[r]), max(hi, per[r])
	}
	if hi-lo > 1 {
		t.Errorf("assignments per reviewer %v, want within one of each other", per)
	}
	t.Logf("assignments per reviewer %v; %d double", per, countDouble(items))

	// One reviewer: double items get the one; none: unassigned.
	solo := []store.ReviewItem{{ID: "a", Double: true}, {ID: "b"}}
	Assign([]string{"ann"}, nil, solo)
	if len(solo[0].Assignees) != 1 || solo[1].Assignee() != "ann" {
		t.Errorf("one reviewer: %+v", solo)
	}
	none := []store.ReviewItem{{ID: "a"}}
	Assign(nil, nil, none)
	if none[0].Assignee() != "" {
		t.Errorf("no reviewers: assigned %v", none[0].Assignees)
	}
}

func TestFiringWindows(t *testing.T) {
	t.Parallel()
	monday, _ := store.ParseISOWeek("2026-W50")
	h := func(n int) time.Time { return monday.Add(time.Duration(n) * time.Hour) }
	alerts := []store.AlertRule{
		{State: store.AlertOK, History: []store.AlertEvent{{At: h(-30), State: store.AlertFiring}, {At: h(2), State: store.AlertOK},
			{At: h(10), State: store.AlertFiring}, {At: h(11), State: store.AlertOK}, {At: h(200), State: store.AlertFiring}}},
		{State: store.AlertFiring, History: []store.AlertEvent{{At: h(-100), State: store.AlertFiring}, {At: h(-90), State: store.AlertOK}}},
	}
	got := FiringWindows(alerts, monday, h(168))
	want := []Window{{h(-30), h(2)}, {h(10), h(11)}}
	if !slices.Equal(got, want) {
		t.Errorf("windows %v, want %v", got, want)
	}
}

func TestCohensKappaHandComputed(t *testing.T) {
	t.Parallel()
	// 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15.
	// po = 35/50 = 0.7; A says yes 25/50, B 30/50:
	// pe = 0.5 × 0.6 + 0.5 × 0.4 = 0.5; κ = (0.7 − 0.5) / 0.5 = 0.4.
	var a, b []string
	add := func(n int, x, y string) {
		for range n {
			a, b = append(a, x), append(b, y)
		}
	}
	add(20, "yes", "yes")
	add(5, "yes", "no")
	add(10, "no", "yes")
	add(15, "no", "no")
	k, po, ok := CohensKappa(a, b)
	if !ok || math.Abs(k-0.4) > 1e-12 || math.Abs(po-0.7) > 1e-12 {
		t.Errorf("kappa %v, observed %v, ok %v; want 0.4, 0.7", k, po, ok)
	}
	// Both raters always say the same one thing: chance agreement is 1.
	if _, _, ok := CohensKappa([]string{"x", "x"}, []string{"x", "x"}); ok {
		t.Error("kappa defined when chance agreement is 1")
	}
	// Perfect agreement over two categories is 1.
	if k, _, _ := CohensKappa([]string{"x", "y"}, []string{"x", "y"}); k != 1 {
		t.Errorf("perfect agreement: kappa %v, want 1", k)
	}
}
