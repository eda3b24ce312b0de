package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"llmops/store"
)

// The subscriber sees exactly the committed traces and spans, after their
// commit (the store already holds them).
func TestTraceWriterSubscriberSeesCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	w := s.NewTraceWriter(store.TraceWriterOptions{})
	var mu sync.Mutex
	var traces, spans int
	var missing []string
	w.Subscribe(func(ts []store.Trace, ss []store.Span) {
		for _, tr := range ts {
			if _, _, err := s.Trace(ctx, tr.ID); err != nil {
				missing = append(missing, tr.ID)
			}
		}
		mu.Lock()
		traces, spans = traces+len(ts), spans+len(ss)
		mu.Unlock()
	})
	for range 30 {
		tr, ss := newTrace(3)
		if err := w.Write(ctx, tr, ss...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if traces != 30 || spans != 90 || len(missing) > 0 {
		t.Fatalf("subscriber saw %d traces, %d spans, %d not yet stored; want 30, 90, 0", traces, spans, len(missing))
	}
}

func TestAlertRuleLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	admin := store.Actor{Kind: "user", ID: "u1", Name: "ada"}
	a := &store.AlertRule{Name: "errors", Metric: "error_rate", Op: ">", Threshold: 0.05, Window: "10m"}
	if err := s.CreateAlert(ctx, admin, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.State != store.AlertOK {
		t.Fatalf("created %+v; want an ID and state ok", a)
	}
	v := 0.2
	at := time.Now()
	for range store.MaxAlertHistory + 5 {
		if err := s.SetAlertState(ctx, a.ID, store.AlertFiring, &v, at); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAlertState(ctx, a.ID, store.AlertOK, &v, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil || len(got.History) != store.MaxAlertHistory || got.State != store.AlertOK {
		t.Fatalf("after flips: %d history entries, state %s, %v; want %d, ok", len(got.History), got.State, err, store.MaxAlertHistory)
	}
	if _, err := s.UpdateAlert(ctx, admin, a.ID, func(r *store.AlertRule) error { r.Muted = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlert(ctx, admin, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Alert(ctx, a.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("deleted alert: err = %v, want not found", err)
	}
}

func TestBudgetUsageRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	want := map[string]store.BudgetUsage{"global": {Day: day, Tokens: 1234, CostDayUSD: 0.5}, "key:k1": {Requests: 3}}
	if err := s.SaveBudgetUsage(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.BudgetUsage(ctx)
	if err != nil || len(got) != 2 || got["global"].Tokens != 1234 || !got["global"].Day.Equal(day) || got["key:k1"].Requests != 3 {
		t.Fatalf("BudgetUsage = %+v, %v; want %+v", got, err, want)
	}
	neg := int64(-1)
	if err := (store.Budgets{Keys: map[string]store.BudgetLimits{"k1": {TokensPerDay: &neg}}}).Validate(); err == nil || store.ErrorMessage(err) != "keys.k1.tokens_per_day: must be 0 or more" {
		t.Fatalf("negative limit: %v", err)
	}
}
