package store_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// randomAsk makes a finished trace of a random kind, channel, status and
// shape, started at at, with a retrieve span carrying its best score.
func randomAsk(rng *rand.Rand, at time.Time) (*store.Trace, []store.Span) {
	kinds := []schema.TraceKind{schema.KindAsk, schema.KindAsk, schema.KindAsk, schema.KindEval, schema.KindIngest, "playground"}
	channels := []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI, schema.ChannelCLI}
	statuses := []schema.TraceStatus{schema.StatusOK, schema.StatusOK, schema.StatusOK, schema.StatusFallback, schema.StatusError, schema.StatusCancelled}
	kind := kinds[rng.IntN(len(kinds))]
	channel := channels[rng.IntN(len(channels))]
	if kind == schema.KindEval {
		channel = schema.ChannelEval
	}
	latency := time.Duration(math.Exp(rng.Float64()*10) * float64(time.Millisecond/10)) // 0.1 ms … 2.2 s
	question := fmt.Sprintf("question %d about topic %d", rng.IntN(40), rng.IntN(3))
	g := math.Round(rng.Float64()*1e4) / 1e4
	t := &store.Trace{
		ID: store.NewIDAt(at), Kind: kind, Name: "ask", Start: at, End: at.Add(latency), Status: statuses[rng.IntN(len(statuses))],
		UserID: fmt.Sprintf("u%d", rng.IntN(5)), Input: question, Output: "answer",
		TokensIn: rng.IntN(2000), TokensOut: rng.IntN(500), CostUSD: float64(rng.IntN(10000)) / 1e6,
		Attributes: map[string]any{
			schema.AttrChannel: channel, schema.AttrQuestion: question,
			schema.AttrResponseModel: []string{"gpt-4o-mini", "extractive"}[rng.IntN(2)],
			schema.AttrPrompt:        []string{"support-answer@1", "support-answer@2"}[rng.IntN(2)],
			schema.AttrGroundedness:  g, schema.AttrThreshold: 0.5, schema.AttrEscalated: rng.IntN(5) == 0,
			schema.AttrTTFTMS:         float64(rng.IntN(3000)),
			schema.AttrActor:          []string{"key:ci", "user:ana@example.com"}[rng.IntN(2)],
			schema.AttrRetrieved:      []string{"c1", "c2"}[:rng.IntN(3)%3],
			schema.AttrConversationID: fmt.Sprintf("conv%d", rng.IntN(8)),
		},
	}
	if channel == schema.ChannelWidget {
		t.Attributes[schema.AttrVisitor] = "v-" + t.UserID // no rng draw: the other tests' traces stay as they were
	}
	setGuards(t)
	spans := []store.Span{{TraceID: t.ID, ID: store.NewIDAt(at), Name: schema.SpanRetrieve, Kind: schema.SpanKindRetriever, Start: at, End: at, Status: schema.StatusOK,
		Attributes: map[string]any{schema.AttrHits: []map[string]any{{"chunk_id": "c1", "rank": 1, "score": rng.Float64() * 0.5}}}}}
	return t, spans
}

// setGuards gives a trace guard verdicts from its token counts (no rng
// draw, so the other tests' traces stay as they were): about half have
// some, as the assistant writes them (a map of strings; the stored JSON
// decodes to map[string]any), and a blocked ask carries the blocked flag.
func setGuards(t *store.Trace) {
	delete(t.Attributes, schema.AttrGuards)
	delete(t.Attributes, schema.AttrGuardBlocked)
	names := []string{"input.pii", "input.injection", "input.scope", "output.policy"}
	verdicts := []string{schema.GuardFlagged, schema.GuardRedacted, schema.GuardBlocked, schema.GuardFlagged}
	g := map[string]string{}
	for i, name := range names {
		if v := (t.TokensIn/(i+1) + t.TokensOut + int(t.Status[0])) % 8; v < len(verdicts) && (v+i)%2 == 0 {
			g[name] = verdicts[v]
		}
	}
	if len(g) == 0 {
		return
	}
	t.Attributes[schema.AttrGuards] = g
	for _, v := range g {
		if v == schema.GuardBlocked {
			t.Attributes[schema.AttrGuardBlocked] = true
		}
	}
}

// brute computes by hand what the rollups should say about traces.
type brute struct {
	requests, errors, fallbacks, escalations, answered, hallucinated, tokensIn, tokensOut, up, down, empty, weak int64
	cost, gsum                                                                                                   float64
	latencies, ttfts                                                                                             []float64
	gaps                                                                                                         map[string]int64
	guardBlocks                                                                                                  int64
	guards                                                                                                       map[string]store.GuardCounts
}

func bruteForce(traces []*store.Trace, spans map[string][]store.Span, thumbs map[string][]int, from, to time.Time, channels []string) brute {
	b := brute{gaps: map[string]int64{}, guards: map[string]store.GuardCounts{}}
	for _, t := range traces {
		ch, _ := t.Attributes[schema.AttrChannel].(string)
		if t.Kind != schema.KindAsk && t.Kind != schema.KindEval || !slices.Contains(channels, ch) || t.Start.Before(from) || !t.Start.Before(to) {
			continue
		}
		b.requests++
		b.tokensIn += int64(t.TokensIn)
		b.tokensOut += int64(t.TokensOut)
		b.cost += t.CostUSD
		g := t.Attributes[schema.AttrGroundedness].(float64)
		b.gsum += g
		switch t.Status {
		case schema.StatusError:
			b.errors++
		case schema.StatusFallback:
			b.fallbacks++
			verdicts, _ := t.Attributes[schema.AttrGuards].(map[string]string)
			attack := false
			for name, v := range verdicts {
				attack = attack || v == schema.GuardBlocked && name != "input.scope"
			}
			if !attack { // a question a guard blocked as an attack is no knowledge gap
				b.gaps[store.GapQuestion(t.Input)]++
			}
		case schema.StatusOK:
			b.answered++
			if g < 0.5 {
				b.hallucinated++
			}
		}
		if t.Attributes[schema.AttrEscalated].(bool) {
			b.escalations++
		}
		b.latencies = append(b.latencies, float64(t.End.Sub(t.Start).Microseconds())/1000)
		if v := t.Attributes[schema.AttrTTFTMS].(float64); v > 0 {
			b.ttfts = append(b.ttfts, v)
		}
		if len(t.Attributes[schema.AttrRetrieved].([]string)) == 0 && t.Status != schema.StatusError {
			b.empty++
		} else if spans[t.ID][0].Attributes[schema.AttrHits].([]map[string]any)[0]["score"].(float64) < store.RetrievalScoreFloor {
			b.weak++
		}
		for _, v := range thumbs[t.ID] {
			if v > 0 {
				b.up++
			} else {
				b.down++
			}
		}
		if t.Attributes[schema.AttrGuardBlocked] == true {
			b.guardBlocks++
		}
		verdicts, _ := t.Attributes[schema.AttrGuards].(map[string]string)
		for name, v := range verdicts {
			c := b.guards[name]
			switch v {
			case schema.GuardFlagged:
				c.Flagged++
			case schema.GuardRedacted:
				c.Redacted++
			case schema.GuardBlocked:
				c.Blocked++
			}
			b.guards[name] = c
		}
	}
	for name, c := range b.guards {
		if c == (store.GuardCounts{}) {
			delete(b.guards, name)
		}
	}
	return b
}

// nearestRank is the exact q-quantile the sketch approximates.
func nearestRank(vals []float64, q float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)]
}

func TestRollupsMatchBruteForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	rng := rand.New(rand.NewPCG(1, 2))
	w := s.NewTraceWriter(store.TraceWriterOptions{MaxBatch: 64})
	// Three days and a bit, starting mid-day, so windows cross day and
	// hour boundaries.
	base := time.Date(2026, 11, 2, 13, 37, 0, 0, time.UTC)
	var traces []*store.Trace
	spans := map[string][]store.Span{}
	for range 3000 {
		at := base.Add(time.Duration(rng.Int64N(int64(75 * time.Hour))))
		tr, sp := randomAsk(rng, at)
		traces = append(traces, tr)
		spans[tr.ID] = sp
		if err := w.Write(ctx, tr, sp...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Rewrite some traces with another status and latency: the rollups
	// must take the old version out.
	for _, tr := range traces[:300] {
		tr.Status = []schema.TraceStatus{schema.StatusOK, schema.StatusFallback, schema.StatusError}[rng.IntN(3)]
		tr.End = tr.Start.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		tr.Attributes = maps.Clone(tr.Attributes) // the writer may still hold the first version
		setGuards(tr)                             // other verdicts with the other status
		if err := w.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	thumbs := map[string][]int{}
	for _, tr := range traces[200:700] {
		v := []int{1, -1}[rng.IntN(2)]
		if err := s.AddFeedback(ctx, store.Actor{Kind: store.ActorUser, Name: "ana"}, &store.Feedback{TraceID: tr.ID, Value: v}); err != nil {
			t.Fatal(err)
		}
		thumbs[tr.ID] = append(thumbs[tr.ID], v)
	}

	windows := []struct{ from, to time.Time }{
		{base.Add(-time.Hour), base.Add(80 * time.Hour)}, // everything: days, hours and minutes
		{base.Truncate(time.Hour).Add(3 * time.Hour), base.Truncate(time.Hour).Add(4 * time.Hour)},
	}
	for range 8 {
		a := base.Add(time.Duration(rng.Int64N(int64(75 * time.Hour)))).Truncate(time.Minute)
		b := a.Add(time.Duration(rng.Int64N(int64(50 * time.Hour)))).Truncate(time.Minute)
		windows = append(windows, struct{ from, to time.Time }{a, b})
	}
	channelSets := [][]string{nil, {schema.ChannelEval}, {schema.ChannelWidget, schema.ChannelCLI}}
	for _, win := range windows {
		for _, chans := range channelSets {
			want := bruteForce(traces, spans, thumbs, win.from, win.to, cmpOr(chans, store.TrafficChannels))
			if win == windows[0] && (want.guardBlocks == 0 || len(want.guards) < 4) {
				t.Fatalf("%v: %d guard blocks, %d guards: the traces test no guard counts", chans, want.guardBlocks, len(want.guards))
			}
			got, _, _, err := s.Rollups(ctx, win.from, win.to, store.RollupFilter{Channels: chans}, 0)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s..%s %v", win.from.Format(time.DateTime), win.to.Format(time.DateTime), chans)
			checkRollup(t, name, &got, &want)
			total, err := s.RollupTotal(ctx, win.from, win.to, store.RollupFilter{Channels: chans})
			if err != nil {
				t.Fatal(err)
			}
			checkRollup(t, name+" (RollupTotal)", &total, &want)
		}
	}
	// Series: the periods add up to the whole window.
	from, to := base.Add(-time.Hour).Truncate(time.Hour), base.Add(80*time.Hour).Truncate(time.Hour)
	total, series, by, err := s.Rollups(ctx, from, to, store.RollupFilter{}, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(to.Sub(from) / (6 * time.Hour)); len(series) != want && len(series) != want+1 {
		t.Errorf("series has %d points, want %d", len(series), want)
	}
	var sum, bySum int64
	for _, r := range series {
		sum += r.Requests
	}
	for _, b := range by {
		bySum += b.Requests
		if !slices.Contains(store.TrafficChannels, b.Channel) {
			t.Errorf("breakdown has channel %q, which is not traffic", b.Channel)
		}
	}
	want := bruteForce(traces, spans, thumbs, from, to, store.TrafficChannels)
	if sum != want.requests || total.Requests != want.requests || bySum != want.requests {
		t.Errorf("series sum %d, total %d, breakdown sum %d; want %d", sum, total.Requests, bySum, want.requests)
	}
	// A model filter matches the brute force restricted to that model.
	got, _, _, err := s.Rollups(ctx, from, to, store.RollupFilter{Model: "extractive", Prompt: "support-answer@2"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, tr := range traces {
		ch := tr.Attributes[schema.AttrChannel].(string)
		if tr.Kind == schema.KindAsk && slices.Contains(store.TrafficChannels, ch) && tr.Attributes[schema.AttrResponseModel] == "extractive" &&
			tr.Attributes[schema.AttrPrompt] == "support-answer@2" && !tr.Start.Before(from) && tr.Start.Before(to) {
			n++
		}
	}
	if got.Requests != n || n == 0 {
		t.Errorf("model+prompt filter: %d requests, want %d (> 0)", got.Requests, n)
	}
}

func cmpOr(a, b []string) []string {
	if len(a) == 0 {
		return b
	}
	return a
}

func checkRollup(t *testing.T, name string, got *store.Rollup, want *brute) {
	t.Helper()
	counts := []struct {
		what      string
		got, want int64
	}{
		{"requests", got.Requests, want.requests}, {"errors", got.Errors, want.errors}, {"fallbacks", got.Fallbacks, want.fallbacks},
		{"escalations", got.Escalations, want.escalations}, {"answered", got.Answered, want.answered},
		{"hallucinated", got.Hallucinated, want.hallucinated}, {"tokens in", got.TokensIn, want.tokensIn},
		{"tokens out", got.TokensOut, want.tokensOut}, {"up", got.Up, want.up}, {"down", got.Down, want.down},
		{"empty retrievals", got.EmptyRetrievals, want.empty}, {"weak retrievals", got.WeakRetrievals, want.weak},
		{"latency count", got.Latency.Count(), int64(len(want.latencies))}, {"ttft count", got.TTFT.Count(), int64(len(want.ttfts))},
		{"grounded", got.Grounded, want.requests}, {"guard blocks", got.GuardBlocks, want.guardBlocks},
	}
	if !maps.Equal(got.Guards, want.guards) {
		t.Errorf("%s: guard counts %v, want %v", name, got.Guards, want.guards)
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %s = %d, want %d", name, c.what, c.got, c.want)
		}
	}
	if math.Abs(got.CostUSD-want.cost) > 1e-9 || math.Abs(got.GroundednessSum-want.gsum) > 1e-9 {
		t.Errorf("%s: cost %.9f, groundedness sum %.6f; want %.9f, %.6f", name, got.CostUSD, got.GroundednessSum, want.cost, want.gsum)
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		for _, m := range []struct {
			what string
			sk   *store.Sketch
			vals []float64
		}{{"latency", &got.Latency, want.latencies}, {"ttft", &got.TTFT, want.ttfts}} {
			exact, approx := nearestRank(m.vals, q), m.sk.Quantile(q)
			if exact <= store.SketchZero {
				if approx != 0 {
					t.Errorf("%s: %s p%g = %g, want 0 (exact %g)", name, m.what, q*100, approx, exact)
				}
			} else if math.Abs(approx-exact) > store.SketchRelativeError*exact*(1+1e-9) {
				t.Errorf("%s: %s p%g = %g, exact %g: error above %g%%", name, m.what, q*100, approx, exact, store.SketchRelativeError*100)
			}
		}
	}
	gaps := got.TopGaps(1000)
	if len(gaps) != len(want.gaps) {
		t.Errorf("%s: %d knowledge gaps, want %d", name, len(gaps), len(want.gaps))
	}
	for _, g := range gaps {
		if want.gaps[g.Question] != g.Count {
			t.Errorf("%s: gap %q counted %d, want %d", name, g.Question, g.Count, want.gaps[g.Question])
		}
	}
}
