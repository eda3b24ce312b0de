package server

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"llmops/server/alerting"
	"llmops/store"
	"llmops/store/schema"
)

// metrics holds the Prometheus collectors /metrics exposes. Each server
// has its own registry, so tests can run several servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// bodyTimeouts counts requests whose body did not arrive in time.
	bodyTimeouts *prometheus.CounterVec

	// Answers, from committed ask traces (real traffic: not eval cases or
	// load tests), labelled by channel, model and prompt name only.
	asks        *prometheus.CounterVec
	askLatency  *prometheus.HistogramVec
	askTTFT     *prometheus.HistogramVec
	tokens      *prometheus.CounterVec
	cost        *prometheus.CounterVec
	fallbacks   *prometheus.CounterVec
	escalations *prometheus.CounterVec
	feedback    *prometheus.CounterVec
	labels      labelLimiter
}

// maxLabelValues bounds each of the model and prompt labels: values past
// it (a client sending made-up model names over OTLP, say) become
// "other", so a series cannot be minted per request.
const maxLabelValues = 64

// labelLimiter admits the first maxLabelValues values of each label.
type labelLimiter struct {
	mu   sync.Mutex
	seen map[string]map[string]bool
}

func (l *labelLimiter) value(label, v string) string {
	if v == "" {
		return "none"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]map[string]bool{}
	}
	set := l.seen[label]
	if set == nil {
		set = map[string]bool{}
		l.seen[label] = set
	}
	if !set[v] {
		if len(set) >= maxLabelValues {
			return "other"
		}
		set[v] = true
	}
	return v
}

func newMetrics(tw *store.TraceWriter) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmops_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route"})
	m.bodyTimeouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_http_body_timeouts_total", Help: "Requests whose body did not arrive within its deadline (answered 408), by route.",
	}, []string{"method", "route"})
	answerLabels := []string{"channel", "model", "prompt"}
	m.asks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_asks_total", Help: "Answers given (real traffic), by channel, model, prompt name and status.",
	}, append(answerLabels, "status"))
	m.askLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmops_ask_duration_seconds", Help: "Answer latency, question to final answer.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2, 4, 8, 15, 30, 60},
	}, answerLabels)
	m.askTTFT = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmops_ask_ttft_seconds", Help: "Time to the answer's first token.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 4, 8, 15},
	}, answerLabels)
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_tokens_total", Help: "Model tokens, by direction (input, output).",
	}, append(answerLabels, "direction"))
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_cost_usd_total", Help: "Model cost in USD.",
	}, answerLabels)
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_ask_fallbacks_total", Help: "Answers that fell back (not grounded enough).",
	}, answerLabels)
	m.escalations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_ask_escalations_total", Help: "Answers whose conversation was escalated to a person.",
	}, answerLabels)
	m.feedback = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmops_feedback_total", Help: "Thumbs on answers, by rating (up, down).",
	}, []string{"rating"})
	m.reg.MustRegister(m.asks, m.askLatency, m.askTTFT, m.tokens, m.cost, m.fallbacks, m.escalations, m.feedback)
	traceCounter := func(name, help string, f func(store.TraceWriterStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(tw.Stats())) })
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.bodyTimeouts,
		traceCounter("llmops_trace_records_written_total", "Traces and spans committed by the group-commit writer.", func(s store.TraceWriterStats) int64 { return s.Written }),
		traceCounter("llmops_trace_writer_stalls_total", "Trace writes that found the buffer full and waited.", func(s store.TraceWriterStats) int64 { return s.Stalls }),
		traceCounter("llmops_trace_records_dropped_total", "Trace writes abandoned because the caller gave up waiting.", func(s store.TraceWriterStats) int64 { return s.Dropped }),
		traceCounter("llmops_trace_records_failed_total", "Trace records lost to a failed commit.", func(s store.TraceWriterStats) int64 { return s.Failed }),
		traceCounter("llmops_trace_flushes_total", "Group-commit transactions.", func(s store.TraceWriterStats) int64 { return s.Flushes }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmops_trace_writer_queued", Help: "Trace records waiting to be committed."},
			func() float64 { return float64(tw.Stats().Queued) }),
	)
	return m
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched" // keeps label cardinality bounded
		}
		method := c.Request().Method
		m.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// observeTraces counts committed answers (the trace writer's subscriber).
func (m *metrics) observeTraces(traces []store.Trace) {
	for i := range traces {
		t := &traces[i]
		if !alerting.Counted(t) {
			continue
		}
		ch, _ := t.Attributes[schema.AttrChannel].(string)
		model, _ := t.Attributes[schema.AttrResponseModel].(string)
		prompt, _ := t.Attributes[schema.AttrPrompt].(string)
		prompt, _, _ = strings.Cut(prompt, "@") // the name: versions would grow without bound
		lv := []string{m.labels.value("channel", ch), m.labels.value("model", model), m.labels.value("prompt", prompt)}
		m.asks.WithLabelValues(append(lv, string(t.Status))...).Inc()
		m.askLatency.WithLabelValues(lv...).Observe(t.Duration().Seconds())
		if ttft := alerting.ObservationOf(t).TTFTMS; ttft > 0 {
			m.askTTFT.WithLabelValues(lv...).Observe(ttft / 1000)
		}
		m.tokens.WithLabelValues(append(lv, "input")...).Add(float64(t.TokensIn))
		m.tokens.WithLabelValues(append(lv, "output")...).Add(float64(t.TokensOut))
		m.cost.WithLabelValues(lv...).Add(t.CostUSD)
		if t.Status == schema.StatusFallback {
			m.fallbacks.WithLabelValues(lv...).Inc()
		}
		if esc, _ := t.Attributes[schema.AttrEscalated].(bool); esc {
			m.escalations.WithLabelValues(lv...).Inc()
		}
	}
}

func (m *metrics) observeFeedback(up bool) {
	rating := "down"
	if up {
		rating = "up"
	}
	m.feedback.WithLabelValues(rating).Inc()
}

// registerMonitoring exposes the alert, webhook, budget and OTLP counters.
func (m *metrics) registerMonitoring(s *Server) {
	counter := func(name, help string, f func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmops_alerts_firing", Help: "Alert rules firing now."}, func() float64 {
			n := 0
			for _, r := range s.alerts.Rules() {
				if r.State == store.AlertFiring {
					n++
				}
			}
			return float64(n)
		}),
		counter("llmops_alert_batches_dropped_total", "Trace batches the alert evaluator's full queue refused.", s.alerts.Dropped),
		counter("llmops_alert_webhooks_delivered_total", "Alert webhook deliveries that succeeded.", func() int64 { return s.webhooks.Stats().Delivered }),
		counter("llmops_alert_webhooks_failed_total", "Alert webhook deliveries that failed after their retries.", func() int64 { return s.webhooks.Stats().Failed }),
		counter("llmops_alert_webhooks_dropped_total", "Alert webhook deliveries dropped because the queue was full.", func() int64 { return s.webhooks.Stats().Dropped }),
		counter("llmops_budget_refusals_total", "Asks refused by a budget (429).", s.budgets.refusals.Load),
	)
	if s.otlp != nil {
		m.reg.MustRegister(
			counter("llmops_otlp_spans_exported_total", "Spans (and trace root spans) the OTLP exporter delivered.", func() int64 { return s.otlp.stats().exported }),
			counter("llmops_otlp_spans_failed_total", "Spans the OTLP collector did not accept after retries.", func() int64 { return s.otlp.stats().failed }),
			counter("llmops_otlp_spans_dropped_total", "Spans dropped because the OTLP export queue was full.", func() int64 { return s.otlp.stats().dropped }),
		)
	}
}
