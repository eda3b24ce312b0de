package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/server/alerting"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// monitoring is what watches the answers the server gives: budgets on
// the ask path, alert rules with their webhooks, and the OTLP exporter.
// All three are fed after the fact (the trace writer's subscriber, the
// ask's settle), through bounded queues, so none slows an answer.
type monitoring struct {
	budgets  *budgetLedger
	outbound alerting.Outbound
	alerts   *alerting.Evaluator
	webhooks *alerting.Webhooks
	otlp     *otlpExporter // nil unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set
	otlpSeen otlpIndex     // recent traces received on POST /v1/traces
}

// startMonitoring wires the monitoring parts and subscribes them to the
// trace writer. On error it leaves nothing running.
func (s *Server) startMonitoring(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			s.stopMonitoring(ctx)
		}
	}()
	if s.budgets, err = newBudgetLedger(ctx, s.store, s.log, s.now); err != nil {
		return err
	}
	s.outbound = alerting.Outbound{Allow: s.cfg.OutboundAllow}
	s.webhooks = alerting.NewWebhooks(alerting.WebhookOptions{Outbound: s.outbound, Logger: s.log})
	if s.alerts, err = alerting.NewEvaluator(ctx, s.store, alerting.Options{Logger: s.log, Notifier: s.webhooks, Now: s.now}); err != nil {
		return err
	}
	if err := s.seedAlerts(ctx); err != nil {
		return fmt.Errorf("alerts: read recent traces: %w", err)
	}
	s.otlpSeen.byID = map[string]*otlpKnown{}
	if s.cfg.OTLPTracesURL != "" {
		s.otlp = newOTLPExporter(s.cfg.OTLPTracesURL, s.cfg.OTLPHeaders, s.log)
	}
	s.mets.registerMonitoring(s)
	s.traces.Subscribe(s.onCommit)
	return nil
}

// stopMonitoring runs before the App closes: the trace writer is flushed
// so the last answers are seen, then each part stops (budget usage is
// saved; webhooks still queued are abandoned and counted as failed; the
// OTLP exporter sends what it holds, within ctx).
func (s *Server) stopMonitoring(ctx context.Context) {
	if s.traces != nil && s.alerts != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = s.traces.Flush(fctx)
		_ = s.alerts.Flush(fctx)
		cancel()
	}
	if s.traces != nil {
		s.traces.Subscribe(func([]store.Trace, []store.Span) {})
	}
	if s.alerts != nil {
		s.alerts.Close()
	}
	if s.webhooks != nil {
		s.webhooks.Close()
	}
	if s.otlp != nil {
		s.otlp.close(ctx)
	}
	if s.budgets != nil {
		s.budgets.close()
	}
}

// onCommit is the trace writer's subscriber: it runs after each commit on
// the writer's goroutine and only hands the batch on.
func (s *Server) onCommit(traces []store.Trace, spans []store.Span) {
	var obs []alerting.Observation
	for i := range traces {
		t := &traces[i]
		if alerting.Counted(t) {
			obs = append(obs, alerting.ObservationOf(t))
		}
	}
	s.alerts.Observe(obs)
	s.mets.observeTraces(traces)
	if s.otlp != nil {
		s.otlp.enqueue(traces, spans)
	}
}

// onFeedback tells alerts and /metrics about a thumbs up or down.
func (s *Server) onFeedback(f *store.Feedback) {
	if f.Value == 0 {
		return
	}
	s.alerts.Rate(alerting.Feedback{At: f.CreatedAt, Up: f.Value > 0})
	s.mets.observeFeedback(f.Value > 0)
}

// seedAlerts gives the evaluator the most recent answers and thumbs from
// the store, so windows, "cost today" and thumbs ratios are right after a
// restart.
func (s *Server) seedAlerts(ctx context.Context) error {
	var obs []alerting.Observation
	before := ""
	for len(obs) < alerting.MaxWindowCount {
		page, next, err := s.store.ListTraces(ctx, store.TraceFilter{Page: store.Page{Limit: 500, Before: before}, Kind: schema.KindAsk})
		if err != nil {
			return err
		}
		for i := range page {
			if alerting.Counted(&page[i]) {
				obs = append(obs, alerting.ObservationOf(&page[i]))
			}
		}
		if next == "" {
			break
		}
		before = next
	}
	// Newest first → oldest first.
	for i, j := 0, len(obs)-1; i < j; i, j = i+1, j-1 {
		obs[i], obs[j] = obs[j], obs[i]
	}
	s.alerts.Seed(obs)
	// The thumbs too, or a thumbs-down ratio starts from nothing after
	// each restart.
	thumbs, err := s.store.RecentFeedback(ctx, s.now().Add(-alerting.MaxWindow), alerting.MaxWindowCount)
	if err != nil {
		return err
	}
	fb := make([]alerting.Feedback, 0, len(thumbs))
	for _, f := range thumbs {
		fb = append(fb, alerting.Feedback{At: f.CreatedAt, Up: f.Value > 0})
	}
	s.alerts.SeedFeedback(fb)
	return nil
}

// alertRequest is the body of POST /api/v1/alerts and PATCH
// /api/v1/alerts/{id} (where every field is optional).
type alertRequest struct {
	Name        *string  `json:"name"`
	Metric      *string  `json:"metric"`
	Op          *string  `json:"op"`
	Threshold   *float64 `json:"threshold"`
	Window      *string  `json:"window"`
	WindowCount *int     `json:"window_count"`
	WebhookURL  *string  `json:"webhook_url"`
	Muted       *bool    `json:"muted"`
}

// apply sets the fields the request gives.
func (r alertRequest) apply(a *store.AlertRule) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&a.Name, r.Name)
	set(&a.Metric, r.Metric)
	set(&a.Op, r.Op)
	set(&a.WebhookURL, r.WebhookURL)
	if r.Threshold != nil {
		a.Threshold = *r.Threshold
	}
	// A window replaces the other kind: PATCH {"window":"1h"} on a count
	// rule makes it a time rule.
	if r.Window != nil {
		a.Window = strings.TrimSpace(*r.Window)
		if r.WindowCount == nil && a.Window != "" {
			a.WindowCount = 0
		}
	}
	if r.WindowCount != nil {
		a.WindowCount = *r.WindowCount
		if r.Window == nil && a.WindowCount != 0 {
			a.Window = ""
		}
	}
	if r.Muted != nil {
		a.Muted = *r.Muted
	}
}

// onlyMute reports whether the request changes nothing but muted: what an
// editor may do.
func (r alertRequest) onlyMute() bool {
	return r.Name == nil && r.Metric == nil && r.Op == nil && r.Threshold == nil &&
		r.Window == nil && r.WindowCount == nil && r.WebhookURL == nil
}

// alertJSON is an alert as the API shows it: the rule with its live state.
type alertJSON struct {
	store.AlertRule
	Hysteresis float64 `json:"hysteresis"`
}

func (s *Server) alertList() []alertJSON {
	rules := s.alerts.Rules()
	out := make([]alertJSON, len(rules))
	for i, r := range rules {
		out[i] = alertJSON{r, alerting.Hysteresis(r.Threshold)}
	}
	return out
}

func (s *Server) handleAlertList(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"alerts": s.alertList(), "metrics": alerting.MetricNames()})
}

func (s *Server) handleAlertCreate(c echo.Context) error {
	var req alertRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := s.createAlert(c, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, alertJSON{*a, alerting.Hysteresis(a.Threshold)})
}

func (s *Server) createAlert(c echo.Context, req alertRequest) (*store.AlertRule, error) {
	var a store.AlertRule
	req.apply(&a)
	if err := alerting.Validate(&a, s.outbound); err != nil {
		return nil, err
	}
	if err := s.store.CreateAlert(c.Request().Context(), principalOf(c).actor, &a); err != nil {
		return nil, err
	}
	s.alerts.Put(a)
	return &a, nil
}

// handleAlertUpdate changes a rule (admin) or only mutes or unmutes it
// (editor).
func (s *Server) handleAlertUpdate(c echo.Context) error {
	var req alertRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := s.updateAlert(c, c.Param("id"), req)
	if err != nil {
		return err
	}
	r, _ := s.alerts.Rule(a.ID)
	return c.JSON(http.StatusOK, alertJSON{r, alerting.Hysteresis(r.Threshold)})
}

func (s *Server) updateAlert(c echo.Context, id string, req alertRequest) (*store.AlertRule, error) {
	if p := principalOf(c); p.role != store.RoleAdmin && !req.onlyMute() {
		return nil, store.Errorf(store.EFORBIDDEN, "editors may only mute or unmute alerts")
	}
	a, err := s.store.UpdateAlert(c.Request().Context(), principalOf(c).actor, id, func(a *store.AlertRule) error {
		req.apply(a)
		return alerting.Validate(a, s.outbound)
	})
	if err != nil {
		return nil, err
	}
	s.alerts.Put(*a)
	return a, nil
}

func (s *Server) handleAlertDelete(c echo.Context) error {
	if err := s.store.DeleteAlert(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	s.alerts.Remove(c.Param("id"))
	return c.NoContent(http.StatusNoContent)
}

// alertViews turns rules into what the Alerts page and the banner show.
func alertViews(rules []store.AlertRule) []ui.AlertView {
	out := make([]ui.AlertView, 0, len(rules))
	for _, r := range rules {
		v := ui.AlertView{ID: r.ID, Name: r.Name, Metric: r.Metric, Condition: fmt.Sprintf("%s %s %g", r.Metric, r.Op, r.Threshold),
			Firing: r.State == store.AlertFiring, Since: r.Since, Muted: r.Muted, Webhook: r.WebhookURL != ""}
		switch {
		case r.WindowCount > 0:
			v.Window = "last " + strconv.Itoa(r.WindowCount)
		case r.Window != "":
			v.Window = "last " + r.Window
		default:
			v.Window = "today (UTC)"
		}
		if r.Value != nil {
			v.Value = strconv.FormatFloat(*r.Value, 'g', 4, 64)
		}
		for i := len(r.History) - 1; i >= 0; i-- {
			h := r.History[i]
			v.History = append(v.History, ui.AlertChange{At: h.At, Firing: h.State == store.AlertFiring, Value: strconv.FormatFloat(h.Value, 'g', 4, 64)})
		}
		out = append(out, v)
	}
	return out
}

// handleAlertsPage is the Alerts page: rules, state, history; admins get
// the form.
func (s *Server) handleAlertsPage(c echo.Context) error {
	return s.renderAlertsPage(c, http.StatusOK, "", nil)
}

func (s *Server) renderAlertsPage(c echo.Context, status int, formErr string, form *ui.AlertForm) error {
	p := principalOf(c)
	page := ui.AlertsPage{Chrome: chrome(c, "Alerts", "alerts"), Alerts: alertViews(s.alerts.Rules()),
		Metrics: alerting.MetricNames(), CanCreate: p.role == store.RoleAdmin, CanMute: p.role.Allows(store.RoleEditor),
		Error: formErr, Webhooks: s.webhookStats()}
	if form != nil {
		page.Form = *form
	} else {
		page.Form = ui.AlertForm{Op: ">", Metric: "error_rate", Window: "10m"}
	}
	return render(c, status, ui.Alerts(page))
}

// handleAlertCreateForm is the Alerts page's form (admin).
func (s *Server) handleAlertCreateForm(c echo.Context) error {
	form := ui.AlertForm{Name: c.FormValue("name"), Metric: c.FormValue("metric"), Op: c.FormValue("op"),
		Threshold: c.FormValue("threshold"), Window: c.FormValue("window"), WebhookURL: c.FormValue("webhook_url")}
	req := alertRequest{Name: &form.Name, Metric: &form.Metric, Op: &form.Op, WebhookURL: &form.WebhookURL}
	th, err := strconv.ParseFloat(strings.TrimSpace(form.Threshold), 64)
	if err != nil {
		return s.renderAlertsPage(c, http.StatusBadRequest, "threshold: want a number", &form)
	}
	req.Threshold = &th
	// One window box: "50" is the last 50 answers, "10m" the last ten
	// minutes, empty for cost_today_usd.
	if w := strings.TrimSpace(form.Window); w != "" {
		if n, err := strconv.Atoi(w); err == nil {
			req.WindowCount = &n
		} else {
			req.Window = &w
		}
	}
	if _, err := s.createAlert(c, req); err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			return s.renderAlertsPage(c, http.StatusBadRequest, store.ErrorMessage(err), &form)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/alerts")
}

// handleAlertMuteForm mutes or unmutes (editor).
func (s *Server) handleAlertMuteForm(c echo.Context) error {
	muted := c.FormValue("muted") == "true"
	if _, err := s.updateAlert(c, c.Param("id"), alertRequest{Muted: &muted}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/alerts")
}

// handleAlertDeleteForm deletes a rule (admin).
func (s *Server) handleAlertDeleteForm(c echo.Context) error {
	if err := s.store.DeleteAlert(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	s.alerts.Remove(c.Param("id"))
	return c.Redirect(http.StatusSeeOther, "/alerts")
}

// handleAlertBanner is the layout's banner of firing alerts, loaded and
// refreshed by htmx; empty when nothing fires.
func (s *Server) handleAlertBanner(c echo.Context) error {
	var firing []store.AlertRule
	for _, r := range s.alerts.Rules() {
		if r.State == store.AlertFiring {
			firing = append(firing, r)
		}
	}
	return render(c, http.StatusOK, ui.AlertBanner(alertViews(firing)))
}

func (s *Server) webhookStats() ui.DeliveryStats {
	w := s.webhooks.Stats()
	d := ui.DeliveryStats{Delivered: w.Delivered, Failed: w.Failed, Dropped: w.Dropped, Queued: w.Queued,
		EvaluatorDropped: s.alerts.Dropped()}
	if s.otlp != nil {
		o := s.otlp.stats()
		d.OTLP, d.OTLPExported, d.OTLPFailed, d.OTLPDropped = true, o.exported, o.failed, o.dropped
	}
	return d
}
