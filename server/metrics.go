package server

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"llmops/store"
)

// metrics holds the Prometheus collectors /metrics exposes. Each server
// has its own registry, so tests can run several servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// bodyTimeouts counts requests whose body did not arrive in time.
	bodyTimeouts *prometheus.CounterVec
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
