package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"llmops/rag/guard"
	"llmops/rag/guard/pii"
)

// GuardrailsItem is one line of a labelled guardrails file: a text, the
// personal data in it (rune offsets) and whether it is a prompt
// injection. Split, when set, names the part of the set the line belongs
// to ("tune" or "test").
type GuardrailsItem struct {
	Text      string     `json:"text"`
	PII       []pii.Span `json:"pii"`
	Injection bool       `json:"injection"`
	Split     string     `json:"split,omitempty"`
}

// PRF is precision, recall and F1 with the counts behind them.
type PRF struct {
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

func (p *PRF) finish() {
	if p.TP+p.FP > 0 {
		p.Precision = float64(p.TP) / float64(p.TP+p.FP)
	}
	if p.TP+p.FN > 0 {
		p.Recall = float64(p.TP) / float64(p.TP+p.FN)
	}
	if p.Precision+p.Recall > 0 {
		p.F1 = 2 * p.Precision * p.Recall / (p.Precision + p.Recall)
	}
}

// GuardrailsReport is `llmops bench guardrails`' result.
type GuardrailsReport struct {
	Items     int             `json:"items"`
	Split     string          `json:"split,omitempty"`
	PII       map[string]*PRF `json:"pii"`
	Injection *PRF            `json:"injection"`
}

// Guardrails scores pii.Detect per type and scorer on the injection label
// over the items of r (JSONL) in split ("" = all). A detected span is a
// true positive when it overlaps a labelled span of the same type not yet
// matched; every other detected span is a false positive, and every
// unmatched label a false negative. Overlap rather than exact bounds:
// where a name or an address ends ("221B Baker Street, London" with or
// without its postcode) is a labelling choice, and a redaction that
// covers most of an address protects it.
func Guardrails(r io.Reader, scorer guard.InjectionScorer, split string) (*GuardrailsReport, error) {
	rep := &GuardrailsReport{Split: split, PII: map[string]*PRF{}, Injection: &PRF{}}
	for _, t := range pii.Types {
		rep.PII[string(t)] = &PRF{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var it GuardrailsItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if split != "" && it.Split != split {
			continue
		}
		rep.Items++
		got := pii.Detect(it.Text)
		used := make([]bool, len(it.PII))
		for _, g := range got {
			p := rep.PII[string(g.Type)]
			hit := false
			for i, want := range it.PII {
				if !used[i] && want.Type == g.Type && want.Start < g.End && g.Start < want.End {
					used[i], hit = true, true
					break
				}
			}
			if hit {
				p.TP++
			} else {
				p.FP++
			}
		}
		for i, want := range it.PII {
			if !used[i] {
				p, ok := rep.PII[string(want.Type)]
				if !ok {
					return nil, fmt.Errorf("line %d: unknown PII type %q", line, want.Type)
				}
				p.FN++
			}
		}
		if scorer != nil {
			flagged := scorer.Flagged(scorer.Score(it.Text))
			switch {
			case flagged && it.Injection:
				rep.Injection.TP++
			case flagged:
				rep.Injection.FP++
			case it.Injection:
				rep.Injection.FN++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, p := range rep.PII {
		p.finish()
	}
	rep.Injection.finish()
	return rep, nil
}

// WriteText prints the report as a table.
func (r *GuardrailsReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "items: %d\t\t\t\t\t\t\t\n", r.Items)
	fmt.Fprintln(tw, "type\tprecision\trecall\tF1\tTP\tFP\tFN\t")
	names := make([]string, 0, len(r.PII))
	for n := range r.PII {
		names = append(names, n)
	}
	slices.Sort(names)
	row := func(name string, p *PRF) {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t\n", name, p.Precision, p.Recall, p.F1, p.TP, p.FP, p.FN)
	}
	for _, n := range names {
		row(n, r.PII[n])
	}
	row("injection", r.Injection)
	return tw.Flush()
}
