package review

import (
	"fmt"
	"io"
	"strings"

	"llmops/store"
)

// Markdown writes the report as a Markdown document, for
// `llmops review report --format md`.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	pct := func(n, of int) string {
		if of == 0 {
			return "--"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
	}
	fmt.Fprintf(&b, "# Review report, %s\n\n", r.Week)
	fmt.Fprintf(&b, "%d items queued, %d labelled, %d failing.\n\n", r.Items, r.Labelled, r.Failing)
	b.WriteString("## Verdicts\n\n| Verdict | Items | Share |\n|---|---:|---:|\n")
	for _, v := range store.Verdicts {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", strings.ReplaceAll(string(v), "_", " "), r.Verdicts[v], pct(r.Verdicts[v], r.Labelled))
	}
	b.WriteString("\n## Failure causes\n\n| Cause | Items |\n|---|---:|\n")
	for _, c := range store.Causes {
		if n := r.Causes[c]; n > 0 {
			fmt.Fprintf(&b, "| %s | %d |\n", strings.ReplaceAll(string(c), "_", " "), n)
		}
	}
	b.WriteString("\n## Most common failing questions\n\n")
	if len(r.Clusters) == 0 {
		b.WriteString("No failing answers.\n")
	} else {
		b.WriteString("| Answers | Question | Paraphrases | Knowledge gap |\n|---:|---|---|---|\n")
		for _, c := range r.Clusters {
			gap := ""
			if c.Gap {
				gap = "yes"
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", c.Size, mdCell(c.Question), mdCell(strings.Join(c.Questions[1:], " · ")), gap)
		}
	}
	b.WriteString("\n## Knowledge gaps\n\n")
	if len(r.Gaps) == 0 {
		b.WriteString("None: every failing question had a good chunk somewhere.\n")
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "- %s (%d)\n", mdCell(g.Question), g.Size)
	}
	b.WriteString("\n## Documents cited in failing answers\n\n")
	if len(r.Documents) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| Document | Failing answers |\n|---|---:|\n")
		for _, d := range r.Documents {
			fmt.Fprintf(&b, "| %s | %d |\n", mdCell(d.DocumentID), d.Answers)
		}
	}
	b.WriteString("\n## By prompt version\n\n| Prompt | Labelled | Correct | Partially | Incorrect | Should have refused | Top cause |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, p := range r.ByPrompt {
		top, topN := "", 0
		for _, c := range store.Causes {
			if p.Causes[c] > topN {
				top, topN = strings.ReplaceAll(string(c), "_", " "), p.Causes[c]
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s |\n", mdCell(cmpOr(p.Prompt, "--")), p.Labelled, p.Verdicts[store.VerdictCorrect],
			p.Verdicts[store.VerdictPartial], p.Verdicts[store.VerdictIncorrect], p.Verdicts[store.VerdictShouldHaveRefused], top)
	}
	b.WriteString("\n## Thumbs and escalations\n\n| Day | Answers | Thumbs up | Thumbs down | Up ratio | Escalated | Rate |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, d := range append(r.Trend, r.PreviousWeek) {
		ratio := "--"
		if d.Up+d.Down > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*d.ThumbsRatio)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %d | %.1f%% |\n", d.Day, d.Requests, d.Up, d.Down, ratio, d.Escalations, 100*d.Escalation)
	}
	b.WriteString("\n## Reviewer agreement\n\n")
	if r.Agreement.Kappa != nil {
		fmt.Fprintf(&b, "Cohen's κ %.2f on %d double-labelled items (observed agreement %.0f%%).\n", *r.Agreement.Kappa, r.Agreement.Items, 100*r.Agreement.Observed)
	} else {
		fmt.Fprintf(&b, "Not defined: %d double-labelled items.\n", r.Agreement.Items)
	}
	b.WriteString("\n## Reviewers\n\n| Reviewer | Assigned | Done |\n|---|---:|---:|\n")
	for _, p := range r.Progress {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", mdCell(cmpOr(p.Name, p.Reviewer)), p.Assigned, p.Done)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mdCell keeps text inside one Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.Join(strings.Fields(s), " ")
}
