package guard

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// question50 is a 50-word support question with personal data in it.
const question50 = "Hi, I'm Maria Lopez from Acme. Since Tuesday I cannot log in to the dashboard: it says my session expired, " +
	"even after I reset the password twice. My account e-mail is maria.lopez@acme.example and my phone is " +
	"+34 612 345 678. Could you please check what is wrong with my account?"

// BenchmarkGuardsAll runs every guard an ask runs (input PII, injection,
// scope over five retrieved passages, output policy and PII on an answer)
// with the defaults, and reports the median per ask as p50-µs: the
// figure the "≤ 1 ms p50 for a 50-word question" bar is held to.
func BenchmarkGuardsAll(b *testing.B) {
	if n := len(strings.Fields(question50)); n != 50 {
		b.Fatalf("question has %d words, want 50", n)
	}
	cfg := DefaultConfig()
	cfg.AllowedDomains = []string{"help.acme.example"}
	cfg.BlockedTerms = []string{"CompetitorCo", "guaranteed refund"}
	g := New(cfg, nil, nil)
	passage := "To sign in again after your session expired, open the login page and choose Forgot password. " +
		"Sessions expire after 12 hours of inactivity, or at once when an admin resets your password. " +
		"If the dashboard still says the session expired, clear the browser's cookies for the app and try again. "
	passages := []string{passage, passage, passage, passage, passage}
	answer := "Your session expires after 12 hours without activity or when an admin resets your password [1]. " +
		"Open the login page, choose Forgot password and follow the link in the e-mail [2]. If the dashboard " +
		"still says the session expired, clear the cookies for the app and sign in again; see " +
		"[Signing in](https://help.acme.example/sign-in) [3]."
	ctx := context.Background()
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		in := g.Input(ctx, question50)
		if _, ok := g.Scope(in.Text, passages); !ok {
			b.Fatal("scope guard off")
		}
		g.Output(ctx, answer, "llmops-canary-01")
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	if len(times) > 0 {
		b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1000, "p50-µs")
	}
}
