package store_test

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// writeRandomTraces stores n random traces over two days before end, some
// rated, and returns them oldest first with their thumbs.
func writeRandomTraces(t *testing.T, s *store.Store, n int, end time.Time) ([]*store.Trace, map[string][]int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	w := s.NewTraceWriter(store.TraceWriterOptions{MaxBatch: 50})
	var traces []*store.Trace
	for range n {
		tr, sp := randomAsk(rng, end.Add(-time.Duration(rng.Int64N(int64(48*time.Hour)))))
		traces = append(traces, tr)
		if err := w.Write(ctx, tr, sp...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	thumbs := map[string][]int{}
	for _, tr := range traces[:n/3] {
		v := []int{1, -1}[rng.IntN(2)]
		if err := s.AddFeedback(ctx, store.Actor{Kind: store.ActorUser, Name: "ana"}, &store.Feedback{TraceID: tr.ID, Value: v}); err != nil {
			t.Fatal(err)
		}
		thumbs[tr.ID] = append(thumbs[tr.ID], v)
	}
	slices.SortFunc(traces, func(a, b *store.Trace) int { return strings.Compare(a.ID, b.ID) })
	return traces, thumbs
}

// listAll pages through ListTraces with a small limit.
func listAll(t *testing.T, s *store.Store, f store.TraceFilter) []string {
	t.Helper()
	var ids []string
	f.Limit = 7
	for pages := 0; ; pages++ {
		got, next, err := s.ListTraces(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > f.Limit {
			t.Fatalf("page of %d traces, limit %d", len(got), f.Limit)
		}
		for _, tr := range got {
			ids = append(ids, tr.ID)
		}
		if next == "" {
			return ids
		}
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		f.Before = next
	}
}

func TestListTracesFilters(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	traces, thumbs := writeRandomTraces(t, s, 600, end)
	has := func(tr *store.Trace, v int) bool { return slices.Contains(thumbs[tr.ID], v) }
	g := 0.3
	from, to := end.Add(-30*time.Hour), end.Add(-6*time.Hour)
	cases := []struct {
		name string
		f    store.TraceFilter
		want func(*store.Trace) bool
	}{
		{"all", store.TraceFilter{}, func(*store.Trace) bool { return true }},
		{"status", store.TraceFilter{Status: schema.StatusFallback}, func(tr *store.Trace) bool { return tr.Status == schema.StatusFallback }},
		{"kind", store.TraceFilter{Kind: "playground"}, func(tr *store.Trace) bool { return tr.Kind == "playground" }},
		{"exclude kind", store.TraceFilter{ExcludeKind: schema.KindEval}, func(tr *store.Trace) bool { return tr.Kind != schema.KindEval }},
		{"channel", store.TraceFilter{Channel: schema.ChannelWidget}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrChannel] == schema.ChannelWidget }},
		{"model", store.TraceFilter{Model: "extractive"}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrResponseModel] == "extractive" }},
		{"prompt", store.TraceFilter{Prompt: "support-answer@2"}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrPrompt] == "support-answer@2" }},
		{"user", store.TraceFilter{User: "u3"}, func(tr *store.Trace) bool { return tr.UserID == "u3" }},
		{"key", store.TraceFilter{Key: "ci"}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrActor] == "key:ci" }},
		{"conversation", store.TraceFilter{Conversation: "conv5"}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrConversationID] == "conv5" }},
		{"feedback up", store.TraceFilter{Feedback: store.FeedbackUp}, func(tr *store.Trace) bool { return has(tr, 1) }},
		{"feedback down", store.TraceFilter{Feedback: store.FeedbackDown}, func(tr *store.Trace) bool { return has(tr, -1) }},
		{"feedback none", store.TraceFilter{Feedback: store.FeedbackNone}, func(tr *store.Trace) bool { return len(thumbs[tr.ID]) == 0 }},
		{"escalated", store.TraceFilter{Escalated: true}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrEscalated] == true }},
		{"min latency", store.TraceFilter{MinLatency: 300 * time.Millisecond}, func(tr *store.Trace) bool { return tr.Duration() >= 300*time.Millisecond }},
		{"max groundedness", store.TraceFilter{MaxGroundedness: &g}, func(tr *store.Trace) bool { return tr.Attributes[schema.AttrGroundedness].(float64) <= g }},
		{"min cost", store.TraceFilter{MinCostUSD: 0.005}, func(tr *store.Trace) bool { return tr.CostUSD >= 0.005 }},
		{"time range", store.TraceFilter{From: from, To: to}, func(tr *store.Trace) bool { return !tr.Start.Before(from) && tr.Start.Before(to) }},
		{"combined", store.TraceFilter{Channel: schema.ChannelChat, Status: schema.StatusOK, Model: "gpt-4o-mini", From: from, MaxGroundedness: &g},
			func(tr *store.Trace) bool {
				return tr.Attributes[schema.AttrChannel] == schema.ChannelChat && tr.Status == schema.StatusOK && tr.Attributes[schema.AttrResponseModel] == "gpt-4o-mini" &&
					!tr.Start.Before(from) && tr.Attributes[schema.AttrGroundedness].(float64) <= g
			}},
		{"match", store.TraceFilter{Status: schema.StatusOK, Match: func(_ context.Context, before string, n int) ([]string, error) {
			// A fake full-text source: every third trace, newest first.
			var out []string
			for i := len(traces) - 1; i >= 0 && len(out) < n; i-- {
				if i%3 == 0 && (before == "" || traces[i].ID < before) {
					out = append(out, traces[i].ID)
				}
			}
			return out, nil
		}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []string
			for i := len(traces) - 1; i >= 0; i-- {
				tr := traces[i]
				ok := c.want != nil && c.want(tr) || c.want == nil && i%3 == 0 && tr.Status == schema.StatusOK
				if ok {
					want = append(want, tr.ID)
				}
			}
			got := listAll(t, s, c.f)
			if len(want) == 0 {
				t.Fatal("the filter matches nothing: the test proves nothing")
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d traces, want %d (first got %v, want %v)", len(got), len(want), head(got), head(want))
			}
		})
	}
	if _, _, err := s.ListTraces(context.Background(), store.TraceFilter{Feedback: "maybe"}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("feedback=maybe: err = %v, want EINVALID", err)
	}
}

func head(s []string) []string { return s[:min(3, len(s))] }

func TestDeleteTracesBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	traces, _ := writeRandomTraces(t, s, 400, end)
	cutoff := end.Add(-20 * time.Hour)
	before, _, _, err := s.Rollups(ctx, end.Add(-72*time.Hour), end.Add(time.Hour), store.RollupFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var gone []string
	n, err := s.DeleteTracesBefore(ctx, cutoff, 37, func(ids []string) { gone = append(gone, ids...) })
	if err != nil {
		t.Fatal(err)
	}
	var wantGone, wantKept []string
	for _, tr := range traces {
		if tr.Start.Before(cutoff) {
			wantGone = append(wantGone, tr.ID)
		} else {
			wantKept = append(wantKept, tr.ID)
		}
	}
	if n != len(wantGone) || !slices.Equal(gone, wantGone) {
		t.Fatalf("deleted %d (%d reported), want %d", n, len(gone), len(wantGone))
	}
	kept := listAll(t, s, store.TraceFilter{})
	slices.Reverse(kept)
	if !slices.Equal(kept, wantKept) {
		t.Errorf("kept %d traces, want %d", len(kept), len(wantKept))
	}
	for _, id := range wantGone[:5] {
		if _, _, err := s.Trace(ctx, id); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("trace %s: err = %v, want not found", id, err)
		}
		if fb, _ := s.FeedbackFor(ctx, id); len(fb) != 0 {
			t.Errorf("trace %s: %d feedback left", id, len(fb))
		}
	}
	// Index entries went with the traces: a filter finds only kept ones.
	for _, id := range listAll(t, s, store.TraceFilter{User: "u1"}) {
		if id < wantKept[0] {
			t.Errorf("user filter still lists deleted trace %s", id)
		}
	}
	// Rollups stay.
	after, _, _, err := s.Rollups(ctx, end.Add(-72*time.Hour), end.Add(time.Hour), store.RollupFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if after.Requests != before.Requests || after.Requests == 0 {
		t.Errorf("rollups: %d requests after retention, %d before", after.Requests, before.Requests)
	}
	if after.GuardBlocks != before.GuardBlocks || !maps.Equal(after.Guards, before.Guards) || before.GuardBlocks == 0 {
		t.Errorf("guard counts: %d blocks %v after retention; %d, %v before", after.GuardBlocks, after.Guards, before.GuardBlocks, before.Guards)
	}
	if n, err := s.DeleteTracesBefore(ctx, cutoff, 37, nil); n != 0 || err != nil {
		t.Errorf("second run deleted %d, %v; want 0", n, err)
	}
}

func TestRebuildTraceDerivedMatchesLiveWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	writeRandomTraces(t, s, 300, end)
	from, to := end.Add(-72*time.Hour), end.Add(time.Hour)
	live, _, _, err := s.Rollups(ctx, from, to, store.RollupFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	liveUp := listAll(t, s, store.TraceFilter{Feedback: store.FeedbackUp, Channel: schema.ChannelChat})
	if err := s.RebuildTraceDerived(ctx); err != nil {
		t.Fatal(err)
	}
	rebuilt, _, _, err := s.Rollups(ctx, from, to, store.RollupFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt.Requests != live.Requests || rebuilt.Up != live.Up || rebuilt.Latency.Quantile(0.95) != live.Latency.Quantile(0.95) || live.Up == 0 {
		t.Errorf("rebuilt rollup %d requests, %d up, p95 %g; live %d, %d, %g", rebuilt.Requests, rebuilt.Up, rebuilt.Latency.Quantile(0.95),
			live.Requests, live.Up, live.Latency.Quantile(0.95))
	}
	if rebuilt.GuardBlocks != live.GuardBlocks || !maps.Equal(rebuilt.Guards, live.Guards) || len(live.Guards) == 0 {
		t.Errorf("rebuilt guard counts %d blocks %v; live %d, %v", rebuilt.GuardBlocks, rebuilt.Guards, live.GuardBlocks, live.Guards)
	}
	if got := listAll(t, s, store.TraceFilter{Feedback: store.FeedbackUp, Channel: schema.ChannelChat}); !slices.Equal(got, liveUp) || len(got) == 0 {
		t.Errorf("rebuilt index lists %d traces, live %d", len(got), len(liveUp))
	}
}

func TestCompactShrinksAndKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	traces, _ := writeRandomTraces(t, s, 2000, end)
	if _, err := s.DeleteTracesBefore(ctx, end.Add(-12*time.Hour), 500, nil); err != nil {
		t.Fatal(err)
	}
	kept, _ := s.CountTraces(ctx)
	if _, _, err := store.Compact(ctx, dir); !errors.Is(err, store.ErrLocked) {
		t.Errorf("compact while open: err = %v, want ErrLocked", err)
	}
	s.Close()
	before, after, err := store.Compact(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Errorf("compact: %d bytes → %d, want smaller", before, after)
	}
	s, err = store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.CountTraces(ctx); n != kept || n == 0 {
		t.Errorf("after compact %d traces, want %d", n, kept)
	}
	last := traces[len(traces)-1]
	if _, _, err := s.Trace(ctx, last.ID); err != nil {
		t.Errorf("newest trace after compact: %v", err)
	}
}
