package answer

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestGround(t *testing.T) {
	t.Parallel()
	ctx := refundContext()
	const (
		quote1   = "Annual plans can be refunded in full within 30 days of purchase or renewal."
		quote2   = "Only the Owner can cancel the subscription."
		invented = "Rosterly also gives nonprofits a lifetime discount of 50% on the Enterprise plan."
	)
	tests := []struct {
		name        string
		answer      Answer
		wantSupport []float64 // -1: below 0.35, -2: between 0.5 and 0.85
		wantText    string    // "" means unchanged
		wantRemoved int
		wantCites   [][]int
	}{
		{
			name:        "quotes are fully supported",
			answer:      Answer{Sentences: []Sentence{{Text: quote1, Cites: []int{1}}, {Text: quote2, Cites: []int{2}}}},
			wantSupport: []float64{1, 1},
			wantCites:   [][]int{{1}, {2}},
		},
		{
			name:        "invented sentence is caught",
			answer:      Answer{Sentences: []Sentence{{Text: quote1, Cites: []int{1}}, {Text: invented, Cites: []int{1}}}},
			wantSupport: []float64{1, -1},
			wantCites:   [][]int{{1}, {1}},
		},
		{
			name:        "a changed number lowers support",
			answer:      Answer{Sentences: []Sentence{{Text: strings.Replace(quote1, "30", "90", 1), Cites: []int{1}}}},
			wantSupport: []float64{-2},
			wantCites:   [][]int{{1}},
		},
		{
			name:        "citing the wrong chunk is not support",
			answer:      Answer{Sentences: []Sentence{{Text: quote1, Cites: []int{3}}}},
			wantSupport: []float64{-1},
			wantCites:   [][]int{{3}},
		},
		{
			name:        "uncited sentence scores 0",
			answer:      Answer{Sentences: []Sentence{{Text: quote1, Cites: []int{1}}, {Text: quote2}}},
			wantSupport: []float64{1, 0},
			wantCites:   [][]int{{1}, nil},
		},
		{
			name:        "out-of-range citations are removed and counted",
			answer:      Answer{Text: "Refunds [1][7]. Cancel [9].", Sentences: []Sentence{{Text: quote1, Cites: []int{1, 7}}, {Text: quote2, Cites: []int{9}}}},
			wantSupport: []float64{1, 0},
			wantText:    "Refunds [1]. Cancel.",
			wantRemoved: 2,
			wantCites:   [][]int{{1}, {}},
		},
		{
			name:        "sentences are parsed from the text when missing",
			answer:      Answer{Text: quote1 + " [1] " + quote2 + " [0]"},
			wantSupport: []float64{1, 0},
			wantText:    quote1 + " [1] " + quote2,
			wantRemoved: 1,
			wantCites:   [][]int{{1}, {}},
		},
		{
			name:        "a cited sentence with nothing to check is supported",
			answer:      Answer{Sentences: []Sentence{{Text: "Yes.", Cites: []int{2}}}},
			wantSupport: []float64{1},
			wantCites:   [][]int{{2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tt.answer
			text := a.Text
			if err := Ground(context.Background(), &a, ctx, nil); err != nil {
				t.Fatal(err)
			}
			if len(a.Sentences) != len(tt.wantSupport) {
				t.Fatalf("got %d sentences, want %d: %+v", len(a.Sentences), len(tt.wantSupport), a.Sentences)
			}
			sum := 0.0
			for i, s := range a.Sentences {
				sum += s.Support
				switch want := tt.wantSupport[i]; {
				case want == -1 && s.Support >= 0.35:
					t.Errorf("sentence %d %q: support %.2f, want < 0.35", i, s.Text, s.Support)
				case want == -2 && (s.Support < 0.5 || s.Support > 0.85):
					t.Errorf("sentence %d %q: support %.2f, want between 0.5 and 0.85", i, s.Text, s.Support)
				case want >= 0 && math.Abs(s.Support-want) > 0.1:
					t.Errorf("sentence %d %q: support %.2f, want %.2f", i, s.Text, s.Support, want)
				}
				if want := tt.wantCites[i]; len(s.Cites)+len(want) > 0 && !reflect.DeepEqual(s.Cites, want) {
					t.Errorf("sentence %d cites %v, want %v", i, s.Cites, want)
				}
			}
			if want := sum / float64(len(a.Sentences)); math.Abs(a.Groundedness-want) > 1e-9 {
				t.Errorf("Groundedness = %v, want the mean support %v", a.Groundedness, want)
			}
			if tt.wantText == "" {
				tt.wantText = text
			}
			if a.Text != tt.wantText {
				t.Errorf("Text = %q, want %q", a.Text, tt.wantText)
			}
			if a.Removed != tt.wantRemoved {
				t.Errorf("Removed = %d, want %d", a.Removed, tt.wantRemoved)
			}
		})
	}
}

func TestGroundCitations(t *testing.T) {
	t.Parallel()
	ctx := refundContext()
	a := &Answer{Sentences: []Sentence{
		{Text: "Only the Owner can cancel the subscription.", Cites: []int{2}},
		{Text: "Annual plans can be refunded in full within 30 days.", Cites: []int{1, 2}},
		{Text: "Refunds arrive within 5–10 business days.", Cites: []int{1}},
	}}
	if err := Ground(context.Background(), a, ctx, nil); err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) != 2 {
		t.Fatalf("got %d citations, want 2 (one per cited item): %+v", len(a.Citations), a.Citations)
	}
	c := a.Citations[0]
	if c.N != 2 || c.ChunkID != ctx[1].Chunk.ID || c.DocumentID != "cancel" || c.Title != "Cancel Your Subscription" || c.Source != "cancel.md" {
		t.Errorf("first citation = %+v; want item 2, the first one used", c)
	}
	if c.Snippet != "Only the Owner can cancel the subscription." {
		t.Errorf("snippet = %q; want the best-supporting sentence", c.Snippet)
	}
	if a.Citations[1].N != 1 {
		t.Errorf("second citation is item %d, want 1", a.Citations[1].N)
	}
}

func TestGroundEmbedder(t *testing.T) {
	t.Parallel()
	ctx := refundContext()
	quote := Sentence{Text: "Only the Owner can cancel the subscription.", Cites: []int{2}}

	// Orthogonal vectors: the cosine is 0, so only the lexical share is left.
	var calls int
	orthogonal := func(_ context.Context, texts []string) ([][]float32, error) {
		calls++
		out := make([][]float32, len(texts))
		for i := range texts {
			out[i] = make([]float32, 2)
			out[i][i%2] = 1
		}
		return out, nil
	}
	a := &Answer{Sentences: []Sentence{quote, {Text: "Unrelated and uncited."}}}
	if err := Ground(context.Background(), a, ctx, orthogonal); err != nil {
		t.Fatal(err)
	}
	if got, want := a.Sentences[0].Support, 1-embedWeight; math.Abs(got-want) > 1e-9 {
		t.Errorf("support with cosine 0 = %v, want %v", got, want)
	}
	if calls != 1 {
		t.Errorf("embedder called %d times, want once for all sentences", calls)
	}

	failing := func(context.Context, []string) ([][]float32, error) { return nil, errors.New("model offline") }
	if err := Ground(context.Background(), &Answer{Sentences: []Sentence{quote}}, ctx, failing); err == nil || !strings.Contains(err.Error(), "model offline") {
		t.Errorf("Ground with a failing embedder: err = %v, want it wrapped", err)
	}
	short := func(context.Context, []string) ([][]float32, error) { return [][]float32{{1}}, nil }
	if err := Ground(context.Background(), &Answer{Sentences: []Sentence{quote}}, ctx, short); err == nil {
		t.Error("Ground with too few vectors: err = nil, want an error")
	}
}

func TestGroundLeavesFallbackAlone(t *testing.T) {
	t.Parallel()
	a := &Answer{Text: FallbackText(nil), Fallback: true, Groundedness: 0.3}
	if err := Ground(context.Background(), a, refundContext(), nil); err != nil {
		t.Fatal(err)
	}
	if a.Groundedness != 0.3 || a.Sentences != nil {
		t.Errorf("fallback answer changed: %+v", a)
	}
}
