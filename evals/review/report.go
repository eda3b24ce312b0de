package review

import (
	"cmp"
	"context"
	"slices"
	"time"

	"llmops/store"
)

// Report is a week's review findings.
type Report struct {
	Week     string `json:"week"`
	Items    int    `json:"items"`    // in the queue
	Labelled int    `json:"labelled"` // with at least one label
	Failing  int    `json:"failing"`  // labelled anything but correct
	// Verdicts counts each item's first label.
	Verdicts map[store.ReviewVerdict]int `json:"verdicts"`
	Causes   map[store.ReviewCause]int   `json:"causes"`
	// Clusters are the (at most 20) most common failing questions,
	// paraphrases grouped; Gaps are the clusters where no reviewer found a
	// good chunk (no label grounded, no right document named).
	Clusters  []QuestionCluster `json:"clusters"`
	Gaps      []QuestionCluster `json:"knowledge_gaps"`
	Documents []DocumentCount   `json:"documents"` // most cited in failing answers
	ByPrompt  []PromptMix       `json:"by_prompt"`
	Trend     []DayTrend        `json:"trend"`
	// PreviousWeek is the week before, for the trend's comparison.
	PreviousWeek DayTrend        `json:"previous_week"`
	Agreement    Agreement       `json:"agreement"`
	Progress     []ReviewerCount `json:"progress"`
}

// QuestionCluster is one group of paraphrased failing questions.
type QuestionCluster struct {
	Question  string                      `json:"question"` // the first asked
	Size      int                         `json:"size"`
	Questions []string                    `json:"questions"`
	Items     []string                    `json:"items"`
	Verdicts  map[store.ReviewVerdict]int `json:"verdicts"`
	Gap       bool                        `json:"knowledge_gap"`
}

// DocumentCount is how many failing answers cited a document.
type DocumentCount struct {
	DocumentID string `json:"document_id"`
	Answers    int    `json:"answers"`
}

// PromptMix is the verdicts and causes of one prompt version.
type PromptMix struct {
	Prompt   string                      `json:"prompt"`
	Labelled int                         `json:"labelled"`
	Verdicts map[store.ReviewVerdict]int `json:"verdicts"`
	Causes   map[store.ReviewCause]int   `json:"causes"`
}

// DayTrend is one day's (or a week's) traffic from the rollups.
type DayTrend struct {
	Day         string  `json:"day"`
	Requests    int64   `json:"requests"`
	Up          int64   `json:"thumbs_up"`
	Down        int64   `json:"thumbs_down"`
	Escalations int64   `json:"escalations"`
	ThumbsRatio float64 `json:"thumbs_up_ratio"` // up / (up + down); 0 with no thumbs
	Escalation  float64 `json:"escalation_rate"` // escalations / requests
}

// Agreement is Cohen's kappa on the verdicts of double-labelled items.
type Agreement struct {
	Items    int      `json:"items"`
	Observed float64  `json:"observed"`
	Kappa    *float64 `json:"kappa"` // nil when undefined (no items, or chance agreement is 1)
}

// ReviewerCount is one reviewer's progress in the week.
type ReviewerCount struct {
	Reviewer string `json:"reviewer"`
	Name     string `json:"name"`
	Assigned int    `json:"assigned"`
	Done     int    `json:"done"`
}

// MaxClusters is how many failing question clusters a report lists.
const MaxClusters = 20

// CohensKappa is the agreement of two raters beyond chance over paired
// labels a[i], b[i]: (po − pe) / (1 − pe), pe from each rater's own
// marginals. ok is false when it is undefined.
func CohensKappa[T comparable](a, b []T) (kappa, observed float64, ok bool) {
	n := len(a)
	if n == 0 || n != len(b) {
		return 0, 0, false
	}
	ma, mb := map[T]float64{}, map[T]float64{}
	agree := 0
	for i := range a {
		ma[a[i]]++
		mb[b[i]]++
		if a[i] == b[i] {
			agree++
		}
	}
	po := float64(agree) / float64(n)
	pe := 0.0
	for k, x := range ma {
		pe += x / float64(n) * mb[k] / float64(n)
	}
	if pe >= 1 {
		return 0, po, false
	}
	return (po - pe) / (1 - pe), po, true
}

// BuildReport computes the report of a week from its stored queue, the
// failing answers' traces (point reads) and the day rollups: it never
// scans the week's traces.
func BuildReport(ctx context.Context, st *store.Store, embed EmbedFunc, week string) (*Report, error) {
	from, err := store.ParseISOWeek(week)
	if err != nil {
		return nil, err
	}
	items, err := st.ReviewQueue(ctx, week)
	if err != nil {
		return nil, err
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = cmp.Or(u.Name, u.Email)
	}
	r := &Report{Week: week, Items: len(items), Verdicts: map[store.ReviewVerdict]int{}, Causes: map[store.ReviewCause]int{},
		Clusters: []QuestionCluster{}, Gaps: []QuestionCluster{}, Documents: []DocumentCount{}, ByPrompt: []PromptMix{}}
	var failing []store.ReviewItem
	prompts := map[string]*PromptMix{}
	progress := map[string]*ReviewerCount{}
	var ka, kb []store.ReviewVerdict
	for _, it := range items {
		for _, a := range it.Assignees {
			p := progress[a]
			if p == nil {
				p = &ReviewerCount{Reviewer: a, Name: names[a]}
				progress[a] = p
			}
			p.Assigned++
			if it.LabelBy(a) != nil {
				p.Done++
			}
		}
		if len(it.Labels) == 0 {
			continue
		}
		l := it.Labels[0]
		r.Labelled++
		r.Verdicts[l.Verdict]++
		if l.Cause != "" {
			r.Causes[l.Cause]++
		}
		pm := prompts[it.Prompt]
		if pm == nil {
			pm = &PromptMix{Prompt: it.Prompt, Verdicts: map[store.ReviewVerdict]int{}, Causes: map[store.ReviewCause]int{}}
			prompts[it.Prompt] = pm
		}
		pm.Labelled++
		pm.Verdicts[l.Verdict]++
		if l.Cause != "" {
			pm.Causes[l.Cause]++
		}
		if l.Verdict.Bad() {
			r.Failing++
			failing = append(failing, it)
		}
		if len(it.Labels) >= 2 {
			ka, kb = append(ka, it.Labels[0].Verdict), append(kb, it.Labels[1].Verdict)
		}
	}
	for _, pm := range prompts {
		r.ByPrompt = append(r.ByPrompt, *pm)
	}
	slices.SortFunc(r.ByPrompt, func(a, b PromptMix) int { return cmp.Compare(a.Prompt, b.Prompt) })
	for _, p := range progress {
		r.Progress = append(r.Progress, *p)
	}
	slices.SortFunc(r.Progress, func(a, b ReviewerCount) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Reviewer, b.Reviewer))
	})
	r.Agreement.Items = len(ka)
	if k, po, ok := CohensKappa(ka, kb); ok {
		r.Agreement.Kappa, r.Agreement.Observed = &k, po
	} else {
		r.Agreement.Observed = po
	}

	// Documents behind failing answers, from their traces' citations.
	ids := make([]string, len(failing))
	for i, it := range failing {
		ids[i] = it.TraceID
	}
	sums, err := st.AnswerSummariesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	docs := map[string]int{}
	for _, a := range sums {
		for _, d := range a.Citations {
			docs[d]++
		}
	}
	for d, n := range docs {
		r.Documents = append(r.Documents, DocumentCount{d, n})
	}
	slices.SortFunc(r.Documents, func(a, b DocumentCount) int {
		return cmp.Or(b.Answers-a.Answers, cmp.Compare(a.DocumentID, b.DocumentID))
	})
	r.Documents = r.Documents[:min(len(r.Documents), 20)]

	questions := make([]string, len(failing))
	for i, it := range failing {
		questions[i] = it.Question
	}
	for _, c := range Cluster(ctx, embed, questions) {
		qc := QuestionCluster{Question: questions[c[0]], Size: len(c), Verdicts: map[store.ReviewVerdict]int{}, Gap: true}
		for _, i := range c {
			it := failing[i]
			qc.Questions = append(qc.Questions, questions[i])
			qc.Items = append(qc.Items, it.ID)
			qc.Verdicts[it.Labels[0].Verdict]++
			for _, l := range it.Labels {
				if l.Grounded || len(l.Documents) > 0 {
					qc.Gap = false
				}
			}
		}
		if len(r.Clusters) < MaxClusters {
			r.Clusters = append(r.Clusters, qc)
		}
		if qc.Gap {
			r.Gaps = append(r.Gaps, qc)
		}
	}

	// Thumbs and escalations per day, and the week before as a whole.
	_, days, _, err := st.Rollups(ctx, from, from.AddDate(0, 0, 7), store.RollupFilter{}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	for i, d := range days {
		r.Trend = append(r.Trend, trendOf(from.AddDate(0, 0, i).Format(time.DateOnly), d))
	}
	prev, _, _, err := st.Rollups(ctx, from.AddDate(0, 0, -7), from, store.RollupFilter{}, 0)
	if err != nil {
		return nil, err
	}
	r.PreviousWeek = trendOf(store.ISOWeek(from.AddDate(0, 0, -7)), prev)
	return r, nil
}

func trendOf(day string, r store.Rollup) DayTrend {
	t := DayTrend{Day: day, Requests: r.Requests, Up: r.Up, Down: r.Down, Escalations: r.Escalations}
	if r.Up+r.Down > 0 {
		t.ThumbsRatio = float64(r.Up) / float64(r.Up+r.Down)
	}
	if r.Requests > 0 {
		t.Escalation = float64(r.Escalations) / float64(r.Requests)
	}
	return t
}
