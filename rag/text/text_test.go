package text

import (
	"strings"
	"testing"
)

func TestStopWordsAndStem(t *testing.T) {
	for _, w := range []string{"the", "don", "just", "which"} {
		if !IsStopWord(w) || !IsStopWordBytes([]byte(w)) {
			t.Errorf("%q is not a stop word", w)
		}
	}
	if IsStopWord("refund") {
		t.Error("refund is a stop word")
	}
	for in, want := range map[string]string{"refunds": "refund", "cancelling": "cancel", "v4.2": "v4.2", "scheduling": "schedul"} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len(StopWords()); n < 150 {
		t.Errorf("%d stop words", n)
	}
}

func TestForEachToken(t *testing.T) {
	var got []string
	ForEachToken("Don't re-sync the Café API v4.2 a x", nil, 1, func(tok []byte) { got = append(got, string(tok)) })
	want := "don t re sync the café api v4 2 a x"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("tokens = %q, want %q", s, want)
	}
	got = got[:0]
	ForEachToken("a bb "+strings.Repeat("z", MaxTokenBytes+1), nil, 2, func(tok []byte) { got = append(got, string(tok)) })
	if len(got) != 1 || got[0] != "bb" {
		t.Errorf("min/max length: %q", got)
	}
}
