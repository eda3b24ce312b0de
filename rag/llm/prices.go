package llm

import (
	"cmp"
	"fmt"
	"llmops/store"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Price is what a model costs, in USD per million tokens.
type Price struct {
	Model         string  `json:"model"`
	InputPerMTok  float64 `json:"input_per_mtok"`
	OutputPerMTok float64 `json:"output_per_mtok"`
}

// DefaultPrices are public list prices (USD per 1M tokens, standard tier,
// uncached input) as of 2025-2026. They are only defaults: discounts,
// gateways' markups and price changes belong in Settings, which override
// them. Lookup matches by prefix, so "gpt-4o" also prices
// "gpt-4o-2024-08-06" and "llama" prices "llama3.1:8b". Local model
// families cost nothing per token.
func DefaultPrices() []Price {
	return []Price{
		{"gpt-4o", 2.50, 10.00},
		{"gpt-4o-mini", 0.15, 0.60},
		{"gpt-4.1", 2.00, 8.00},
		{"gpt-4.1-mini", 0.40, 1.60},
		{"gpt-4.1-nano", 0.10, 0.40},
		{"gpt-5", 1.25, 10.00},
		{"gpt-5-mini", 0.25, 2.00},
		{"gpt-5-nano", 0.05, 0.40},
		{"o3", 2.00, 8.00},
		{"o3-mini", 1.10, 4.40},
		{"o4-mini", 1.10, 4.40},
		{"gpt-3.5-turbo", 0.50, 1.50},
		// Anthropic models through OpenAI-compatible gateways, under the
		// names gateways use.
		{"claude-sonnet-4", 3.00, 15.00},
		{"claude-haiku-3.5", 0.80, 4.00},
		{"claude-3-5-haiku", 0.80, 4.00},
		{"claude-3.5-haiku", 0.80, 4.00},
		// Local families (Ollama, vLLM, llama.cpp, LM Studio).
		{"llama", 0, 0},
		{"qwen", 0, 0},
		{"mistral", 0, 0},
		{"gemma", 0, 0},
		{"phi", 0, 0},
	}
}

// PriceTable finds a model's price by name. It is read-only once built,
// so it is safe for concurrent use.
type PriceTable struct {
	exact map[string]Price // by lower-case name
	names []string         // lower-case names, longest first, for prefixes
}

// NewPriceTable indexes prices. A model listed twice gets its last price,
// so overrides can simply be appended to the defaults.
func NewPriceTable(prices []Price) *PriceTable {
	t := &PriceTable{exact: make(map[string]Price, len(prices))}
	for _, p := range prices {
		name := strings.ToLower(strings.TrimSpace(p.Model))
		if name == "" {
			continue
		}
		if _, dup := t.exact[name]; !dup {
			t.names = append(t.names, name)
		}
		t.exact[name] = p
	}
	slices.SortFunc(t.names, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
	})
	return t
}

// Lookup returns the price of model: the entry of the same name (in any
// case), else the longest entry that starts the name, so
// "gpt-4o-mini-2024-07-18" is priced as gpt-4o-mini, not gpt-4o. A
// gateway's "provider/" prefix ("openai/gpt-4o") is ignored when the full
// name is not listed.
func (t *PriceTable) Lookup(model string) (Price, bool) {
	full := strings.ToLower(strings.TrimSpace(model))
	bare := full[strings.LastIndexByte(full, '/')+1:]
	for _, name := range []string{full, bare} {
		if p, ok := t.exact[name]; ok && name != "" {
			return p, true
		}
	}
	for _, name := range []string{full, bare} {
		for _, entry := range t.names {
			if strings.HasPrefix(name, entry) {
				return t.exact[entry], true
			}
		}
	}
	return Price{}, false
}

// Cost is the price in USD of in prompt and out completion tokens on
// model, 0 when the model is not listed.
func (t *PriceTable) Cost(model string, in, out int) float64 {
	p, ok := t.Lookup(model)
	if !ok {
		return 0
	}
	return (float64(in)*p.InputPerMTok + float64(out)*p.OutputPerMTok) / 1e6
}

// ParsePrices reads one price a line, "MODEL INPUT OUTPUT", fields
// separated by white space or commas, prices in USD per million tokens.
// Blank lines and text after # are ignored. Errors name the line.
func ParsePrices(text string) ([]Price, error) {
	var prices []Price
	seen := make(map[string]int) // lower-case model → line
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if hash := strings.IndexByte(line, '#'); hash >= 0 {
			line = line[:hash]
		}
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, store.Errorf(store.EINVALID, "line %d: want MODEL INPUT OUTPUT (USD per million tokens), got %d fields", n, len(fields))
		}
		p := Price{Model: fields[0]}
		for j, dst := range []*float64{&p.InputPerMTok, &p.OutputPerMTok} {
			v, err := strconv.ParseFloat(strings.TrimPrefix(fields[j+1], "$"), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, store.Errorf(store.EINVALID, "line %d: %s price %q of %s is not a number", n, []string{"input", "output"}[j], fields[j+1], p.Model)
			}
			if v < 0 {
				return nil, store.Errorf(store.EINVALID, "line %d: %s price of %s is negative", n, []string{"input", "output"}[j], p.Model)
			}
			*dst = v
		}
		key := strings.ToLower(p.Model)
		if prev, dup := seen[key]; dup {
			return nil, store.Errorf(store.EINVALID, "line %d: %s is already priced on line %d", n, p.Model, prev)
		}
		seen[key] = n
		prices = append(prices, p)
	}
	return prices, nil
}

// FormatPrices writes prices as ParsePrices reads them, sorted by model
// name with columns aligned. Of a model listed twice, the last price is
// kept, as in NewPriceTable.
func FormatPrices(prices []Price) string {
	byName := make(map[string]Price, len(prices))
	for _, p := range prices {
		if name := strings.TrimSpace(p.Model); name != "" {
			p.Model = name
			byName[strings.ToLower(name)] = p
		}
	}
	keys := slices.Sorted(maps.Keys(byName))
	width := len("# model")
	for _, k := range keys {
		width = max(width, len(byName[k].Model))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %s  %s\n", width, "# model", "input", "output  (USD per 1M tokens)")
	for _, k := range keys {
		p := byName[k]
		in := strconv.FormatFloat(p.InputPerMTok, 'f', -1, 64)
		fmt.Fprintf(&b, "%-*s  %-5s  %s\n", width, p.Model, in, strconv.FormatFloat(p.OutputPerMTok, 'f', -1, 64))
	}
	return b.String()
}
