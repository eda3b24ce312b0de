package answer

import (
	"reflect"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sentences []Sentence
		want      string
	}{
		{"prose is one paragraph",
			[]Sentence{{Text: "A.", Cites: []int{1}}, {Text: "B.", Cites: []int{1, 2}}},
			"A. [1] B. [1][2]"},
		{"one marker per run of one source",
			[]Sentence{{Text: "A.", Cites: []int{1}}, {Text: "B.", Cites: []int{1}}, {Text: "C.", Cites: []int{2}}, {Text: "D.", Cites: []int{1}}},
			"A. B. [1] C. [2] D. [1]"},
		{"a numbered list between prose, with its own numbers",
			[]Sentence{
				{Text: "Only the Owner can cancel.", Cites: []int{1}},
				{Text: "Click Cancel.", Cites: []int{1}, Item: 2, Ordered: true},
				{Text: "You are asked why.", Cites: []int{1}, Item: 2, Ordered: true},
				{Text: "Confirm.", Cites: []int{1}, Item: 3, Ordered: true},
				{Text: "It ends with the period.", Cites: []int{1}},
			},
			"Only the Owner can cancel. [1]\n\n2. Click Cancel. You are asked why.\n3. Confirm. [1]\n\nIt ends with the period. [1]"},
		{"a bulleted list, then a numbered one",
			[]Sentence{
				{Text: "Web.", Cites: []int{1}, Item: 1},
				{Text: "Mobile.", Cites: []int{1}, Item: 2},
				{Text: "Open Settings.", Cites: []int{2}, Item: 1, Ordered: true},
				{Text: "Save.", Cites: []int{2}, Item: 2, Ordered: true},
			},
			"- Web.\n- Mobile. [1]\n\n1. Open Settings.\n2. Save. [2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := render(tt.sentences)
			if got != tt.want {
				t.Errorf("render() =\n%s\nwant\n%s", got, tt.want)
			}
			if back := ParseCitations(got); !reflect.DeepEqual(back, tt.sentences) {
				t.Errorf("ParseCitations(render())\n got %+v\nwant %+v", back, tt.sentences)
			}
		})
	}
}
