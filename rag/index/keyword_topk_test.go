package index

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

// zipfWords makes a vocabulary of pronounceable words (the English
// analyser stems some of them together) and a Zipf sampler over it.
func zipfWords(rng *rand.Rand, n int) ([]string, func() string) {
	syl := []string{"ka", "lo", "mi", "ner", "tus", "ing", "ed", "ap", "ples", "run", "ning", "sta", "tion", "al", "ly"}
	seen := map[string]bool{}
	var vocab []string
	for len(vocab) < n {
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	// stop words, which the analyser drops, among the common words
	vocab = append([]string{"the", "and", "of"}, vocab...)
	z := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	return vocab, func() string { return vocab[z.Uint64()] }
}

// TestKeywordTopKMatchesBleve checks the MaxScore top-k against bleve's own
// searcher on an index of several segments with deletions, replacements and
// exact duplicates (tied scores): the same IDs in the same order, the same
// scores, for every n.
func TestKeywordTopKMatchesBleve(t *testing.T) {
	ctx := context.Background()
	k, err := OpenKeyword(filepath.Join(t.TempDir(), "kw"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	rng := rand.New(rand.NewPCG(3, 14))
	_, word := zipfWords(rng, 2000)
	text := func() string {
		w := make([]string, 3+rng.IntN(60))
		for i := range w {
			w[i] = word()
		}
		return strings.Join(w, " ")
	}
	live := map[string]bool{}
	next := 0
	add := func(count int) []Entry {
		es := make([]Entry, count)
		for i := range es {
			es[i] = Entry{ID: fmt.Sprintf("c%05d", next), Text: text()}
			switch {
			case i > 0 && rng.IntN(10) == 0:
				es[i].Text = es[i-1].Text // ties
			case rng.IntN(20) == 0:
				// short and repetitive: scores near the terms' bounds
				es[i].Text = strings.Repeat(word()+" ", 1+rng.IntN(20))
			}
			live[es[i].ID] = true
			next++
		}
		return es
	}
	for range 5 {
		if err := k.Apply(ctx, nil, add(500), store.Fingerprint{}); err != nil {
			t.Fatal(err)
		}
	}
	var queries []string
	for i := range 300 {
		words := 1 + i%4
		if i%10 == 0 {
			words = 8 + rng.IntN(3) // at most bleve's slice disjunction
		}
		w := make([]string, words)
		for j := range w {
			w[j] = word()
		}
		if i%7 == 0 {
			w = append(w, w[0]) // a repeated term
		}
		if i%11 == 0 {
			w = append(w, "zzyzx") // in no document
		}
		queries = append(queries, strings.Join(w, " "))
	}

	// Rounds of changes, each followed by the queries twice (the second
	// time with the term bounds the first learnt). The changes delete,
	// replace and add chunks, among them one-word chunks, which score
	// above any bound learnt before them.
	deleted := map[string]bool{}
	same, compared, learnt := 0, 0, 0
	for round := range 4 {
		if round > 0 {
			var remove []string
			var replace []Entry
			for _, id := range slices.Sorted(maps.Keys(live)) {
				switch rng.IntN(12) {
				case 0:
					remove = append(remove, id)
				case 1:
					replace = append(replace, Entry{ID: id, Text: text()})
				}
			}
			for _, id := range remove {
				delete(live, id)
				deleted[id] = true
			}
			more := add(200)
			for i := range 20 {
				more[i].Text = word()
			}
			if err := k.Apply(ctx, remove, append(replace, more...), store.Fingerprint{}); err != nil {
				t.Fatal(err)
			}
			for id := range live {
				delete(deleted, id)
			}
			if len(deleted) == 0 {
				t.Fatal("no deleted documents to check")
			}
		}
		for range 2 {
			for _, q := range queries {
				for _, n := range []int{1, 10, 50, 100} {
					want, got, err := settled(t, k, q, n)
					if len(k.Terms(q)) == 0 {
						if err == nil {
							t.Fatalf("%q: no terms, want the bleve fallback", q)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%q n=%d: %v", q, n, err)
					}
					if len(got) != len(want) {
						t.Fatalf("round %d %q n=%d: %d hits, bleve %d", round, q, n, len(got), len(want))
					}
					for i := range want {
						if got[i].ID != want[i].ID {
							t.Fatalf("round %d %q n=%d: hit %d is %s (%.17g), bleve %s (%.17g)", round, q, n, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
						}
						if d := math.Abs(got[i].Score - want[i].Score); d > 1e-9*math.Abs(want[i].Score) {
							t.Fatalf("round %d %q n=%d: %s scores %.17g, bleve %.17g", round, q, n, got[i].ID, got[i].Score, want[i].Score)
						}
						if got[i].Score == want[i].Score {
							same++
						}
						compared++
						if deleted[got[i].ID] {
							t.Fatalf("%q n=%d: deleted %s returned", q, n, got[i].ID)
						}
					}
				}
			}
		}
		learnt += len(k.bounds.sat)
	}
	if compared < 50000 || learnt == 0 {
		t.Fatalf("only %d hits compared, %d term bounds learnt", compared, learnt)
	}
	t.Logf("%d hits compared, %d scores bit-identical, %d term bounds learnt", compared, same, learnt)

	// Search takes the top-k path unfiltered and bleve's with a filter or
	// more terms than bleve's slice disjunction.
	long := strings.Repeat("kalo mi ", 8)
	for _, q := range []string{queries[1], long} {
		got, err := k.Search(ctx, q, 10, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := k.searchBleve(ctx, q, 10, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Search(%q) = %v, bleve %v", q, got, want)
		}
	}
	k.mu.RLock()
	_, err = k.topK(ctx, long, 10)
	k.mu.RUnlock()
	if err == nil {
		t.Fatalf("%d terms: want the bleve fallback", len(k.Terms(long)))
	}
}

// settled returns bleve's answer and topK's (and topK's error) read while
// bleve's BM25 statistics held still. Bleve merges segments in the
// background after a batch, which changes them between readers (its
// avgDocLength sums the segments' distinct terms; Count drops deleted
// postings), so bleve's own answer to one query can change from one call
// to the next: bleve is asked before and after topK until both agree.
func settled(t *testing.T, k *Keyword, q string, n int) (want, got []Hit, err error) {
	t.Helper()
	ctx := context.Background()
	for range 200 {
		want, err := k.searchBleve(ctx, q, n, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		k.mu.RLock()
		got, topKErr := k.topK(ctx, q, n)
		k.mu.RUnlock()
		again, err := k.searchBleve(ctx, q, n, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(want, again) {
			return want, got, topKErr
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%q: bleve's answer kept changing", q)
	return nil, nil, nil
}

// BenchmarkKeywordSearch times an unfiltered top-50 BM25 query of three Zipf
// words over 20,000 chunks: Search (MaxScore, bounds learnt in the warm-up)
// against bleve's searcher.
func BenchmarkKeywordSearch(b *testing.B) {
	ctx := context.Background()
	k, err := OpenKeyword(filepath.Join(b.TempDir(), "kw"))
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	rng := rand.New(rand.NewPCG(5, 9))
	_, word := zipfWords(rng, 3000)
	for batch := range 10 {
		es := make([]Entry, 2000)
		for i := range es {
			w := make([]string, 20+rng.IntN(100))
			for j := range w {
				w[j] = word()
			}
			es[i] = Entry{ID: fmt.Sprintf("c%d-%d", batch, i), Text: strings.Join(w, " ")}
		}
		if err := k.Apply(ctx, nil, es, store.Fingerprint{}); err != nil {
			b.Fatal(err)
		}
	}
	queries := make([]string, 200)
	for i := range queries {
		queries[i] = word() + " " + word() + " " + word()
	}
	for name, search := range map[string]func(string) ([]Hit, error){
		"maxscore": func(q string) ([]Hit, error) { return k.Search(ctx, q, 50, Filter{}) },
		"bleve":    func(q string) ([]Hit, error) { return k.searchBleve(ctx, q, 50, Filter{}) },
	} {
		b.Run(name, func(b *testing.B) {
			for _, q := range queries {
				if _, err := search(q); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := search(queries[i%len(queries)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
