package loadtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"llmops/server"
	"llmops/store"
	"llmops/store/schema"
)

// TracesBenchOptions configure BenchTraces.
type TracesBenchOptions struct {
	Dir      string   // data dir to build (must be empty or absent)
	Traces   int      // ask traces to store, spread over the last 30 days
	Spans    int      // spans per trace (an ask has about 10)
	Writers  int      // goroutines writing traces, as concurrent asks do
	Vocab    []string // words questions and answers are made of
	Seed     uint64
	Requests int // timed requests per query
}

// TracesBenchReport is what BenchTraces measured.
type TracesBenchReport struct {
	Traces, Spans int
	// Ingest is from the first write to the last commit (indexes and
	// rollups included); Searchable until the full-text index has it all.
	Ingest, Searchable time.Duration
	RecordsPerSec      float64 // traces + spans committed per second
	// WriteP50 is what TraceWriter.Write (queueing the finished trace)
	// costs an ask: the tracing work on the answer path; CommitPerTrace is
	// the writer goroutine's time per trace (encode, bbolt, indexes,
	// rollups), off the answer path.
	WriteP50, CommitPerTrace time.Duration
	StoreMiB, SearchMiB      float64
	// Queries, by name: p50 and max of Requests timed HTTP requests on
	// loopback (server time plus a loopback round trip).
	Queries []QueryTiming
}

// QueryTiming is one timed query.
type QueryTiming struct {
	Name, Path string
	Results    string // what the query returned, to show it was selective
	P50, Max   time.Duration
	Bar        time.Duration
}

// BenchTraces builds a store of opts.Traces synthetic ask traces through
// the real trace writer (group commit, secondary indexes, rollups,
// full-text index), then starts a server on it and times the dashboard,
// a selective filter, a full-text search and a trace page.
func BenchTraces(ctx context.Context, cfg server.Config, opts TracesBenchOptions, progress io.Writer) (TracesBenchReport, error) {
	var rep TracesBenchReport
	if opts.Spans <= 0 {
		opts.Spans = 10
	}
	if opts.Writers <= 0 {
		opts.Writers = 4
	}
	if opts.Requests <= 0 {
		opts.Requests = 20
	}
	if len(opts.Vocab) < 100 {
		return rep, fmt.Errorf("vocabulary of %d words is too small", len(opts.Vocab))
	}
	app, err := openOffline(ctx, cfg, opts.Dir, server.AppOptions{})
	if err != nil {
		return rep, err
	}
	now := time.Now().UTC()
	gen := newTraceGen(opts, now)
	fmt.Fprintf(progress, "writing %d traces with %d spans each over 30 days, %d writers…\n", opts.Traces, opts.Spans, opts.Writers)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		writes   []time.Duration
		writeErr error
		next     = make(chan int, 1024)
	)
	started := time.Now()
	for w := 0; w < opts.Writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := range next {
				tr, spans := gen.trace(i)
				t0 := time.Now()
				err := app.Traces.Write(ctx, tr, spans...)
				if i%97 == 0 {
					mine = append(mine, time.Since(t0))
				}
				if err != nil {
					mu.Lock()
					writeErr = err
					mu.Unlock()
				}
			}
			mu.Lock()
			writes = append(writes, mine...)
			mu.Unlock()
		}()
	}
	step := max(opts.Traces/20, 1)
	for i := 0; i < opts.Traces && ctx.Err() == nil; i++ {
		next <- i
		if i > 0 && i%step == 0 {
			fmt.Fprintf(progress, "  %d traces (%.0f/s)\n", i, float64(i)/time.Since(started).Seconds())
		}
	}
	close(next)
	wg.Wait()
	if err := app.Traces.Flush(ctx); err != nil {
		return rep, err
	}
	rep.Ingest = time.Since(started)
	if err := app.TraceSearch.Flush(ctx); err != nil {
		return rep, err
	}
	rep.Searchable = time.Since(started)
	st := app.Traces.Stats()
	if writeErr != nil || st.Dropped > 0 || st.Failed > 0 {
		return rep, fmt.Errorf("traces lost: %d dropped, %d failed (%v)", st.Dropped, st.Failed, writeErr)
	}
	rep.Traces, rep.Spans = opts.Traces, opts.Traces*opts.Spans
	rep.RecordsPerSec = float64(st.Written) / rep.Ingest.Seconds()
	rep.WriteP50 = percentiles(writes).P50
	rep.CommitPerTrace = rep.Ingest / time.Duration(max(opts.Traces, 1))
	if err := app.Close(ctx); err != nil {
		return rep, err
	}
	rep.StoreMiB = fileMiB(filepath.Join(opts.Dir, store.DBFile))
	rep.SearchMiB = dirMiB(filepath.Join(opts.Dir, "tracesearch"))

	fmt.Fprintf(progress, "starting a server on the store…\n")
	cfg.DataDir, cfg.Addr, cfg.NoSample = opts.Dir, "127.0.0.1:0", true
	cfg.LLMBaseURL, cfg.LLMAPIKey, cfg.LLMModel, cfg.JudgeModel = "", "", "", ""
	cfg.EmbedBaseURL, cfg.EmbedAPIKey, cfg.EmbedModel = "", "", ""
	s, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return rep, err
	}
	defer s.Shutdown(context.WithoutCancel(ctx))
	if err := s.Listen(); err != nil {
		return rep, err
	}
	key, _, err := s.App().Store.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "bench"}, "bench traces", store.RoleViewer)
	if err != nil {
		return rep, err
	}
	someID := gen.id(opts.Traces / 2)
	queries := []QueryTiming{
		{Name: "dashboard, 30 days", Path: "/api/v1/dashboard?window=30d", Bar: 200 * time.Millisecond},
		{Name: "dashboard, 24 hours", Path: "/api/v1/dashboard?window=24h", Bar: 200 * time.Millisecond},
		{Name: "selective filter (user)", Path: "/api/v1/traces?limit=50&user=" + gen.user(7), Bar: 100 * time.Millisecond},
		{Name: "selective filter (model + status)", Path: "/api/v1/traces?limit=50&model=rare-model&status=error", Bar: 100 * time.Millisecond},
		{Name: "filter (channel + min latency)", Path: "/api/v1/traces?limit=50&channel=widget&min_latency_ms=3000", Bar: 100 * time.Millisecond},
		{Name: "full-text, rare word", Path: "/api/v1/traces?limit=50&q=" + url.QueryEscape(gen.rare), Bar: 150 * time.Millisecond},
		{Name: "full-text, two common words", Path: "/api/v1/traces?limit=50&q=" + url.QueryEscape(opts.Vocab[3]+" "+opts.Vocab[5]), Bar: 150 * time.Millisecond},
		{Name: "trace page (HTML)", Path: "/traces/" + someID, Bar: 20 * time.Millisecond},
		{Name: "trace (JSON)", Path: "/api/v1/traces/" + someID, Bar: 20 * time.Millisecond},
		// Not in the bars: held to the dashboard's and a filter's.
		{Name: "cost, 30 days (JSON)", Path: "/api/v1/cost?window=30d", Bar: 200 * time.Millisecond},
		{Name: "users page, 30 days (HTML)", Path: "/traces/users?window=30d", Bar: 200 * time.Millisecond},
		{Name: "conversation page (HTML)", Path: fmt.Sprintf("/conversations/conv-%07d", opts.Traces/10), Bar: 100 * time.Millisecond},
		// The Guardrails page's counts are 7 days of rollups (issue 17).
		{Name: "guardrails page, 24h + 7d (HTML)", Path: "/guardrails", Bar: 100 * time.Millisecond},
	}
	client := &http.Client{}
	for i := range queries {
		q := &queries[i]
		var took []time.Duration
		for r := 0; r < opts.Requests+1; r++ {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+q.Path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			t0 := time.Now()
			res, err := client.Do(req)
			if err != nil {
				return rep, err
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			d := time.Since(t0)
			if err != nil || res.StatusCode != http.StatusOK {
				return rep, fmt.Errorf("%s: %d %s", q.Path, res.StatusCode, body)
			}
			if r == 0 { // a warm-up, as a page served twice is
				q.Results = summarize(body)
				continue
			}
			took = append(took, d)
		}
		p := percentiles(took)
		q.P50, q.Max = p.P50, p.Max
		fmt.Fprintf(progress, "  %-36s p50 %s\n", q.Name, q.P50)
	}
	rep.Queries = queries
	return rep, nil
}

// summarize says how big an answer was: traces listed, or requests
// counted by a dashboard.
func summarize(body []byte) string {
	s := string(body)
	switch {
	case strings.HasPrefix(s, `{"traces":`):
		return fmt.Sprintf("%d traces", strings.Count(s, `"kind":`))
	case strings.Contains(s, `"requests":`):
		i := strings.Index(s, `"requests":`) + len(`"requests":`)
		j := strings.IndexByte(s[i:], ',')
		return "requests " + s[i:i+max(j, 0)]
	}
	return fmt.Sprintf("%d bytes", len(body))
}

func fileMiB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}

func dirMiB(dir string) float64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return float64(n) / (1 << 20)
}

// traceGen makes the synthetic traces: ask traces spread evenly over the
// 30 days before now (in time order, as they arrive), 10,000 users, a
// conversation per 5 asks, three models (one rare), two prompt versions,
// the three traffic channels plus a little eval traffic, realistic status
// mix, and a rare word in one question in a thousand.
type traceGen struct {
	opts  TracesBenchOptions
	now   time.Time
	span  time.Duration
	rare  string
	mu    sync.Mutex
	ids   map[int]string
	vocab []string
}

func newTraceGen(opts TracesBenchOptions, now time.Time) *traceGen {
	return &traceGen{opts: opts, now: now, span: 30 * 24 * time.Hour, rare: "zanzibarite", ids: map[int]string{}, vocab: opts.Vocab}
}

func (g *traceGen) user(i int) string { return fmt.Sprintf("user-%05d", i%10000) }

// id is the ID trace i was written under.
func (g *traceGen) id(i int) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ids[i]
}

func (g *traceGen) trace(i int) (*store.Trace, []store.Span) {
	rng := rand.New(rand.NewPCG(g.opts.Seed, uint64(i)))
	at := g.now.Add(-g.span + time.Duration(float64(g.span)*float64(i)/float64(max(g.opts.Traces, 1))))
	words := func(n int) string {
		w := make([]string, n)
		for j := range w {
			w[j] = g.vocab[rng.IntN(len(g.vocab))]
		}
		return strings.Join(w, " ")
	}
	q := words(8) + "?"
	if rng.IntN(1000) == 0 {
		q = g.rare + " " + q
	}
	answer := words(40)
	channel := []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelWidget, schema.ChannelAPI, schema.ChannelEval}[rng.IntN(5)]
	kind := schema.KindAsk
	if channel == schema.ChannelEval {
		kind = schema.KindEval
	}
	status := schema.StatusOK
	switch r := rng.IntN(100); {
	case r < 2:
		status = schema.StatusError
	case r < 3:
		status = schema.StatusCancelled
	case r < 15:
		status = schema.StatusFallback
	}
	model := "gpt-4o-mini"
	if r := rng.IntN(100); r == 0 {
		model = "rare-model"
	} else if r < 30 {
		model = "extractive"
	}
	latency := time.Duration(200+rng.ExpFloat64()*900) * time.Millisecond
	ttft := float64(latency.Milliseconds()) * (0.1 + 0.3*rng.Float64())
	g.mu.Lock()
	id := store.NewIDAt(at)
	g.ids[i] = id
	g.mu.Unlock()
	tr := &store.Trace{ID: id, Kind: kind, Name: "ask · " + channel, Start: at, End: at.Add(latency), Status: status,
		UserID: g.user(rng.IntN(10000)), Input: q, Output: answer, TokensIn: 600 + rng.IntN(1200), TokensOut: 40 + rng.IntN(300)}
	tr.CostUSD = float64(tr.TokensIn)*0.15e-6 + float64(tr.TokensOut)*0.6e-6
	g0 := rng.Float64()
	tr.Attributes = map[string]any{
		schema.AttrChannel: channel, schema.AttrQuestion: q, schema.AttrAnswer: answer, schema.AttrActor: "key:bench",
		schema.AttrResponseModel: model, schema.AttrPrompt: []string{"support-answer@1", "support-answer@2"}[rng.IntN(2)],
		schema.AttrGroundedness: g0, schema.AttrThreshold: 0.35, schema.AttrFallback: status == schema.StatusFallback,
		schema.AttrEscalated: status == schema.StatusFallback, schema.AttrTTFTMS: ttft,
		schema.AttrConversationID: fmt.Sprintf("conv-%07d", i/5), schema.AttrRetrieved: []string{"c1", "c2", "c3"},
	}
	spans := make([]store.Span, g.opts.Spans)
	names := []string{schema.SpanAsk, schema.SpanGuard, schema.SpanRewrite, schema.SpanRetrieve, schema.SpanRetrieveBM25,
		schema.SpanRetrieveVector, schema.SpanFuse, schema.SpanRerank, schema.SpanPrompt, schema.SpanLLM, schema.SpanGroundedness}
	for j := range spans {
		spans[j] = store.Span{TraceID: id, ID: store.NewIDAt(at), Name: names[j%len(names)], Kind: schema.SpanKindChain,
			Start: at, End: at.Add(latency / time.Duration(j+1)), Status: schema.StatusOK}
		if spans[j].Name == schema.SpanRetrieve {
			spans[j].Attributes = map[string]any{schema.AttrHits: []map[string]any{{"chunk_id": "c1", "rank": 1, "score": rng.Float64()}}}
		}
	}
	// Guard verdicts, drawn last so the traces are otherwise as before:
	// PII redacted in 4 % of asks, output links flagged in 1 %, an
	// injection blocked (a fallback) in 0.5 %.
	guards := map[string]string{}
	if rng.IntN(100) < 4 {
		guards["input.pii"] = schema.GuardRedacted
	}
	if rng.IntN(100) == 0 {
		guards["output.policy"] = schema.GuardFlagged
	}
	if rng.IntN(200) == 0 {
		guards["input.injection"] = schema.GuardBlocked
		tr.Status, tr.Attributes[schema.AttrGuardBlocked] = schema.StatusFallback, true
		tr.Attributes[schema.AttrFallback] = true
	}
	if len(guards) > 0 {
		tr.Attributes[schema.AttrGuards] = guards
	}
	return tr, spans
}
