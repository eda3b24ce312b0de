package evals

import (
	"fmt"
	"io"
	"strings"

	"llmops/evals/gate"
	"llmops/store"
	"llmops/store/schema"
)

// Report is what llmops eval run prints: the run, its metrics with
// confidence intervals, the gate's checks and the verdict.
type Report struct {
	Run      *store.EvalRun `json:"run"`
	Baseline *store.EvalRun `json:"baseline,omitempty"`
	Metrics  []Summary      `json:"metrics"`
	Gate     []gate.Result  `json:"gate"`
	Passed   bool           `json:"passed"`
	// Failed lists the cases whose pipeline call failed.
	Failed []store.CaseResult `json:"failed_cases,omitempty"`
}

// NewReport assembles a report.
func NewReport(run, baseline *store.EvalRun, results []store.CaseResult, checks []gate.Result, passed bool) *Report {
	r := &Report{Run: run, Baseline: baseline, Metrics: Summarize(results, ""), Gate: checks, Passed: passed}
	if r.Metrics == nil {
		r.Metrics = []Summary{}
	}
	if r.Gate == nil {
		r.Gate = []gate.Result{}
	}
	for _, c := range results {
		if c.Error != "" {
			r.Failed = append(r.Failed, c)
		}
	}
	return r
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	run := r.Run
	fmt.Fprintf(w, "%s v%d · run %s · %s\n", run.SetName, run.SetVersion, run.ID, run.Status)
	if run.Error != "" {
		fmt.Fprintf(w, "  %s\n", run.Error)
	}
	for _, warn := range run.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	secs := run.EndedAt.Sub(run.StartedAt).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(run.Done) / secs
	}
	fmt.Fprintf(w, "  %d/%d cases, %d errors, %.1f s (%.0f cases/s), cost $%.4f\n\n", run.Done, run.Total, run.Errors, secs, rate, run.CostUSD)
	group := ""
	for _, m := range r.Metrics {
		if m.Group != group {
			group = m.Group
			fmt.Fprintf(w, "%s\n", strings.ToUpper(group[:1])+group[1:])
		}
		line := fmt.Sprintf("  %-24s %.3f  [%.3f, %.3f]  n=%d", m.Key, m.Mean, m.Lo, m.Hi, m.N)
		if r.Baseline != nil {
			if b, ok := r.Baseline.Metrics[m.Key]; ok {
				line += fmt.Sprintf("  baseline %.3f (%+.3f)", b, m.Mean-b)
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, c := range r.Failed[:min(len(r.Failed), 10)] {
		fmt.Fprintf(w, "  case %s failed: %s\n", c.CaseID, c.Error)
	}
	if len(r.Gate) > 0 {
		fmt.Fprintln(w, "\nGate")
		for _, g := range r.Gate {
			fmt.Fprintf(w, "  %s\n", g.Message)
		}
	}
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
		if run.Status != schema.RunDone {
			verdict += " (the run did not finish: " + string(run.Status) + ")"
		}
	}
	fmt.Fprintf(w, "\n%s\n", verdict)
}
