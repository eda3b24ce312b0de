package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// Observation is one answer as alert rules see it.
type Observation struct {
	At              time.Time
	LatencyMS       float64
	TTFTMS          float64 // 0: unknown
	CostUSD         float64
	Groundedness    float64
	HasGroundedness bool
	Error           bool
	Fallback        bool
	Escalated       bool
}

// Feedback is one thumbs up or down.
type Feedback struct {
	At time.Time
	Up bool
}

// Counted reports whether a trace is real traffic alerts should see:
// answers to people and clients (chat, widget, API, CLI, OTLP), not eval
// cases, load tests or ingests, and not still running.
func Counted(t *store.Trace) bool {
	if t.Kind != schema.KindAsk || t.Status == schema.StatusRunning {
		return false
	}
	ch, _ := t.Attributes[schema.AttrChannel].(string)
	return ch != schema.ChannelBench && ch != schema.ChannelEval
}

// ObservationOf reads what alerts need from a committed trace.
func ObservationOf(t *store.Trace) Observation {
	o := Observation{At: t.End, LatencyMS: float64(t.Duration()) / float64(time.Millisecond), CostUSD: t.CostUSD,
		Error: t.Status == schema.StatusError, Fallback: t.Status == schema.StatusFallback}
	if o.At.IsZero() {
		o.At = t.Start
	}
	if v, ok := number(t.Attributes[schema.AttrTTFTMS]); ok {
		o.TTFTMS = v
	}
	if v, ok := number(t.Attributes[schema.AttrGroundedness]); ok {
		o.Groundedness, o.HasGroundedness = v, true
	}
	o.Escalated, _ = t.Attributes[schema.AttrEscalated].(bool)
	return o
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// Notifier hears an alert's state changes.
type Notifier interface {
	Notify(rule store.AlertRule, ev store.AlertEvent)
}

// Store is what the evaluator needs of the store.
type Store interface {
	Alerts(ctx context.Context) ([]store.AlertRule, error)
	SetAlertState(ctx context.Context, id string, state store.AlertState, value *float64, at time.Time) error
}

var _ Store = (*store.Store)(nil)

// Evaluator keeps the last MaxWindowCount answers and ratings and judges
// every rule on them, on each batch it is given and every Tick. Batches
// arrive through a bounded queue: Observe never blocks, and a batch that
// finds it full is dropped and counted.
type Evaluator struct {
	st   Store
	log  *slog.Logger
	note Notifier
	now  func() time.Time
	tick time.Duration

	in      chan func()
	dropped atomic.Int64

	mu    sync.Mutex // guards what follows
	obs   []Observation
	fb    []Feedback
	rules map[string]*store.AlertRule // current state; Value is the last evaluation

	stop chan struct{}
	done chan struct{}
}

// Options tune an Evaluator.
type Options struct {
	Logger   *slog.Logger
	Notifier Notifier
	Now      func() time.Time
	Tick     time.Duration // re-evaluation without traffic; default 15s
	Queue    int           // batches waiting; default 256
}

// NewEvaluator loads the rules and starts evaluating. Close stops it.
func NewEvaluator(ctx context.Context, st Store, opts Options) (*Evaluator, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = 15 * time.Second
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	e := &Evaluator{st: st, log: opts.Logger, note: opts.Notifier, now: opts.Now, tick: opts.Tick,
		in: make(chan func(), opts.Queue), rules: map[string]*store.AlertRule{},
		stop: make(chan struct{}), done: make(chan struct{})}
	rules, err := st.Alerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}
	for i := range rules {
		e.rules[rules[i].ID] = &rules[i]
	}
	go e.run()
	return e, nil
}

func (e *Evaluator) run() {
	defer close(e.done)
	t := time.NewTicker(e.tick)
	defer t.Stop()
	for {
		select {
		case fn := <-e.in:
			fn()
			e.evaluate()
		case <-t.C:
			e.evaluate()
		case <-e.stop:
			return
		}
	}
}

// Close stops the evaluator; batches still queued are not evaluated.
func (e *Evaluator) Close() {
	close(e.stop)
	<-e.done
}

// Flush waits until everything queued before it has been evaluated.
func (e *Evaluator) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case e.in <- func() { close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dropped counts batches refused because the queue was full.
func (e *Evaluator) Dropped() int64 { return e.dropped.Load() }

func (e *Evaluator) enqueue(fn func()) {
	select {
	case e.in <- fn:
	default:
		e.dropped.Add(1)
	}
}

// Observe adds answers (oldest first). It never blocks.
func (e *Evaluator) Observe(obs []Observation) {
	if len(obs) == 0 {
		return
	}
	e.enqueue(func() {
		e.mu.Lock()
		e.obs = keepLast(append(e.obs, obs...), MaxWindowCount)
		e.mu.Unlock()
	})
}

// Rate adds a thumbs up or down. It never blocks.
func (e *Evaluator) Rate(f Feedback) {
	e.enqueue(func() {
		e.mu.Lock()
		e.fb = keepLast(append(e.fb, f), MaxWindowCount)
		e.mu.Unlock()
	})
}

// Seed adds answers before the evaluator has seen traffic (at start-up,
// from the store), without evaluating.
func (e *Evaluator) Seed(obs []Observation) {
	e.mu.Lock()
	e.obs = keepLast(append(obs, e.obs...), MaxWindowCount)
	e.mu.Unlock()
}

// SeedFeedback adds ratings given before the evaluator started (at
// start-up, from the store), oldest first, without evaluating.
func (e *Evaluator) SeedFeedback(fb []Feedback) {
	e.mu.Lock()
	e.fb = keepLast(append(fb, e.fb...), MaxWindowCount)
	e.mu.Unlock()
}

// keepLast trims s to its last n elements (copied, so the dropped head
// is freed).
func keepLast[T any](s []T, n int) []T {
	if len(s) <= n {
		return s
	}
	return append(s[:0:0], s[len(s)-n:]...)
}

// Put starts evaluating a new or changed rule (its state kept).
func (e *Evaluator) Put(r store.AlertRule) {
	e.mu.Lock()
	if old := e.rules[r.ID]; old != nil {
		r.State, r.Since, r.Value, r.History = old.State, old.Since, old.Value, old.History
	}
	e.rules[r.ID] = &r
	e.mu.Unlock()
	e.enqueue(func() {})
}

// Remove stops evaluating a rule.
func (e *Evaluator) Remove(id string) {
	e.mu.Lock()
	delete(e.rules, id)
	e.mu.Unlock()
}

// Rules returns every rule with its current state and value, oldest
// first.
func (e *Evaluator) Rules() []store.AlertRule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]store.AlertRule, 0, len(e.rules))
	for _, r := range e.rules {
		c := *r
		c.History = append([]store.AlertEvent(nil), r.History...)
		out = append(out, c)
	}
	sortByID(out)
	return out
}

// Rule returns one rule's current state.
func (e *Evaluator) Rule(id string) (store.AlertRule, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.rules[id]
	if !ok {
		return store.AlertRule{}, false
	}
	c := *r
	c.History = append([]store.AlertEvent(nil), r.History...)
	return c, true
}

// Value computes rule r's metric now; ok is false while the window holds
// too little data.
func (e *Evaluator) Value(r *store.AlertRule) (float64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.value(r, e.now())
}

func (e *Evaluator) value(r *store.AlertRule, now time.Time) (float64, bool) {
	m, ok := Metrics[r.Metric]
	if !ok {
		return 0, false
	}
	var obs []Observation
	var fb []Feedback
	switch {
	case m.Today:
		u := now.UTC()
		obs = since(e.obs, func(o Observation) time.Time { return o.At }, time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC))
	case r.WindowCount > 0:
		if m.Feedback {
			if len(e.fb) < r.WindowCount {
				return 0, false
			}
			fb = e.fb[len(e.fb)-r.WindowCount:]
		} else {
			if len(e.obs) < r.WindowCount {
				return 0, false
			}
			obs = e.obs[len(e.obs)-r.WindowCount:]
		}
	default:
		d, err := time.ParseDuration(r.Window)
		if err != nil {
			return 0, false
		}
		if m.Feedback {
			fb = since(e.fb, func(f Feedback) time.Time { return f.At }, now.Add(-d))
		} else {
			obs = since(e.obs, func(o Observation) time.Time { return o.At }, now.Add(-d))
		}
		if len(obs)+len(fb) < MinTimeSamples {
			return 0, false
		}
	}
	return m.value(obs, fb)
}

// since returns the tail of xs (in time order) at or after t.
func since[T any](xs []T, at func(T) time.Time, t time.Time) []T {
	i := len(xs)
	for i > 0 && !at(xs[i-1]).Before(t) {
		i--
	}
	return xs[i:]
}

// evaluate judges every rule and reports the changes.
func (e *Evaluator) evaluate() {
	now := e.now()
	type change struct {
		rule store.AlertRule
		ev   store.AlertEvent
	}
	var changes []change
	e.mu.Lock()
	for _, r := range e.rules {
		v, ok := e.value(r, now)
		if !ok {
			r.Value = nil
			continue
		}
		r.Value = &v
		if s := next(r, r.State, v); s != r.State {
			ev := store.AlertEvent{At: now, State: s, Value: v}
			r.State, r.Since = s, now
			r.History = keepLast(append(r.History, ev), store.MaxAlertHistory)
			c := *r
			c.History = nil
			changes = append(changes, change{c, ev})
		}
	}
	e.mu.Unlock()
	for _, c := range changes {
		v := c.ev.Value
		if err := e.st.SetAlertState(context.Background(), c.rule.ID, c.ev.State, &v, c.ev.At); err != nil {
			e.log.Error("alerts: could not save state", "alert", c.rule.ID, "err", err)
		}
		msg := "alert firing"
		if c.ev.State == store.AlertOK {
			msg = "alert resolved"
		}
		e.log.Warn(msg, "alert", c.rule.ID, "name", c.rule.Name, "metric", c.rule.Metric,
			"value", v, "op", c.rule.Op, "threshold", c.rule.Threshold)
		if e.note != nil {
			e.note.Notify(c.rule, c.ev)
		}
	}
}

func sortByID(rs []store.AlertRule) {
	slices.SortFunc(rs, func(a, b store.AlertRule) int { return strings.Compare(a.ID, b.ID) })
}
