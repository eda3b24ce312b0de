package answer

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"llmops/store"
)

// Extractive answers offline: it selects the sentences of the context that
// best answer the question, orders them as they appear in the context and
// joins them into an answer, every sentence cited. It quotes, so its
// answers are grounded by construction; what it must get right is which
// sentences to quote and when to quote none.
type Extractive struct {
	// MaxSentences bounds the answer; 0 means 4.
	MaxSentences int
	// MinScore is the share of the question's weighted terms that the
	// best sentence must cover (terms only in its headings count
	// partly); below it the answer is the fallback. 0 means
	// DefaultMinScore; a negative value disables the check.
	MinScore float64
}

// DefaultMinScore is the default Extractive.MinScore. It is a floor for
// questions that share a word or two with the context by accident; the
// finer unanswerable signals are in unanswerable.go.
const DefaultMinScore = 0.1

// defaultMaxSentences is the default Extractive.MaxSentences.
const defaultMaxSentences = 4

// Scoring constants. keepFraction, contextCredit, rankBonus and
// numberBonus come from a grid search on the sample eval set (BM25 top-5
// context), which moved token F1 from 0.34 to 0.37; neighbouring values
// score within 0.01, so they are not balanced on a knife's edge.
const (
	// keepFraction: sentences scoring below this share of the best are
	// left out; they would pad the answer with loosely related text.
	keepFraction = 0.6
	// contextCredit is how much a question term counts when the sentence
	// lacks it but its chunk's headings or the inline heading above it
	// have it: "Direct messages" titles the sentence about them.
	contextCredit = 0.75
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
)

// question is an analysed question.
type question struct {
	terms    []string // distinct stems, in order
	names    map[string]bool
	concepts []concept
	wantCode bool
	// wantNumber: the question asks for an amount, a duration, a date.
	wantNumber bool
}

// candidate is a passage considered for the answer.
type candidate struct {
	it    *item
	p     *passage
	rank  int
	cov   float64 // weighted share of the question's terms it covers
	score float64 // cov plus the bonuses and penalties that rank it
}

// explanation records why Extractive answered as it did; tests log it.
type explanation struct {
	weights map[string]float64
	absent  []string  // question terms no context item contains
	unknown []concept // concepts no context item contains
	best    float64   // score of the best sentence
	bestCov float64   // highest coverage of any sentence
	reason  string    // why it fell back, "" when it answered
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

	var cands []candidate
	for r := range items {
		it := &items[r]
		for j := range it.passages {
			p := &it.passages[j]
			if p.heading || p.sparse || (p.code && !qa.wantCode) || p.words < minWords {
				continue
			}
			var inSentence, inContext float64
			for _, t := range qa.terms {
				switch {
				case has(p.terms, t):
					inSentence += ex.weights[t]
				case has(it.head, t) || has(p.local, t):
					inContext += ex.weights[t]
				}
			}
			if inSentence == 0 {
				continue // a sentence must say something about the question itself
			}
			cov := (inSentence + contextCredit*inContext) / total
			score := cov
			if len(items) > 1 {
				score += rankBonus * float64(len(items)-1-r) / float64(len(items)-1)
			}
			if qa.wantNumber && hasNumber(p.toks) {
				score += numberBonus
			}
			if p.words > longWords {
				score -= min(maxLengthPenalty, lengthPenalty*float64(p.words-longWords))
			}
			cands = append(cands, candidate{it: it, p: p, rank: r, cov: cov, score: score})
			ex.bestCov = max(ex.bestCov, cov)
		}
	}
	if len(cands) == 0 {
		return fallback("no sentence mentions the question's terms")
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	ex.best = cands[0].score
	if ex.bestCov < minScore {
		return fallback("no sentence covers MinScore of the question")
	}
	chosen := choose(cands, qa, maxSentences)

	// Read in document order: by context rank, then position in the chunk.
	slices.SortFunc(chosen, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.p.pos, b.p.pos))
	})
	a := &Answer{}
	for _, c := range chosen {
		a.Sentences = append(a.Sentences, Sentence{Text: c.p.text, Cites: []int{c.it.n}})
	}
	a.Text = render(a.Sentences)
	if err := ground(ctx, a, chunks, items, nil); err != nil {
		return nil, nil, err
	}
	return a, ex, nil
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
	lower := strings.ToLower(q)
	for _, w := range []string{"how long", "how often", "how many", "how much", "how far", "how soon", "how quickly", "when ", "what time", "what date", "which day", "which version", "which release", "what version", "largest", "smallest", "maximum", "minimum", "limit", "cost", "price", "fee", "charge", "deadline"} {
		if strings.Contains(lower, w) {
			qa.wantNumber = true
			break
		}
	}
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
	}
	return w
}

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
	if has(it.head, t) {
		return true
	}
	for i := range it.passages {
		if has(it.passages[i].terms, t) {
			return true
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

func hasNumber(toks []token) bool {
	return slices.ContainsFunc(toks, func(t token) bool { return t.num })
}

// choose picks the answer's sentences from candidates sorted best first.
// Every one must score at least keepFraction of the best and not repeat
// one already chosen. The first pass takes, best first, each sentence
// that covers a question term the chosen ones lack; the second fills the
// remaining room with sentences next to chosen ones in their chunk, which
// carry on what those say ("Only the Owner can cancel." before "Go to
// Settings → Billing"). A sentence that adds neither only dilutes.
func choose(cands []candidate, qa question, maxSentences int) []candidate {
	best := cands[0].score
	var chosen []candidate
	covered := make(map[string]bool)
	taken := make([]bool, len(cands))
	acceptable := func(c candidate) bool {
		return c.score >= keepFraction*best &&
			!slices.ContainsFunc(chosen, func(o candidate) bool { return jaccard(o.p.terms, c.p.terms) >= duplicateJaccard })
	}
	for i, c := range cands {
		if len(chosen) == maxSentences {
			return chosen
		}
		if !acceptable(c) || !slices.ContainsFunc(qa.terms, func(t string) bool { return has(c.p.terms, t) && !covered[t] }) {
			continue
		}
		chosen = append(chosen, c)
		taken[i] = true
		for _, t := range qa.terms {
			if has(c.p.terms, t) {
				covered[t] = true
			}
		}
	}
	for i, c := range cands {
		if len(chosen) == maxSentences {
			break
		}
		if taken[i] || !acceptable(c) {
			continue
		}
		if slices.ContainsFunc(chosen, func(o candidate) bool {
			return o.it == c.it && (o.p.pos == c.p.pos+1 || o.p.pos == c.p.pos-1)
		}) {
			chosen = append(chosen, c)
		}
	}
	return chosen
}
