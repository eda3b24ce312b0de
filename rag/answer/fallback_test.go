package answer

import (
	"testing"

	"llmops/store"
	"llmops/ui"
)

func TestFallbackText(t *testing.T) {
	t.Parallel()
	a := ref("a", "Plans and Pricing", "x")
	b := ref("b", "Billing FAQ", "x")
	c := ref("c", "Manage Locations, Departments and Positions", "x")
	d := ref("d", "Refunds", "x")
	noTitle := ref("e", "", "x")
	inFolder := ref("g", "", "x")
	inFolder.Document.Source = "/home/maya/help/billing/g.md"
	onWindows := ref("h", "", "x")
	onWindows.Document.Source = `C:\Users\maya\help\h.md`
	noDoc := store.ChunkRef{Chunk: store.Chunk{ID: "f-00000"}}
	const plain = "The documentation does not cover this."
	tests := []struct {
		name    string
		closest []store.ChunkRef
		want    string
	}{
		{"no context", nil, plain},
		{"no documents", []store.ChunkRef{noDoc}, plain},
		{"one", []store.ChunkRef{a}, plain + " The closest article is “Plans and Pricing”."},
		{"two", []store.ChunkRef{a, b}, plain + " The closest articles are “Plans and Pricing” and “Billing FAQ”."},
		{"titles with commas stay quoted", []store.ChunkRef{c, a},
			plain + " The closest articles are “Manage Locations, Departments and Positions” and “Plans and Pricing”."},
		{"distinct, at most three, best first", []store.ChunkRef{a, a, b, c, d},
			plain + " The closest articles are “Plans and Pricing”, “Billing FAQ” and “Manage Locations, Departments and Positions”."},
		{"source when untitled", []store.ChunkRef{noTitle}, plain + " The closest article is “e.md”."},
		{"the file's name, never its path", []store.ChunkRef{inFolder, onWindows}, plain + " The closest articles are “g.md” and “h.md”."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FallbackText(tt.closest); got != tt.want {
				t.Errorf("FallbackText() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestApplyThreshold(t *testing.T) {
	t.Parallel()
	ctx := refundContext()
	tests := []struct {
		name         string
		groundedness float64
		want         bool
	}{
		{"above", 0.9, false},
		{"at", DefaultThreshold, false},
		{"below", 0.59, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := &Answer{Text: "Refunds take time [1].", Sentences: []Sentence{{Text: "Refunds take time.", Cites: []int{1}}}, Groundedness: tt.groundedness, Removed: 2}
			if got := ApplyThreshold(a, ctx, DefaultThreshold); got != tt.want || a.Fallback != tt.want {
				t.Fatalf("ApplyThreshold(%v) = %v, Fallback %v; want %v", tt.groundedness, got, a.Fallback, tt.want)
			}
			if !tt.want {
				return
			}
			if a.Text != FallbackText(ctx) || a.Sentences != nil || a.Citations != nil {
				t.Errorf("fallback answer = %+v; want the fallback text and no sentences or citations", a)
			}
			if a.Groundedness != tt.groundedness || a.Removed != 2 {
				t.Errorf("Groundedness, Removed = %v, %d; want them kept (%v, 2)", a.Groundedness, a.Removed, tt.groundedness)
			}
		})
	}
}

// TestApplyThresholdRelevance: a fully grounded answer to another question
// falls back once its relevance is scored; an unscored one is held to
// groundedness alone, and a threshold of 0 never falls back.
func TestApplyThresholdRelevance(t *testing.T) {
	t.Parallel()
	ctx := refundContext()
	mk := func() *Answer {
		return &Answer{Text: "Slack notifications are available on every paid plan [3].",
			Sentences: []Sentence{{Text: "Slack notifications are available on every paid plan.", Cites: []int{3}}}, Groundedness: 1}
	}
	a := mk()
	if ApplyThreshold(a, ctx, DefaultThreshold) {
		t.Fatal("an answer without a relevance score fell back")
	}
	a = mk()
	ScoreRelevance(a, "How long do refunds take to arrive?", ctx)
	if a.Relevance >= DefaultMinRelevance {
		t.Fatalf("relevance of a Slack sentence to a refund question = %.2f, want < %.2f", a.Relevance, DefaultMinRelevance)
	}
	rel := a.Relevance
	if !ApplyThreshold(a, ctx, DefaultThreshold) || !a.Fallback || a.Relevance != rel || a.Groundedness != 1 {
		t.Errorf("irrelevant answer: fallback %v, relevance %.2f, groundedness %.2f; want a fallback keeping both scores", a.Fallback, a.Relevance, a.Groundedness)
	}
	a = mk()
	ScoreRelevance(a, "How long do refunds take to arrive?", ctx)
	if ApplyThreshold(a, ctx, 0) {
		t.Error("threshold 0 fell back")
	}
	a = &Answer{Text: "Refunds arrive within 5–10 business days [1].", Sentences: []Sentence{{Text: "Refunds arrive within 5–10 business days.", Cites: []int{1}}}, Groundedness: 1}
	ScoreRelevance(a, "How long do refunds take to arrive?", ctx)
	if a.Relevance < 0.6 || ApplyThreshold(a, ctx, DefaultThreshold) {
		t.Errorf("the answer: relevance %.2f, fallback %v; want ≥ 0.6 and kept", a.Relevance, a.Fallback)
	}
}

// TestUIRelevanceFloor: the pages colour relevance against the floor the
// answer path falls back at.
func TestUIRelevanceFloor(t *testing.T) {
	if ui.RelevanceFloor != DefaultMinRelevance {
		t.Errorf("ui.RelevanceFloor = %v, DefaultMinRelevance = %v", ui.RelevanceFloor, DefaultMinRelevance)
	}
}
