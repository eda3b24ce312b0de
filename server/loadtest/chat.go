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
	"slices"
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
	for w := range opts.Concurrency {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				q := questions[rng.IntN(len(questions))]
				total, ttft, traceID, err := benchAsk(ctx, client, s.URL(), key, q)
				if err == nil {
					value := 1 - 2*rng.IntN(2)
					err = benchFeedback(ctx, client, s.URL(), key, traceID, value)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err.Error())
				} else {
					totals, ttfts, sent = append(totals, total), append(ttfts, ttft), append(sent, traceID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(started)

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
	st := app.Traces.Stats()
	rep.TraceStalls, rep.TraceDropped = st.Stalls, st.Dropped
	return rep, nil
}

// benchAsk streams one answer and returns its client-observed latency,
// time to first token and trace ID.
func benchAsk(ctx context.Context, c *http.Client, base, key, q string) (total, ttft time.Duration, traceID string, err error) {
	body, _ := json.Marshal(map[string]string{"question": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/ask/stream", strings.NewReader(string(body)))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 500))
		return 0, 0, "", fmt.Errorf("ask: %d %s", res.StatusCode, b)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event, done := "", false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			switch event {
			case "token":
				if ttft == 0 {
					ttft = time.Since(start)
				}
			case "done":
				var d struct {
					TraceID string `json:"trace_id"`
				}
				if err := json.Unmarshal([]byte(data), &d); err != nil {
					return 0, 0, "", fmt.Errorf("done event: %w", err)
				}
				traceID, done = d.TraceID, true
			case "error":
				return 0, 0, "", fmt.Errorf("error event: %s", data)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, "", err
	}
	if !done {
		return 0, 0, "", fmt.Errorf("stream ended without a done event")
	}
	return time.Since(start), ttft, traceID, nil
}

func benchFeedback(ctx context.Context, c *http.Client, base, key, traceID string, value int) error {
	body := fmt.Sprintf(`{"trace_id":%q,"value":%d,"comment":"bench"}`, traceID, value)
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
