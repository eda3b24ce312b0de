package chunk

import (
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"

	sampledata "llmops/sample-data"
)

// referenceEncoder is tiktoken-go's cl100k_base, the behaviour bpeTokenizer
// must reproduce. It is built without tiktoken.SetBpeLoader so the test
// leaves that package's global loader alone.
var referenceEncoder = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
	if err != nil {
		return nil, err
	}
	const pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	core, err := tiktoken.NewCoreBPE(ranks, map[string]int{}, pattern)
	if err != nil {
		return nil, err
	}
	enc := &tiktoken.Encoding{Name: "cl100k_base", PatStr: pattern, MergeableRanks: ranks}
	return tiktoken.NewTiktoken(core, enc, map[string]any{}), nil
})

func mustTokenizer(tb testing.TB) *bpeTokenizer {
	tb.Helper()
	tok, err := NewTokenizer()
	if err != nil {
		tb.Fatalf("NewTokenizer: %v", err)
	}
	return tok.(*bpeTokenizer)
}

func mustReference(tb testing.TB) *tiktoken.Tiktoken {
	tb.Helper()
	ref, err := referenceEncoder()
	if err != nil {
		tb.Fatalf("reference encoder: %v", err)
	}
	return ref
}

// checkSameTokens fails unless bpeTokenizer and tiktoken-go agree on s.
func checkSameTokens(t *testing.T, tok *bpeTokenizer, ref *tiktoken.Tiktoken, s string) {
	t.Helper()
	want := ref.EncodeOrdinary(s)
	if got := tok.encode(s); !slices.Equal(got, want) {
		t.Fatalf("encode(%q)\n got %v\nwant %v", s, got, want)
	}
	if got := tok.Count(s); got != len(want) {
		t.Fatalf("Count(%q) = %d, want %d", s, got, len(want))
	}
}

func TestTokenizerMatchesTiktoken(t *testing.T) {
	t.Parallel()
	tok, ref := mustTokenizer(t), mustReference(t)
	cases := []string{
		"", " ", "  ", "\n", "a", "Hello, world!", "hello  world", "a \n\n b",
		"don't I'M we'Re they've you'LL she'd 'sup '", "x\r\n\r\n  y", "  \t\n  lead",
		"tail   ", "12345 3.14159 1,000,000", "caf\u00e9 na\u00efve \u00fcber stra\u00dfe",
		"\u4f60\u597d\uff0c\u4e16\u754c\u3002\u8fd9\u662f\u6d4b\u8bd5\u3002", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
		"emoji \U0001F600\U0001F680!", "nbsp\u00a0here ideographic\u3000space", "e\u0301 combining",
		"<|endoftext|> is ordinary text here", "`code` **bold** _em_ [link](https://x.com/a?b=c)",
		"    indented code\n\tfunc main() {}\n", "\u00bd \u00b2 \u2167 numbers", "--------------------------------",
		strings.Repeat("abcdefghij", 50), strings.Repeat("=", 300), strings.Repeat("\u00e9", 200),
		"bad \xff utf8 \xc3", "line\r\rcarriage",
	}
	for _, s := range cases {
		checkSameTokens(t, tok, ref, s)
	}
}

func TestTokenizerMatchesTiktokenOnSampleData(t *testing.T) {
	t.Parallel()
	tok, ref := mustTokenizer(t), mustReference(t)
	err := fs.WalkDir(sampledata.FS(), "docs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".pdf") {
			return err
		}
		data, err := fs.ReadFile(sampledata.FS(), path)
		if err != nil {
			return err
		}
		checkSameTokens(t, tok, ref, string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTokenizerMatchesTiktokenOnRandomText draws strings from an alphabet
// built to hit every branch of the pre-tokenizer and long merges.
func TestTokenizerMatchesTiktokenOnRandomText(t *testing.T) {
	t.Parallel()
	tok, ref := mustTokenizer(t), mustReference(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		checkSameTokens(t, tok, ref, randomTokenizerText(rng, 1+rng.IntN(100)))
	}
}

var tokenizerAlphabet = []string{
	"a", "e", "s", "t", "re", "ll", "Z", "'", "'s", "'T", " ", " ", "  ", "\t", "\n", "\r\n", "\n\n",
	"0", "7", "42", ".", ",", "!", "?", "-", "(", ")", "*", "#", "|", "/", ":", "\"", "\u00e9", "\u00df",
	"\u4e2d", "\u6587", "\u3002", "\u0416", "\u0301", "\u00a0", "\u3000", "\u00b2", "\U0001F600", "\u2014",
	"the", "The", " and", "ing", "tion", "http", "://", "www", ".com",
}

func randomTokenizerText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		if rng.IntN(40) == 0 { // now and then a long run, for mergeLong
			b.WriteString(strings.Repeat(tokenizerAlphabet[rng.IntN(len(tokenizerAlphabet))], 20+rng.IntN(60)))
			continue
		}
		b.WriteString(tokenizerAlphabet[rng.IntN(len(tokenizerAlphabet))])
	}
	return b.String()
}

func TestMergeLongMatchesMergeShort(t *testing.T) {
	t.Parallel()
	tok := mustTokenizer(t)
	rng := rand.New(rand.NewPCG(3, 4))
	letters := "abcdefghijklmnopqrstuvwxyzeeeeaaaaoooo"
	for range 500 {
		b := make([]byte, 1+rng.IntN(shortPiece))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		piece := string(b)
		var buf [shortPiece + 1]int
		short := tok.mergeShort(piece, buf[:0])
		if long := tok.mergeLong(piece); !slices.Equal(short, long) {
			t.Fatalf("piece %q: mergeLong %v, mergeShort %v", piece, long, short)
		}
	}
}

func FuzzTokenizer(f *testing.F) {
	for _, s := range []string{"Hello, world!", "don't  stop\r\n\n", "\u4e2d\u6587\u3002", "a\xffb", "  12345."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ref := mustTokenizer(t), mustReference(t)
		if !utf8.ValidString(s) {
			s = string([]rune(s)) // as tiktoken-go sees it; Count does the same
		}
		if n := tok.Count(s); n < 0 || (n == 0) != (s == "") {
			t.Fatalf("Count of %d bytes = %d", len(s), n)
		}
		// The reference is quadratic on long pieces (15,000 U+FFFD: 2.3 s,
		// against 71 ms here), which stalled fuzz workers on long inputs:
		// it checks a bounded prefix, cut at a rune boundary.
		if len(s) > maxReferenceBytes {
			cut := maxReferenceBytes
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			s = s[:cut]
		}
		checkSameTokens(t, tok, ref, s)
	})
}

// maxReferenceBytes bounds what FuzzTokenizer hands the reference.
const maxReferenceBytes = 2048

func TestNewTokenizerLoadsOnce(t *testing.T) {
	t.Parallel()
	a, errA := NewTokenizer()
	b, errB := NewTokenizer()
	if errA != nil || errB != nil {
		t.Fatalf("NewTokenizer: %v, %v", errA, errB)
	}
	if a != b {
		t.Error("NewTokenizer built the tables twice")
	}
	if got := a.Count("Rosterly schedules shifts."); got != 6 { // R, oster, ly, " schedules", " shifts", "."
		t.Errorf("Count = %d, want 6", got)
	}
}
