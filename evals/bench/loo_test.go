package bench

import (
	"strings"
	"testing"
)

// TestChoose: a held-out set never influences its own choice, a candidate
// that loses more than 0.002 to BM25 on any other set is passed over
// when a safe one exists, and the best mean gain wins otherwise.
func TestChoose(t *testing.T) {
	names := make([]string, len(Candidates))
	for i, c := range Candidates {
		names[i] = c.Name
	}
	a, b, c := names[0], names[1], names[2]
	set := func(name string, bm25 float64, scores map[string]float64) SetScores {
		return SetScores{Name: name, BM25: bm25, Scores: scores}
	}
	sets := []SetScores{
		// b gains most on average but loses 0.01 on "x".
		set("x", 0.50, map[string]float64{a: 0.51, b: 0.49, c: 0.505}),
		set("y", 0.30, map[string]float64{a: 0.31, b: 0.40, c: 0.32}),
		// On "z" a is best by far: it must not count while z is held out.
		set("z", 0.80, map[string]float64{a: 0.99, b: 0.80, c: 0.80}),
	}
	for _, tc := range []struct {
		out  int
		want string
	}{
		{2, c}, // on x and y: b loses on x; a gains 0.010, c 0.0125
		{0, a}, // on y and z: b is safe there, but a gains more (0.10 vs 0.05)
		{1, a}, // on x and z
	} {
		if got := choose(sets, tc.out); got != tc.want {
			t.Errorf("holding out %s: chose %q, want %q", sets[tc.out].Name, got, tc.want)
		}
	}
	// No safe candidate: the best mean gain.
	unsafe := []SetScores{
		set("x", 0.5, map[string]float64{a: 0.40, b: 0.45, c: 0.30}),
		set("y", 0.5, map[string]float64{a: 0.60, b: 0.49, c: 0.40}),
		set("z", 0.5, map[string]float64{}),
	}
	if got := choose(unsafe, 2); got != a {
		t.Errorf("no safe candidate: chose %q, want %q (best mean gain)", got, a)
	}
}

// TestHalve: a passage is split at the sentence boundary nearest its
// middle word, and texts too short to halve are left whole.
func TestHalve(t *testing.T) {
	long := strings.Repeat("One two three four five six seven eight nine ten. ", 6) +
		strings.Repeat("Alpha beta gamma delta epsilon zeta eta theta iota kappa. ", 3)
	first, second, ok := halve(long)
	if !ok {
		t.Fatal("a 90-word text of 9 sentences was not halved")
	}
	if n, m := len(strings.Fields(first)), len(strings.Fields(second)); n != 40 || m != 50 {
		t.Errorf("halves of %d and %d words, want 40 and 50 (the boundary nearest word 45)", n, m)
	}
	if strings.Contains(first, "Alpha") || !strings.HasPrefix(second, "One") {
		t.Errorf("split in the wrong place: %q | %q", first, second)
	}
	if _, _, ok := halve(strings.Repeat("word ", 79) + "end."); ok {
		t.Error("a 80-word text of one sentence was halved")
	}
	if _, _, ok := halve("Short. Text."); ok {
		t.Error("a two-word text was halved")
	}
}
