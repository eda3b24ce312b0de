package answer

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"llmops/rag/text"
	"llmops/store"
)

// Extractive answers offline: it selects the sentences of the context that
// best answer the question, orders them as they appear in the context and
// joins them into an answer, every sentence cited. It quotes, so its
// answers are grounded by construction; what it must get right is which
// sentences to quote and when to quote none. A how-to question gets the
// numbered steps that cover it, whole and as a Markdown list (steps.go);
// any other gets the best sentence, what carries it on next to it, and a
// caveat that follows it.
type Extractive struct {
	// MaxSentences bounds a prose answer, not counting a caveat quoted
	// after it or the other items of a list it quotes from; 0 means 2.
	MaxSentences int
	// MaxSteps bounds the steps of a procedure quoted for a how-to
	// question; 0 means 8.
	MaxSteps int
	// MinScore is the share of the question's weighted terms that the
	// best sentence must cover (terms only in its headings count
	// partly); below it the answer is the fallback. 0 means
	// DefaultMinScore; a negative value disables the check.
	MinScore float64
	// MinRelevance is the relevance (see Relevance) below which the
	// answer is the fallback: 0 means DefaultMinRelevance; a negative
	// value disables the check.
	MinRelevance float64
	// Embed, when set, adds how close each candidate sentence's meaning
	// is to the question's (the cosine of their embeddings, weighted
	// semanticWeight) to its lexical score: a sentence that answers in
	// other words than the question's. Without it, words decide.
	Embed Embedder
}

// DefaultMinScore is the default Extractive.MinScore. It is a floor for
// questions that share a word or two with the context by accident; the
// finer unanswerable signals are in unanswerable.go.
const DefaultMinScore = 0.1

// defaultMaxSentences is the default Extractive.MaxSentences.
const defaultMaxSentences = 2

// Scoring constants. They come from grid searches on the sample eval set
// (BM25 top-5 context, see eval_test.go): keepFraction, contextCredit,
// rankBonus and numberBonus from the first, which moved token F1 from
// 0.34 to 0.37; neighbourCredit and the nearDistance, nearFraction,
// farFraction and defaultMaxSentences of choose from the second, which
// moved it from 0.37 to 0.42 (with the steps of steps.go). Neighbouring
// values score within 0.01, so none is balanced on a knife's edge.
// contextCredit was lowered from 0.75 to 0.5 in issue 14, chosen on the
// odd-numbered half of the sample set through the full answer path (token
// F1 0.452 → 0.469) and checked on the even half (0.374 → 0.384); see
// docs/BENCHMARKS.md.
const (
	// keepFraction: sentences scoring below this share of the best are
	// left out; they would pad the answer with loosely related text.
	keepFraction = 0.5
	// contextCredit is how much a question term counts when the sentence
	// lacks it but its chunk's headings or the inline heading above it
	// have it: "Direct messages" titles the sentence about them.
	contextCredit = 0.5
	// neighbourCredit is how much a question term counts towards a
	// sentence's rank when the sentence lacks it and the one before or
	// after it (under the same heading) has it: answers take two
	// sentences as often as one, and the best pair beats the best
	// sentence of a stray chunk.
	neighbourCredit = 0.5
	// rankBonus is added to sentences of the top chunk, falling linearly
	// to 0 for the last: retrieval order is evidence too.
	rankBonus = 0.2
	// Sentences longer than longWords lose lengthPenalty per extra word,
	// up to maxLengthPenalty: long sentences match many terms by bulk.
	longWords        = 35
	lengthPenalty    = 0.004
	maxLengthPenalty = 0.15
	// minWords drops fragments too short to answer anything.
	minWords = 3
	// duplicateJaccard: a sentence sharing this share of its terms with
	// one already chosen says the same thing again.
	duplicateJaccard = 0.7
	// nameWeight scales a name-like question term (Gusto, QuickBooks):
	// the sentence that names the product asked about is the one to quote.
	nameWeight = 1.5
	// numberBonus goes to sentences with a number when the question asks
	// for one ("how long", "how often", "how much"): the answer is a
	// duration, a frequency or a price, which the question's words rarely
	// share.
	numberBonus = 0.2
	// lightWeight scales the weight of a light verb (see lightVerbs).
	lightWeight = 0.5
	// polarityBonus goes to sentences that state a limit when the
	// question asks yes or no (see limits).
	polarityBonus = 0.05
	// nearDistance, nearFraction and farFraction decide which sentences
	// join the best one in a prose answer (see choose).
	nearDistance = 2
	nearFraction = 0.7
	farFraction  = 0.85
	// semanticWeight scales the embedding cosine added to a candidate's
	// score when Extractive.Embed is set.
	semanticWeight = 0.3
	// maxMeaning caps the candidates embedded per answer.
	maxMeaning = 16
)

// question is an analysed question.
type question struct {
	terms    []string // distinct stems, in order
	names    map[string]bool
	concepts []concept
	wantCode bool
	// wantNumber: the question asks for an amount, a duration, a date.
	wantNumber bool
	// procedural: the question asks how to do something (see steps.go).
	procedural bool
	// quoted holds the stems of the text the question quotes, an error
	// message as often as not.
	quoted []string
	// yesNo: the question asks whether ("Can we…?", "Does it…?").
	yesNo bool
	// poles are the actions the question asks about (see polarity.go).
	poles poleSet
	// want is the kind of thing the question asks for (answertype.go).
	want answerType
	// defined holds the stems of what a definition question asks about.
	defined []string
}

// candidate is a passage considered for the answer.
type candidate struct {
	it    *item
	p     *passage
	rank  int
	cov   float64 // weighted share of the question's terms it covers
	score float64 // cov plus the bonuses and penalties that rank it
	// ev is what score is made of; anchor.go weighs it again to choose
	// the sentence that leads the answer.
	ev evidence
}

// explanation records why Extractive answered as it did; tests log it.
type explanation struct {
	weights map[string]float64
	absent  []string  // question terms no context item contains
	unknown []concept // concepts no context item contains
	best    float64   // score of the best sentence
	bestCov float64   // highest coverage of any sentence
	steps   bool      // the answer quotes a procedure
	reason  string    // why it fell back, "" when it answered
	// relevance of the answer chosen, before any fallback.
	relevance float64
}

// Answer answers question from context, or returns the fallback answer
// (Fallback set) when the context does not support one. The answer is
// already grounded (Ground without an embedder); applying the threshold
// is left to the caller, as for any answerer.
func (e *Extractive) Answer(ctx context.Context, question string, chunks []store.ChunkRef) (*Answer, error) {
	a, _, err := e.answer(ctx, question, chunks)
	return a, err
}

func (e *Extractive) answer(ctx context.Context, q string, chunks []store.ChunkRef) (*Answer, *explanation, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	maxSentences := cmp.Or(e.MaxSentences, defaultMaxSentences)
	maxSteps := cmp.Or(e.MaxSteps, defaultMaxSteps)
	minScore := cmp.Or(e.MinScore, DefaultMinScore)
	ex := &explanation{}
	fallback := func(reason string) (*Answer, *explanation, error) {
		ex.reason = reason
		a := &Answer{}
		fallBack(a, chunks)
		return a, ex, nil
	}

	qa := analyseQuestion(q)
	if len(qa.terms) == 0 {
		return fallback("no content words in the question")
	}
	if len(chunks) == 0 {
		return fallback("no context")
	}
	items := analyse(chunks)
	if reason := unanswerable(qa, items, ex); reason != "" {
		return fallback(reason)
	}
	ex.weights = termWeights(qa, items)
	total := 0.0
	for _, w := range ex.weights {
		total += w
	}

	cands := scoreCandidates(qa, items, ex.weights, total)
	if e.Embed != nil {
		if err := addMeaning(ctx, e.Embed, q, cands); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range cands {
		ex.bestCov = max(ex.bestCov, c.cov)
	}
	// The anchor leads: the prose answer is built around it, and a
	// how-to question's steps are measured against it.
	leadWithAnchor(cands)
	if len(cands) == 0 {
		return fallback("no sentence mentions the question's terms")
	}
	ex.best = cands[0].score
	if ex.bestCov < minScore {
		return fallback("no sentence covers MinScore of the question")
	}
	var chosen []candidate
	if qa.procedural {
		// Terms no item has count against no list: the question passed
		// the unanswerable checks, so they are its wording, not its topic.
		present := total
		for _, t := range ex.absent {
			present -= ex.weights[t]
		}
		chosen = chooseSteps(items, qa, ex.weights, present, cands[0], maxSteps)
		ex.steps = chosen != nil
	}
	if chosen == nil {
		chosen = choose(cands, qa, maxSentences, maxSteps)
	}

	// Read in document order: by context rank, then position in the chunk.
	slices.SortFunc(chosen, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.p.pos, b.p.pos))
	})
	a := &Answer{Sentences: sentences(chosen)}
	a.Text = render(a.Sentences)
	if err := ground(ctx, a, chunks, items, nil); err != nil {
		return nil, nil, err
	}
	a.Relevance, a.relevanceScored = relevance(qa, qa.poles, a, items), true
	ex.relevance = a.Relevance
	if minRelevance := cmp.Or(e.MinRelevance, DefaultMinRelevance); a.Relevance < minRelevance {
		// Quoting something off point is worse than saying nothing.
		ex.reason = "the best answer is not relevant enough"
		fallBack(a, chunks)
	}
	return a, ex, nil
}

// scoreCandidates scores every quotable passage that has a question term,
// best first.
func scoreCandidates(qa question, items []item, weights map[string]float64, total float64) []candidate {
	var cands []candidate
	for r := range items {
		it := &items[r]
		for j := range it.passages {
			p := &it.passages[j]
			if p.heading || p.sparse || (p.code && !qa.wantCode) || p.words < minWords || isSignpost(p.text) {
				continue
			}
			var inSentence, inContext, nearby float64
			around := p.localPoles
			if p.section == 0 {
				around = it.sectionPoles
			}
			for _, t := range qa.terms {
				switch {
				case has(p.terms, t) || p.poles.says(t):
					inSentence += weights[t]
				case has(it.head, t) || has(p.local, t) || around.says(t):
					inContext += weights[t]
				case neighbourHas(it, j, t):
					nearby += weights[t]
				}
			}
			if inSentence == 0 {
				continue // a sentence must say something about the question itself
			}
			ev := evidence{
				in:      inSentence / total,
				context: inContext / total,
				near:    nearby / total,
				limit:   qa.yesNo && limits(p.text),
				number:  qa.wantNumber && hasNumber(p.toks),
				typed:   qa.want.states(p.text) || qa.defines(p),
			}
			ev.together = together(qa.terms, p.toks)
			ev.apart = qa.procedural && ev.together == 0 && hasPairApart(qa.terms, p.terms)
			if len(items) > 1 {
				ev.rank = float64(len(items)-1-r) / float64(len(items)-1)
			}
			if p.words > longWords {
				ev.long = min(maxLengthPenalty, lengthPenalty*float64(p.words-longWords))
			}
			// About the other direction of the action asked about: the
			// start steps for "how do I leave…?".
			ev.opposite = qa.poles.opposes(union(p.poles, around))
			cands = append(cands, candidate{it: it, p: p, rank: r,
				cov: ev.in + contextCredit*ev.context, score: ev.score(), ev: ev})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	return cands
}

// defines reports whether p is the line that defines what a definition
// question asks about: it opens with it ("402 | payment_required | …" for
// "what does 402 mean?").
func (qa question) defines(p *passage) bool {
	return len(p.toks) > 0 && slices.Contains(qa.defined, p.toks[0].stem)
}

// definedTerms returns the stems of what a definition question asks about:
// X in "what does X mean", or, when X is "that" or "it", the codes and
// quoted words of the question ("came back with status 402. What does
// that mean?").
func definedTerms(q string) []string {
	var out []string
	if m := definitionRe.FindStringSubmatch(strings.ToLower(q)); len(m) > 2 {
		for _, t := range tokenize(m[2]) {
			out = append(out, t.stem)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, t := range tokenize(q) {
		if t.num {
			out = append(out, t.stem)
		}
	}
	return append(out, quotedStems(q)...)
}

// addMeaning adds semanticWeight × the cosine of each candidate's and
// the question's embeddings to its score and sorts the candidates again.
func addMeaning(ctx context.Context, embed Embedder, q string, cands []candidate) error {
	if len(cands) < 2 {
		return nil
	}
	// Only the best lexical candidates: one batch of at most
	// maxMeaning+1 short texts bounds what a remote embedder costs.
	n := min(len(cands), maxMeaning)
	texts := make([]string, 1, n+1)
	texts[0] = q
	for _, c := range cands[:n] {
		texts = append(texts, c.p.text)
	}
	vecs, err := embed(ctx, texts)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return nil // meaning only refines the ranking: words still decide
	}
	if len(vecs) != len(texts) {
		return nil
	}
	for i := range cands[:n] {
		cands[i].ev.meaning = max(0, cosine(vecs[0], vecs[i+1]))
		cands[i].score += semanticWeight * cands[i].ev.meaning
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	return nil
}

// analyseQuestion extracts a question's content terms.
func analyseQuestion(q string) question {
	qa := question{names: make(map[string]bool)}
	ws := words(q)
	for i, w := range ws {
		if i > 0 && ws[i-1].lower == "how" && howWords[w.lower] {
			continue // "how long" asks for a duration; "long" is not the topic
		}
		t, ok := contentToken(w)
		if !ok {
			continue
		}
		if !slices.Contains(qa.terms, t.stem) {
			qa.terms = append(qa.terms, t.stem)
		}
		if t.name {
			qa.names[t.stem] = true
		}
	}
	qa.concepts = concepts(q)
	qa.quoted = quotedStems(q)
	var phrases []string
	qa.poles, phrases = polesAndPhrases(q)
	for _, ph := range phrases {
		// An action said in several words ("get out of", "turn off") is
		// a term of its own: no single content word carries it.
		if strings.Contains(ph, " ") && !slices.Contains(qa.terms, ph) {
			qa.terms = append(qa.terms, ph)
		}
	}
	lower := strings.ToLower(q)
	for _, w := range []string{"how long", "how often", "how many", "how much", "how far", "how soon", "how quickly", "when ", "what time", "what date", "which day", "which version", "which release", "what version", "largest", "smallest", "shortest", "longest", "fewest", "maximum", "minimum", "limit", "cost", "price", "fee", "charge", "deadline"} {
		if strings.Contains(lower, w) {
			qa.wantNumber = true
			break
		}
	}
	qa.want = questionType(lower)
	if qa.want == wantDefinition {
		qa.defined = definedTerms(q)
	}
	qa.procedural = isProcedural(lower)
	qa.yesNo = isYesNo(lower)
	for _, w := range []string{"code", "api", "curl", "endpoint", "request", "json", "example", "sample", "header", "payload", "script", "sdk"} {
		if strings.Contains(lower, w) {
			qa.wantCode = true
			break
		}
	}
	return qa
}

// howWords are the words that follow "how" to ask for an amount.
var howWords = map[string]bool{"long": true, "often": true, "far": true, "soon": true, "quickly": true, "big": true, "old": true, "late": true, "early": true, "fast": true}

// quotedStems returns the stems of the text between double quotes in q.
func quotedStems(q string) []string {
	var out []string
	isQuote := func(r rune) bool { return r == '"' || r == '“' || r == '”' }
	for {
		start := strings.IndexFunc(q, isQuote)
		if start < 0 {
			return out
		}
		_, size := utf8.DecodeRuneInString(q[start:])
		q = q[start+size:]
		end := strings.IndexFunc(q, isQuote)
		if end < 0 {
			return out
		}
		for _, t := range tokenize(q[:end]) {
			if !slices.Contains(out, t.stem) {
				out = append(out, t.stem)
			}
		}
		_, size = utf8.DecodeRuneInString(q[end:])
		q = q[end+size:]
	}
}

// isYesNo reports whether one of a question's sentences opens with an
// auxiliary verb: "We're on Starter. Can we use Teams?"
func isYesNo(lower string) bool {
	for _, s := range strings.FieldsFunc(lower, func(r rune) bool { return r == '.' || r == '?' || r == '!' }) {
		first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		switch first {
		case "can", "could", "do", "does", "did", "is", "are", "was", "will", "would", "should", "has", "have", "may", "must":
			return true
		}
	}
	return false
}

// limits reports whether a sentence states a limit: what is not, cannot
// or never happens, or happens only so. Yes-or-no questions in a help
// centre are mostly answered by one ("Employees cannot see draft shifts.").
func limits(s string) bool {
	lower := " " + strings.ToLower(s) + " "
	for _, w := range []string{" not ", "n't ", " cannot ", " never ", " only ", " no longer ", " no ", "(not "} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// termWeights weights each question term by its inverse document
// frequency over the context: a term every chunk has ("Rosterly", "shift")
// says little about which sentence answers, one that only a single chunk
// has says a lot. Terms in no chunk get the highest weight, because
// leaving them uncovered is what an unanswerable question looks like.
func termWeights(qa question, items []item) map[string]float64 {
	n := float64(len(items))
	w := make(map[string]float64, len(qa.terms))
	for _, t := range qa.terms {
		w[t] = math.Log(1 + (n+1)/(float64(docFreq(items, t))+0.5))
		if qa.names[t] {
			w[t] *= nameWeight
		}
		if lightVerbs[t] {
			w[t] *= lightWeight
		}
	}
	return w
}

// lightVerbs are stems of verbs that carry the grammar of a question more
// than its topic ("keeps missing", "will it work", "what happens"): a
// sentence that shares one with the question is no closer to answering.
var lightVerbs = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields("keep happen work try go come take put give see look find say tell ask think seem") {
		m[text.Stem(w)] = true
	}
	return m
}()

// docFreq counts the items that contain stem t.
func docFreq(items []item, t string) int {
	df := 0
	for i := range items {
		if itemHas(&items[i], t) {
			df++
		}
	}
	return df
}

func itemHas(it *item, t string) bool {
	if has(it.head, t) || it.sectionPoles.says(t) {
		return true
	}
	for i := range it.passages {
		if has(it.passages[i].terms, t) || it.passages[i].poles.says(t) {
			return true
		}
	}
	return false
}

// neighbourHas reports whether a sentence next to passage j of it, under
// the same heading, has stem t.
func neighbourHas(it *item, j int, t string) bool {
	for _, k := range [2]int{j - 1, j + 1} {
		if k >= 0 && k < len(it.passages) {
			if q := &it.passages[k]; !q.heading && q.section == it.passages[j].section && has(q.terms, t) {
				return true
			}
		}
	}
	return false
}

func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for t := range a {
		if has(b, t) {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// union returns the poles of a and b.
func union(a, b poleSet) poleSet {
	if len(b) == 0 {
		return a
	}
	out := make(poleSet, len(a)+len(b))
	for p := range a {
		out[p] = true
	}
	for p := range b {
		out[p] = true
	}
	return out
}

func hasNumber(toks []token) bool {
	return slices.ContainsFunc(toks, func(t token) bool { return t.num })
}

// choose picks a prose answer's sentences from candidates sorted best
// first. It stays with the best sentence, the anchor: an answer is one
// passage of one document, and sentences from elsewhere that share a
// word or two with the question mostly dilute it. Every sentence must
// score at least keepFraction of the best and not repeat one already
// chosen; one near the anchor (same chunk and heading, at most
// nearDistance sentences away) is taken when it covers a question term
// the chosen ones lack or scores within nearFraction of the best, one
// from elsewhere only when it covers such a term and scores within
// farFraction. On top of maxSentences come the acceptable other items of
// the list the anchor belongs to (at most maxSteps in all), and a caveat
// right after the last chosen sentence of the anchor's chunk ("Note: …",
// "Support cannot unlock accounts faster than that.").
func choose(cands []candidate, qa question, maxSentences, maxSteps int) []candidate {
	best := cands[0]
	chosen := []candidate{best}
	covered := make(map[string]bool)
	cover := func(c candidate) {
		for _, t := range qa.terms {
			if has(c.p.terms, t) {
				covered[t] = true
			}
		}
	}
	cover(best)
	for _, c := range cands[1:] {
		if len(chosen) >= maxSentences {
			break
		}
		if c.score < keepFraction*best.score ||
			slices.ContainsFunc(chosen, func(o candidate) bool { return jaccard(o.p.terms, c.p.terms) >= duplicateJaccard }) {
			continue
		}
		adds := slices.ContainsFunc(qa.terms, func(t string) bool { return has(c.p.terms, t) && !covered[t] })
		near := c.it == best.it && c.p.section == best.p.section && abs(c.p.pos-best.p.pos) <= nearDistance
		if near && (adds || c.score >= nearFraction*best.score) || adds && c.score >= farFraction*best.score {
			chosen = append(chosen, c)
			cover(c)
		}
	}
	if best.p.list != 0 && maxSentences > 1 {
		// The best sentence is a list item: its acceptable siblings
		// answer too ("What got fixed in 5.0.1?").
		for _, c := range cands[1:] {
			if c.it == best.it && c.p.list == best.p.list && c.score >= keepFraction*best.score &&
				len(chosen) < maxSteps && !slices.ContainsFunc(chosen, func(o candidate) bool { return o.p == c.p }) {
				chosen = append(chosen, c)
			}
		}
	}
	if maxSentences > 1 {
		if c, ok := caveatAfter(chosen); ok {
			chosen = append(chosen, c)
		}
	}
	return chosen
}

// caveatAfter returns the sentence right after a sentence of the anchor's
// chunk when it qualifies what the answer says (see isCaveat) and is not
// chosen yet.
func caveatAfter(chosen []candidate) (candidate, bool) {
	anchor := chosen[0]
	last := anchor
	for _, c := range chosen {
		if c.it == anchor.it && c.p.pos > last.p.pos {
			last = c
		}
	}
	ps := last.it.passages
	next := last.p.pos + 1
	if next >= len(ps) || !isAround(&ps[next], last.p) || !isCaveat(ps[next].text) {
		return candidate{}, false
	}
	return candidate{it: last.it, p: &ps[next], rank: last.rank}, true
}

// isCaveat reports whether a sentence limits or warns: it opens with a
// word that does ("Note:", "Only", "However"), states a limit (see
// limits) or says what must happen.
func isCaveat(s string) bool {
	lower := strings.ToLower(s)
	for _, p := range []string{"note", "important", "warning", "caution", "however", "but ", "only ", "unless", "except", "even ", "otherwise"} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return limits(s) || strings.Contains(lower, " must ")
}

// sentences turns the chosen passages, in reading order, into answer
// sentences citing their items. Passages of one list are quoted as a list
// when they hold two items or more from the start of an item on, without
// a gap in a numbered list; otherwise each reads as prose, without its
// number.
func sentences(chosen []candidate) []Sentence {
	out := make([]Sentence, len(chosen))
	for i, c := range chosen {
		out[i] = Sentence{Text: c.p.text, Cites: []int{c.it.n}}
	}
	for i := 0; i < len(chosen); {
		c := chosen[i]
		if c.p.list == 0 {
			i++
			continue
		}
		j, items := i+1, 1
		for ; j < len(chosen); j++ {
			d := chosen[j]
			gap := d.p.pos != chosen[j-1].p.pos+1
			if d.it != c.it || d.p.list != c.p.list || gap && (c.p.ordered || d.p.cont) {
				break // a skipped step would renumber the list
			}
			if !d.p.cont {
				items++
			}
		}
		if !c.p.cont && items >= 2 {
			n := 0
			for k := i; k < j; k++ {
				if !chosen[k].p.cont {
					n++
				}
				out[k].Item, out[k].Ordered = n, c.p.ordered
				if c.p.ordered {
					out[k].Item = chosen[k].p.step
				}
			}
		}
		i = j
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
