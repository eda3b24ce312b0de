package answer

import (
	"context"
	"fmt"
	"math"
	"slices"

	"llmops/store"
)

// Embedder embeds texts, one vector per text; rag/embed models fit it.
type Embedder func(ctx context.Context, texts []string) ([][]float32, error)

// embedWeight is the share of a sentence's support that comes from the
// embedding cosine when an Embedder is given. Lexical support stays the
// larger share: a local embedder rates any on-topic sentence as similar,
// invented details included, while a missing word or number is evidence.
const embedWeight = 0.25

// Term weights for support: a number or a name the source does not contain
// is the typical invented detail ("within 60 days", "Paychex"), so those
// count more than ordinary words.
const (
	weightWord   = 1.0
	weightName   = 1.5
	weightNumber = 2.0
)

// Ground scores each sentence of a against the context items it cites
// (chunks, numbered from 1) and sets a.Groundedness to the mean. A
// sentence's support is the weighted share of its content words (stemmed;
// numbers and names weigh more, and so do words few chunks contain) found
// in the best-supporting sentence of its cited chunks, averaged with the
// share found in that sentence's neighbourhood plus the chunk's headings,
// which credits an answer that merges two adjacent source sentences. With
// embed, the cosine between the sentence and that best source sentence is
// blended in. Sentences without citations score 0.
//
// Citations to numbers outside 1..len(chunks) are removed from the
// sentences and from a.Text and counted in a.Removed; a.Citations is
// rebuilt, each snippet being the best-supporting source sentence. When
// a.Sentences is nil it is parsed from a.Text first. A fallback answer is
// left alone.
func Ground(ctx context.Context, a *Answer, chunks []store.ChunkRef, embed Embedder) error {
	return ground(ctx, a, chunks, analyse(chunks), embed)
}

func ground(ctx context.Context, a *Answer, chunks []store.ChunkRef, items []item, embed Embedder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Fallback {
		return nil
	}
	if a.Sentences == nil {
		a.Sentences = ParseCitations(a.Text)
	}
	valid := func(n int) bool { return n >= 1 && n <= len(items) }
	removed := 0
	for i := range a.Sentences {
		s := &a.Sentences[i]
		kept := slices.DeleteFunc(slices.Clone(s.Cites), func(n int) bool { return !valid(n) })
		removed += len(s.Cites) - len(kept)
		s.Cites = kept
	}
	if text, dropped := keepMarkersIfInvalid(a.Text, valid); dropped > 0 {
		a.Text = text
		removed = max(removed, dropped)
	}
	a.Removed += removed

	best := make([]*passage, len(a.Sentences))
	snippets := make(map[int]scoredText)
	for i := range a.Sentences {
		s := &a.Sentences[i]
		s.Support = 0
		if len(s.Cites) == 0 {
			continue
		}
		var n int
		s.Support, n, best[i] = lexicalSupport(tokenize(s.Text), s.Cites, items)
		if best[i] != nil && s.Support > snippets[n].score {
			snippets[n] = scoredText{s.Support, best[i].text}
		}
	}
	if embed != nil {
		if err := blendEmbeddings(ctx, a.Sentences, best, embed); err != nil {
			return err
		}
	}
	a.Groundedness = 0
	if len(a.Sentences) > 0 {
		sum := 0.0
		for _, s := range a.Sentences {
			sum += s.Support
		}
		a.Groundedness = sum / float64(len(a.Sentences))
	}
	a.Citations = citations(a.Sentences, chunks, func(n int) string { return snippets[n].text })
	return nil
}

type scoredText struct {
	score float64
	text  string
}

// keepMarkersIfInvalid drops markers outside the context from text,
// leaving text untouched (its marker style included) when all are valid.
func keepMarkersIfInvalid(text string, valid func(int) bool) (string, int) {
	for _, m := range MarkerRE.FindAllString(text, -1) {
		for _, n := range markerNumbers(m) {
			if !valid(n) {
				return keepMarkers(text, valid)
			}
		}
	}
	return text, 0
}

// lexicalSupport returns how well the passages of the cited items support
// a sentence with tokens toks, which item and passage support it best.
func lexicalSupport(toks []token, cites []int, items []item) (float64, int, *passage) {
	weights := make(map[string]float64, len(toks))
	for _, t := range toks {
		w := weightWord
		switch {
		case t.num:
			w = weightNumber
		case t.name:
			w = weightName
		}
		weights[t.stem] = max(weights[t.stem], w)
	}
	total := 0.0
	for stem, w := range weights {
		w *= rarity(stem, items)
		weights[stem] = w
		total += w
	}
	bestScore, bestN := -1.0, 0
	var bestP *passage
	for _, n := range cites {
		it := &items[n-1]
		for j := range it.passages {
			p := &it.passages[j]
			var inSentence, inWindow float64
			for stem, w := range weights {
				switch {
				case has(p.terms, stem):
					inSentence += w
					inWindow += w
				case has(it.head, stem) ||
					j > 0 && has(it.passages[j-1].terms, stem) ||
					j+1 < len(it.passages) && has(it.passages[j+1].terms, stem):
					inWindow += w
				}
			}
			score := 1.0 // a sentence with no content words ("Yes.") claims nothing
			if total > 0 {
				score = (inSentence + inWindow) / (2 * total)
			}
			if score > bestScore {
				bestScore, bestN, bestP = score, n, p
			}
		}
	}
	if bestP == nil {
		if total == 0 {
			return 1, cites[0], nil
		}
		return 0, cites[0], nil
	}
	return bestScore, bestN, bestP
}

// rarity weights a term by its inverse document frequency over the
// context: words every chunk has ("workspace", "plan") back any claim a
// little, while a claim's specific words ("on-site", "nonprofit") carry
// it, and a word no chunk has is the strongest sign of invention.
func rarity(stem string, items []item) float64 {
	return math.Log(1 + (float64(len(items))+1)/(float64(docFreq(items, stem))+0.5))
}

func has(set map[string]struct{}, k string) bool {
	_, ok := set[k]
	return ok
}

// blendEmbeddings mixes the cosine between each cited sentence and its best
// source passage into the sentence's support, embedding all pairs in one
// call.
func blendEmbeddings(ctx context.Context, sentences []Sentence, best []*passage, embed Embedder) error {
	var texts []string
	var idx []int
	for i, s := range sentences {
		if best[i] != nil {
			texts = append(texts, s.Text, best[i].text)
			idx = append(idx, i)
		}
	}
	if len(texts) == 0 {
		return nil
	}
	vecs, err := embed(ctx, texts)
	if err != nil {
		return fmt.Errorf("groundedness: embed: %w", err)
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("groundedness: embed returned %d vectors for %d texts", len(vecs), len(texts))
	}
	for k, i := range idx {
		c := max(0, cosine(vecs[2*k], vecs[2*k+1]))
		sentences[i].Support = (1-embedWeight)*sentences[i].Support + embedWeight*c
	}
	return nil
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return math.Min(1, dot/math.Sqrt(na*nb))
}
