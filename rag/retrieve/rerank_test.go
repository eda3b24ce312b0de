package retrieve

import (
	"context"
	"slices"
	"strings"
	"testing"

	"llmops/rag"
	"llmops/rag/index"
	"llmops/store"
)

// candidate builds a loaded hit in fused position order.
func candidate(id, title string, headings []string, text string) Hit {
	return Hit{ID: id, Chunk: store.Chunk{ID: id, Text: text, Headings: headings}, Document: &store.Document{Title: title}}
}

func TestLexicalRerankerOrder(t *testing.T) {
	scattered := candidate("scattered", "Security overview", []string{"Security overview", "Sessions"},
		"Passwords are stored as bcrypt hashes. Administrators can reset sessions for a user. Your account is protected by two-factor authentication.")
	answer := candidate("answer", "Login and two-factor problems", []string{"Login and two-factor problems", "Reset your password"},
		"Open the sign-in page and choose Forgot password. We email you a link to reset your password within a minute.")
	unrelated := candidate("unrelated", "Invoices", nil, "Invoices are sent on the first day of each month. Download them as PDF.")
	phrase := candidate("phrase", "Time clock", []string{"Time clock"},
		"Employees clock in from the mobile app. Managers approve timesheets weekly.")
	words := candidate("words", "Offline mode", []string{"Offline mode"},
		"The app works offline. Clock data syncs later. Employees see their mobile schedule in the app.")

	tests := []struct {
		name  string
		query string
		in    []Hit
		want  []string
	}{
		{"heading and one sentence beat scattered words", "How do I reset my password?",
			[]Hit{scattered, unrelated, answer}, []string{"answer", "scattered", "unrelated"}},
		{"words side by side beat the same words apart", "clock in from the mobile app",
			[]Hit{words, phrase}, []string{"phrase", "words"}},
		{"nothing matches: fused order stays", "quarterly dividend forecast",
			[]Hit{unrelated, scattered, answer}, []string{"unrelated", "scattered", "answer"}},
		{"only stop words: fused order stays", "how do I do it?",
			[]Hit{unrelated, answer}, []string{"unrelated", "answer"}},
		{"a pasted passage keeps the fused order", strings.Repeat("reset password sign-in page link email minute account ", 5),
			[]Hit{scattered, unrelated, answer}, []string{"scattered", "unrelated", "answer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LexicalReranker{}.Rerank(t.Context(), tc.query, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("order %v, want %v (scores %v)", ids(got), tc.want, scoresOf(got))
			}
			if tc.in[0].ID != tc.want[0] && got[0].Score <= got[len(got)-1].Score {
				t.Errorf("scores not descending: %v", scoresOf(got))
			}
		})
	}
	t.Run("input is not modified", func(t *testing.T) {
		in := []Hit{scattered, unrelated, answer}
		before := slices.Clone(in)
		if _, err := (LexicalReranker{}).Rerank(t.Context(), "reset password", in); err != nil {
			t.Fatal(err)
		}
		for i := range in {
			if in[i].ID != before[i].ID || in[i].Score != before[i].Score {
				t.Fatalf("input changed: %v", ids(in))
			}
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := (LexicalReranker{}).Rerank(ctx, "reset password", []Hit{answer}); err == nil {
			t.Error("no error from a cancelled context")
		}
	})
}

func scoresOf(hits []Hit) []float64 {
	out := make([]float64, len(hits))
	for i, h := range hits {
		out[i] = h.Score
	}
	return out
}

// tinyCorpus is a help centre small enough to know the right answers of.
var tinyCorpus = []struct{ id, category, body string }{
	{"slack", "integrations", "---\ntitle: Connect Slack\n---\n# Connect Slack\n\n## Install the app\n\nAn admin installs the Rosterly app from the Slack directory and picks a channel for schedule announcements.\n\n## Notifications\n\nShift reminders go to each employee as a direct message in Slack.\n"},
	{"teams", "integrations", "---\ntitle: Connect Microsoft Teams\n---\n# Connect Microsoft Teams\n\nInstall Rosterly from the Teams app store. Schedule announcements post to a Teams channel; reminders arrive in the Rosterly bot chat.\n"},
	{"password", "troubleshooting", "---\ntitle: Login problems\n---\n# Login problems\n\n## Reset your password\n\nChoose Forgot password on the sign-in page. The reset link in the email expires after 30 minutes.\n\n## Two-factor codes\n\nIf codes are rejected, check that your phone's clock is set automatically.\n"},
	{"refunds", "billing", "---\ntitle: Refunds and cancellation\n---\n# Refunds and cancellation\n\nYou can cancel your subscription at any time from Settings, Billing. Annual plans are refunded pro rata within 30 days of renewal; monthly plans are not refunded.\n"},
	{"pricing", "billing", "---\ntitle: Plans and pricing\n---\n# Plans and pricing\n\nStarter costs 4 dollars per active user per month, Pro costs 8. Annual billing saves two months.\n"},
	{"timeclock", "getting-started", "---\ntitle: Set up the time clock\n---\n# Set up the time clock\n\nEmployees clock in from the mobile app or a shared tablet kiosk. Geofencing limits clock-ins to a radius around each location.\n"},
	{"swaps", "faq", "---\ntitle: Shift swaps\n---\n# Shift swaps\n\nAn employee offers a shift, a qualified colleague accepts, and a manager approves the swap unless auto-approval is on.\n"},
}

func tinyKB(t *testing.T) *testKB {
	t.Helper()
	kb := mustOpenKB(t)
	var files []rag.File
	var docIDs []string
	for _, d := range tinyCorpus {
		files = append(files, rag.File{Name: d.id + ".md", Data: []byte(d.body), Meta: rag.Meta{Category: d.category}})
		docIDs = append(docIDs, d.id)
	}
	kb.ingest(t, files, docIDs)
	return kb
}

func TestRetrieveTinyCorpus(t *testing.T) {
	kb := tinyKB(t)
	r := New(kb.kb, Options{TopK: 3})
	tests := []struct {
		query string
		opts  *Options
		want  string // document of the first hit
	}{
		{"How do I connect Slack?", nil, "slack"},
		{"my password reset link expired", nil, "password"},
		{"can I get my money back if I cancel the annual plan", nil, "refunds"},
		{"how much does Pro cost per user", nil, "pricing"},
		{"clock in from a tablet kiosk", nil, "timeclock"},
		{"who approves a shift swap", nil, "swaps"},
		{"announcements in a Teams channel", nil, "teams"},
		// Filters: the Slack question restricted to billing finds billing.
		{"How do I connect Slack?", &Options{TopK: 3, Filter: filterOf("billing")}, ""},
		{"cancel subscription", &Options{TopK: 3, Filter: filterOf("billing")}, "refunds"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res, err := r.Retrieve(t.Context(), tc.query, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.opts != nil && tc.opts.Filter.Category != "" {
				for _, stage := range [][]Hit{res.Keyword, res.Vector, res.Hits} {
					for _, h := range stage {
						if d := kb.doc(h.ID); d != "refunds" && d != "pricing" {
							t.Errorf("filter let %s (%s) through", h.ID, d)
						}
					}
				}
			}
			if tc.want == "" {
				return
			}
			if len(res.Hits) == 0 {
				t.Fatalf("no hits")
			}
			if got := kb.doc(res.Hits[0].ID); got != tc.want {
				t.Errorf("first hit from %s, want %s (hits %v)", got, tc.want, docsOf(kb, res.Hits))
			}
		})
	}
}

func filterOf(category string) index.Filter { return index.Filter{Category: category} }

func docsOf(kb *testKB, hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = kb.doc(h.ID)
	}
	return out
}
