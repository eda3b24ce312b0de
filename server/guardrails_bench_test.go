package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// BenchmarkGuardCounts times the Guardrails page's counts over a store of
// LLMOPS_BENCH_GUARD_TRACES traces (default 100,000) spread over 30 days,
// a twentieth of them with guard verdicts: from the rollups, and (for
// comparison) the scan of up to 50,000 of the week's traces the page did
// before schema 19.
func BenchmarkGuardCounts(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LLMOPS_BENCH_GUARD_TRACES")); err == nil && v > 0 {
		n = v
	}
	s, clock := mustServerAt(b)
	ctx := context.Background()
	now := clock.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	channels := []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI, schema.ChannelEval}
	for i := range n {
		at := now.Add(-30 * 24 * time.Hour).Add(time.Duration(float64(30*24*time.Hour) * float64(i) / float64(n)))
		ch := channels[rng.IntN(len(channels))]
		kind := schema.KindAsk
		if ch == schema.ChannelEval {
			kind = schema.KindEval
		}
		tr := &store.Trace{ID: store.NewIDAt(at), Kind: kind, Name: "ask", Start: at, End: at.Add(time.Second), Status: schema.StatusOK,
			Input: "question", Attributes: map[string]any{schema.AttrChannel: ch, schema.AttrResponseModel: "m", schema.AttrPrompt: "p@1"}}
		switch rng.IntN(40) {
		case 0:
			tr.Attributes[schema.AttrGuards] = map[string]string{"input.pii": schema.GuardRedacted}
		case 1:
			tr.Attributes[schema.AttrGuards] = map[string]string{"input.injection": schema.GuardBlocked}
			tr.Attributes[schema.AttrGuardBlocked] = true
			tr.Status = schema.StatusFallback
		}
		if err := s.traces.Write(ctx, tr); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.traces.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("rollups/traces=%d", n), func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.guardCounts(ctx, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("scan50k/traces=%d", n), func(b *testing.B) {
		for b.Loop() {
			scanned := 0
			after := ""
			for scanned < 50_000 {
				batch, err := s.store.TracesSince(ctx, now.Add(-7*24*time.Hour), after, 1000)
				if err != nil {
					b.Fatal(err)
				}
				scanned += len(batch)
				if len(batch) < 1000 {
					break
				}
				after = batch[len(batch)-1].ID
			}
		}
	})
}
