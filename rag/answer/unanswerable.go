package answer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Deciding that the context does not answer a question is the extractive
// answerer's hard part: the retriever always returns something, and
// something always shares a few words with the question. Two signals
// separate "about something else" from "answered in other words" on the
// sample eval set (see eval_test.go):
//
// Off topic: most of the question's content words appear nowhere in the
// context ("a good recipe for sourdough bread"). Answerable questions
// paraphrase, but rarely more than half of their words.
//
// Unknown concept: a question names the thing it is about. When that
// thing — a product or integration ("Paychex Flex", "Toast POS", "HIPAA")
// or a compound concept ("self-hosted", "white-label") — appears nowhere
// in the context, the context is about something else, however many of
// the question's other words it shares: "Can Rosterly pull sales data from
// Toast POS?" matches the Square article word for word except for the one
// that matters. The price is a question that names something the docs
// answer by omission ("SCIM with OneLogin?" when the docs list Okta and
// Entra ID only): it gets the fallback too.

// offTopicShare is the share of a question's content words that, absent
// from the whole context, makes the question off topic.
const offTopicShare = 2.0 / 3

// unanswerable returns why the context cannot answer the question, or "".
// It records the absent terms and concepts in ex.
func unanswerable(qa question, items []item, ex *explanation) string {
	for _, t := range qa.terms {
		if docFreq(items, t) == 0 {
			ex.absent = append(ex.absent, t)
		}
	}
	if float64(len(ex.absent)) >= offTopicShare*float64(len(qa.terms)) {
		return "the context shares too few of the question's words"
	}
	if ex.unknown = absentConcepts(qa.concepts, items); len(ex.unknown) > 0 {
		return "the context never mentions " + ex.unknown[0].text
	}
	if qa.procedural && len(qa.poles) > 0 && !statesAction(items, qa) {
		return "the context never says how to do what the question asks"
	}
	return ""
}

// statesAction reports whether any item states the action a how-to
// question asks about (one of qa.poles, or a synonym of it: exit, quit for
// leave) in a sentence or heading that also names another of the
// question's terms. "How do I leave kiosk mode?" asks for one action on
// one thing: context that never says it about the thing documents other
// actions on it, and quoting them answers another question. "Leave shifts
// unassigned" says leave about something else.
func statesAction(items []item, qa question) bool {
	var things []string // the question's terms that are not an action
	for _, t := range qa.terms {
		if _, pole := poleIndex[t]; !pole {
			things = append(things, t)
		}
	}
	about := func(terms map[string]struct{}) bool {
		// "How do I cancel?" names nothing else: any cancel will do.
		return len(things) == 0 || slices.ContainsFunc(things, func(t string) bool { return has(terms, t) })
	}
	for _, it := range items {
		for _, h := range it.ref.Chunk.Headings {
			if qa.poles.agrees(poles(h)) && about(stemSet(h)) {
				return true
			}
		}
		for j := range it.passages {
			p := &it.passages[j]
			if qa.poles.agrees(p.poles) && about(p.terms) {
				return true
			}
		}
	}
	return false
}

// stemSet returns the stems of text's content words.
func stemSet(text string) map[string]struct{} {
	m := make(map[string]struct{})
	addStems(m, text)
	return m
}

// concept is a phrase of a question that the context must contain, as
// a sequence of stems.
type concept struct {
	text  string // as written, for explanations
	stems []string
}

// concepts returns the named things and compound concepts of a question:
// runs of name-like words ("When I Work", "Apple Watch"), single names
// that are unlikely to be plain words (capitalised inside a sentence,
// CamelCase, or all capitals of four letters or more: short acronyms such
// as PC, PTO or API are ordinary vocabulary in help articles), and
// hyphenated compounds without digits ("self-hosted", not "30-day"; of
// "mid-month" only what follows the prefix, see positionPrefixes).
// A question in Title Case or capitals says nothing by its capitals, so
// only its compounds count.
func concepts(q string) []concept {
	ws := words(q)
	var out []concept
	names := !capitalised(q)
	add := func(run []word) {
		c := concept{}
		var parts []string
		for _, w := range run {
			c.stems = append(c.stems, w.stem)
			parts = append(parts, w.lower)
		}
		c.text = strings.Join(parts, " ")
		out = append(out, c)
	}
	for i := 0; names && i < len(ws); {
		if !isConceptName(ws[i]) {
			i++
			continue
		}
		j := i + 1
		// "I" joins a run only inside it: "When I Work".
		for j < len(ws) && (isConceptName(ws[j]) || ws[j].lower == "i" && j+1 < len(ws) && isConceptName(ws[j+1])) {
			j++
		}
		if j-i > 1 || isStrongName(ws[i]) {
			add(ws[i:j])
		}
		i = j
	}
	for i := 0; i < len(ws); {
		j := i
		for j < len(ws) && ws[j].hyphenated {
			j++
		}
		if j > i && j < len(ws) {
			run := ws[i : j+1]
			if positionPrefixes[run[0].lower] {
				// "mid-month" is the month, seen from its middle: the
				// context that says "partial months" is about it. The
				// rest of the run is the concept, when it is one.
				run = run[1:]
			}
			if len(run) > 1 && !hasDigitWord(run) && !isNameRun(run) {
				add(run)
			}
		}
		i = j + 1
	}
	return out
}

// capitalised reports whether q is written in Title Case or capitals:
// most of its function words after the first word ("Do", "My", "For")
// start with a capital, which in a normal sentence they never do.
func capitalised(q string) bool {
	upper, all := 0, 0
	for i, f := range strings.Fields(q) {
		f = strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) })
		if i == 0 || f == "I" || !isStopWord(strings.ToLower(f)) {
			continue
		}
		all++
		if r, _ := utf8.DecodeRuneInString(f); unicode.IsUpper(r) {
			upper++
		}
	}
	return all >= 2 && upper*2 > all
}

// isConceptName reports whether w can be part of a name: name-like and
// not a weekday or month, which English capitalises anyway.
func isConceptName(w word) bool {
	return w.name && !calendarWords[w.lower]
}

// isStrongName reports whether a single name-like word is a name rather
// than an acronym of the trade (see concepts).
func isStrongName(w word) bool {
	return !w.allCaps || utf8.RuneCountInString(w.lower) >= 4
}

func hasDigitWord(run []word) bool {
	for _, w := range run {
		if strings.ContainsAny(w.lower, "0123456789") {
			return true
		}
	}
	return false
}

// isNameRun reports whether a hyphenated run is a name (Auto-Fill,
// X-Api-Key), which the name rules already cover.
func isNameRun(run []word) bool {
	for _, w := range run {
		if w.name {
			return true
		}
	}
	return false
}

// positionPrefixes open a compound that places its head in time or in a
// sequence ("mid-month", "pre-shift", "post-launch"): the compound is the
// head word's own topic, not a concept of its own that the context must
// name. "self-hosted" and "white-label" stay concepts.
var positionPrefixes = map[string]bool{"mid": true, "pre": true, "post": true}

var calendarWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december`) {
		m[w] = true
	}
	return m
}()

// absentConcepts returns the concepts that no context item contains, as a
// run of stems within one text (its title, a heading or its body),
// hyphenated or written as one word ("re-authorise", "reauthorise").
func absentConcepts(cs []concept, items []item) []concept {
	if len(cs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteByte(' ')
	addText := func(text string) {
		for _, w := range words(text) {
			b.WriteString(w.stem)
			b.WriteByte(' ')
		}
		b.WriteString("| ") // no phrase spans two texts
	}
	for _, it := range items {
		if it.ref.Document != nil {
			addText(it.ref.Document.Title)
		}
		for _, h := range it.ref.Chunk.Headings {
			addText(h)
		}
		addText(it.ref.Chunk.Text)
	}
	seq := b.String()
	var out []concept
	for _, c := range cs {
		if !strings.Contains(seq, " "+strings.Join(c.stems, " ")+" ") &&
			!strings.Contains(seq, " "+strings.Join(c.stems, "")+" ") {
			out = append(out, c)
		}
	}
	return out
}
