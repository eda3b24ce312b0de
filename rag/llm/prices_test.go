package llm

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestPriceLookup(t *testing.T) {
	t.Parallel()
	table := NewPriceTable(DefaultPrices())
	for _, tc := range []struct {
		model string
		want  string // the entry found; "" for none
	}{
		{"gpt-4o", "gpt-4o"},
		{"GPT-4o", "gpt-4o"},
		{"gpt-4o-mini", "gpt-4o-mini"},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"gpt-4o-2024-08-06", "gpt-4o"},
		{"openai/gpt-4o", "gpt-4o"},
		{"openai/gpt-4o-mini", "gpt-4o-mini"},
		{"gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"},
		{"gpt-5-mini", "gpt-5-mini"},
		{"o3-mini", "o3-mini"},
		{"o3-2025-04-16", "o3"},
		{"claude-sonnet-4-20250514", "claude-sonnet-4"},
		{"anthropic/claude-3.5-haiku", "claude-3.5-haiku"},
		{"llama3.1:8b", "llama"},
		{"meta-llama/llama-3.1-8b-instruct", "llama"},
		{"qwen2.5:7b-instruct", "qwen"},
		{"unknown-model", ""},
		{"", ""},
		{"gpt", ""},
	} {
		p, ok := table.Lookup(tc.model)
		if ok != (tc.want != "") || p.Model != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tc.model, p.Model, ok, tc.want)
		}
	}
}

func TestPriceTableLastWins(t *testing.T) {
	t.Parallel()
	table := NewPriceTable(append(DefaultPrices(), Price{Model: "GPT-4o", InputPerMTok: 1, OutputPerMTok: 2}))
	if p, _ := table.Lookup("gpt-4o-2024-11-20"); p.InputPerMTok != 1 || p.OutputPerMTok != 2 {
		t.Errorf("got %+v, want the appended override", p)
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	table := NewPriceTable(DefaultPrices())
	for _, tc := range []struct {
		model   string
		in, out int
		want    float64
	}{
		{"gpt-4o-mini", 1_000_000, 1_000_000, 0.75},
		{"gpt-4o", 1000, 500, 0.0025 + 0.005},
		{"llama3.2", 5000, 5000, 0},
		{"unknown", 5000, 5000, 0},
	} {
		if got := table.Cost(tc.model, tc.in, tc.out); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Cost(%q, %d, %d) = %g, want %g", tc.model, tc.in, tc.out, got, tc.want)
		}
	}
}

func TestParsePrices(t *testing.T) {
	t.Parallel()
	got, err := ParsePrices("# my prices\n\ngpt-4o 2.5 10\n  gpt-4o-mini,0.15, 0.6  # discounted\nllama3\t0\t0\r\nx $1 $2\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Price{{"gpt-4o", 2.5, 10}, {"gpt-4o-mini", 0.15, 0.6}, {"llama3", 0, 0}, {"x", 1, 2}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, tc := range []struct{ text, want string }{
		{"gpt-4o 2.5", "line 1: want MODEL INPUT OUTPUT"},
		{"\n\ngpt-4o 2.5 10 20", "line 3: want MODEL INPUT OUTPUT"},
		{"a 1 1\nb one 1", "line 2: input price \"one\" of b is not a number"},
		{"a 1 NaN", "line 1: output price \"NaN\" of a is not a number"},
		{"a 1 +Inf", "line 1: output price"},
		{"a -1 1", "line 1: input price of a is negative"},
		{"a 1 1\nA 2 2", "line 2: A is already priced on line 1"},
	} {
		_, err := ParsePrices(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePrices(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
}

func TestFormatPricesRoundTrip(t *testing.T) {
	t.Parallel()
	prices := DefaultPrices()
	text := FormatPrices(prices)
	got, err := ParsePrices(text)
	if err != nil {
		t.Fatalf("ParsePrices(FormatPrices(defaults)): %v\n%s", err, text)
	}
	want := slices.Clone(prices)
	slices.SortFunc(want, func(a, b Price) int { return strings.Compare(a.Model, b.Model) })
	if !slices.Equal(got, want) {
		t.Errorf("round trip got %v, want %v", got, want)
	}
	shuffled := slices.Clone(prices)
	slices.Reverse(shuffled)
	if FormatPrices(shuffled) != text {
		t.Error("FormatPrices depends on the input order")
	}
	if FormatPrices(got) != text {
		t.Error("FormatPrices(ParsePrices(text)) != text")
	}
}

func TestDefaultPrices(t *testing.T) {
	t.Parallel()
	table := NewPriceTable(DefaultPrices())
	for _, model := range []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini",
		"gpt-5-nano", "o3", "o4-mini", "gpt-3.5-turbo", "claude-sonnet-4", "claude-haiku-3.5"} {
		p, ok := table.Lookup(model)
		if !ok || p.Model != model || p.InputPerMTok <= 0 || p.OutputPerMTok < p.InputPerMTok {
			t.Errorf("Lookup(%q) = %+v, %v; want its own positive price, output at least input", model, p, ok)
		}
	}
	for _, family := range []string{"llama", "qwen", "mistral", "gemma", "phi"} {
		if p, ok := table.Lookup(family + "3"); !ok || p.InputPerMTok != 0 || p.OutputPerMTok != 0 {
			t.Errorf("Lookup(%q) = %+v, %v; want a free local model", family+"3", p, ok)
		}
	}
}
