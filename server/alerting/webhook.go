package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"llmops/store"
)

// Webhooks delivers alert changes as JSON POSTs with a Slack-compatible
// "text" field, from a bounded queue, retrying with exponential backoff.
// Notify never blocks: a change that finds the queue full is dropped and
// counted. Every change is logged by the evaluator whether or not it is
// delivered.
type Webhooks struct {
	client  *http.Client
	log     *slog.Logger
	backoff []time.Duration
	// One queue per worker; a rule's changes always take the same one, so
	// a receiver sees them in order even while one is being retried.
	qs []chan delivery

	delivered, failed, dropped atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type delivery struct {
	url  string
	body []byte
}

// WebhookOptions tune Webhooks; zero values take the defaults.
type WebhookOptions struct {
	Outbound Outbound
	Logger   *slog.Logger
	Queue    int             // deliveries waiting per worker; default 128
	Workers  int             // concurrent deliveries; default 2
	Backoff  []time.Duration // waits between attempts; default 1s, 2s, 4s, 8s (5 attempts)
	Timeout  time.Duration   // per attempt; default 10s
}

// NewWebhooks starts the delivery workers. Close stops them.
func NewWebhooks(opts WebhookOptions) *Webhooks {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Queue <= 0 {
		opts.Queue = 128
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Backoff == nil {
		opts.Backoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	w := &Webhooks{client: opts.Outbound.Client(opts.Timeout), log: opts.Logger, backoff: opts.Backoff}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for range opts.Workers {
		q := make(chan delivery, opts.Queue)
		w.qs = append(w.qs, q)
		w.wg.Go(func() { w.work(q) })
	}
	return w
}

// WebhookStats counts deliveries, for /metrics and Settings.
type WebhookStats struct {
	Delivered, Failed, Dropped int64
	Queued                     int
}

// Stats returns the counters.
func (w *Webhooks) Stats() WebhookStats {
	queued := 0
	for _, q := range w.qs {
		queued += len(q)
	}
	return WebhookStats{Delivered: w.delivered.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load(), Queued: queued}
}

// Close stops delivering; what is queued or being retried is abandoned
// and counted as failed.
func (w *Webhooks) Close() {
	w.cancel()
	w.wg.Wait()
	w.failed.Add(int64(w.Stats().Queued))
}

// Payload is the JSON body a webhook receives.
type Payload struct {
	Text      string           `json:"text"` // Slack (and Mattermost, Teams workflows) show this
	Alert     string           `json:"alert"`
	ID        string           `json:"id"`
	State     store.AlertState `json:"state"`
	Metric    string           `json:"metric"`
	Op        string           `json:"op"`
	Threshold float64          `json:"threshold"`
	Value     float64          `json:"value"`
	Window    string           `json:"window,omitempty"`
	Count     int              `json:"window_count,omitempty"`
	At        time.Time        `json:"at"`
}

// Text is the one-line summary of a change, for webhooks and the log.
func Text(r store.AlertRule, ev store.AlertEvent) string {
	window := ""
	switch {
	case r.WindowCount > 0:
		window = fmt.Sprintf(" over the last %d", r.WindowCount)
	case r.Window != "":
		window = " over " + r.Window
	}
	if ev.State == store.AlertFiring {
		return fmt.Sprintf("🔴 FIRING %s: %s = %.4g%s (%s %g)", r.Name, r.Metric, ev.Value, window, r.Op, r.Threshold)
	}
	return fmt.Sprintf("✅ RESOLVED %s: %s = %.4g%s (alert at %s %g)", r.Name, r.Metric, ev.Value, window, r.Op, r.Threshold)
}

// Notify queues the change for r's webhook, unless r has none or is muted.
func (w *Webhooks) Notify(r store.AlertRule, ev store.AlertEvent) {
	if r.WebhookURL == "" || r.Muted {
		return
	}
	body, err := json.Marshal(Payload{Text: Text(r, ev), Alert: r.Name, ID: r.ID, State: ev.State, Metric: r.Metric,
		Op: r.Op, Threshold: r.Threshold, Value: ev.Value, Window: r.Window, Count: r.WindowCount, At: ev.At})
	if err != nil {
		w.failed.Add(1)
		return
	}
	w.enqueue(r.ID, r.WebhookURL, body)
}

// Post queues a JSON payload (which should carry a Slack-compatible
// "text") for url, with the same queue, retries, backoff and outbound
// checks as alert changes; key orders deliveries (same key, same
// worker). The escalation inbox's new-escalation webhook uses it.
func (w *Webhooks) Post(key, url string, payload any) {
	body, err := json.Marshal(payload)
	if err != nil {
		w.failed.Add(1)
		return
	}
	w.enqueue(key, url, body)
}

func (w *Webhooks) enqueue(key, url string, body []byte) {
	h := fnv.New32a()
	h.Write([]byte(key))
	select {
	case w.qs[int(h.Sum32()%uint32(len(w.qs)))] <- delivery{url, body}:
	default:
		w.dropped.Add(1)
		w.log.Warn("webhook queue full, delivery dropped", "key", key)
	}
}

func (w *Webhooks) work(q chan delivery) {
	for {
		select {
		case d := <-q:
			if w.send(d) {
				w.delivered.Add(1)
			} else {
				w.failed.Add(1)
			}
		case <-w.ctx.Done():
			return
		}
	}
}

// send tries d until it succeeds, the attempts run out, or Close.
func (w *Webhooks) send(d delivery) bool {
	for attempt := 0; ; attempt++ {
		err := w.post(d)
		if err == nil {
			return true
		}
		if attempt >= len(w.backoff) {
			w.log.Error("alerts: webhook failed", "attempts", attempt+1, "err", err)
			return false
		}
		select {
		case <-time.After(w.backoff[attempt]):
		case <-w.ctx.Done():
			return false
		}
	}
}

func (w *Webhooks) post(d delivery) error {
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "llmops-alerts")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
