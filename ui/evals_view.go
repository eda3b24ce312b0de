package ui

import (
	"time"

	"llmops/store/schema"
)

// The Evals pages: test sets, runs, one run's cases, two runs compared.
// The server fills these from store and evals; metric values are already
// means (0..1 unless the metric's name says otherwise).

// MetricInfo describes one metric for headers and tooltips.
type MetricInfo struct {
	Key           string // "ndcg@10"
	Label         string // "nDCG@10"
	Group         string // retrieval, answer, judge
	Help          string // one line: what it measures
	LowerIsBetter bool
}

// EvalsPage is /evals: test sets and runs.
type EvalsPage struct {
	Chrome
	Sets    []TestSetRow
	Runs    []RunRow
	Metrics []MetricInfo // the columns of the runs table, in order
	// SampleSetID is the sample help centre's set, offered as the one-click
	// run; empty when it does not exist.
	SampleSetID string
	CanRun      bool   // editor or admin: may import, run, cancel
	Judge       string // judge model, empty when none is configured
	Answerer    string // what answers in runs: "extractive (offline)" or the model
	Error       string
	Notice      string
	Now         time.Time
}

// TestSetRow is one test set in the list.
type TestSetRow struct {
	ID          string
	Name        string
	Description string
	Source      string // sample, csv, jsonl, beir, traces, api
	Version     int
	Cases       int
	UpdatedAt   time.Time
	Runs        int // runs of any version
}

// RunRow is one run in a list.
type RunRow struct {
	ID         string
	Name       string // label, may be empty
	SetID      string
	SetName    string
	SetVersion int
	Status     schema.RunStatus
	Error      string
	Done       int
	Total      int
	Errors     int
	Metrics    map[string]float64
	Counts     map[string]int
	Settings   string // one line: "hybrid + rerank · top 5 · extractive"
	TopK       int    // chunks the answerer was given (0: not recorded)
	CostUSD    float64
	CreatedAt  time.Time
	Duration   time.Duration // zero while queued
	CreatedBy  string
}

// Running reports whether the run can still change.
func (r RunRow) Running() bool { return r.Status.Active() }

// Progress is the share of cases done, 0..1.
func (r RunRow) Progress() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Done) / float64(r.Total)
}

// TestSetPage is /evals/sets/:id: one version's cases and the versions.
type TestSetPage struct {
	Chrome
	Set      TestSetRow
	Version  int // shown
	Versions []SetVersionRow
	Cases    []CaseRow
	Runs     []RunRow
	CanEdit  bool
	Error    string
	Notice   string
	Now      time.Time
	TopK     int // the server's chunks per answer: a run's default top-k
}

// SetVersionRow is one version of a test set.
type SetVersionRow struct {
	Version   int
	Note      string
	Cases     int
	CreatedAt time.Time
	CreatedBy string
}

// CaseRow is one case of a test set.
type CaseRow struct {
	ID              string
	Question        string
	ReferenceAnswer string
	DocumentIDs     []string
	ChunkIDs        []string
	Unanswerable    bool
	Tags            []string
	TraceID         string
}

// RunPage is /evals/runs/:id: progress, metric means and every case.
type RunPage struct {
	Chrome
	Run       RunRow
	Metrics   []MetricSummary // every metric the run has, grouped in MetricInfo order
	Cases     []CaseResultRow
	MoreCases int      // cases of the run (or tag) not in Cases: the page shows at most a thousand
	Tags      []string // distinct tags of the cases, for the filter
	Tag       string   // current filter
	Others    []RunRow // runs of the same set to compare with, newest first
	// Show filters the cases: "" all, "failures" or "regressions" (against
	// Baseline, the previous run of the set unless one is chosen).
	Show        string
	Baseline    *RunRow
	Failures    int // cases (of the tag) that failed
	Regressions int // cases (of the tag) that regressed against Baseline
	CanCancel   bool
	Error       string
	Notice      string
	Now         time.Time
}

// MetricSummary is one metric of one run.
type MetricSummary struct {
	MetricInfo
	Mean   float64
	N      int
	Lo, Hi float64 // 95 % bootstrap CI of the mean
}

// CaseResultRow is one case of a run.
type CaseResultRow struct {
	Index        int
	CaseID       string
	Question     string
	Tags         []string
	Answer       string // with [n] markers
	Fallback     bool
	Unanswerable bool
	Reference    string
	Metrics      map[string]float64
	LatencyMS    int64
	CostUSD      float64
	TraceID      string
	Error        string
	JudgeError   string
	Failed       bool // errored, answered an unanswerable question, fell back on an answerable one, or retrieval missed
	Regressed    bool // failed where the baseline run passed, or a headline metric fell by RegressionDrop
}

// ComparePage is /evals/compare?a=RUN&b=RUN: B (the new run) against A
// (the baseline), case by case.
type ComparePage struct {
	Chrome
	A, B    RunRow
	Deltas  []MetricDelta
	Metric  string // the metric the case list is sorted by
	Cases   []CaseDelta
	Tags    []string
	Tag     string
	Matched int // cases in both runs
	OnlyA   int // cases only in A (a different set version)
	OnlyB   int
	Runs    []RunRow // for the pickers
	Now     time.Time
}

// MetricDelta is one metric compared: B − A with a paired bootstrap CI.
type MetricDelta struct {
	MetricInfo
	A, B                float64
	NA, NB              int
	Delta               float64
	Lo, Hi              float64
	N                   int // paired cases
	Wins, Losses, Ties  int
	Significant         bool // the CI excludes 0
	Regressed, Improved bool // significant and worse / better (direction-aware)
}

// CaseDelta is one case in both runs.
type CaseDelta struct {
	CaseID   string
	Question string
	Tags     []string
	A, B     CaseResultRow
	Delta    float64 // of Metric, B − A; direction-aware sign: > 0 is better
	HasDelta bool    // Metric applies to the case in both runs
	Verdict  string  // win, loss, tie
}
