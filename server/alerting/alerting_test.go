package alerting_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/server/alerting"
	"llmops/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// hook is a webhook receiver that fails its first failFirst requests.
type hook struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []alerting.Payload
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.calls <= h.failFirst {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var p alerting.Payload
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.got = append(h.got, p)
}

func (h *hook) payloads() []alerting.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]alerting.Payload(nil), h.got...)
}

var loopback = alerting.Outbound{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// An error-rate alert fires once when the rate crosses the threshold,
// stays firing while the rate hovers inside the hysteresis band, resolves
// once below it, and stays resolved while the rate hovers just under the
// threshold: two webhook deliveries in all, the first after retries.
func TestAlertFiresResolvesWithoutFlapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	h := &hook{failFirst: 2}
	srv := httptest.NewServer(h)
	defer srv.Close()
	hooks := alerting.NewWebhooks(alerting.WebhookOptions{Outbound: loopback, Backoff: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}})
	defer hooks.Close()

	rule := &store.AlertRule{Name: "errors", Metric: "error_rate", Op: ">", Threshold: 0.25, WindowCount: 20, WebhookURL: srv.URL}
	if err := alerting.Validate(rule, loopback); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAlert(ctx, store.Actor{Kind: "user", ID: "u1"}, rule); err != nil {
		t.Fatal(err)
	}
	ev, err := alerting.NewEvaluator(ctx, st, alerting.Options{Notifier: hooks, Tick: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()

	// The window is the last 20 answers; send answers so its error count
	// goes where each step says (rate = errors / 20).
	var window []bool
	setErrors := func(n int) {
		for count(window) != n {
			fail := count(window) < n
			// Push out an answer of the other kind until the count moves.
			window = append(window, fail)
			if len(window) > 20 {
				window = window[1:]
			}
			ev.Observe([]alerting.Observation{{At: time.Now(), LatencyMS: 10, Error: fail}})
		}
		if err := ev.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	state := func() store.AlertState {
		r, _ := ev.Rule(rule.ID)
		return r.State
	}
	for range 20 {
		window = append(window, false)
		ev.Observe([]alerting.Observation{{At: time.Now(), LatencyMS: 10}})
	}
	window = window[len(window)-20:]
	setErrors(0)
	if s := state(); s != store.AlertOK {
		t.Fatalf("no errors: state %s, want ok", s)
	}
	setErrors(5) // 0.25: at the threshold, not above it
	if s := state(); s != store.AlertOK {
		t.Fatalf("rate 0.25: state %s, want ok (fires only above 0.25)", s)
	}
	setErrors(6) // 0.30
	if s := state(); s != store.AlertFiring {
		t.Fatalf("rate 0.30: state %s, want firing", s)
	}
	for range 5 { // 0.25 ↔ 0.30: inside the band, still firing
		setErrors(5)
		setErrors(6)
	}
	if s := state(); s != store.AlertFiring {
		t.Fatalf("hovering: state %s, want firing", s)
	}
	setErrors(4) // 0.20 ≤ 0.225: resolved
	if s := state(); s != store.AlertOK {
		t.Fatalf("rate 0.20: state %s, want ok", s)
	}
	for range 5 { // 0.20 ↔ 0.25: never above the threshold
		setErrors(5)
		setErrors(4)
	}
	r, _ := ev.Rule(rule.ID)
	if r.State != store.AlertOK || len(r.History) != 2 {
		t.Fatalf("after hovering: state %s with %d changes; want ok after 2 changes", r.State, len(r.History))
	}
	waitFor(t, "two webhook deliveries", func() bool { return len(h.payloads()) >= 2 })
	got := h.payloads()
	if len(got) != 2 || got[0].State != store.AlertFiring || got[1].State != store.AlertOK ||
		!strings.Contains(got[0].Text, "FIRING errors") || got[0].Value != 0.3 {
		t.Fatalf("webhook got %+v; want firing at 0.3 then resolved", got)
	}
	// The receiver has the body before the sender sees the answer and counts it.
	waitFor(t, "two counted deliveries", func() bool { return hooks.Stats().Delivered >= 2 })
	if s := hooks.Stats(); s.Delivered != 2 || s.Failed != 0 || s.Dropped != 0 {
		t.Errorf("webhook stats %+v; want 2 delivered, none failed or dropped", s)
	}
	stored, err := st.Alert(ctx, rule.ID)
	if err != nil || stored.State != store.AlertOK || len(stored.History) != 2 {
		t.Fatalf("stored alert %+v, %v; want ok with 2 changes", stored, err)
	}
}

func count(xs []bool) int {
	n := 0
	for _, x := range xs {
		if x {
			n++
		}
	}
	return n
}

// Time windows look back from now and need MinTimeSamples answers.
func TestTimeWindowAndTodayMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ev, err := alerting.NewEvaluator(ctx, st, alerting.Options{Now: func() time.Time { return now }, Tick: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	var obs []alerting.Observation
	for i := range 10 { // one a minute, 11:51 … 12:00, latency 100…1000 ms
		obs = append(obs, alerting.Observation{At: now.Add(time.Duration(i-9) * time.Minute), LatencyMS: float64(100 * (i + 1)), CostUSD: 1})
	}
	ev.Seed([]alerting.Observation{{At: now.Add(-13 * time.Hour), CostUSD: 50}}) // yesterday
	ev.Observe(obs)
	if err := ev.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rule store.AlertRule
		want float64
		ok   bool
	}{
		{store.AlertRule{Metric: "latency_p95_ms", Window: "10m"}, 1000, true},
		{store.AlertRule{Metric: "latency_p50_ms", Window: "10m"}, 500, true},
		{store.AlertRule{Metric: "requests", Window: "3m30s"}, 0, false}, // 4 answers: under MinTimeSamples
		{store.AlertRule{Metric: "requests", Window: "5m"}, 6, true},
		{store.AlertRule{Metric: "cost_today_usd"}, 10, true},
		{store.AlertRule{Metric: "thumbs_down_ratio", WindowCount: 3}, 0, false},
	} {
		v, ok := ev.Value(&c.rule)
		if ok != c.ok || (ok && v != c.want) {
			t.Errorf("%s over %q/%d = %v, %v; want %v, %v", c.rule.Metric, c.rule.Window, c.rule.WindowCount, v, ok, c.want, c.ok)
		}
	}
	for _, up := range []bool{true, false, false} {
		ev.Rate(alerting.Feedback{At: now, Up: up})
	}
	if err := ev.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok := ev.Value(&store.AlertRule{Metric: "thumbs_down_ratio", WindowCount: 3}); !ok || v != 2.0/3 {
		t.Errorf("thumbs_down_ratio = %v, %v; want 2/3", v, ok)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rule  store.AlertRule
		field string
	}{
		{store.AlertRule{Name: "x", Metric: "vibes", Op: ">", Window: "10m"}, "metric:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">=", Window: "10m"}, "op:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", Window: "10s"}, "window:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", Window: "soon"}, "window:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">"}, "window:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", Window: "10m", WindowCount: 5}, "window:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", WindowCount: -1}, "window_count:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", WindowCount: 1_000_000}, "window_count:"},
		{store.AlertRule{Name: "x", Metric: "cost_today_usd", Op: ">", Window: "1h"}, "window:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", Window: "10m", WebhookURL: "ftp://x"}, "webhook_url:"},
		{store.AlertRule{Name: "x", Metric: "error_rate", Op: ">", Window: "10m", WebhookURL: "http://169.254.169.254/latest"}, "webhook_url:"},
		{store.AlertRule{Metric: "error_rate", Op: ">", Window: "10m"}, "name:"},
	} {
		err := alerting.Validate(&c.rule, alerting.Outbound{})
		if store.ErrorCode(err) != store.EINVALID || !strings.HasPrefix(store.ErrorMessage(err), c.field) {
			t.Errorf("Validate(%+v) = %v; want invalid, naming %s", c.rule, err, c.field)
		}
	}
	ok := store.AlertRule{Name: "x", Metric: "groundedness_mean", Op: "<", Threshold: 0.75, WindowCount: 50, WebhookURL: "https://hooks.example.com/T1"}
	if err := alerting.Validate(&ok, alerting.Outbound{}); err != nil {
		t.Errorf("Validate(%+v) = %v; want nil", ok, err)
	}
}

// The guard refuses internal addresses when connecting, after DNS, so a
// name that resolves to loopback is refused like the literal address;
// the allow-list lets a prefix through.
func TestOutboundRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		_, err := alerting.Outbound{}.Client(10*time.Second).Post(u, "application/json", strings.NewReader("{}"))
		var se *store.Error
		if !errors.As(err, &se) || !strings.Contains(se.Message, "refused") {
			t.Errorf("POST %s without allow-list: err = %v; want refused", u, err)
		}
		resp, err := loopback.Client(10*time.Second).Post(u, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Errorf("POST %s with 127.0.0.0/8 allowed: %v", u, err)
		} else {
			resp.Body.Close()
		}
	}
	for _, ip := range []string{"10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254", "100.64.0.1", "::1", "fe80::1", "fd00::1", "0.0.0.0", "::ffff:127.0.0.1"} {
		if err := (alerting.Outbound{}).Check(netip.MustParseAddr(ip)); err == nil {
			t.Errorf("Check(%s) = nil; want refused", ip)
		}
	}
	for _, ip := range []string{"93.184.215.14", "2606:4700::1111"} {
		if err := (alerting.Outbound{}).Check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("Check(%s) = %v; want allowed", ip, err)
		}
	}
}

// A full queue drops and counts instead of blocking.
func TestWebhookQueueDropsWhenFull(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	hooks := alerting.NewWebhooks(alerting.WebhookOptions{Outbound: loopback, Queue: 2, Workers: 1, Backoff: []time.Duration{}})
	defer hooks.Close()
	r := store.AlertRule{ID: "a1", Name: "x", WebhookURL: srv.URL}
	for range 10 {
		hooks.Notify(r, store.AlertEvent{State: store.AlertFiring})
	}
	// One is being sent (blocked), two wait: seven are dropped.
	waitFor(t, "the worker to take one", func() bool { return hooks.Stats().Queued < 2 || hooks.Stats().Dropped >= 7 })
	if s := hooks.Stats(); s.Dropped < 7 {
		t.Fatalf("stats %+v; want at least 7 dropped", s)
	}
}
