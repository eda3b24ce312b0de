package answer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"llmops/store"
)

// checkCited fails unless every sentence cites exactly context items that
// exist, the text is the sentences with their markers and nothing else,
// and the citations list what the sentences cite.
func checkCited(t *testing.T, a *Answer, ctx []store.ChunkRef) {
	t.Helper()
	if len(a.Sentences) == 0 {
		t.Fatalf("answer has no sentences: %+v", a)
	}
	cited := map[int]bool{}
	for _, s := range a.Sentences {
		if len(s.Cites) == 0 {
			t.Errorf("sentence %q has no citation", s.Text)
		}
		for _, n := range s.Cites {
			if n < 1 || n > len(ctx) {
				t.Errorf("sentence %q cites [%d], outside 1..%d", s.Text, n, len(ctx))
			}
			cited[n] = true
		}
		if s.Support < 0.95 {
			t.Errorf("sentence %q: support %.2f, want a quote of item %d", s.Text, s.Support, s.Cites[0])
		}
	}
	if got := render(a.Sentences); a.Text != got {
		t.Errorf("Text = %q, want the sentences with markers %q", a.Text, got)
	}
	// No text outside a sentence: removing every list item's marker, then
	// every sentence and citation marker, leaves blanks.
	rest := regexp.MustCompile(`(?m)^(?:\d{1,3}\.|-) `).ReplaceAllString(a.Text, "")
	for _, s := range a.Sentences {
		rest = strings.Replace(rest, s.Text, "", 1)
	}
	if rest = strings.TrimSpace(regexp.MustCompile("\\[\\d+\\]|\\s|```").ReplaceAllString(rest, "")); rest != "" {
		t.Errorf("uncited text in answer: %q", rest)
	}
	if len(a.Citations) != len(cited) {
		t.Errorf("%d citations for %d cited items", len(a.Citations), len(cited))
	}
	if a.Groundedness < 0.95 {
		t.Errorf("Groundedness = %.2f, want ≥ 0.95 for quoted sentences", a.Groundedness)
	}
}

func TestExtractiveAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		question string
		context  []store.ChunkRef
		want     []string // sentences, in order
		cites    string
	}{
		{
			name:     "refund",
			question: "Can I get a refund on our annual plan?",
			context:  refundContext(),
			want: []string{
				"Monthly plans are not refundable.",
				"Annual plans can be refunded in full within 30 days of purchase or renewal.",
			},
			cites: "[1][1]",
		},
		{
			name:     "reads in context order, not score order",
			question: "When does the paid plan end if I cancel the subscription?",
			context:  refundContext(),
			want: []string{
				"Go to Settings → Billing → Plan and click Cancel subscription.",
				"Your workspace stays on the paid plan until the end of the billing period.",
			},
			cites: "[2][2]",
		},
		{
			name:     "Title Case is not a name",
			question: "How Do I Cancel My Subscription?",
			context:  refundContext(),
			want: []string{
				"Only the Owner can cancel the subscription.",
				"Go to Settings → Billing → Plan and click Cancel subscription.",
			},
			cites: "[2][2]",
		},
		{
			name:     "FAQ: the question line is context, the short reply stays with its reason",
			question: "Does the app track my location during my shift?",
			context: []store.ChunkRef{
				ref("faq", "General FAQ", "Does the app track my location?\nNo. The app reads your location only when you clock in or out, never in the background.\n\nDo employees pay for the app?\nNo. The mobile apps are free to download."),
			},
			want:  []string{"No. The app reads your location only when you clock in or out, never in the background."},
			cites: "[1]",
		},
		{
			name:     "near-duplicates are quoted once",
			question: "How long are export download links valid?",
			context: []store.ChunkRef{
				ref("export", "Export Your Data", "Download links are valid for 7 days and require signing in as an Owner or Admin."),
				ref("faq", "General FAQ", "Download links are valid for 7 days and require signing in as an Owner or an Admin."),
			},
			want:  []string{"Download links are valid for 7 days and require signing in as an Owner or Admin."},
			cites: "[1]",
		},
		{
			name:     "table rows read as sentences",
			question: "How long is a deleted workspace kept?",
			context: []store.ChunkRef{
				ref("gdpr", "GDPR and Data Retention", "Data | Retention\nActive workspace | As long as the workspace exists\nDeleted workspace | 90 days after deletion, then permanently erased"),
			},
			want:  []string{"Deleted workspace: 90 days after deletion, then permanently erased"},
			cites: "[1]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := (&Extractive{}).Answer(context.Background(), tt.question, tt.context)
			if err != nil {
				t.Fatal(err)
			}
			if a.Fallback {
				t.Fatalf("fell back: %q", a.Text)
			}
			checkCited(t, a, tt.context)
			var got []string
			for _, s := range a.Sentences {
				got = append(got, s.Text)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("sentences\n got %q\nwant %q", got, tt.want)
			}
			if c := citesOf(a); c != tt.cites {
				t.Errorf("cites = %s, want %s", c, tt.cites)
			}
		})
	}
}

func TestExtractiveFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		question string
		context  []store.ChunkRef
	}{
		{"unknown product", "Can Rosterly send hours to Paychex Flex for payroll?", refundContext()},
		{"unknown compound concept", "Can we get a white-label plan?", refundContext()},
		{"off topic", "What's a good recipe for sourdough bread?", refundContext()},
		{"no content words", "Can you do it?", refundContext()},
		{"no context", "Can I get a refund?", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := (&Extractive{}).Answer(context.Background(), tt.question, tt.context)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Fallback || a.Text != FallbackText(tt.context) || a.Sentences != nil || a.Citations != nil {
				t.Errorf("answer = %+v; want the fallback", a)
			}
		})
	}
}

// TestUndocumentedAction: a how-to question whose action the context never
// states, nor a synonym of it, falls back instead of quoting what the
// context says about the thing (the steps that start kiosk mode for "how
// do I leave it?"); with the action said in other words it is answered.
func TestUndocumentedAction(t *testing.T) {
	t.Parallel()
	kiosk := func(extra string) []store.ChunkRef {
		return []store.ChunkRef{
			ref("kiosk", "Kiosk mode", "1. Open Settings → Devices on the tablet.\n2. Tap Start kiosk mode and choose a location.\n3. Hand the tablet to the team."+extra, "Kiosk mode", "Set up a kiosk"),
			ref("offline", "Offline mode", "Kiosk mode also works offline for up to 72 hours.", "Offline mode"),
		}
	}
	a, ex, err := (&Extractive{}).answer(context.Background(), "How do I leave kiosk mode?", kiosk(""))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Fallback || ex.reason == "" {
		t.Errorf("answer %q (reason %q); want the fallback: nothing in the context says how to leave", a.Text, ex.reason)
	}
	a, ex, err = (&Extractive{}).answer(context.Background(), "How do I leave kiosk mode?", kiosk("\n\nTo exit kiosk mode, hold the logo for five seconds and enter an admin PIN."))
	if err != nil {
		t.Fatal(err)
	}
	if a.Fallback || !strings.Contains(a.Text, "To exit kiosk mode") || strings.Contains(a.Text, "Tap Start") {
		t.Errorf("answer %q (%s); want the sentence that exits kiosk mode", a.Text, ex.reason)
	}
	// The action said about something else does not document it.
	a, _, err = (&Extractive{}).answer(context.Background(), "How do I leave kiosk mode?", kiosk("\n\nLeave shifts unassigned to create open shifts."))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Fallback {
		t.Errorf("answer %q; want the fallback: \"leave shifts unassigned\" is not about leaving kiosk mode", a.Text)
	}
	// A question that names only the action takes any statement of it.
	a, ex, err = (&Extractive{}).answer(context.Background(), "How do I start?", kiosk(""))
	if err != nil {
		t.Fatal(err)
	}
	if a.Fallback {
		t.Errorf("\"How do I start?\" fell back (%s); want the steps that start kiosk mode", ex.reason)
	}
}

// TestHowToPairSaidApart: for a how-to question, a sentence that has the
// action and its object but about different things ("like a PIN; click
// Reset code") does not lead over one that says them together.
func TestHowToPairSaidApart(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{
		ref("feed", "Kiosk feed", "Every kiosk has a private feed code for reports. Treat the code like a PIN; click Reset code if it has been shared.", "Kiosk feed"),
		ref("locked", "Kiosk sign-in problems", "After 5 wrong attempts the kiosk locks for 15 minutes. Wait and try again, or reset your PIN under Profile → Security; a successful reset unlocks the kiosk at once.", "Kiosk sign-in problems"),
	}
	a, ex, err := (&Extractive{}).answer(context.Background(), "How do I reset my PIN?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Text, "reset your PIN") || strings.Contains(a.Text, "Reset code") {
		t.Errorf("answer %q (%s); want the sentence that resets a PIN", a.Text, ex.reason)
	}
}

// TestPositionCompound: "mid-month" is not a concept the context must
// name, as "white-label" is: a question about cancelling in the middle of
// a month is answered from the refund policy.
func TestPositionCompound(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"Can I get a refund if I cancel mid-month?", "Is a mid-period cancellation refunded?"} {
		a, err := (&Extractive{}).Answer(context.Background(), q, refundContext())
		if err != nil {
			t.Fatal(err)
		}
		if a.Fallback || !strings.Contains(a.Text, "refund") {
			t.Errorf("%s → %q; want an answer from the refund policy", q, a.Text)
		}
	}
	if got := concepts("Do you offer a pre-built white-label app?"); len(got) != 1 || got[0].text != "white label" {
		t.Errorf("concepts = %+v; want white-label alone (pre-built is the word built)", got)
	}
}

func TestExtractiveOptions(t *testing.T) {
	t.Parallel()
	ctx := refundContext()
	q := "Can I get a refund on our annual plan?"
	a, err := (&Extractive{MaxSentences: 1}).Answer(context.Background(), q, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Sentences) != 1 {
		t.Errorf("MaxSentences 1: got %d sentences", len(a.Sentences))
	}
	a, err = (&Extractive{MinScore: 0.99}).Answer(context.Background(), "Can I get a refund on our annual plan by cheque?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Fallback {
		t.Errorf("MinScore 0.99: answered %q, want the fallback", a.Text)
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Extractive{}).Answer(cancelled, q, ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestExtractiveCode(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{ref("shifts", "Shifts API Reference",
		"List shifts\nGET /v2/shifts\n\nReturns the shifts of a location, 50 per page.\n\n"+
			"curl \"https://api.rosterly.com/v2/shifts?limit=200\" \\\n  -H \"Authorization: Bearer $ROSTERLY_TOKEN\"",
		"Shifts API Reference", "List shifts")}

	a, err := (&Extractive{}).Answer(context.Background(), "How many shifts per page does the list return?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.Text, "curl") {
		t.Errorf("answer quotes code the question did not ask for: %q", a.Text)
	}

	a, err = (&Extractive{}).Answer(context.Background(), "Show me a curl example to list shifts", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Text, "```\ncurl \"https://api.rosterly.com/v2/shifts?limit=200\" \\\n") {
		t.Errorf("answer = %q; want the curl sample in a fenced block", a.Text)
	}
	checkCited(t, a, ctx)
}

// cancelSteps is a help-centre section with a numbered procedure between
// an introduction and what happens next.
func cancelSteps() store.ChunkRef {
	return ref("cancel", "Refunds and Cancellation",
		"Only the Owner can cancel.\n\n"+
			"1. Go to Settings → Billing → Plan.\n2. Click Cancel subscription.\n3. Tell us why you're leaving (optional).\n4. Confirm.\n\n"+
			"After cancelling, your paid plan stays active until the end of the current billing period. Then:\n\n"+
			"- If you have 10 or fewer active users, the workspace moves to the Free plan.\n"+
			"- If you have more than 10 active users, the workspace becomes read-only.",
		"Refunds and Cancellation", "Cancel your subscription")
}

func TestExtractiveSteps(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{refundContext()[0], cancelSteps(), refundContext()[2]}
	a, ex, err := (&Extractive{}).answer(context.Background(), "How do I cancel my subscription?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ex.steps {
		t.Fatalf("answer %q does not quote the procedure", a.Text)
	}
	checkCited(t, a, ctx)
	const want = "Only the Owner can cancel. [2]\n\n" +
		"1. Go to Settings → Billing → Plan.\n2. Click Cancel subscription.\n3. Tell us why you're leaving (optional).\n4. Confirm. [2]\n\n" +
		"After cancelling, your paid plan stays active until the end of the current billing period. [2]"
	if a.Text != want {
		t.Errorf("Text =\n%s\nwant\n%s", a.Text, want)
	}

	// The Markdown list parses back into the same sentences and grounds.
	parsed := &Answer{Text: a.Text}
	if err := Ground(context.Background(), parsed, ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i := range parsed.Sentences {
		parsed.Sentences[i].Support = a.Sentences[i].Support
	}
	if !reflect.DeepEqual(parsed.Sentences, a.Sentences) {
		t.Errorf("ParseCitations(Text)\n got %+v\nwant %+v", parsed.Sentences, a.Sentences)
	}
	if parsed.Groundedness < 0.95 {
		t.Errorf("Ground(Text) = %.2f, want ≥ 0.95 for a quoted procedure", parsed.Groundedness)
	}
}

func TestExtractiveStepsBounded(t *testing.T) {
	t.Parallel()
	var text strings.Builder
	text.WriteString("Import your team from a spreadsheet.\n\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&text, "%d. Do import step number %d now.\n", i, i)
	}
	text.WriteString("\nImported people get an invitation.")
	ctx := []store.ChunkRef{ref("import", "Import Employees", text.String(), "Import Employees")}
	a, err := (&Extractive{MaxSteps: 8}).Answer(context.Background(), "How do I import employees?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkCited(t, a, ctx)
	var items []int
	for _, s := range a.Sentences {
		if s.Item > 0 {
			items = append(items, s.Item)
		}
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(items, want) {
		t.Errorf("steps %v, want %v", items, want)
	}
	if strings.Contains(a.Text, "invitation") {
		t.Errorf("answer %q quotes the sentence after a list it cut", a.Text)
	}
}

func TestExtractiveStepsNotForAnError(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{
		ref("errors", "Payroll Export Errors", "\"Payroll already processed for this period\" The Gusto payroll for this pay period has already been run. Make corrections in Gusto directly.", "Payroll Export Errors", "Gusto"),
		ref("gusto", "Gusto Payroll Integration", "1. Approve all timesheets for the pay period.\n2. Click Export → Send to Gusto.\n3. Click Send to send the hours.", "Gusto Payroll Integration", "Send hours"),
	}
	a, ex, err := (&Extractive{}).answer(context.Background(), `Sending hours to Gusto fails with "Payroll already processed for this period". How do I fix it?`, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ex.steps || !strings.Contains(a.Text, "has already been run") {
		t.Errorf("answer %q; want the error's explanation, not the steps that raised it", a.Text)
	}
}

func TestExtractiveCaveat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"a caveat after the answer comes along",
			"Invitation links expire after 7 days. Note: support cannot extend them. People you add see the schedule once they sign in.",
			[]string{"Invitation links expire after 7 days.", "Note: support cannot extend them."}},
		{"any other sentence does not",
			"Invitation links expire after 7 days. People you add see the schedule once they sign in.",
			[]string{"Invitation links expire after 7 days."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := []store.ChunkRef{ref("invite", "Invite Your Team", tt.text, "Invite Your Team")}
			a, err := (&Extractive{}).Answer(context.Background(), "How long do invitation links last?", ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkCited(t, a, ctx)
			var got []string
			for _, s := range a.Sentences {
				got = append(got, s.Text)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sentences %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractiveWhatStaysShort(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{ref("autofill", "Auto-Fill",
		"Auto-Fill assigns open shifts for you. It considers availability, positions and approved time off.\n\n"+
			"1. Click Auto-Fill in the toolbar.\n2. Review the proposal.\n3. Click Accept or Discard.\n\n"+
			"Auto-Fill is available on Pro and Enterprise. Auto-Fill proposals are highlighted in blue. Auto-Fill runs in seconds.",
		"Create Your First Schedule", "Auto-Fill")}
	a, ex, err := (&Extractive{}).answer(context.Background(), "What is Auto-Fill?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkCited(t, a, ctx)
	if ex.steps || len(a.Sentences) > 3 || strings.Contains(a.Text, "\n") {
		t.Errorf("answer %q; want at most three sentences of prose", a.Text)
	}
}

// TestExtractiveStepsOfAnotherTask: a how-to question whose one direct
// answer is a sentence ("To connect Lumen Link, open …") must not get the
// numbered steps of another article that share its verb but not the
// product it names, even when they rank close to it.
func TestExtractiveStepsOfAnotherTask(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{
		ref("lumen", "Lumen Link integration", "Lumen Link copies your schedules into the Lumen reporting app every hour.\n\nTo connect Lumen Link, open Settings → Integrations → Lumen Link and sign in with your Lumen account.\n\nDisconnect Lumen Link from the same page to stop copying schedules.", "Lumen Link integration"),
		ref("outlook", "Sync shifts to Outlook", "Employees can add their shifts to Outlook. The link is one-way.", "Sync shifts to Outlook"),
		ref("outlook", "Sync shifts to Outlook", "1. Open Profile → Calendar link in the web app.\n2. Click Connect Outlook and sign in with your Microsoft account.\n3. Accept the permission to write calendars you create.\n4. Choose whether to include approved time off.", "Sync shifts to Outlook", "Set up the link"),
		ref("lumen-billing", "Lumen credits", "Lumen credits are billed once a year and roll over for twelve months.", "Lumen credits"),
	}
	a, ex, err := (&Extractive{}).answer(context.Background(), "How do I connect Lumen Link?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ex.steps || !strings.Contains(a.Text, "To connect Lumen Link") || strings.Contains(a.Text, "Outlook") {
		t.Errorf("answer %q; want the Lumen Link sentence, not another article's steps", a.Text)
	}
}

// TestExtractiveStepsThatSplitThePair: a list whose heading names one
// term of the question and whose step names the other ("Moving a supplier
// to another warehouse" over "Add the new warehouse") is another task's,
// when a sentence says the question's pair together ("Add supplier").
func TestExtractiveStepsThatSplitThePair(t *testing.T) {
	t.Parallel()
	ctx := []store.ChunkRef{
		ref("suppliers", "Suppliers", "New suppliers are added one at a time: open Purchasing → Add supplier and fill in the tax number.", "Suppliers"),
		ref("warehouses", "Warehouses", "1. Open Purchasing → (supplier) → Warehouses.\n2. Add the new warehouse and, if needed, remove the old one.\n3. Open orders stay with the old warehouse until they are delivered.", "Warehouses", "Moving a supplier to another warehouse"),
	}
	for _, q := range []string{"How do I add a supplier?", "How can I add suppliers?"} {
		a, ex, err := (&Extractive{}).answer(context.Background(), q, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ex.steps || !strings.Contains(a.Text, "Add supplier") || strings.Contains(a.Text, "warehouse") {
			t.Errorf("%s: answer %q; want the sentence that adds a supplier, not the steps that move one", q, a.Text)
		}
	}
	// The same list answers when its heading says the pair together.
	ctx[1].Chunk.Headings = []string{"Warehouses", "Add a warehouse"}
	a, ex, err := (&Extractive{}).answer(context.Background(), "How do I add a warehouse?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ex.steps {
		t.Errorf("answer %q; want the steps under \"Add a warehouse\"", a.Text)
	}
}
