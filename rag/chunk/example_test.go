package chunk_test

import (
	"fmt"
	"log"

	"llmops/rag/chunk"
	"llmops/rag/parse"
)

func ExampleSplit() {
	doc := &parse.Document{
		Title: "Connect Slack",
		Sections: []parse.Section{
			{Headings: []string{"Connect Slack"}, Text: "The Slack integration posts schedule updates to channels."},
			{Headings: []string{"Connect Slack", "Requirements"}, Text: "- You are the Owner or an Admin."},
			{Headings: []string{"Connect Slack", "Disconnect"}, Text: "Go to Settings → Integrations → Slack → Disconnect. Channel mappings are kept for 90 days in case you reconnect, and messages stop at once."},
		},
	}
	tok, err := chunk.NewTokenizer()
	if err != nil {
		log.Fatal(err)
	}
	cfg := chunk.DefaultConfig()
	cfg.MinTokens = 20 // merge the two small sections
	chunks, err := chunk.Split(doc, cfg, tok)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range chunks {
		fmt.Printf("%d %q %d tokens %v\n%s\n", c.Index, c.Headings, c.Tokens, chunk.Flags(c, cfg), c.Text)
	}
	// Output:
	// 0 ["Connect Slack"] 20 tokens []
	// The Slack integration posts schedule updates to channels.
	//
	// Requirements
	// - You are the Owner or an Admin.
	// 1 ["Connect Slack" "Disconnect"] 30 tokens []
	// Go to Settings → Integrations → Slack → Disconnect. Channel mappings are kept for 90 days in case you reconnect, and messages stop at once.
}

func ExampleSentences() {
	for _, s := range chunk.Sentences("Rosterly 4.2 adds e.g. Slack alerts. See https://rosterly.com/docs. Steps:\n1. Open Settings\n2. Click Save") {
		fmt.Println(s)
	}
	// Output:
	// Rosterly 4.2 adds e.g. Slack alerts.
	// See https://rosterly.com/docs.
	// Steps:
	// 1. Open Settings
	// 2. Click Save
}
