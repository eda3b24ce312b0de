package chunk

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// Tokenizer counts tokens. Chunk sizes, windows and the last-resort split
// of an over-long word are all defined by Count alone, so a test can plug
// in a trivial tokenizer and another model's tokenizer fits in one method.
type Tokenizer interface {
	Count(s string) int
}

var _ Tokenizer = (*bpeTokenizer)(nil)

// NewTokenizer returns the cl100k_base tokenizer (GPT-4, text-embedding-3),
// built from the tables embedded in tiktoken-go-loader. The tables are
// parsed once per process, on first use; every later call is free.
func NewTokenizer() (Tokenizer, error) {
	return loadCL100K()
}

// loadCL100K parses the 100k-entry rank table (about 70 ms and 10 MB), so
// it runs once and only when a tokenizer is first asked for.
var loadCL100K = sync.OnceValues(func() (*bpeTokenizer, error) {
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
	if err != nil {
		return nil, fmt.Errorf("load cl100k_base tables: %w", err)
	}
	return &bpeTokenizer{ranks: compactRanks(ranks)}, nil
})

// compactRanks copies the rank table so that all token bytes sit in one
// string, in rank order. The loader allocates every key separately; with
// frequent tokens packed together, look-ups miss the CPU cache less.
func compactRanks(ranks map[string]int) map[string]int {
	maxRank, size := 0, 0
	for tok, rank := range ranks {
		maxRank = max(maxRank, rank)
		size += len(tok)
	}
	byRank := make([]string, maxRank+1) // ranks are dense: 0 to 100255
	for tok, rank := range ranks {
		byRank[rank] = tok
	}
	var arena strings.Builder
	arena.Grow(size)
	for _, tok := range byRank {
		arena.WriteString(tok)
	}
	all := arena.String()
	out := make(map[string]int, len(ranks))
	for rank, tok := range byRank {
		if tok != "" {
			out[all[:len(tok)]] = rank
			all = all[len(tok):]
		}
	}
	return out
}

// bpeTokenizer is cl100k_base: the pre-tokenizer in pretokenize.go cuts
// text into pieces and byte-pair merging (bpe.go) turns each piece into
// tokens. It gives the same tokens as tiktoken-go (tokenizer_test.go
// checks) some 20 times faster, because it replaces tiktoken-go's
// backtracking regexp and per-call []rune and string copies with one
// pass over the string that allocates only to remember merges.
// It is safe for concurrent use: ranks is only read, merged is locked.
type bpeTokenizer struct {
	ranks  map[string]int
	merged mergeCache
}

// Count returns the number of cl100k_base tokens in s.
func (t *bpeTokenizer) Count(s string) int {
	s = runeClean(s)
	n := 0
	for len(s) > 0 {
		size := nextPiece(s)
		n += t.pieceCount(s[:size])
		s = s[size:]
	}
	return n
}

// encode returns the token ids of s. Chunking only needs Count; encode
// exists so tests can compare whole token sequences with tiktoken-go.
func (t *bpeTokenizer) encode(s string) []int {
	s = runeClean(s)
	var ids []int
	var buf [shortPiece + 1]int
	for len(s) > 0 {
		size := nextPiece(s)
		piece := s[:size]
		s = s[size:]
		if id, ok := t.ranks[piece]; ok {
			ids = append(ids, id)
			continue
		}
		bounds := t.merge(piece, buf[:0])
		for i := 1; i < len(bounds); i++ {
			ids = append(ids, t.ranks[piece[bounds[i-1]:bounds[i]]])
		}
	}
	return ids
}

// pieceCount returns the number of tokens of one pre-tokenized piece. Most
// pieces are whole entries of the vocabulary, so the map lookup usually
// answers without merging; the words that are not ("Rosterly",
// "integrations,") recur, so their merges are remembered.
func (t *bpeTokenizer) pieceCount(piece string) int {
	if _, ok := t.ranks[piece]; ok {
		return 1
	}
	if n, ok := t.merged.get(piece); ok {
		return n
	}
	var buf [shortPiece + 1]int
	n := len(t.merge(piece, buf[:0])) - 1
	if len(piece) <= shortPiece {
		t.merged.put(piece, n)
	}
	return n
}

// mergeCache maps pieces to their token counts. It is emptied when full,
// which bounds its memory whatever the input, and keeps it simple: the
// words worth remembering come back quickly.
type mergeCache struct {
	mu     sync.RWMutex
	counts map[string]int
}

const mergeCacheSize = 1 << 15

func (c *mergeCache) get(piece string) (int, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.counts[piece]
	return n, ok
}

func (c *mergeCache) put(piece string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || len(c.counts) >= mergeCacheSize {
		c.counts = make(map[string]int)
	}
	c.counts[strings.Clone(piece)] = n // piece would pin the caller's whole text
}

// runeClean makes s valid UTF-8 the way tiktoken-go does, by decoding it to
// runes: each invalid byte becomes U+FFFD. Counts then match the reference
// even for broken input, and valid input (the usual case) is not copied.
func runeClean(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}
