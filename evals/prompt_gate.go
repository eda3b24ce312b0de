package evals

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"llmops/store"
	"llmops/store/schema"
)

// GateVerdict is the eval gate's decision on one prompt version: the run
// it judged, each threshold, and the regressions against production's
// version. Pass is the decision; Reason says why not.
type GateVerdict struct {
	Prompt      string      `json:"prompt"` // name@version judged
	SetID       string      `json:"set_id"`
	RunID       string      `json:"run_id,omitempty"`
	Baseline    string      `json:"baseline,omitempty"`     // production's name@version
	BaselineRun string      `json:"baseline_run,omitempty"` // its run on the set
	Checks      []GateCheck `json:"checks"`
	Regressions []Delta     `json:"regressions,omitempty"`
	Pass        bool        `json:"pass"`
	Reason      string      `json:"reason,omitempty"`
}

// GateCheck is one threshold of a gate.
type GateCheck struct {
	Metric        string  `json:"metric"`
	Threshold     float64 `json:"threshold"`
	Value         float64 `json:"value"`
	Measured      bool    `json:"measured"` // the run has the metric
	LowerIsBetter bool    `json:"lower_is_better,omitempty"`
	Pass          bool    `json:"pass"`
}

// gateRunScan bounds how many of a set's runs the gate looks through.
const gateRunScan = 500

// LatestPromptRun is the newest finished run of set that answered with ref
// (name@version), or nil.
func LatestPromptRun(ctx context.Context, st *store.Store, setID, ref string) (*store.EvalRun, error) {
	runs, err := st.Runs(ctx, setID, gateRunScan)
	if err != nil {
		return nil, err
	}
	for i := range runs {
		if runs[i].Status == schema.RunDone && runs[i].Settings.Prompt == ref {
			return &runs[i], nil
		}
	}
	return nil, nil
}

// CheckGate decides whether production of p may move to version: p's
// gate needs a finished run of name@version on the gate's set that meets
// every threshold and, with NoRegression, has no metric significantly
// worse than the newest finished run of production's current version on
// the same set (paired by case, bootstrap CIs as Compare computes them).
// A prompt without a gate passes.
func CheckGate(ctx context.Context, st *store.Store, p *store.Prompt, version int) (*GateVerdict, error) {
	ref := p.Name + "@" + strconv.Itoa(version)
	v := &GateVerdict{Prompt: ref, Checks: []GateCheck{}}
	if p.Gate == nil {
		v.Pass = true
		return v, nil
	}
	v.SetID = p.Gate.SetID
	run, err := LatestPromptRun(ctx, st, p.Gate.SetID, ref)
	if err != nil {
		return nil, err
	}
	if run == nil {
		v.Reason = fmt.Sprintf("no finished eval run of %s on the gate's test set; run the gate first", ref)
		return v, nil
	}
	v.RunID = run.ID
	var failed []string
	for _, m := range slices.Sorted(maps.Keys(p.Gate.Thresholds)) {
		t := p.Gate.Thresholds[m]
		val, ok := run.Metrics[m]
		c := GateCheck{Metric: m, Threshold: t, Value: val, Measured: ok, LowerIsBetter: MetricByKey(m).LowerIsBetter}
		c.Pass = ok && (c.LowerIsBetter && val <= t || !c.LowerIsBetter && val >= t)
		if !c.Pass {
			failed = append(failed, m)
		}
		v.Checks = append(v.Checks, c)
	}
	if len(failed) > 0 {
		v.Reason = fmt.Sprintf("run %s of %s misses the gate on %s", run.ID, ref, strings.Join(failed, ", "))
		return v, nil
	}
	if p.Gate.NoRegression {
		prod, ok := p.Labels["production"]
		if ok && len(prod.Split) == 0 && prod.Version != version {
			v.Baseline = p.Name + "@" + strconv.Itoa(prod.Version)
			base, err := LatestPromptRun(ctx, st, p.Gate.SetID, v.Baseline)
			if err != nil {
				return nil, err
			}
			if base == nil {
				v.Reason = fmt.Sprintf("no finished eval run of production's %s on the gate's test set to compare with; run the gate for it too", v.Baseline)
				return v, nil
			}
			v.BaselineRun = base.ID
			ra, err := st.CaseResults(ctx, base.ID)
			if err != nil {
				return nil, err
			}
			rb, err := st.CaseResults(ctx, run.ID)
			if err != nil {
				return nil, err
			}
			v.Regressions = Compare(ra, rb, "", "").Regressions()
			if len(v.Regressions) > 0 {
				names := make([]string, len(v.Regressions))
				for i, d := range v.Regressions {
					names[i] = d.Key
				}
				v.Reason = fmt.Sprintf("%s is significantly worse than %s on %s", ref, v.Baseline, strings.Join(names, ", "))
				return v, nil
			}
		}
	}
	v.Pass = true
	return v, nil
}

// GateError is CheckGate as the prompt registry's gate: nil when the
// version passes, else ECONFLICT with the reason.
func GateError(ctx context.Context, st *store.Store, p *store.Prompt, version int) error {
	v, err := CheckGate(ctx, st, p, version)
	if err != nil {
		return err
	}
	if !v.Pass {
		return store.Errorf(store.ECONFLICT, "the eval gate refuses %s: %s", v.Prompt, cmp.Or(v.Reason, "it did not pass"))
	}
	return nil
}
