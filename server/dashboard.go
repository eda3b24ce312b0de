package server

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

// dashboardSteps are the series resolutions, finest first: a window is
// cut into at most 60 points of the finest step that allows it.
var dashboardSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// parseWindow reads a window from a minute to 400 days ("90m", "36h",
// "14d"); the Overview offers ui.DashboardWindows.
func parseWindow(v string) (time.Duration, error) {
	bad := store.Errorf(store.EINVALID, "window must be a duration from 1m to 400d, such as 1h, 24h, 7d or 30d")
	if v == "" {
		return 24 * time.Hour, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad
		}
	}
	if d < time.Minute || d > 400*24*time.Hour {
		return 0, bad
	}
	return d.Truncate(time.Minute), nil
}

// Dashboard is GET /api/v1/dashboard's answer: the window's totals, a
// series and the knowledge gaps, merged from rollups.
type Dashboard struct {
	Window            string    `json:"window"`
	From              time.Time `json:"from"`
	To                time.Time `json:"to"`
	Step              string    `json:"step"`
	StepSeconds       int64     `json:"step_seconds"`
	Requests          int64     `json:"requests"`
	Errors            int64     `json:"errors"`
	ErrorRate         float64   `json:"error_rate"`
	LatencyMS         Quantiles `json:"latency_ms"`
	TTFTMS            Quantiles `json:"ttft_ms"`
	TokensIn          int64     `json:"tokens_in"`
	TokensOut         int64     `json:"tokens_out"`
	CostUSD           float64   `json:"cost_usd"`
	CostPerRequestUSD float64   `json:"cost_per_request_usd"`
	GroundednessMean  float64   `json:"groundedness_mean"`
	HallucinationRate float64   `json:"hallucination_rate"`
	FallbackRate      float64   `json:"fallback_rate"` // guard blocks included: a blocked ask is answered with the fallback
	EscalationRate    float64   `json:"escalation_rate"`
	// GuardBlocks counts the asks a guard blocked; Guards each guard's
	// flagged, redacted and blocked asks (only guards with any).
	GuardBlocks    int64                        `json:"guard_blocks"`
	GuardBlockRate float64                      `json:"guard_block_rate"`
	Guards         map[string]store.GuardCounts `json:"guards"`
	Feedback       Thumbs                       `json:"feedback"`
	Retrieval      RetrievalHealth              `json:"retrieval"`
	Series         []DashboardPoint             `json:"series"`
	KnowledgeGaps  []store.Gap                  `json:"knowledge_gaps"`
	Breakdown      []DashboardSlice             `json:"breakdown"`
	// QuantileRelativeError is the sketches' bound on latency and TTFT
	// percentiles.
	QuantileRelativeError float64 `json:"quantile_relative_error"`
}

// Quantiles are p50/p95/p99 in milliseconds.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Thumbs counts feedback.
type Thumbs struct {
	Up    int64   `json:"up"`
	Down  int64   `json:"down"`
	Ratio float64 `json:"ratio"` // up / (up + down); 0 without feedback
}

// RetrievalHealth is the share of asks that retrieved nothing or whose
// best chunk scored below ScoreFloor.
type RetrievalHealth struct {
	EmptyRate  float64 `json:"empty_rate"`
	WeakRate   float64 `json:"weak_rate"`
	ScoreFloor float64 `json:"score_floor"`
}

// DashboardPoint is one period of the series.
type DashboardPoint struct {
	T                time.Time `json:"t"`
	Requests         int64     `json:"requests"`
	Errors           int64     `json:"errors"`
	LatencyP95MS     float64   `json:"latency_p95_ms"`
	CostUSD          float64   `json:"cost_usd"`
	GroundednessMean float64   `json:"groundedness_mean"`
	Fallbacks        int64     `json:"fallbacks"`
	GuardBlocks      int64     `json:"guard_blocks"`
}

// DashboardSlice is one channel × model × prompt of the window.
type DashboardSlice struct {
	Channel          string  `json:"channel"`
	Model            string  `json:"model"`
	Prompt           string  `json:"prompt"`
	Requests         int64   `json:"requests"`
	ErrorRate        float64 `json:"error_rate"`
	FallbackRate     float64 `json:"fallback_rate"`
	LatencyP95MS     float64 `json:"latency_p95_ms"`
	CostUSD          float64 `json:"cost_usd"`
	GroundednessMean float64 `json:"groundedness_mean"`
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round4(float64(a) / float64(b))
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func meanGroundedness(r *store.Rollup) float64 {
	if r.Grounded == 0 {
		return 0
	}
	return round4(r.GroundednessSum / float64(r.Grounded))
}

func quantiles(s *store.Sketch) Quantiles {
	q := func(p float64) float64 { return math.Round(s.Quantile(p)*100) / 100 }
	return Quantiles{q(0.5), q(0.95), q(0.99)}
}

// dashboard merges the rollups of the window ending now (the current
// minute included) for f.
func (s *Server) dashboard(c echo.Context, window string, f store.RollupFilter) (*Dashboard, error) {
	d, err := parseWindow(window)
	if err != nil {
		return nil, err
	}
	if window == "" {
		window = "24h"
	}
	to := s.now().UTC().Truncate(time.Minute).Add(time.Minute)
	from := to.Add(-d)
	step := dashboardSteps[len(dashboardSteps)-1]
	for _, st := range dashboardSteps {
		if d/st <= 60 {
			step = st
			break
		}
	}
	// The window starts on a step boundary (up to one step earlier than
	// to-d), so every point covers a whole step and whole hours and days
	// come from hour and day rollups.
	from = from.Truncate(step)
	total, series, by, err := s.store.Rollups(c.Request().Context(), from, to, f, step)
	if err != nil {
		return nil, err
	}
	out := &Dashboard{
		Window: window, From: from, To: to, Step: step.String(), StepSeconds: int64(step / time.Second), Requests: total.Requests, Errors: total.Errors,
		ErrorRate: ratio(total.Errors, total.Requests), LatencyMS: quantiles(&total.Latency), TTFTMS: quantiles(&total.TTFT),
		TokensIn: total.TokensIn, TokensOut: total.TokensOut, CostUSD: round6(total.CostUSD),
		GroundednessMean: meanGroundedness(&total), HallucinationRate: ratio(total.Hallucinated, total.Answered),
		FallbackRate: ratio(total.Fallbacks, total.Requests), EscalationRate: ratio(total.Escalations, total.Requests),
		Feedback:    Thumbs{Up: total.Up, Down: total.Down, Ratio: ratio(total.Up, total.Up+total.Down)},
		Retrieval:   RetrievalHealth{ratio(total.EmptyRetrievals, total.Requests), ratio(total.WeakRetrievals, total.Requests), store.RetrievalScoreFloor},
		GuardBlocks: total.GuardBlocks, GuardBlockRate: ratio(total.GuardBlocks, total.Requests), Guards: total.Guards,
		Series: make([]DashboardPoint, 0, len(series)), KnowledgeGaps: total.TopGaps(10), Breakdown: []DashboardSlice{},
		QuantileRelativeError: store.SketchRelativeError,
	}
	if out.Guards == nil {
		out.Guards = map[string]store.GuardCounts{}
	}
	if total.Requests > 0 {
		out.CostPerRequestUSD = round6(total.CostUSD / float64(total.Requests))
	}
	for i := range series {
		r := &series[i]
		out.Series = append(out.Series, DashboardPoint{T: from.Add(time.Duration(i) * step), Requests: r.Requests, Errors: r.Errors,
			LatencyP95MS: math.Round(r.Latency.Quantile(0.95)*100) / 100, CostUSD: round6(r.CostUSD), GroundednessMean: meanGroundedness(r),
			Fallbacks: r.Fallbacks, GuardBlocks: r.GuardBlocks})
	}
	for _, b := range by {
		out.Breakdown = append(out.Breakdown, DashboardSlice{Channel: b.Channel, Model: b.Model, Prompt: b.Prompt, Requests: b.Requests,
			ErrorRate: ratio(b.Errors, b.Requests), FallbackRate: ratio(b.Fallbacks, b.Requests),
			LatencyP95MS: math.Round(b.Latency.Quantile(0.95)*100) / 100, CostUSD: round6(b.CostUSD), GroundednessMean: meanGroundedness(&b.Rollup)})
	}
	return out, nil
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// dashboardFilter reads channel, model and prompt; channel may list
// several (comma-separated) and defaults to real traffic.
func dashboardFilter(c echo.Context) store.RollupFilter {
	f := store.RollupFilter{Model: c.QueryParam("model"), Prompt: c.QueryParam("prompt")}
	if ch := c.QueryParam("channel"); ch != "" {
		f.Channels = strings.Split(ch, ",")
	}
	return f
}

// handleDashboard serves GET /api/v1/dashboard: the monitoring numbers of
// a window, from rollups only.
func (s *Server) handleDashboard(c echo.Context) error {
	d, err := s.dashboard(c, c.QueryParam("window"), dashboardFilter(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
