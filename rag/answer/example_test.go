package answer_test

import (
	"context"
	"fmt"

	"llmops/rag/answer"
	"llmops/store"
)

func ExampleExtractive() {
	docs := []store.ChunkRef{{
		Chunk:    store.Chunk{ID: "refunds-00000", DocumentID: "refunds", Text: "Monthly plans are not refundable. Annual plans can be refunded in full within 30 days of purchase."},
		Document: &store.Document{ID: "refunds", Title: "Refunds and Cancellation"},
	}}
	e := &answer.Extractive{}
	a, err := e.Answer(context.Background(), "Can we get a refund on the annual plan?", docs)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Text)
	fmt.Printf("groundedness %.2f, cites %q\n", a.Groundedness, a.Citations[0].Title)

	a, _ = e.Answer(context.Background(), "Can we pay with Paychex Flex?", docs)
	fmt.Println(a.Fallback, a.Text)
	// Output:
	// Monthly plans are not refundable. Annual plans can be refunded in full within 30 days of purchase. [1]
	// groundedness 1.00, cites "Refunds and Cancellation"
	// true The documentation does not cover this. The closest article is “Refunds and Cancellation”.
}

func ExampleParseCitations() {
	for _, s := range answer.ParseCitations("Only the Owner can cancel [2]. Refunds take 5–10 days.[1][3] Contact support.") {
		fmt.Printf("%q %v\n", s.Text, s.Cites)
	}
	// Output:
	// "Only the Owner can cancel." [2]
	// "Refunds take 5–10 days." [1 3]
	// "Contact support." []
}

func ExampleGround() {
	docs := []store.ChunkRef{{Chunk: store.Chunk{ID: "sms-00000", Text: "SMS notifications are free in the US, Canada and the UK."}}}
	a := &answer.Answer{Text: "SMS notifications are free in the US [1]. They are free in Brazil too [1]. See the pricing page [4]."}
	if err := answer.Ground(context.Background(), a, docs, nil); err != nil {
		panic(err)
	}
	for _, s := range a.Sentences {
		fmt.Printf("%.2f %s\n", s.Support, s.Text)
	}
	fmt.Printf("groundedness %.2f, removed %d: %s\n", a.Groundedness, a.Removed, a.Text)
	// Output:
	// 1.00 SMS notifications are free in the US.
	// 0.26 They are free in Brazil too.
	// 0.00 See the pricing page.
	// groundedness 0.42, removed 1: SMS notifications are free in the US [1]. They are free in Brazil too [1]. See the pricing page.
}
