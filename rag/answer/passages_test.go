package answer

import (
	"fmt"
	"testing"
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
