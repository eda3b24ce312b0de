package answer

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"llmops/rag"
	sampledata "llmops/sample-data"
	"llmops/store"
)

// stepsOf returns the list items of an answer, in order.
func stepsOf(a *Answer) []string {
	var out []string
	for _, s := range a.Sentences {
		if s.Item > 0 {
			out = append(out, s.Text)
		}
	}
	return out
}

// TestKioskModeDirection is the case a new user met: an uploaded article
// documents how to start kiosk mode and how to leave it, and "how do I
// leave kiosk mode?" got the steps to start it. Each direction must get
// its own steps, and relevance must mark the other steps as off point.
func TestKioskModeDirection(t *testing.T) {
	data, err := os.ReadFile("testdata/kiosk-mode.md")
	if err != nil {
		t.Fatal(err)
	}
	kb := openSampleKB(t, rag.File{Name: "uploads/kiosk-mode.md", Data: data})
	tests := []struct {
		question  string
		want, not string // a step the answer must quote, one it must not
	}{
		{"How do I leave kiosk mode?", "Tap Exit kiosk mode.", "Choose the location and tap Start kiosk mode."},
		{"how do i exit kiosk mode on the tablet", "Tap Exit kiosk mode.", "Choose the location and tap Start kiosk mode."},
		{"How do I start kiosk mode?", "Choose the location and tap Start kiosk mode.", "Tap Exit kiosk mode."},
		{"How can I quit kiosk mode?", "Tap Exit kiosk mode.", "Choose the location and tap Start kiosk mode."},
	}
	// Without the uploaded article the help centre only says how to set a
	// kiosk up: leaving it is undocumented, and the answer is the fallback,
	// not a sentence about kiosk PINs.
	t.Run("sample only", func(t *testing.T) {
		var refs []store.ChunkRef
		for _, r := range kb.retrieve(t, "How do I leave kiosk mode?", 20) {
			if r.Document.Source != "uploads/kiosk-mode.md" && len(refs) < 5 {
				refs = append(refs, r)
			}
		}
		a, _, err := (&Extractive{}).answer(context.Background(), "How do I leave kiosk mode?", refs)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Fallback {
			t.Errorf("answered %q from the sample alone; want the fallback", a.Text)
		}
	})
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			refs := kb.retrieve(t, tt.question, 5)
			a, ex, err := (&Extractive{}).answer(context.Background(), tt.question, refs)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("relevance %.2f\n%s", a.Relevance, a.Text)
			if a.Fallback {
				t.Fatalf("fell back: %s", ex.reason)
			}
			steps := strings.Join(stepsOf(a), "\n")
			if !strings.Contains(steps, tt.want) || strings.Contains(a.Text, tt.not) {
				t.Errorf("steps:\n%s\nwant %q and not %q", steps, tt.want, tt.not)
			}
			if a.Relevance < 0.6 {
				t.Errorf("relevance %.2f, want ≥ 0.6 for the steps that answer", a.Relevance)
			}
			// The same steps held against the opposite question are off
			// point: they must score far lower.
			opposite := strings.NewReplacer("leave", "start", "exit", "start", "quit", "start", "start", "leave").Replace(strings.ToLower(tt.question))
			if r := Relevance(opposite, a, refs); r >= a.Relevance/2 || r >= DefaultMinRelevance {
				t.Errorf("relevance of these steps to %q = %.2f, want < %.2f and < half of %.2f", opposite, r, DefaultMinRelevance, a.Relevance)
			}
		})
	}
}

// TestPolarityPairs: for each pair of opposite actions, a context holding
// a sentence on each side answers each question with its own side.
func TestPolarityPairs(t *testing.T) {
	tests := []struct {
		name                 string
		text                 string
		q1, want1, q2, want2 string
	}{
		{"cancel/renew",
			"Your subscription renews automatically at the end of each billing period. To renew early, pay the next invoice from the Billing page.\n\n" +
				"To cancel your subscription, open Billing and click Cancel plan. Cancelling stops the renewal at the end of the billing period.",
			"How do I cancel my subscription?", "Cancel plan",
			"When does my subscription renew?", "renews automatically"},
		{"enable/disable",
			"Two-factor authentication can be enabled for every user under Security → Require 2FA.\n\n" +
				"To disable two-factor authentication for one user, open their profile and click Reset 2FA; they set it up again at the next sign-in.",
			"How can I disable two-factor authentication for a user?", "Reset 2FA",
			"How do I enable two-factor authentication for everyone?", "Require 2FA"},
		{"clock in/clock out",
			"Employees clock in from the mobile app when their shift starts, within 15 minutes of its start time.\n\n" +
				"Employees who forget to clock out are clocked out automatically 4 hours after their shift ends, and the entry is flagged.",
			"What happens if someone forgets to clock out?", "clocked out automatically",
			"How early can employees clock in?", "within 15 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := []store.ChunkRef{ref("doc", "Help", tt.text)}
			for _, c := range [][2]string{{tt.q1, tt.want1}, {tt.q2, tt.want2}} {
				a, ex, err := (&Extractive{}).answer(context.Background(), c[0], ctx)
				if err != nil {
					t.Fatal(err)
				}
				if a.Fallback || !strings.Contains(a.Sentences[0].Text, c[1]) {
					t.Errorf("%s → %q (fallback %v, %s); want it to open with the sentence saying %q", c[0], a.Text, a.Fallback, ex.reason, c[1])
				}
			}
		})
	}
}

// TestHowToVersusPolicy: a how-to question gets the procedure, a policy
// question about the same task gets the rule, not the steps.
func TestHowToVersusPolicy(t *testing.T) {
	text := "Only the Owner can cancel the subscription. Refunds are given only for annual plans, within 30 days of purchase.\n\n" +
		"1. Go to Settings → Billing → Plan.\n2. Click Cancel subscription.\n3. Confirm.\n\n" +
		"Your workspace stays on the paid plan until the end of the billing period."
	ctx := []store.ChunkRef{ref("cancel", "Cancel your subscription", text, "Cancel your subscription")}
	a, ex, err := (&Extractive{}).answer(context.Background(), "How do I cancel my subscription?", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ex.steps || len(stepsOf(a)) != 3 {
		t.Errorf("how-to: %q, want the three steps", a.Text)
	}
	for q, want := range map[string]string{
		"Can I get a refund if I cancel my monthly plan?": "Refunds are given only for annual plans",
		"Who is allowed to cancel the subscription?":      "Only the Owner can cancel",
		"What happens to my workspace after I cancel it?": "stays on the paid plan",
	} {
		a, ex, err := (&Extractive{}).answer(context.Background(), q, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a.Fallback || ex.steps || !strings.Contains(a.Text, want) {
			t.Errorf("%s → %q (steps %v); want prose with %q", q, a.Text, ex.steps, want)
		}
	}
}

// TestSampleUptimeSLA is sample case q003: a question about leaving the
// contract over missed uptime is answered by the SLA's termination
// clause ("get out of" is a way to say terminate), not by a sentence that
// shares a word with it ("keep using app version 4.2"), when the clause
// ranks first. Retrieval does not bring that chunk into the top five
// today (issue 14's retrieval part); then the answer must not be the
// off-point sentence either.
func TestSampleUptimeSLA(t *testing.T) {
	qs, err := sampledata.Questions()
	if err != nil {
		t.Fatal(err)
	}
	var q string
	for _, c := range qs {
		if c.ID == "q003" {
			q = c.Question
		}
	}
	kb := openSampleKB(t)
	deep := kb.retrieve(t, q, 50)
	var clause *store.ChunkRef
	for i, r := range deep {
		if strings.Contains(r.Chunk.Text, "may terminate the Enterprise subscription") {
			clause = &deep[i]
		}
	}
	if clause == nil {
		t.Fatal("no chunk of the sample holds the SLA's termination clause")
	}
	for _, rank := range []int{0} {
		refs := slices.Clone(deep[:5])
		refs = slices.DeleteFunc(refs, func(r store.ChunkRef) bool { return r.Chunk.ID == clause.Chunk.ID })
		refs = slices.Insert(refs[:4], rank, *clause)
		a, ex, err := (&Extractive{}).answer(context.Background(), q, refs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("clause at rank %d: relevance %.2f\n%s", rank+1, a.Relevance, a.Text)
		if a.Fallback || !strings.Contains(a.Sentences[0].Text, "may terminate the Enterprise subscription") {
			t.Errorf("clause at rank %d: %q (%s); want the termination clause first", rank+1, a.Text, ex.reason)
		}
	}
	a, _, err := (&Extractive{}).answer(context.Background(), q, deep[:5])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BM25 top 5: relevance %.2f, fallback %v\n%s", a.Relevance, a.Fallback, a.Text)
	if strings.Contains(a.Text, "version 4.2") {
		t.Errorf("BM25 top 5: %q, the off-point sentence the issue reported", a.Text)
	}
}
