package chunk

import (
	"container/heap"
	"math"
)

// shortPiece is the longest piece merged with tiktoken's quadratic scan,
// which is fastest for the short pieces real text is made of. Longer pieces
// (a base64 blob, a run of dashes) use a heap, so no input is quadratic.
const shortPiece = 128

const noRank = math.MaxInt

// merge applies byte-pair merges to a piece that is not itself a token and
// returns the offsets where its tokens start, followed by len(piece).
// bounds is scratch space for the result.
func (t *bpeTokenizer) merge(piece string, bounds []int) []int {
	if len(piece) > shortPiece {
		return t.mergeLong(piece)
	}
	return t.mergeShort(piece, bounds)
}

// mergeShort is tiktoken's algorithm: repeatedly merge the adjacent pair
// with the lowest rank, the leftmost one on ties.
func (t *bpeTokenizer) mergeShort(piece string, bounds []int) []int {
	var rankBuf [shortPiece + 1]int
	bounds = bounds[:0]
	for i := 0; i <= len(piece); i++ {
		bounds = append(bounds, i)
	}
	ranks := rankBuf[:len(bounds)]
	// pairRank is the rank of the token made of parts i and i+1.
	pairRank := func(i int) int {
		if i+2 >= len(bounds) {
			return noRank
		}
		if r, ok := t.ranks[piece[bounds[i]:bounds[i+2]]]; ok {
			return r
		}
		return noRank
	}
	for i := range ranks {
		ranks[i] = pairRank(i)
	}
	for {
		best, at := noRank, -1
		for i, r := range ranks[:len(ranks)-1] {
			if r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			return bounds
		}
		bounds = append(bounds[:at+1], bounds[at+2:]...)
		ranks = append(ranks[:at+1], ranks[at+2:]...)
		ranks[at] = pairRank(at)
		if at > 0 {
			ranks[at-1] = pairRank(at - 1)
		}
	}
}

// mergeLong gives the same result as mergeShort in O(n log n): parts form
// a linked list, candidate pairs wait in a heap ordered like the scan
// (rank, then position), and pairs that a merge has changed are skipped
// when they come out.
func (t *bpeTokenizer) mergeLong(piece string) []int {
	n := len(piece)
	next := make([]int, n+1) // next[i] is where the part starting at i ends
	prev := make([]int, n+1)
	dead := make([]bool, n+1)
	for i := range next {
		next[i], prev[i] = i+1, i-1
	}
	h := &pairHeap{}
	push := func(i int) {
		if i < 0 || next[i] >= n {
			return
		}
		end := next[next[i]]
		if r, ok := t.ranks[piece[i:end]]; ok {
			heap.Push(h, pair{rank: r, start: i, end: end})
		}
	}
	for i := range n {
		push(i)
	}
	for h.Len() > 0 {
		p := heap.Pop(h).(pair)
		i := p.start
		if dead[i] || next[i] >= n || next[next[i]] != p.end {
			continue // stale: one of its two parts has grown since
		}
		j := next[i]
		dead[j] = true
		next[i] = next[j]
		prev[next[j]] = i
		push(i)
		push(prev[i])
	}
	var bounds []int
	for i := 0; i < n; i = next[i] {
		bounds = append(bounds, i)
	}
	return append(bounds, n)
}

// pair is a candidate merge of the two parts spanning piece[start:end].
type pair struct{ rank, start, end int }

type pairHeap []pair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].start < h[j].start
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
