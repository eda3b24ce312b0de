package text

import "testing"

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
