package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"llmops/rag/llm/llmtest"
	sampledata "llmops/sample-data"
	"llmops/server"
	"llmops/store"
)

// ChatBenchOptions size `llmops bench chat`.
type ChatBenchOptions struct {
	Concurrency int           // simultaneous streaming chats
	Duration    time.Duration // how long to keep asking
	TTFT        time.Duration // the fake model's time to first token
}

// ChatBenchReport is what `llmops bench chat` measured.
type ChatBenchReport struct {
	Chats          int
	Errors         int
	ErrorSamples   []string
	FeedbackSent   int
	FeedbackStored int
	Total, TTFT    Percentiles // client-observed
	ChatsPerSec    float64
	TraceStalls    int64 // trace writes that found the buffer full
	TraceDropped   int64

	// Silence on the streams, as the clients saw it: the longest time
	// between two reads that returned bytes, over the whole stream and
	// while waiting for the first token, against the server's keepalive.
	MaxGap, MaxGapFirstToken time.Duration
	KeepAliveEvery           time.Duration // the server's setting: no gap may be longer
	KeepAlives               int           // keepalive comments received

	// Memory of this process (server, fake model and clients), sampled
	// every memEvery: before the clients start, after warm-up (the first
	// sample past WarmUp), at the end, and the highest RSS.
	MemStart, MemWarm, MemEnd, MemMax Memory
	WarmUp                            time.Duration
	MemSamples                        int
	StoreFileMiB                      float64 // the bbolt file at the end (mapped: its pages count as file-backed RSS)
}

// Memory is one sample of the process's memory, in MiB: the resident set
// and its anonymous (heap, stacks) and file-backed (the mapped bbolt
// file, the binary) parts, as /proc/self/status reports them, the Go
// heap in use, and what the Go runtime holds from the OS (Sys less
// HeapReleased: freed pages it has not returned yet count as anonymous).
type Memory struct{ RSS, Anon, File, Heap, Held float64 }

// flatWithin reports whether end is within 15 % of warm.
func flatWithin(warm, end float64) bool { return warm > 0 && end <= warm*1.15 && end >= warm*0.85 }

// RSSFlat reports whether RSS at the end is within 15 % of its level
// after warm-up.
func (r ChatBenchReport) RSSFlat() bool { return flatWithin(r.MemWarm.RSS, r.MemEnd.RSS) }

// AnonFlat is RSSFlat for anonymous memory only, which leaves out the
// store's pages: those grow with every trace written.
func (r ChatBenchReport) AnonFlat() bool { return flatWithin(r.MemWarm.Anon, r.MemEnd.Anon) }

// memEvery is how often BenchChat samples its memory.
const memEvery = 2 * time.Second

// sampleMemory reads /proc/self/status (Linux; zeros elsewhere) and the
// Go heap.
func sampleMemory() Memory {
	var m Memory
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.Heap = float64(ms.HeapInuse) / (1 << 20)
	m.Held = float64(ms.Sys-ms.HeapReleased) / (1 << 20)
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			m.RSS = kb / 1024
		case "RssAnon:":
			m.Anon = kb / 1024
		case "RssFile:":
			m.File = kb / 1024
		}
	}
	return m
}

// streamStats is what one client saw of one stream.
type streamStats struct {
	total, ttft      time.Duration
	traceID          string
	maxGap, maxFirst time.Duration
	keepAlives       int
}

// Percentiles of a latency sample.
type Percentiles struct{ P50, P95, P99, Max time.Duration }

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return Percentiles{at(0.50), at(0.95), at(0.99), d[len(d)-1]}
}

// BenchChat runs a load test against a real server on loopback: it
// starts an OpenAI-compatible fake model that waits TTFT before its first
// token, a server over a temporary data dir with the sample help centre,
// and Concurrency clients that each ask a sample question over
// /api/v1/ask/stream, read the stream to its end and send thumbs up or
// down on the answer, for Duration. Every feedback record is then looked
// up in the store.
func BenchChat(ctx context.Context, cfg server.Config, opts ChatBenchOptions, progress io.Writer) (ChatBenchReport, error) {
	var rep ChatBenchReport
	upstream := llmtest.NewServer(llmtest.Options{TTFT: opts.TTFT, Usage: true})
	defer upstream.Close()

	dir, err := os.MkdirTemp("", "llmops-bench-chat-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	cfg.DataDir, cfg.Addr, cfg.NoSample = dir, "127.0.0.1:0", false
	cfg.LLMBaseURL, cfg.LLMAPIKey, cfg.LLMModel, cfg.JudgeModel = upstream.BaseURL(), "sk-bench", "gpt-4o-mini", ""
	cfg.EmbedBaseURL, cfg.EmbedAPIKey, cfg.EmbedModel = "", "", ""
	cfg.AskRate = 0 // every client shares one key: measure the server, not the per-key limit
	s, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return rep, err
	}
	defer s.Shutdown(context.WithoutCancel(ctx))
	if err := s.Listen(); err != nil {
		return rep, err
	}
	app := s.App()
	key, _, err := app.Store.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "bench"}, "bench chat", store.RoleViewer)
	if err != nil {
		return rep, err
	}
	qs, err := sampledata.Questions()
	if err != nil {
		return rep, err
	}
	var questions []string
	for _, q := range qs {
		if q.Answerable {
			questions = append(questions, q.Question)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: opts.Concurrency * 2}}
	fmt.Fprintf(progress, "%d streaming chats for %s against a fake model with %s to first token…\n", opts.Concurrency, opts.Duration, opts.TTFT)

	var (
		mu      sync.Mutex
		totals  []time.Duration
		ttfts   []time.Duration
		sent    []string
		errs    []string
		started = time.Now()
		wg      sync.WaitGroup
	)
	deadline := started.Add(opts.Duration)
	rep.KeepAliveEvery = cfg.KeepAlive
	rep.WarmUp = min(time.Minute, opts.Duration/5)
	rep.MemStart = sampleMemory()
	rep.MemMax, rep.MemSamples = rep.MemStart, 1
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(memEvery)
		defer t.Stop()
		for time.Now().Before(deadline) && ctx.Err() == nil {
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			m := sampleMemory()
			mu.Lock()
			rep.MemSamples++
			rep.MemEnd = m
			if m.RSS > rep.MemMax.RSS {
				rep.MemMax = m
			}
			if rep.MemWarm.RSS == 0 && time.Since(started) >= rep.WarmUp {
				rep.MemWarm = m
			}
			n := len(totals)
			mu.Unlock()
			if rep.MemSamples%15 == 0 { // every 30 s
				fmt.Fprintf(progress, "%4.0fs  %6d chats  RSS %4.0f MiB (anonymous %3.0f, file-backed %3.0f)  Go heap in use %3.0f, held %3.0f\n",
					time.Since(started).Seconds(), n, m.RSS, m.Anon, m.File, m.Heap, m.Held)
			}
		}
	}()
	for w := range opts.Concurrency {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				q := questions[rng.IntN(len(questions))]
				st, err := benchAsk(ctx, client, s.URL(), key, q)
				if err == nil {
					value := 1 - 2*rng.IntN(2)
					err = benchFeedback(ctx, client, s.URL(), key, st.traceID, value, "bench")
				}
				mu.Lock()
				rep.MaxGap, rep.MaxGapFirstToken = max(rep.MaxGap, st.maxGap), max(rep.MaxGapFirstToken, st.maxFirst)
				rep.KeepAlives += st.keepAlives
				if err != nil {
					errs = append(errs, err.Error())
				} else {
					totals, ttfts, sent = append(totals, st.total), append(ttfts, st.ttft), append(sent, st.traceID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(started)
	<-sampled
	if rep.MemSamples == 1 {
		rep.MemEnd = sampleMemory()
	}

	if err := app.Traces.Flush(ctx); err != nil {
		return rep, err
	}
	for _, id := range sent {
		fb, err := app.Store.FeedbackFor(ctx, id)
		if err != nil {
			return rep, err
		}
		rep.FeedbackStored += len(fb)
	}
	rep.Chats, rep.Errors, rep.FeedbackSent = len(totals)+len(errs), len(errs), len(sent)
	rep.ErrorSamples = errs[:min(5, len(errs))]
	rep.Total, rep.TTFT = percentiles(totals), percentiles(ttfts)
	rep.ChatsPerSec = float64(len(totals)) / elapsed.Seconds()
	if fi, err := os.Stat(app.Store.Path()); err == nil {
		rep.StoreFileMiB = float64(fi.Size()) / (1 << 20)
	}
	st := app.Traces.Stats()
	rep.TraceStalls, rep.TraceDropped = st.Stalls, st.Dropped
	return rep, nil
}

// benchAsk streams one answer and returns its client-observed latency,
// time to first token, trace ID and the silences between bytes.
func benchAsk(ctx context.Context, c *http.Client, base, key, q string) (streamStats, error) {
	var st streamStats
	body, _ := json.Marshal(map[string]string{"question": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/ask/stream", strings.NewReader(string(body)))
	if err != nil {
		return st, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return st, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 500))
		return st, fmt.Errorf("ask: %d %s", res.StatusCode, b)
	}
	gaps := &gapReader{r: res.Body, last: time.Now()}
	sc := bufio.NewScanner(gaps)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event, done := "", false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			st.keepAlives++
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			switch event {
			case "token":
				if st.ttft == 0 {
					st.ttft = time.Since(start)
					st.maxFirst = gaps.max
				}
			case "done":
				var d struct {
					TraceID string `json:"trace_id"`
				}
				if err := json.Unmarshal([]byte(data), &d); err != nil {
					return st, fmt.Errorf("done event: %w", err)
				}
				st.traceID, done = d.TraceID, true
			case "error":
				return st, fmt.Errorf("error event: %s", data)
			}
		}
	}
	st.maxGap = gaps.max
	if err := sc.Err(); err != nil {
		return st, err
	}
	if !done {
		return st, fmt.Errorf("stream ended without a done event")
	}
	st.total = time.Since(start)
	return st, nil
}

// gapReader records the longest time between two reads that returned
// bytes, starting from when the response headers arrived.
type gapReader struct {
	r    io.Reader
	last time.Time
	max  time.Duration
}

func (g *gapReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if n > 0 {
		now := time.Now()
		g.max = max(g.max, now.Sub(g.last))
		g.last = now
	}
	return n, err
}

func benchFeedback(ctx context.Context, c *http.Client, base, key, traceID string, value int, comment string) error {
	body := fmt.Sprintf(`{"trace_id":%q,"value":%d,"comment":%q}`, traceID, value, comment)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/feedback", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 500))
		return fmt.Errorf("feedback: %d %s", res.StatusCode, b)
	}
	return nil
}
