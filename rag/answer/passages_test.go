package answer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"llmops/store"
)

func TestSplitPassagesLists(t *testing.T) {
	t.Parallel()
	text := "Only the Owner can cancel.\n\n" +
		"1. Go to Settings → Billing.\n" +
		"2. Click Connect. You are redirected to Slack.\n" +
		"   - Allow the app.\n" +
		"3. Save.\n\n" +
		"Then:\n" +
		"- Paid features stop.\n" +
		"- Data is kept."
	want := []string{
		`"Only the Owner can cancel." list=0 step=0 cont=false section=0`,
		`"Go to Settings → Billing." list=1 step=1 ordered cont=false section=0`,
		`"Click Connect." list=1 step=2 ordered cont=false section=0`,
		`"You are redirected to Slack." list=1 step=2 ordered cont=true section=0`,
		`"Allow the app." list=1 step=2 ordered cont=true section=0`,
		`"Save." list=1 step=3 ordered cont=false section=0`,
		`"Then:" list=0 step=0 cont=false section=1`,
		`"Paid features stop." list=2 step=1 cont=false section=1`,
		`"Data is kept." list=2 step=2 cont=false section=1`,
	}
	ps := splitPassages(text)
	if len(ps) != len(want) {
		t.Fatalf("got %d passages, want %d: %+v", len(ps), len(want), ps)
	}
	for i, p := range ps {
		kind := ""
		if p.ordered {
			kind = " ordered"
		}
		got := fmt.Sprintf("%q list=%d step=%d%s cont=%v section=%d", p.text, p.list, p.step, kind, p.cont, p.section)
		if got != want[i] {
			t.Errorf("passage %d: got %s, want %s", i, got, want[i])
		}
	}
}

func TestSignpost(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"This article explains when you are charged, where to find invoices and which payment methods Rosterly accepts.",
		"This guide walks a new workspace Owner through the first 30 minutes.",
		"This page lists the most common errors when sending timesheets to Gusto.",
		"Here is exactly what happens.",
		"- Here are the steps.",
		"In this section we describe the retry schedule.",
		"See Failed payments.",
	} {
		if !isSignpost(s) {
			t.Errorf("isSignpost(%q) = false, want true", s)
		}
	}
	for _, s := range []string{
		"Go to Settings → Billing → Invoices.",
		"This plan covers up to 10 users.",
		"This setting lists only active employees.",
		"Invoices are listed here under Billing.",
		"The following roles can approve swaps: Owner, Admin and Manager.",
		"See Settings → Billing → Invoices for every invoice since you subscribed.",
	} {
		if isSignpost(s) {
			t.Errorf("isSignpost(%q) = true, want false", s)
		}
	}
}

// TestSignpostNotQuoted: the sentence that announces an article is never
// part of the answer, however many of the question's words it shares.
func TestSignpostNotQuoted(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{ref("invoices", "Invoices and Payment Methods",
		"This article explains when you are charged, where to find invoices and which payment methods Rosterly accepts.\n\n"+
			"Go to Settings → Billing → Invoices to download every invoice as a PDF.",
		"Invoices and Payment Methods", "Where to find invoices")}
	a, err := (&Extractive{}).Answer(context.Background(), "Where do I find my invoices?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fallback || strings.Contains(a.Text, "This article") || !strings.Contains(a.Text, "Settings → Billing → Invoices") {
		t.Errorf("answer %q; want the place, without the article's signpost", a.Text)
	}
}
