package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"llmops/store"
)

func ptr[T any](v T) *T { return &v }

func newTestLedger(t *testing.T, st *store.Store, now func() time.Time) *budgetLedger {
	t.Helper()
	l, err := newBudgetLedger(context.Background(), st, quiet, now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Many asks at once against token and dollar budgets: the spend passes
// each limit by at most one ask, requests/min is exact, and every refusal
// names the budget.
func TestBudgetsUnderConcurrency(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	l := newTestLedger(t, openTestStore(t), func() time.Time { return *clock.Load() })
	defer l.close()
	const perAsk, cost = 37, 0.013
	l.setLimits(store.Budgets{
		Global: store.BudgetLimits{TokensPerDay: ptr[int64](1000)},
		Keys:   map[string]store.BudgetLimits{"k1": {CostPerDayUSD: ptr(0.2)}},
	})
	run := func(scopes []budgetScope) (admitted int64, tokens int64, refusals []string) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 16 {
			wg.Go(func() {
				for range 200 {
					settle, over := l.reserve(scopes)
					if over != nil {
						mu.Lock()
						refusals = append(refusals, over.msg)
						mu.Unlock()
						if !strings.Contains(over.msg, "still being answered") {
							return // the budget is spent
						}
						time.Sleep(time.Millisecond) // others are in flight: let them settle
						continue
					}
					atomic.AddInt64(&admitted, 1)
					atomic.AddInt64(&tokens, perAsk)
					settle(perAsk, cost)
				}
			})
		}
		wg.Wait()
		return admitted, tokens, refusals
	}
	global := []budgetScope{{"global", "the global budget"}}
	_, tokens, refusals := run(global)
	if tokens < 1000 || tokens > 1000+perAsk {
		t.Fatalf("tokens spent %d; want from 1000 to %d (the limit plus at most one ask)", tokens, 1000+perAsk)
	}
	last := refusals[len(refusals)-1]
	if !strings.Contains(last, "the global budget allows 1000 tokens/day") || !strings.Contains(last, "resets at 2026-12-08 00:00 UTC (in 14h0m0s)") {
		t.Errorf("refusal %q; want it to name the budget and when it resets", last)
	}

	// The next day the global budget is fresh; the key's $0.20 a day now
	// binds: at most ceil(0.2/0.013) = 16 asks.
	tomorrow := now.Add(24 * time.Hour)
	clock.Store(&tomorrow)
	admitted, _, refusals := run([]budgetScope{global[0], {"key:k1", `API key "ci"`}})
	if admitted != 16 {
		t.Fatalf("asks admitted under $0.20/day at $0.013 each: %d; want 16 (the 16th crosses the limit)", admitted)
	}
	if last := refusals[len(refusals)-1]; !strings.Contains(last, `API key "ci" allows $0.20 $/day`) {
		t.Errorf("refusal %q; want it to name the key's $/day budget", last)
	}

	// Requests a minute are counted at admission: exact under contention.
	l.setLimits(store.Budgets{Users: map[string]store.BudgetLimits{"u1": {RequestsPerMinute: ptr[int64](7)}}})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if settle, over := l.reserve([]budgetScope{{"user:u1", "your budget"}}); over == nil {
				ok.Add(1)
				settle(0, 0)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 7 {
		t.Errorf("asks admitted under 7 requests/min: %d; want 7", ok.Load())
	}
}

// A limit of 0 blocks; usage survives a restart of the ledger.
func TestBudgetZeroBlocksAndUsageSurvivesRestart(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	now := time.Now().UTC()
	l := newTestLedger(t, st, func() time.Time { return now })
	l.setLimits(store.Budgets{Keys: map[string]store.BudgetLimits{"k0": {TokensPerDay: ptr[int64](0)}}})
	if _, over := l.reserve([]budgetScope{{"key:k0", `API key "zero"`}}); over == nil {
		t.Fatal("a budget of 0 admitted an ask")
	}
	settle, over := l.reserve([]budgetScope{{"global", "the global budget"}, {"user:u1", "your budget"}})
	if over != nil {
		t.Fatal(over.msg)
	}
	settle(120, 0.5)
	l.close()
	l2 := newTestLedger(t, st, func() time.Time { return now })
	defer l2.close()
	_, rows := l2.snapshot()
	found := false
	for _, r := range rows {
		if r.Scope == "user:u1" {
			found = r.Usage.Tokens == 120 && r.Usage.CostDayUSD == 0.5 && r.Usage.CostMonthUSD == 0.5 && r.Usage.Requests == 1
		}
	}
	if !found {
		t.Fatalf("after restart: %+v; want user:u1 with 1 request, 120 tokens, $0.50", rows)
	}
}

// Over HTTP: PUT /api/v1/budgets, then the key's third ask in a minute is
// 429 with Retry-After and a message naming the key's budget; bad limits
// are 400 naming the field.
func TestBudgetsAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t, func(c *Config) { c.AskRate = 0 })
	h := s.http.Handler
	admin := keyFor(t, s, store.RoleAdmin)
	secret, k, err := s.store.CreateAPIKey(context.Background(), store.Actor{Kind: store.ActorCLI, Name: "test"}, "support-bot", store.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(h, "PUT", "/api/v1/budgets", `{"global":{"tokens_per_day":-5}}`, admin); rec.Code != 400 || !strings.Contains(errorMessage(t, rec), "global.tokens_per_day") {
		t.Fatalf("negative limit: %d %s; want 400 naming global.tokens_per_day", rec.Code, rec.Body)
	}
	if rec := call(h, "PUT", "/api/v1/budgets", `{"keys":{"`+k.ID+`":{"requests_per_minute":2}}}`, admin); rec.Code != 200 {
		t.Fatalf("PUT budgets: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "PUT", "/api/v1/budgets", `{}`, secret); rec.Code != http.StatusForbidden {
		t.Fatalf("viewer PUT budgets: %d; want 403", rec.Code)
	}
	var codes []int
	var last *httptest.ResponseRecorder
	for range 3 {
		rec := call(h, "POST", "/api/v1/ask", `{"question":"How do I reset my password?"}`, secret)
		codes = append(codes, rec.Code)
		last = rec
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("three asks: %v; want 200, 200, 429", codes)
	}
	if msg := errorMessage(t, last); !strings.Contains(msg, `API key "support-bot" allows 2 requests/min`) || !strings.Contains(msg, "resets at") {
		t.Errorf("429 message %q; want the key's budget and its reset", msg)
	}
	if last.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	rec := call(h, "GET", "/api/v1/budgets", "", admin)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"scope":"key:`+k.ID+`"`) || !strings.Contains(rec.Body.String(), `"requests":2`) {
		t.Errorf("GET budgets: %d %s; want the key's usage of 2 requests", rec.Code, rec.Body)
	}
}

// BenchmarkBudgetReserve is what a budget check adds to an ask: reserve
// and settle against a global, a key and a user budget.
func BenchmarkBudgetReserve(b *testing.B) {
	st, err := store.Open(context.Background(), b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l, err := newBudgetLedger(context.Background(), st, quiet, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	l.setLimits(store.Budgets{Global: store.BudgetLimits{TokensPerDay: ptr[int64](1 << 60)},
		Keys: map[string]store.BudgetLimits{"k": {RequestsPerMinute: ptr[int64](1 << 60), CostPerMonthUSD: ptr(1e12)}}})
	scopes := []budgetScope{{"global", ""}, {"key:k", ""}, {"user:u", ""}}
	b.ReportAllocs()
	for b.Loop() {
		settle, over := l.reserve(scopes)
		if over != nil {
			b.Fatal(over.msg)
		}
		settle(120, 0.001)
	}
}
