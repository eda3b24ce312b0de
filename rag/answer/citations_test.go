package answer

import (
	"reflect"
	"slices"
	"testing"

	"llmops/rag/text"
)

func TestParseCitations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []Sentence
	}{
		{"empty", "", nil},
		{"marker before stop", "Refunds take 5 days [1]. Annual plans are refundable [2].",
			[]Sentence{{Text: "Refunds take 5 days.", Cites: []int{1}}, {Text: "Annual plans are refundable.", Cites: []int{2}}}},
		{"marker after stop", "Refunds take 5 days.[1] Annual plans are refundable. [2]",
			[]Sentence{{Text: "Refunds take 5 days.", Cites: []int{1}}, {Text: "Annual plans are refundable.", Cites: []int{2}}}},
		{"adjacent markers", "Only the Owner can cancel [1][3].",
			[]Sentence{{Text: "Only the Owner can cancel.", Cites: []int{1, 3}}}},
		{"comma list", "Only the Owner can cancel [1, 3].",
			[]Sentence{{Text: "Only the Owner can cancel.", Cites: []int{1, 3}}}},
		{"range", "Both plans include it [2-4].",
			[]Sentence{{Text: "Both plans include it.", Cites: []int{2, 3, 4}}}},
		{"full-width", "退款需要五天【1】。",
			[]Sentence{{Text: "退款需要五天。", Cites: []int{1}}}},
		{"repeated number", "It is free [1] on every plan [1].",
			[]Sentence{{Text: "It is free on every plan.", Cites: []int{1}}}},
		{"no inheritance", "Refunds take 5 days [1]. They are always approved.",
			[]Sentence{{Text: "Refunds take 5 days.", Cites: []int{1}}, {Text: "They are always approved."}}},
		{"stray marker line", "Refunds take 5 days.\n[2]",
			[]Sentence{{Text: "Refunds take 5 days.", Cites: []int{2}}}},
		{"list items", "Steps:\n- Open Settings [1]\n- Click Save [2]",
			[]Sentence{{Text: "Steps:"}, {Text: "Open Settings", Cites: []int{1}, Item: 1}, {Text: "Click Save", Cites: []int{2}, Item: 2}}},
		{"numbered steps keep their numbers and continuations", "Only the Owner can cancel. [1]\n\n2. Click Cancel. [1] You are asked why. [2]\n3) Confirm [1].\n\nIt ends with the period. [1]",
			[]Sentence{
				{Text: "Only the Owner can cancel.", Cites: []int{1}},
				{Text: "Click Cancel.", Cites: []int{1}, Item: 2, Ordered: true},
				{Text: "You are asked why.", Cites: []int{2}, Item: 2, Ordered: true},
				{Text: "Confirm.", Cites: []int{1}, Item: 3, Ordered: true},
				{Text: "It ends with the period.", Cites: []int{1}},
			}},
		{"a year opening a line is not a step", "2026. It was a good year [1].",
			[]Sentence{{Text: "2026. It was a good year.", Cites: []int{1}}}},
		{"year in brackets is text", "It shipped in [2022] [1].",
			[]Sentence{{Text: "It shipped in [2022].", Cites: []int{1}}}},
		{"links are text", "See [the guide](https://x.test/a) [1].",
			[]Sentence{{Text: "See [the guide](https://x.test/a).", Cites: []int{1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseCitations(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCitations(%q)\n got %+v\nwant %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestKeepMarkers(t *testing.T) {
	t.Parallel()
	valid := func(n int) bool { return n >= 1 && n <= 3 }
	tests := []struct {
		text        string
		want        string
		wantDropped int
	}{
		{"A [1]. B [2].", "A [1]. B [2].", 0},
		{"A [7]. B [2].", "A. B [2].", 1},
		{"A [7][1].", "A [1].", 1},
		{"A [1, 9, 3].", "A [1][3].", 1},
		{"A【8】。", "A。", 1},
	}
	for _, tt := range tests {
		got, dropped := keepMarkers(tt.text, valid)
		if got != tt.want || dropped != tt.wantDropped {
			t.Errorf("keepMarkers(%q) = %q, %d; want %q, %d", tt.text, got, dropped, tt.want, tt.wantDropped)
		}
	}
}

// TestParseCitationRuns: one marker at the end of a run cites every
// sentence of the run, and merging a fully marked answer's runs
// (text.MergeCitationRuns, as render and the UI do) parses to the same
// sentences and citations.
func TestParseCitationRuns(t *testing.T) {
	t.Parallel()
	got := ParseCitations("Open Settings. Click Save [1]. It is stored. Done.\n\n- Web\n- Mobile [2]\n\nStandalone.")
	want := []Sentence{
		{Text: "Open Settings.", Cites: []int{1}}, {Text: "Click Save.", Cites: []int{1}},
		{Text: "It is stored."}, {Text: "Done."},
		{Text: "Web", Cites: []int{2}, Item: 1}, {Text: "Mobile", Cites: []int{2}, Item: 2},
		{Text: "Standalone."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs:\n got %+v\nwant %+v", got, want)
	}
	for _, in := range []string{
		"Only the Owner can cancel [1]. Refunds take 5 days [1]. Annual plans differ [2]. Monthly ones do not [2].",
		"Only the Owner can cancel. [1]\n\n1. Go to Settings. [1]\n2. Click Cancel. [1] You are asked why. [1]\n3. Confirm. [1]\n\nThe plan runs to the end of the period. [1] Refunds follow [2].",
		"- Web. [1]\n- Mobile. [1]\n\n1. Open Settings. [2]\n2. Save. [2]",
		"Intro [3]\n- A [3]\n- B [3]\nOutro [3]",
		"It is free [1] on every plan [1]. SMS costs extra [1][2]. Except in the US [2][1].",
	} {
		merged := text.MergeCitationRuns(in)
		if merged == in {
			t.Errorf("%q: nothing merged", in)
		}
		sorted := func(ss []Sentence) []Sentence {
			for i := range ss {
				slices.Sort(ss[i].Cites) // a run keeps its last group's order
			}
			return ss
		}
		if a, b := sorted(ParseCitations(in)), sorted(ParseCitations(merged)); !reflect.DeepEqual(a, b) {
			t.Errorf("merged %q\n parses %+v\nunmerged %+v", merged, b, a)
		}
	}
}
