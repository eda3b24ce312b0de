package answer

import (
	"fmt"

	"llmops/store"
)

// ref builds a context item of a hand-made document.
func ref(docID, title, text string, headings ...string) store.ChunkRef {
	return store.ChunkRef{
		Chunk:    store.Chunk{ID: store.ChunkID(docID, 0), DocumentID: docID, Text: text, Headings: headings},
		Document: &store.Document{ID: docID, Title: title, Source: docID + ".md"},
	}
}

// refundContext is a small help centre about refunds and cancellation.
func refundContext() []store.ChunkRef {
	return []store.ChunkRef{
		ref("refunds", "Refunds and Cancellation",
			"Monthly plans are not refundable. Annual plans can be refunded in full within 30 days of purchase or renewal.\n\n"+
				"To request a refund, email billing@rosterly.com from the Owner's address. Refunds arrive within 5–10 business days.",
			"Refunds and Cancellation", "Refund policy"),
		ref("cancel", "Cancel Your Subscription",
			"Only the Owner can cancel the subscription.\n\nGo to Settings → Billing → Plan and click Cancel subscription. "+
				"Your workspace stays on the paid plan until the end of the billing period.",
			"Cancel Your Subscription"),
		ref("slack", "Connect Slack",
			"Slack notifications are available on every paid plan. Managers cannot approve swaps from Slack.",
			"Connect Slack"),
	}
}

func citesOf(a *Answer) string {
	var out string
	for _, s := range a.Sentences {
		out += fmt.Sprint(s.Cites)
	}
	return out
}
