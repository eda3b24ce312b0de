package review

import (
	"context"
	"math"
	"slices"

	"llmops/rag/text"
)

// EmbedFunc embeds texts with the knowledge base's active model
// (rag.KnowledgeBase.EmbedTexts); nil, or an error, leaves clustering to
// lexical overlap alone.
type EmbedFunc func(ctx context.Context, texts []string) ([][]float32, error)

// ClusterThreshold is the similarity at which a question joins a cluster:
// the mean, over the cluster's questions, of 0.5 × cosine of the embeddings
// + 0.5 × Jaccard overlap of stemmed content words (Jaccard alone without
// an embedder). Chosen on the paraphrase fixture of TestClusterPurity.
const ClusterThreshold = 0.3

// Cluster groups questions that ask the same thing. It returns clusters
// as lists of indexes into questions, largest first (ties: first seen
// first). Average-link, one pass in input order: each question joins the
// cluster it is most similar to on average when that reaches
// ClusterThreshold, else starts its own. O(n²) similarities, fine for a
// week's failing answers (hundreds).
func Cluster(ctx context.Context, embed EmbedFunc, questions []string) [][]int {
	if len(questions) == 0 {
		return nil
	}
	words := make([][]string, len(questions))
	var buf []byte
	for i, q := range questions {
		buf = text.ForEachToken(q, buf, 2, func(tok []byte) {
			if !text.IsStopWordBytes(tok) {
				w := text.Stem(string(tok))
				if !slices.Contains(words[i], w) {
					words[i] = append(words[i], w)
				}
			}
		})
	}
	var vecs [][]float32
	if embed != nil {
		if v, err := embed(ctx, questions); err == nil && len(v) == len(questions) {
			vecs = v
		}
	}
	sim := func(i, j int) float64 {
		lex := jaccard(words[i], words[j])
		if vecs == nil {
			return lex
		}
		return 0.5*cosine(vecs[i], vecs[j]) + 0.5*lex
	}
	var clusters [][]int
	for i := range questions {
		best, bestSim := -1, ClusterThreshold
		for c, members := range clusters {
			s := 0.0
			for _, j := range members {
				s += sim(i, j)
			}
			if s /= float64(len(members)); s >= bestSim {
				best, bestSim = c, s
			}
		}
		if best < 0 {
			clusters = append(clusters, []int{i})
		} else {
			clusters[best] = append(clusters[best], i)
		}
	}
	slices.SortStableFunc(clusters, func(a, b []int) int { return len(b) - len(a) })
	return clusters
}

func jaccard(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	both := 0
	for _, w := range a {
		if slices.Contains(b, w) {
			both++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
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
	return dot / math.Sqrt(na*nb)
}

// Purity is the share of items whose cluster's majority family is their
// own family: 1 when no cluster mixes questions of different families.
func Purity(clusters [][]int, family []int) float64 {
	n, ok := 0, 0
	for _, c := range clusters {
		count := map[int]int{}
		top := 0
		for _, i := range c {
			count[family[i]]++
			top = max(top, count[family[i]])
		}
		ok += top
		n += len(c)
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}
