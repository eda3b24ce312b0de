package llm_test

import (
	"fmt"
	"log"

	"llmops/rag/llm"
)

func ExamplePriceTable_Cost() {
	overrides, err := llm.ParsePrices(`
# model           input  output (USD per 1M tokens)
gpt-4o-mini       0.10   0.40   # our negotiated price
`)
	if err != nil {
		log.Fatal(err)
	}
	table := llm.NewPriceTable(append(llm.DefaultPrices(), overrides...))
	for _, model := range []string{"gpt-4o-mini-2024-07-18", "openai/gpt-4o", "llama3.1:8b", "my-finetune"} {
		p, ok := table.Lookup(model)
		fmt.Printf("%-22s %-12s %v $%.4f\n", model, p.Model, ok, table.Cost(model, 12_000, 800))
	}
	// Output:
	// gpt-4o-mini-2024-07-18 gpt-4o-mini  true $0.0015
	// openai/gpt-4o          gpt-4o       true $0.0380
	// llama3.1:8b            llama        true $0.0000
	// my-finetune                         false $0.0000
}
