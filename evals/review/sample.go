// Package review is the human review loop's logic: which answers of a
// week go into the review queue (Sample), who reviews them (Assign), what
// a reviewed item becomes as a test case (TestCase), and the weekly report
// (BuildReport: failing question clusters, documents behind bad answers,
// knowledge gaps, verdicts by prompt version, trends, reviewer agreement).
// It reads the store and never writes HTTP; server/review.go serves it and
// `llmops review report` prints it.
package review

import (
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"llmops/store"
)

// hashUnit maps a trace ID (salted) to [0, 1): the same trace always
// draws the same number, so rebuilding a week's queue picks the same
// answers.
func hashUnit(salt, id string) float64 {
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte(id))
	// fnv's low bits mix poorly for short inputs; a splitmix finaliser
	// spreads them before taking the top 53 bits.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// Candidate is one answer the policy considered, with why.
type Candidate struct {
	store.AnswerSummary
	Reasons []store.ReviewReason
	draw    float64
}

func (c *Candidate) mandatory() bool { return isMandatory(c.Reasons) }

// Window is a span of time an alert was firing.
type Window struct{ From, To time.Time }

// FiringWindows returns when each alert was firing between from and to,
// from its history of state changes. Alerts record no trace, so the answers
// an alert "fired on" are taken to be those given while it was firing.
func FiringWindows(alerts []store.AlertRule, from, to time.Time) []Window {
	var out []Window
	for _, a := range alerts {
		var start time.Time
		firing := false
		for _, ev := range a.History {
			switch {
			case ev.State == store.AlertFiring && !firing:
				start, firing = ev.At, true
			case ev.State != store.AlertFiring && firing:
				out = append(out, Window{start, ev.At})
				firing = false
			}
		}
		if firing || (len(a.History) == 0 && a.State == store.AlertFiring) {
			if !firing {
				start = a.Since
			}
			out = append(out, Window{start, to})
		}
	}
	return slices.DeleteFunc(out, func(w Window) bool { return !w.To.After(from) || !w.From.Before(to) })
}

// Inputs is what Sample reads: a week's answers, their feedback and the
// alert windows.
type Inputs struct {
	Answers  []store.AnswerSummary
	Feedback map[string][]store.Feedback
	Alerts   []Window
}

// LoadInputs reads a week's feedback, alert windows and the answers
// policy p may take: the store decodes only the answers whose undecoded
// facts (escalated, groundedness), feedback, alert windows or hash make
// them candidates, so a week of 100,000 answers decodes a few thousand.
// Sample on these inputs equals Sample on every answer of the week
// (TestLoadInputsDecodesCandidatesOnly).
func LoadInputs(ctx context.Context, st *store.Store, week string, p store.ReviewPolicy) (Inputs, error) {
	from, err := store.ParseISOWeek(week)
	if err != nil {
		return Inputs{}, err
	}
	to := from.AddDate(0, 0, 7)
	var in Inputs
	if in.Feedback, err = st.FeedbackBetween(ctx, from, to); err != nil {
		return in, err
	}
	alerts, err := st.Alerts(ctx)
	if err != nil {
		return in, err
	}
	in.Alerts = FiringWindows(alerts, from, to)
	want := func(f store.AnswerFacts) bool {
		a := store.AnswerSummary{ID: f.ID, Start: f.Start, Escalated: f.Escalated, Grounded: f.Grounded, Groundedness: f.Groundedness, Threshold: f.Threshold}
		if len(reasons(p, &in, &a)) > 0 {
			return true
		}
		// An ID holds its start to the millisecond: the start itself may
		// be up to a millisecond later, inside an alert window.
		a.Start = f.Start.Add(time.Millisecond - 1)
		return len(reasons(p, &in, &a)) > 0
	}
	in.Answers, err = st.AnswerSummaries(ctx, from, to, want)
	return in, err
}

// reasons are why the policy takes answer a (nil: it does not).
func reasons(p store.ReviewPolicy, in *Inputs, a *store.AnswerSummary) []store.ReviewReason {
	var rs []store.ReviewReason
	if p.ThumbsDown && slices.ContainsFunc(in.Feedback[a.ID], func(f store.Feedback) bool { return f.Value < 0 }) {
		rs = append(rs, store.ReasonThumbsDown)
	}
	if p.Escalated && a.Escalated {
		rs = append(rs, store.ReasonEscalated)
	}
	if p.LowGroundedness && a.Grounded && a.Threshold > 0 && a.Groundedness < a.Threshold {
		rs = append(rs, store.ReasonLowGroundedness)
	}
	if p.Alerts && slices.ContainsFunc(in.Alerts, func(w Window) bool { return !a.Start.Before(w.From) && a.Start.Before(w.To) }) {
		rs = append(rs, store.ReasonAlert)
	}
	if hashUnit("sample:", a.ID) < p.SampleRate {
		rs = append(rs, store.ReasonSampled)
	}
	return rs
}

// Stratum is what the sample is balanced over: channel, category and
// prompt version.
func Stratum(a *store.AnswerSummary) string {
	return a.Channel + "\x00" + a.Category + "\x00" + a.Prompt
}

// Sample picks a week's review items under policy p:
//
//   - every answer with a mandatory reason (thumbs down, escalated, below
//     its groundedness threshold, given while an alert fired) is taken;
//   - answers whose hash falls under p.SampleRate are candidates for the
//     sample;
//   - one item per conversation: the answer with the most mandatory
//     reasons (ties: the lowest hash) stands for it, and a conversation
//     with a mandatory answer is not sampled again;
//   - sampled items fill the queue up to p.WeeklyTarget, taken round-robin
//     over strata (channel × category × prompt version, in name order),
//     each stratum in hash order, so a busy channel does not crowd out a
//     quiet one;
//   - the p.DoubleShare of items with the lowest second hash are double
//     assigned.
//
// Everything is a function of the trace IDs and the policy, so the same
// week gives the same queue.
func Sample(p store.ReviewPolicy, in Inputs) []store.ReviewItem {
	best := map[string]*Candidate{} // conversation → its representative
	var order []string
	for i := range in.Answers {
		a := &in.Answers[i]
		rs := reasons(p, &in, a)
		if len(rs) == 0 {
			continue
		}
		c := &Candidate{AnswerSummary: *a, Reasons: rs, draw: hashUnit("sample:", a.ID)}
		conv := a.Conversation
		if conv == "" {
			conv = "trace:" + a.ID
		}
		old, ok := best[conv]
		if !ok {
			order = append(order, conv)
			best[conv] = c
			continue
		}
		if better(c, old) {
			best[conv] = c
		}
	}
	var mandatory, sampled []*Candidate
	for _, conv := range order {
		c := best[conv]
		if c.mandatory() {
			mandatory = append(mandatory, c)
		} else {
			sampled = append(sampled, c)
		}
	}
	slices.SortFunc(mandatory, func(a, b *Candidate) int { return strings.Compare(a.ID, b.ID) })
	items := make([]store.ReviewItem, 0, max(len(mandatory), p.WeeklyTarget))
	for _, c := range mandatory {
		items = append(items, itemOf(c))
	}
	for _, c := range balanced(sampled, p.WeeklyTarget-len(mandatory)) {
		items = append(items, itemOf(c))
	}
	markDouble(items, p.DoubleShare)
	return items
}

// better reports whether c should stand for its conversation instead of
// old.
func better(c, old *Candidate) bool {
	nc, no := mandatoryCount(c), mandatoryCount(old)
	if nc != no {
		return nc > no
	}
	return c.draw < old.draw
}

func mandatoryCount(c *Candidate) int {
	n := 0
	for _, r := range c.Reasons {
		if r != store.ReasonSampled {
			n++
		}
	}
	return n
}

// balanced takes up to n candidates round-robin over strata.
func balanced(cs []*Candidate, n int) []*Candidate {
	if n <= 0 || len(cs) == 0 {
		return nil
	}
	strata := map[string][]*Candidate{}
	var names []string
	for _, c := range cs {
		k := Stratum(&c.AnswerSummary)
		if _, ok := strata[k]; !ok {
			names = append(names, k)
		}
		strata[k] = append(strata[k], c)
	}
	slices.Sort(names)
	for _, k := range names {
		slices.SortFunc(strata[k], func(a, b *Candidate) int { return cmp.Compare(a.draw, b.draw) })
	}
	var out []*Candidate
	for round := 0; len(out) < n; round++ {
		took := false
		for _, k := range names {
			if round < len(strata[k]) && len(out) < n {
				out = append(out, strata[k][round])
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}

func itemOf(c *Candidate) store.ReviewItem {
	return store.ReviewItem{ID: c.ID, TraceID: c.ID, Reason: c.Reasons, Channel: c.Channel, Category: c.Category,
		Prompt: c.Prompt, Conversation: c.Conversation, Question: store.Preview(c.Question, 300)}
}

// markDouble marks the round(share × n) items with the lowest second hash
// as double assigned.
func markDouble(items []store.ReviewItem, share float64) {
	n := int(share*float64(len(items)) + 0.5)
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Compare(hashUnit("double:", items[a].ID), hashUnit("double:", items[b].ID))
	})
	for _, i := range idx[:n] {
		items[i].Double = true
	}
}

// Reviewers are the users who may review (role reviewer or above), in ID
// order, the order assignment rotates through.
func Reviewers(users []store.User) []store.User {
	var out []store.User
	for _, u := range users {
		if u.Role.Allows(store.RoleReviewer) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Assign gives added items their reviewers round-robin, continuing the
// rotation after the assignments stored items hold: each assignment takes
// the next reviewer, and a double-assigned item takes two in a row, so
// they differ whenever there are two reviewers. With one reviewer a double
// item gets one; with none, items stay unassigned to be claimed.
func Assign(reviewers []string, stored, added []store.ReviewItem) {
	if len(reviewers) == 0 {
		return
	}
	next := 0
	for _, it := range stored {
		next += len(it.Assignees)
	}
	for i := range added {
		it := &added[i]
		it.Assignees = []string{reviewers[next%len(reviewers)]}
		next++
		if it.Double && len(reviewers) > 1 {
			it.Assignees = append(it.Assignees, reviewers[next%len(reviewers)])
			next++
		}
	}
}

// Plan returns the items of fresh (a Sample of the week) to add to a
// stored queue: every mandatory item of a conversation not yet queued, and
// sampled ones while the queue holds fewer than the weekly target, then
// assigned (Assign). Rebuilding a week later therefore adds late thumbs
// down and escalations without growing the sample past the target.
func Plan(p store.ReviewPolicy, reviewers []string, stored, fresh []store.ReviewItem) []store.ReviewItem {
	convs := map[string]bool{}
	ids := map[string]bool{}
	for _, it := range stored {
		ids[it.ID] = true
		if it.Conversation != "" {
			convs[it.Conversation] = true
		}
	}
	var add []store.ReviewItem
	n := len(stored)
	for _, it := range fresh {
		if ids[it.ID] || (it.Conversation != "" && convs[it.Conversation]) {
			continue
		}
		if !isMandatory(it.Reason) {
			if n >= p.WeeklyTarget {
				continue
			}
		}
		add = append(add, it)
		n++
	}
	Assign(reviewers, stored, add)
	return add
}

func isMandatory(rs []store.ReviewReason) bool {
	return slices.ContainsFunc(rs, func(r store.ReviewReason) bool { return r != store.ReasonSampled })
}

// BuildQueue samples a week under the stored policy and merges the result
// into the stored queue (see Plan), assigning new items round-robin to the
// current reviewers.
func BuildQueue(ctx context.Context, st *store.Store, actor store.Actor, week string) ([]store.ReviewItem, error) {
	p, err := st.ReviewPolicy(ctx)
	if err != nil {
		return nil, err
	}
	in, err := LoadInputs(ctx, st, week, p)
	if err != nil {
		return nil, err
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, u := range Reviewers(users) {
		ids = append(ids, u.ID)
	}
	fresh := Sample(p, in)
	return st.MergeReviewQueue(ctx, actor, week, func(stored []store.ReviewItem) []store.ReviewItem {
		return Plan(p, ids, stored, fresh)
	})
}
