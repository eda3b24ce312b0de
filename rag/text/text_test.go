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

func TestMergeCitationRuns(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, in, want string }{
		{"prose run", "A [1]. B [1]. C [1].", "A. B. C [1]."},
		{"markers after the stop", "A.[1] B. [1]", "A. B. [1]"},
		{"same numbers, other spelling", "A [1][2]. B [2, 1].", "A. B [2, 1]."},
		{"a change of source ends the run", "A [1]. B [2]. C [1].", "A [1]. B [2]. C [1]."},
		{"list items", "1. Open [1]\n2. Save [1]\n3. Done [1]", "1. Open\n2. Save\n3. Done [1]"},
		{"prose and list are separate runs", "Intro [1]\n- Open [1]\n- Save [1]", "Intro [1]\n- Open\n- Save [1]"},
		{"blank line ends a run", "A [1].\n\nB [1].", "A [1].\n\nB [1]."},
		{"numbered and bulleted lists are separate runs", "1. A [1]\n- B [1]", "1. A [1]\n- B [1]"},
		{"indented continuation belongs to the item", "- A [1]\n  more [1]\n- B [1]", "- A\n  more\n- B [1]"},
		{"code is left alone", "```\nx [1] y [1]\n```\n[1]", "```\nx [1] y [1]\n```\n[1]"},
		{"glued marker keeps a space", "done.[1]Next [1]", "done. Next [1]"},
		{"no markers", "Plain text.", "Plain text."},
		{"a year is text", "In [2022] it [1] shipped [1].", "In [2022] it shipped [1]."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MergeCitationRuns(tt.in); got != tt.want {
				t.Errorf("MergeCitationRuns(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
