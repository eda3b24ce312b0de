package answer

import (
	"strings"

	"llmops/store"
)

// Groundedness says whether an answer's sentences come from the sources;
// it cannot say whether they answer the question. An extractive answer
// copies sentences, so it is always grounded, on point or not. Relevance
// is the second score: how much of what the question asks the answer
// says, offline and without a model. It is the IDF-weighted share of the
// question's content terms the answer states (a term only in the cited
// chunks' headings or title counts contextCredit, a term of the question's
// action counts when the answer says it in other words: exit for leave),
// times a penalty when the answer is about the opposite action ("leave"
// asked, only "start" answered, see polarity.go) or lacks the kind of
// thing the question asks for (a number for "how long"). An action the
// answer does not state at all is a missing term like any other: "get
// out of" weighs in the sum as one term.

const (
	// DefaultMinRelevance is the relevance below which an answer falls
	// back however grounded it is: it says something, but not about what
	// was asked. Chosen on half of the sample eval set and checked on the
	// other half (docs/BENCHMARKS.md).
	DefaultMinRelevance = 0.1
	// oppositeFactor scales a candidate sentence's score (extractive.go)
	// when it is about the opposite action.
	oppositeFactor = 0.3
	// oppositeRelevance scales the relevance of an answer about the
	// opposite action: it answers another question.
	oppositeRelevance = 0.05
	// noNumberFactor scales the relevance of an answer without a number
	// to a question that asks for one.
	noNumberFactor = 0.7
)

// Relevance scores how directly a answers question, 0..1, against the
// context it cites (chunks, numbered from 1). A fallback answer scores 0.
func Relevance(question string, a *Answer, chunks []store.ChunkRef) float64 {
	return relevance(analyseQuestion(question), poles(question), a, analyse(chunks))
}

// ScoreRelevance sets a.Relevance (see Relevance) unless an answerer has
// scored it already, and marks it scored, so that ApplyThreshold holds
// the answer to DefaultMinRelevance too.
func ScoreRelevance(a *Answer, question string, chunks []store.ChunkRef) {
	if a.relevanceScored {
		return
	}
	a.Relevance = Relevance(question, a, chunks)
	a.relevanceScored = true
}

func relevance(qa question, qp poleSet, a *Answer, items []item) float64 {
	if a.Fallback || len(a.Sentences) == 0 || len(qa.terms) == 0 {
		return 0
	}
	said := make(map[string]struct{})
	head := make(map[string]struct{})
	var body strings.Builder
	number := false
	for _, s := range a.Sentences {
		body.WriteString(s.Text)
		body.WriteString("\n")
		for _, t := range tokenize(s.Text) {
			said[t.stem] = struct{}{}
			number = number || t.num
		}
		for _, n := range s.Cites {
			if n >= 1 && n <= len(items) {
				for t := range items[n-1].head {
					head[t] = struct{}{}
				}
			}
		}
	}
	ap := poles(body.String())
	weights := termWeights(qa, items)
	var in, context, total float64
	for _, t := range qa.terms {
		w := weights[t]
		total += w
		switch {
		case has(said, t) || ap.says(t):
			in += w
		case has(head, t):
			context += w
		}
	}
	if total == 0 {
		return 0
	}
	r := (in + contextCredit*context) / total
	if qp.opposes(ap) {
		r *= oppositeRelevance
	}
	if qa.wantNumber && !number {
		r *= noNumberFactor
	}
	return min(1, r)
}
