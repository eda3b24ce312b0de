package store_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// usageBrute counts, by hand, what the usage rollups of dim should say
// about the traces started in [from, to).
func usageBrute(traces []*store.Trace, thumbs map[string][]int, from, to time.Time, dim store.UsageDim) map[string]store.Rollup {
	out := map[string]store.Rollup{}
	for _, t := range traces {
		ch := t.Attributes[schema.AttrChannel].(string)
		if t.Start.Before(from) || !t.Start.Before(to) || (t.Kind != schema.KindAsk && t.Kind != schema.KindEval) || !slices.Contains(store.TrafficChannels, ch) {
			continue
		}
		var who string
		switch dim {
		case store.UsageUser:
			who = t.UserID
		case store.UsageKey:
			who, _ = strings.CutPrefix(t.Attributes[schema.AttrActor].(string), "key:")
			if who == t.Attributes[schema.AttrActor].(string) {
				continue
			}
		case store.UsageVisitor:
			v, ok := t.Attributes[schema.AttrVisitor].(string)
			if !ok {
				continue
			}
			who = v
		}
		r := out[who]
		r.Requests++
		r.TokensIn += int64(t.TokensIn)
		r.TokensOut += int64(t.TokensOut)
		r.CostUSD += t.CostUSD
		for _, v := range thumbs[t.ID] {
			if v > 0 {
				r.Up++
			} else {
				r.Down++
			}
		}
		out[who] = r
	}
	return out
}

func TestUsageRollupsMatchBruteForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	traces, thumbs := writeRandomTraces(t, s, 400, end)
	// Whole days: usage rollups are per day.
	from, to := time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	check := func(stage string) {
		t.Helper()
		for _, dim := range []store.UsageDim{store.UsageUser, store.UsageKey, store.UsageVisitor} {
			rows, err := s.Usage(ctx, from, to, dim)
			if err != nil {
				t.Fatal(err)
			}
			want := usageBrute(traces, thumbs, from, to, dim)
			if len(rows) != len(want) || len(rows) == 0 {
				t.Fatalf("%s: dim %c: %d rows, want %d", stage, dim, len(rows), len(want))
			}
			for i, r := range rows {
				w := want[r.Value]
				if r.Requests != w.Requests || r.TokensIn != w.TokensIn || r.TokensOut != w.TokensOut || r.Up != w.Up || r.Down != w.Down ||
					math.Abs(r.CostUSD-w.CostUSD) > 1e-9 {
					t.Errorf("%s: dim %c %q: got %d asks %d/%d tokens $%g %d up %d down; want %d, %d/%d, $%g, %d, %d", stage, dim, r.Value,
						r.Requests, r.TokensIn, r.TokensOut, r.CostUSD, r.Up, r.Down, w.Requests, w.TokensIn, w.TokensOut, w.CostUSD, w.Up, w.Down)
				}
				if i > 0 && rows[i-1].CostUSD < r.CostUSD {
					t.Errorf("%s: rows not sorted by cost: %g before %g", stage, rows[i-1].CostUSD, r.CostUSD)
				}
			}
		}
	}
	check("live")
	// A one-day window counts that day only.
	day := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	rows, err := s.Usage(ctx, day, day.Add(24*time.Hour), store.UsageUser)
	if err != nil {
		t.Fatal(err)
	}
	var n, want int64
	for _, r := range rows {
		n += r.Requests
	}
	for _, r := range usageBrute(traces, thumbs, day, day.Add(24*time.Hour), store.UsageUser) {
		want += r.Requests
	}
	if n != want || n == 0 {
		t.Errorf("one day: %d asks, want %d", n, want)
	}
	if err := s.RebuildTraceDerived(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}

func TestVisitorFilterListsOneVisitorsAsks(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	traces, _ := writeRandomTraces(t, s, 300, end)
	var want []string
	for i := len(traces) - 1; i >= 0; i-- {
		if traces[i].Attributes[schema.AttrVisitor] == "v-u2" {
			want = append(want, traces[i].ID)
		}
	}
	got := listAll(t, s, store.TraceFilter{User: store.VisitorPrefix + "v-u2"})
	if !slices.Equal(got, want) || len(got) == 0 {
		t.Errorf("visitor filter lists %d traces, want %d", len(got), len(want))
	}
}

func TestTraceViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	ana := store.Actor{Kind: store.ActorUser, ID: "1", Name: "ana@example.com"}
	bo := store.Actor{Kind: store.ActorUser, ID: "2", Name: "bo@example.com"}
	mine := &store.TraceView{Name: " Slow widget asks ", Query: "?channel=widget&min_latency_ms=3000&cursor=X&limit=5&bogus=1"}
	if err := s.SaveTraceView(ctx, ana, mine); err != nil {
		t.Fatal(err)
	}
	if mine.Name != "Slow widget asks" || mine.Query != "channel=widget&min_latency_ms=3000" {
		t.Errorf("saved %q with query %q; want the trimmed name and the filters only", mine.Name, mine.Query)
	}
	shared := &store.TraceView{Name: "thumbs down", Query: "feedback=down", Shared: true}
	if err := s.SaveTraceView(ctx, ana, shared); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*store.TraceView{{Name: "  "}, {Name: strings.Repeat("x", 81)}, {Name: "q", Query: "%zz"}} {
		if err := s.SaveTraceView(ctx, ana, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("SaveTraceView(%q, %q) = %v, want EINVALID", bad.Name, bad.Query, err)
		}
	}
	names := func(a store.Actor) []string {
		vs, err := s.TraceViews(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}
	if got := names(ana); !slices.Equal(got, []string{"Slow widget asks", "thumbs down"}) {
		t.Errorf("ana sees %q", got)
	}
	if got := names(bo); !slices.Equal(got, []string{"thumbs down"}) {
		t.Errorf("bo sees %q, want only the shared view", got)
	}
	if err := s.DeleteTraceView(ctx, bo, mine.ID, false); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("bo deleting ana's own view: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteTraceView(ctx, bo, shared.ID, false); store.ErrorCode(err) != store.EFORBIDDEN {
		t.Errorf("bo deleting ana's shared view: %v, want EFORBIDDEN", err)
	}
	if err := s.DeleteTraceView(ctx, bo, shared.ID, true); err != nil {
		t.Errorf("an admin deleting a shared view: %v", err)
	}
	if err := s.DeleteTraceView(ctx, ana, mine.ID, false); err != nil {
		t.Errorf("ana deleting her view: %v", err)
	}
	if got := names(ana); len(got) != 0 {
		t.Errorf("after deletes ana sees %q", got)
	}
}
