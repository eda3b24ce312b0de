package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// ReviewReason is why an answer is in a week's review queue.
type ReviewReason string

// Review reasons. Every one but ReasonSampled is mandatory: the policy
// takes every such answer, whatever the weekly target.
const (
	ReasonSampled         ReviewReason = "sampled"
	ReasonThumbsDown      ReviewReason = "thumbs_down"
	ReasonEscalated       ReviewReason = "escalated"
	ReasonLowGroundedness ReviewReason = "low_groundedness"
	ReasonAlert           ReviewReason = "alert"
)

// ReviewVerdict is a reviewer's judgement of an answer.
type ReviewVerdict string

// Verdicts, in the order the reviewing page numbers them (keys 1–4).
const (
	VerdictCorrect           ReviewVerdict = "correct"
	VerdictPartial           ReviewVerdict = "partially_correct"
	VerdictIncorrect         ReviewVerdict = "incorrect"
	VerdictShouldHaveRefused ReviewVerdict = "should_have_refused"
)

// Verdicts lists every verdict in page order.
var Verdicts = []ReviewVerdict{VerdictCorrect, VerdictPartial, VerdictIncorrect, VerdictShouldHaveRefused}

// Bad reports whether the verdict marks a failing answer (anything but
// correct).
func (v ReviewVerdict) Bad() bool { return v != VerdictCorrect && v != "" }

// ReviewCause is why a failing answer failed.
type ReviewCause string

// Failure causes.
const (
	CauseRetrievalMiss   ReviewCause = "retrieval_miss"
	CauseWrongChunkFirst ReviewCause = "wrong_chunk_first"
	CauseGenerationError ReviewCause = "generation_error"
	CauseKnowledgeGap    ReviewCause = "knowledge_gap"
	CauseOffTopic        ReviewCause = "off_topic"
	CausePolicy          ReviewCause = "policy"
)

// Causes lists every failure cause in page order.
var Causes = []ReviewCause{CauseRetrievalMiss, CauseWrongChunkFirst, CauseGenerationError, CauseKnowledgeGap, CauseOffTopic, CausePolicy}

// Review item states.
const (
	ReviewOpen = "open" // waiting for its label(s)
	ReviewDone = "done" // labelled by as many reviewers as it was assigned to
)

// ReviewPolicy is how the weekly review queue is sampled (the
// SettingReviewPolicy setting).
type ReviewPolicy struct {
	// SampleRate is the share of all real answers sampled, 0..1.
	SampleRate float64 `json:"sample_rate"`
	// Mandatory reasons: every such answer is queued.
	ThumbsDown      bool `json:"thumbs_down"`
	Escalated       bool `json:"escalated"`
	LowGroundedness bool `json:"low_groundedness"`
	Alerts          bool `json:"alerts"`
	// WeeklyTarget is the queue size sampled answers fill up to;
	// mandatory items are never dropped to meet it.
	WeeklyTarget int `json:"weekly_target"`
	// DoubleShare is the share of items assigned to two reviewers, for
	// reviewer agreement.
	DoubleShare float64 `json:"double_share"`
	// FindingsSet is the test set "incorrect" and "should have refused"
	// labels are added to automatically ("" = off).
	FindingsSet string `json:"findings_set"`
}

// SettingReviewPolicy is the setting name of the review policy.
const SettingReviewPolicy = "review_policy"

// DefaultReviewPolicy is the policy until an admin changes it.
func DefaultReviewPolicy() ReviewPolicy {
	return ReviewPolicy{SampleRate: 0.05, ThumbsDown: true, Escalated: true, LowGroundedness: true, Alerts: true,
		WeeklyTarget: 50, DoubleShare: 0.10, FindingsSet: "Review findings"}
}

// Validate checks a policy, naming the field at fault.
func (p *ReviewPolicy) Validate() error {
	p.FindingsSet = strings.TrimSpace(p.FindingsSet)
	switch {
	case !(p.SampleRate >= 0 && p.SampleRate <= 1):
		return Errorf(EINVALID, "sample_rate must be between 0 and 1")
	case p.WeeklyTarget < 1 || p.WeeklyTarget > 10000:
		return Errorf(EINVALID, "weekly_target must be between 1 and 10000")
	case !(p.DoubleShare >= 0 && p.DoubleShare <= 1):
		return Errorf(EINVALID, "double_share must be between 0 and 1")
	case utf8.RuneCountInString(p.FindingsSet) > maxSetNameRunes:
		return Errorf(EINVALID, "findings_set is longer than %d characters", maxSetNameRunes)
	}
	return nil
}

// ReviewPolicy returns the stored policy, or the default.
func (s *Store) ReviewPolicy(ctx context.Context) (ReviewPolicy, error) {
	p := DefaultReviewPolicy()
	_, err := s.Setting(ctx, SettingReviewPolicy, &p)
	return p, err
}

// PutReviewPolicy validates and stores the policy, audited.
func (s *Store) PutReviewPolicy(ctx context.Context, actor Actor, p ReviewPolicy) (ReviewPolicy, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	return p, s.PutSetting(ctx, actor, SettingReviewPolicy, p)
}

// ReviewItem is one answer in a week's review queue. Its ID is its
// trace's ID: a trace belongs to the week it started in, so it is in at
// most one queue.
type ReviewItem struct {
	ID      string         `json:"id"`
	Week    string         `json:"week"`
	TraceID string         `json:"trace_id"`
	Reason  []ReviewReason `json:"reason"`
	// Assignees are user IDs; two for a double-assigned item.
	Assignees []string      `json:"assignees"`
	Double    bool          `json:"double,omitempty"`
	State     string        `json:"state"`
	Labels    []ReviewLabel `json:"labels,omitempty"`
	// Seq orders the queue: mandatory items first, then the sample.
	Seq int `json:"seq"`
	// The stratum the sample was balanced over, and the conversation the
	// item stands for.
	Channel      string `json:"channel,omitempty"`
	Category     string `json:"category,omitempty"`
	Prompt       string `json:"prompt,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	Question     string `json:"question,omitempty"`
	// TestCase names the test set and case the item became, once it did.
	TestCase string `json:"test_case,omitempty"`
}

// Assignee is the first assignee ("" when unassigned).
func (it *ReviewItem) Assignee() string {
	if len(it.Assignees) == 0 {
		return ""
	}
	return it.Assignees[0]
}

// LabelBy returns the label user gave, if any.
func (it *ReviewItem) LabelBy(user string) *ReviewLabel {
	for i := range it.Labels {
		if it.Labels[i].Reviewer == user {
			return &it.Labels[i]
		}
	}
	return nil
}

// Needs is how many labels the item needs to be done.
func (it *ReviewItem) Needs() int {
	if it.Double {
		return 2
	}
	return 1
}

// ReviewLabel is one reviewer's labels on an item.
type ReviewLabel struct {
	Reviewer        string        `json:"reviewer"` // user ID
	ReviewerName    string        `json:"reviewer_name"`
	Verdict         ReviewVerdict `json:"verdict"`
	Grounded        bool          `json:"grounded"`
	Cause           ReviewCause   `json:"cause,omitempty"`
	CorrectedAnswer string        `json:"corrected_answer,omitempty"`
	Documents       []string      `json:"documents,omitempty"`
	Notes           string        `json:"notes,omitempty"`
	At              time.Time     `json:"at"`
}

// Label limits.
const (
	maxCorrectedRunes = 8000
	maxNotesRunes     = 4000
	maxLabelDocuments = 20
)

// Validate checks a label, naming the field at fault.
func (l *ReviewLabel) Validate() error {
	l.CorrectedAnswer = strings.TrimSpace(l.CorrectedAnswer)
	l.Notes = strings.TrimSpace(l.Notes)
	l.Documents = trimmedSet(l.Documents)
	switch {
	case !slices.Contains(Verdicts, l.Verdict):
		return Errorf(EINVALID, "verdict must be one of correct, partially_correct, incorrect, should_have_refused")
	case l.Cause != "" && !slices.Contains(Causes, l.Cause):
		return Errorf(EINVALID, "cause must be one of retrieval_miss, wrong_chunk_first, generation_error, knowledge_gap, off_topic, policy")
	case utf8.RuneCountInString(l.CorrectedAnswer) > maxCorrectedRunes:
		return Errorf(EINVALID, "corrected_answer is longer than %d characters", maxCorrectedRunes)
	case utf8.RuneCountInString(l.Notes) > maxNotesRunes:
		return Errorf(EINVALID, "notes is longer than %d characters", maxNotesRunes)
	case len(l.Documents) > maxLabelDocuments:
		return Errorf(EINVALID, "documents: at most %d", maxLabelDocuments)
	}
	for _, d := range l.Documents {
		if len(d) > 512 {
			return Errorf(EINVALID, "documents: each at most 512 characters")
		}
	}
	return nil
}

// LabelConflict is the error of a label on an item that already has all
// the labels it was assigned for: First is the label it has.
type LabelConflict struct {
	First ReviewLabel
}

func (e *LabelConflict) Error() string {
	return fmt.Sprintf("this item was already labelled by %s (%s)", e.First.ReviewerName, e.First.Verdict)
}

// Unwrap makes a LabelConflict a conflict (409) with a safe message.
func (e *LabelConflict) Unwrap() error { return Errorf(ECONFLICT, "%s", e.Error()) }

// ISOWeek is a week name such as "2026-W50" for t (UTC).
func ISOWeek(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// ParseISOWeek returns the Monday 00:00 UTC that starts week ("2026-W50").
func ParseISOWeek(week string) (time.Time, error) {
	var y, w int
	if n, err := fmt.Sscanf(week, "%4d-W%2d", &y, &w); err != nil || n != 2 || len(week) != 8 || w < 1 || w > 53 {
		return time.Time{}, Errorf(EINVALID, "week must look like 2026-W50")
	}
	// January 4th is always in week 1.
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+7*(w-1))
	if ISOWeek(monday) != week {
		return time.Time{}, Errorf(EINVALID, "%s has no week %d", week[:4], w)
	}
	return monday, nil
}

func reviewKey(week, id string) []byte { return []byte(week + "\x00" + id) }

// ReviewQueue returns a week's stored queue in queue order.
func (s *Store) ReviewQueue(ctx context.Context, week string) ([]ReviewItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []ReviewItem
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = reviewItems(tx, week)
		return err
	})
	return out, err
}

func reviewItems(tx *bolt.Tx, week string) ([]ReviewItem, error) {
	var out []ReviewItem
	prefix := []byte(week + "\x00")
	c := tx.Bucket(bucketReviewItems).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var it ReviewItem
		if err := decode(v, &it); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b ReviewItem) int { return a.Seq - b.Seq })
	return out, nil
}

// MergeReviewQueue adds items to a week's queue in one transaction: plan
// sees the stored queue and returns the items to add (with their
// reviewers); stored items keep their assignment, labels and order. It
// returns the whole queue.
func (s *Store) MergeReviewQueue(ctx context.Context, actor Actor, week string, plan func(stored []ReviewItem) []ReviewItem) ([]ReviewItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Most visits add nothing: find that out in a read transaction, so a
	// page view does not cost a write (and its fsync).
	var out []ReviewItem
	nothing := false
	err := s.db.View(func(tx *bolt.Tx) error {
		stored, err := reviewItems(tx, week)
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(stored))
		for _, it := range stored {
			have[it.ID] = true
		}
		nothing = !slices.ContainsFunc(plan(slices.Clone(stored)), func(it ReviewItem) bool { return !have[it.ID] })
		out = stored
		return nil
	})
	if err != nil || nothing {
		return out, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		stored, err := reviewItems(tx, week)
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(stored))
		for _, it := range stored {
			have[it.ID] = true
		}
		out = stored
		b := tx.Bucket(bucketReviewItems)
		added := 0
		for _, it := range plan(slices.Clone(stored)) {
			if have[it.ID] {
				continue
			}
			have[it.ID] = true
			it.Week, it.State, it.Seq = week, ReviewOpen, len(out)
			if err := putJSON(b, reviewKey(week, it.ID), &it); err != nil {
				return err
			}
			out = append(out, it)
			added++
		}
		if added == 0 {
			return nil
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "review_queue", ResourceID: week,
			After: fmt.Sprintf("%d items added (%d in all)", added, len(out))})
	})
	return out, err
}

// reviewItemWeek finds the week an item (a trace ID) belongs to.
func reviewItemWeek(id string) (string, error) {
	t, ok := IDTime(id)
	if !ok {
		return "", Errorf(ENOTFOUND, "review item %s not found", Preview(id, 40))
	}
	return ISOWeek(t), nil
}

// ReviewItem returns one queued item.
func (s *Store) ReviewItem(ctx context.Context, id string) (*ReviewItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	week, err := reviewItemWeek(id)
	if err != nil {
		return nil, err
	}
	var it ReviewItem
	err = s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketReviewItems), reviewKey(week, id), &it)
		if err == nil && !ok {
			err = Errorf(ENOTFOUND, "review item %s not found", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &it, nil
}

// UpdateReviewItem changes an item with fn in one transaction, audited as
// action on the item.
func (s *Store) UpdateReviewItem(ctx context.Context, actor Actor, id, action string, fn func(*ReviewItem) error) (*ReviewItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	week, err := reviewItemWeek(id)
	if err != nil {
		return nil, err
	}
	var it ReviewItem
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReviewItems)
		before := b.Get(reviewKey(week, id))
		if before == nil {
			return Errorf(ENOTFOUND, "review item %s not found", id)
		}
		if err := decode(before, &it); err != nil {
			return err
		}
		beforeText := string(before)
		if err := fn(&it); err != nil {
			return err
		}
		if err := putJSON(b, reviewKey(week, id), &it); err != nil {
			return err
		}
		after, _ := json.Marshal(&it)
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: action, Resource: "review_item", ResourceID: id,
			Before: Preview(beforeText, 500), After: Preview(string(after), 500)})
	})
	if err != nil {
		return nil, err
	}
	return &it, nil
}

// LabelReviewItem records user's label on an item. A reviewer may replace
// their own label; a label from someone else on an item that already has
// all the labels it needs is a *LabelConflict showing the first. Labelling
// an item nobody was assigned to claims it.
func (s *Store) LabelReviewItem(ctx context.Context, actor Actor, user, userName, id string, l ReviewLabel) (*ReviewItem, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	l.Reviewer, l.ReviewerName, l.At = user, userName, s.now().UTC()
	return s.UpdateReviewItem(ctx, actor, id, "label", func(it *ReviewItem) error {
		if old := it.LabelBy(user); old != nil {
			*old = l
			return nil
		}
		if len(it.Labels) >= it.Needs() {
			return &LabelConflict{First: it.Labels[0]}
		}
		it.Labels = append(it.Labels, l)
		if !slices.Contains(it.Assignees, user) && len(it.Assignees) < it.Needs() {
			it.Assignees = append(it.Assignees, user)
		}
		if len(it.Labels) >= it.Needs() {
			it.State = ReviewDone
		}
		return nil
	})
}

// ClaimReviewItem makes user an assignee of an open item: the only one of
// an unassigned item, or the one whose slot is still unlabelled when the
// assignee has not started.
func (s *Store) ClaimReviewItem(ctx context.Context, actor Actor, user, id string) (*ReviewItem, error) {
	return s.UpdateReviewItem(ctx, actor, id, "claim", func(it *ReviewItem) error {
		switch {
		case slices.Contains(it.Assignees, user):
			return nil
		case it.State == ReviewDone:
			return Errorf(ECONFLICT, "this item is already reviewed")
		case len(it.Assignees) < it.Needs():
			it.Assignees = append(it.Assignees, user)
			return nil
		}
		// Take over the first assignee who has not labelled it.
		for i, a := range it.Assignees {
			if it.LabelBy(a) == nil {
				it.Assignees[i] = user
				return nil
			}
		}
		return Errorf(ECONFLICT, "this item is already reviewed")
	})
}

// AnswerSummary is what review sampling needs of one answer trace.
type AnswerSummary struct {
	ID           string
	Start        time.Time
	Kind         schema.TraceKind
	Status       schema.TraceStatus
	Channel      string
	Category     string // the retrieval filter's, else the first cited document's folder
	Prompt       string
	Conversation string
	Question     string
	Groundedness float64
	Threshold    float64
	Grounded     bool // a groundedness score was recorded
	Escalated    bool
	Fallback     bool
	Citations    []string // cited document IDs
}

// answerRecord decodes only what AnswerSummary needs from a stored trace;
// its tags are schema attribute keys (TestAnswerRecordTags checks them).
type answerRecord struct {
	ID     string             `json:"id"`
	Kind   schema.TraceKind   `json:"kind"`
	Start  time.Time          `json:"start"`
	Status schema.TraceStatus `json:"status"`
	Input  string             `json:"input"`
	Attrs  struct {
		Channel      string   `json:"llmops.channel"`
		Category     string   `json:"llmops.filter.category"`
		Prompt       string   `json:"llmops.prompt"`
		Conversation string   `json:"gen_ai.conversation.id"`
		Question     string   `json:"llmops.question"`
		Groundedness *float64 `json:"llmops.groundedness"`
		Threshold    float64  `json:"llmops.threshold"`
		Escalated    bool     `json:"llmops.escalated"`
		Fallback     bool     `json:"llmops.fallback"`
		Citations    []struct {
			DocumentID string `json:"document_id"`
			Source     string `json:"source"`
		} `json:"llmops.citations"`
	} `json:"attributes"`
}

func (r *answerRecord) summary() AnswerSummary {
	a := AnswerSummary{ID: r.ID, Start: r.Start, Kind: r.Kind, Status: r.Status, Channel: r.Attrs.Channel,
		Category: r.Attrs.Category, Prompt: r.Attrs.Prompt, Conversation: r.Attrs.Conversation, Question: r.Attrs.Question,
		Threshold: r.Attrs.Threshold, Escalated: r.Attrs.Escalated, Fallback: r.Attrs.Fallback}
	if a.Question == "" {
		a.Question = r.Input
	}
	if r.Attrs.Groundedness != nil {
		a.Groundedness, a.Grounded = *r.Attrs.Groundedness, true
	}
	for _, c := range r.Attrs.Citations {
		if c.DocumentID != "" && !slices.Contains(a.Citations, c.DocumentID) {
			a.Citations = append(a.Citations, c.DocumentID)
		}
		if a.Category == "" {
			if dir, _, ok := strings.Cut(strings.TrimPrefix(c.Source, "sample-data/docs/"), "/"); ok {
				a.Category = dir
			}
		}
	}
	return a
}

// AnswerFacts are what can be read of a stored trace without decoding
// it: the few scalar attributes the review policy's mandatory reasons
// test. A JSON string never holds an unescaped quote, so a key found as
// `"key":` in the raw bytes is the attribute itself, never text inside a
// value.
type AnswerFacts struct {
	ID           string
	Start        time.Time
	Escalated    bool
	Grounded     bool // a groundedness score was recorded
	Groundedness float64
	Threshold    float64
}

var (
	rawEscalated    = []byte(`"` + schema.AttrEscalated + `":true`)
	rawGroundedness = []byte(`"` + schema.AttrGroundedness + `":`)
	rawThreshold    = []byte(`"` + schema.AttrThreshold + `":`)
)

// rawNumber reads the number after key in raw.
func rawNumber(raw, key []byte) (float64, bool) {
	i := bytes.Index(raw, key)
	if i < 0 {
		return 0, false
	}
	rest := raw[i+len(key):]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(rest[:j])), 64)
	return f, err == nil
}

func factsOf(id string, raw []byte) AnswerFacts {
	f := AnswerFacts{ID: id, Escalated: bytes.Contains(raw, rawEscalated)}
	f.Start, _ = IDTime(id)
	f.Groundedness, f.Grounded = rawNumber(raw, rawGroundedness)
	f.Threshold, _ = rawNumber(raw, rawThreshold)
	return f
}

// AnswerSummaries returns the answers (kind ask) of real traffic
// (TrafficChannels) that started in [from, to), oldest first. want, when
// set, sees each trace's AnswerFacts first and only the traces it wants
// are decoded: a week's review sampling decodes its candidates, not its
// 100,000 answers. Decoding runs in parallel into a record of the few
// fields review needs.
func (s *Store) AnswerSummaries(ctx context.Context, from, to time.Time, want func(AnswerFacts) bool) ([]AnswerSummary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lo, _ := idFloor(from)
	hi, ok := idFloor(to)
	if !ok {
		hi = "\xff"
	}
	var out []AnswerSummary
	err := s.db.View(func(tx *bolt.Tx) error {
		// Values live in the mmap only during the transaction, so the
		// workers decode inside it.
		var keys []string
		var raws [][]byte
		c := tx.Bucket(bucketTraces).Cursor()
		for k, v := c.Seek([]byte(lo)); k != nil && string(k) < hi; k, v = c.Next() {
			keys, raws = append(keys, string(k)), append(raws, v)
		}
		recs := make([]AnswerSummary, len(raws))
		keep := make([]bool, len(raws))
		workers := min(runtime.GOMAXPROCS(0), 8)
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(raws); i += workers {
					if i%1024 == 0 && ctx.Err() != nil {
						errs[w] = ctx.Err()
						return
					}
					if !askPrefix(raws[i]) || (want != nil && !want(factsOf(keys[i], raws[i]))) {
						continue
					}
					var r answerRecord
					if err := json.Unmarshal(raws[i], &r); err != nil {
						errs[w] = fmt.Errorf("decode trace: %w", err)
						return
					}
					if r.Kind != schema.KindAsk || !slices.Contains(TrafficChannels, r.Attrs.Channel) {
						continue
					}
					recs[i], keep[i] = r.summary(), true
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for i := range recs {
			if keep[i] {
				out = append(out, recs[i])
			}
		}
		return nil
	})
	return out, err
}

// askPrefix reports whether a stored trace may be of kind ask, from the
// first bytes alone: Trace encodes ID then Kind first, so eval, ingest and
// playground traces are skipped without decoding. Anything unexpected
// answers true and is decoded.
func askPrefix(raw []byte) bool {
	head := raw[:min(len(raw), 80)]
	i := bytes.Index(head, []byte(`"kind":"`))
	if i < 0 {
		return true
	}
	return bytes.HasPrefix(head[i+len(`"kind":"`):], []byte(string(schema.KindAsk)+`"`))
}

// FeedbackBetween returns the feedback on traces that started in [from,
// to), by trace ID, oldest first.
func (s *Store) FeedbackBetween(ctx context.Context, from, to time.Time) (map[string][]Feedback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lo, _ := idFloor(from)
	hi, ok := idFloor(to)
	if !ok {
		hi = "\xff"
	}
	out := map[string][]Feedback{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFeedback).Cursor()
		for k, v := c.Seek([]byte(lo)); k != nil && string(k) < hi; k, v = c.Next() {
			var f Feedback
			if err := decode(v, &f); err != nil {
				return err
			}
			out[f.TraceID] = append(out[f.TraceID], f)
		}
		return nil
	})
	return out, err
}

// AnswerSummariesOf returns the summaries of the given traces (point
// reads), skipping IDs that are not stored.
func (s *Store) AnswerSummariesOf(ctx context.Context, ids []string) ([]AnswerSummary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []AnswerSummary
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTraces)
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			var r answerRecord
			if err := decode(v, &r); err != nil {
				return err
			}
			out = append(out, r.summary())
		}
		return nil
	})
	return out, err
}
