package answer

import (
	"strings"
	"unicode/utf8"
)

// A how-to question ("How do I cancel my subscription?") is answered by
// the steps of the task, not by the one step that shares the most words
// with it: "Click Cancel subscription." alone names the button and leaves
// out the way to it. So when the question asks how to do something and a
// numbered list of the context covers it, the answer quotes that list
// whole, in source order, with the sentence that introduces it ("Only the
// Owner can cancel.") and the one that follows it, which usually says what
// happens next.

const (
	// defaultMaxSteps is the default Extractive.MaxSteps.
	defaultMaxSteps = 8
	// maxStepWords bounds the steps quoted: a longer list is cut after the
	// last whole step that fits, which keeps the answer a chat bubble.
	maxStepWords = 120
	// minStepsCoverage is the share of the question's weighted terms that
	// a list, its introduction and its heading must cover between them
	// (terms only in the chunk's other headings count partly).
	minStepsCoverage = 0.5
	// stepsShareOfBest: a list must cover at least this share of what the
	// best single sentence covers. Steps that miss a term the best
	// sentence states are another task's steps ("Connect Google
	// Calendar" for "how do I connect <integration>?", when one sentence
	// names the integration and how to connect it).
	stepsShareOfBest = 0.75
	// maxAroundWords bounds the introduction and the sentence after the
	// list: a long one is a paragraph of its own, not part of the task.
	maxAroundWords = 40
)

// procedure is a numbered list of two steps or more in a context item.
type procedure struct {
	it          *item
	rank        int
	first, last int // positions of its first step and its last passage
	intro       int // position of the sentence introducing it, or -1
	cov, score  float64
}

// procedures returns the numbered lists of the items.
func procedures(items []item) []procedure {
	var out []procedure
	for r := range items {
		it := &items[r]
		ps := it.passages
		for i := 0; i < len(ps); {
			if ps[i].list == 0 || !ps[i].ordered || ps[i].cont {
				i++
				continue
			}
			j, steps := i, 0
			for ; j < len(ps) && ps[j].list == ps[i].list; j++ {
				if !ps[j].cont {
					steps++
				}
			}
			if steps >= 2 {
				pr := procedure{it: it, rank: r, first: i, last: j - 1, intro: -1}
				if i > 0 && isAround(&ps[i-1], &ps[i]) {
					pr.intro = i - 1
				}
				out = append(out, pr)
			}
			i = j
		}
	}
	return out
}

// isAround reports whether p, next to a list whose step is step, can be
// quoted with it: prose under the same heading, short enough.
func isAround(p, step *passage) bool {
	last, _ := utf8.DecodeLastRuneInString(p.text)
	return p.list == 0 && p.section == step.section && !p.heading && !p.code && !p.sparse &&
		p.words >= minWords && p.words <= maxAroundWords && strings.ContainsRune(".!)", last)
}

// coverage is the weighted share of the question's terms that the list,
// its introduction and the heading above it have; terms only in the
// chunk's other headings or the document title count contextCredit.
func (pr *procedure) coverage(qa question, weights map[string]float64, total float64) float64 {
	ps := pr.it.passages
	heading := pr.it.section
	if ps[pr.first].section > 0 {
		heading = ps[pr.first].local
	}
	from := pr.first
	if pr.intro >= 0 {
		from = pr.intro
	}
	around := pr.it.sectionPoles
	if ps[pr.first].section > 0 {
		around = ps[pr.first].localPoles
	}
	for i := from; i <= pr.last; i++ {
		around = union(around, ps[i].poles)
	}
	var in, context float64
	for _, t := range qa.terms {
		said := has(heading, t) || around.says(t)
		for i := from; i <= pr.last && !said; i++ {
			said = has(ps[i].terms, t)
		}
		switch {
		case said:
			in += weights[t]
		case has(pr.it.head, t):
			context += weights[t]
		}
	}
	cov := (in + contextCredit*context) / total
	if qa.poles.opposes(around) {
		cov *= oppositeFactor // the steps of the opposite task
	}
	return cov
}

// quotes reports whether the list, its introduction or the sentence after
// it has every stem of quoted: a question that quotes an error message
// ("fails with "Payroll already processed"") asks about that error, not
// about the task that raised it.
func (pr *procedure) quotes(quoted []string) bool {
	ps := pr.it.passages
	for _, t := range quoted {
		found := false
		for i := max(0, pr.first-1); i <= min(pr.last+1, len(ps)-1) && !found; i++ {
			found = has(ps[i].terms, t)
		}
		if !found {
			return false
		}
	}
	return true
}

// saysTogether is the largest share of the question's neighbouring term
// pairs (see together) that the list's heading, its introduction or one
// of its passages says together. Steps whose heading names one term and
// whose step names the other ("Moving an employee to another location"
// over "Add the new location" for "how do I add an employee?") are
// another task's, when the best sentence says the pair together ("Team
// → Add employee").
func (pr *procedure) saysTogether(qa question) float64 {
	ps := pr.it.passages
	best := 0.0
	if ps[pr.first].section == 0 {
		if hs := pr.it.ref.Chunk.Headings; len(hs) > 0 {
			best = together(qa.terms, tokenize(hs[len(hs)-1]))
		}
	}
	from := pr.first
	if pr.intro >= 0 {
		from = pr.intro
	}
	for i := range ps[:pr.last+1] {
		// The heading line above the list, then the list itself.
		if i >= from || ps[i].heading && ps[i].section == ps[pr.first].section {
			best = max(best, together(qa.terms, ps[i].toks))
		}
	}
	return best
}

// chooseSteps returns the passages that answer a how-to question as a
// procedure: the best-covering numbered list of the context, cut to
// maxSteps steps and maxStepWords words, with its introduction and the
// sentence after it. It returns nil when no list covers minStepsCoverage
// of the question or the best list scores below keepFraction of best, the
// best single sentence: then the steps are not what the question is about.
func chooseSteps(items []item, qa question, weights map[string]float64, total float64, best candidate, maxSteps int) []candidate {
	var top *procedure
	prs := procedures(items)
	for i := range prs {
		pr := &prs[i]
		pr.cov = pr.coverage(qa, weights, total)
		pr.score = pr.cov
		if len(items) > 1 {
			pr.score += rankBonus * float64(len(items)-1-pr.rank) / float64(len(items)-1)
		}
		if top == nil || pr.score > top.score {
			top = pr
		}
	}
	if top == nil || top.cov < minStepsCoverage || top.cov < stepsShareOfBest*best.cov ||
		top.score < keepFraction*best.score || !top.quotes(qa.quoted) ||
		top.saysTogether(qa) < best.ev.together {
		return nil
	}
	ps := top.it.passages
	pick := func(i int) candidate { return candidate{it: top.it, p: &ps[i], rank: top.rank} }
	var out []candidate
	if top.intro >= 0 {
		out = append(out, pick(top.intro))
	}
	steps, words, cut := 0, 0, false
	for i := top.first; i <= top.last; i++ {
		if !ps[i].cont {
			// A step comes whole, with its later sentences, or not at all.
			stepWords := ps[i].words
			for j := i + 1; j <= top.last && ps[j].cont; j++ {
				stepWords += ps[j].words
			}
			if steps == maxSteps || (steps >= 2 && words+stepWords > maxStepWords) {
				cut = true
				break
			}
			steps++
			words += stepWords
		}
		out = append(out, pick(i))
	}
	if next := top.last + 1; !cut && next < len(ps) && isAround(&ps[next], &ps[top.first]) {
		out = append(out, pick(next))
	}
	return out
}

// isProcedural reports whether a question asks how to do something: "How
// do I…", "how can we…", "how to…", or for the steps outright. "How
// long", "how often" and "how does it work" ask for facts.
func isProcedural(lower string) bool {
	for _, p := range []string{"how do i ", "how do we ", "how do you ", "how can i ", "how can we ", "how should i ", "how should we ", "how to ", "what are the steps", "which steps", "steps to ", "walk me through"} {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}
