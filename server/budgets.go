package server

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/rag/assistant"
	"llmops/store"
	"llmops/ui"
)

// budgetLedger enforces store.Budgets on asks. Usage is counted in fixed
// UTC windows (minute, day, month) per scope: "global", "key:ID" and
// "user:ID" (a key's asks count for its owner too). An ask reserves before
// it runs and settles with its real tokens and cost after, so the only
// overspend is what asks in flight add past the limit; see reserve.
//
// Usage lives in memory and is saved about once a second (only the scopes
// that changed, in one transaction) and at shutdown, so a crash forgets
// at most the last second of spending.
type budgetLedger struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	limits   store.Budgets
	usage    map[string]*store.BudgetUsage
	inflight map[string]int
	dirty    map[string]bool
	// The most one ask has cost so far: what an ask in flight may still
	// add. Until one ask has settled nothing is known, and an ask that
	// could cross a limit runs alone.
	maxTokens int64
	maxCost   float64
	settled   bool
	refusals  atomic.Int64

	stop chan struct{}
	done chan struct{}
}

// budgetSaveEvery is how often changed usage is written.
const budgetSaveEvery = time.Second

func newBudgetLedger(ctx context.Context, st *store.Store, log *slog.Logger, now func() time.Time) (*budgetLedger, error) {
	l := &budgetLedger{st: st, log: log, now: now, usage: map[string]*store.BudgetUsage{},
		inflight: map[string]int{}, dirty: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := st.Setting(ctx, store.SettingBudgets, &l.limits); err != nil {
		return nil, fmt.Errorf("load budgets: %w", err)
	}
	saved, err := st.BudgetUsage(ctx)
	if err != nil {
		return nil, fmt.Errorf("load budget usage: %w", err)
	}
	for scope, u := range saved {
		l.usage[scope] = &u
	}
	go l.run()
	return l, nil
}

func (l *budgetLedger) run() {
	defer close(l.done)
	t := time.NewTicker(budgetSaveEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.save()
		case <-l.stop:
			l.save()
			return
		}
	}
}

// close saves what changed and stops the saver.
func (l *budgetLedger) close() {
	close(l.stop)
	<-l.done
}

func (l *budgetLedger) save() {
	l.mu.Lock()
	changed := make(map[string]store.BudgetUsage, len(l.dirty))
	for scope := range l.dirty {
		changed[scope] = *l.usage[scope]
	}
	clear(l.dirty)
	l.mu.Unlock()
	if err := l.st.SaveBudgetUsage(context.Background(), changed); err != nil {
		l.log.Error("budgets: could not save usage", "scopes", len(changed), "err", err)
		l.mu.Lock()
		for scope := range changed {
			l.dirty[scope] = true
		}
		l.mu.Unlock()
	}
}

// setLimits starts enforcing new budgets.
func (l *budgetLedger) setLimits(b store.Budgets) {
	l.mu.Lock()
	l.limits = b
	l.mu.Unlock()
}

// budgetScope is one budget an ask counts against.
type budgetScope struct {
	id    string // "global", "key:ID", "user:ID"
	label string // for people: "the global budget", "API key \"ci\""
}

// scopesOf lists the budgets an ask by p counts against.
func scopesOf(p *principal) []budgetScope {
	scopes := []budgetScope{{"global", "the global budget"}}
	if p == nil {
		return scopes
	}
	if p.key != nil {
		scopes = append(scopes, budgetScope{"key:" + p.key.ID, fmt.Sprintf("API key %q", p.key.Name)})
		if p.key.OwnerID != "" {
			scopes = append(scopes, budgetScope{"user:" + p.key.OwnerID, "the budget of this key's owner"})
		}
	} else if p.actor.ID != "" {
		scopes = append(scopes, budgetScope{"user:" + p.actor.ID, "your budget"})
	}
	return scopes
}

func (l *budgetLedger) limitsOf(scope string) store.BudgetLimits {
	switch {
	case scope == "global":
		return l.limits.Global
	case len(scope) > 4 && scope[:4] == "key:":
		return l.limits.Keys[scope[4:]]
	case len(scope) > 5 && scope[:5] == "user:":
		return l.limits.Users[scope[5:]]
	}
	return store.BudgetLimits{}
}

// current returns scope's usage with windows that have passed reset.
func (l *budgetLedger) current(scope string, now time.Time) *store.BudgetUsage {
	u := l.usage[scope]
	if u == nil {
		u = &store.BudgetUsage{}
		l.usage[scope] = u
	}
	now = now.UTC()
	minute := now.Truncate(time.Minute)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !u.Minute.Equal(minute) {
		u.Minute, u.Requests = minute, 0
	}
	if !u.Day.Equal(day) {
		u.Day, u.Tokens, u.CostDayUSD = day, 0, 0
	}
	if !u.Month.Equal(month) {
		u.Month, u.CostMonthUSD = month, 0
	}
	return u
}

// overBudget is an ask refused by a budget: 429 with when it resets.
type overBudget struct {
	msg   string
	retry time.Duration
}

// reserve admits an ask if every budget of scopes has room, counting it
// as in flight. A spending limit (tokens, $) admits an ask while what is
// settled plus what asks in flight may still add (each at most the most
// one ask has cost) plus this ask stays under the limit; past that point
// an ask is admitted only when none is in flight and the limit is not yet
// reached. So the spend passes a limit by at most one ask (when no ask
// costs more than the most one has cost before). A limit of 0 blocks.
func (l *budgetLedger) reserve(scopes []budgetScope) (func(tokens int, cost float64), *overBudget) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, sc := range scopes {
		lim := l.limitsOf(sc.id)
		if lim.Empty() {
			continue
		}
		u := l.current(sc.id, now)
		n := int64(l.inflight[sc.id])
		if lim.RequestsPerMinute != nil && u.Requests >= *lim.RequestsPerMinute {
			return nil, l.refusal(sc, "requests/min", strconv.FormatInt(*lim.RequestsPerMinute, 10), u.Minute.Add(time.Minute), now)
		}
		if lim.TokensPerDay != nil {
			max := *lim.TokensPerDay
			if u.Tokens >= max {
				return nil, l.refusal(sc, "tokens/day", strconv.FormatInt(max, 10), u.Day.AddDate(0, 0, 1), now)
			}
			if n > 0 && (!l.settled || u.Tokens+(n+1)*l.maxTokens > max) {
				return nil, l.busy(sc, "tokens/day")
			}
		}
		for _, c := range []struct {
			name  string
			limit *float64
			used  float64
			reset time.Time
		}{
			{"$/day", lim.CostPerDayUSD, u.CostDayUSD, u.Day.AddDate(0, 0, 1)},
			{"$/month", lim.CostPerMonthUSD, u.CostMonthUSD, u.Month.AddDate(0, 1, 0)},
		} {
			if c.limit == nil {
				continue
			}
			if c.used >= *c.limit {
				return nil, l.refusal(sc, c.name, fmt.Sprintf("$%.2f", *c.limit), c.reset, now)
			}
			if n > 0 && (!l.settled || c.used+float64(n+1)*l.maxCost > *c.limit) {
				return nil, l.busy(sc, c.name)
			}
		}
	}
	for _, sc := range scopes {
		u := l.current(sc.id, now)
		u.Requests++
		l.inflight[sc.id]++
		l.dirty[sc.id] = true
	}
	var once sync.Once
	return func(tokens int, cost float64) { once.Do(func() { l.settle(scopes, int64(tokens), cost) }) }, nil
}

// settle adds a finished ask's spending and ends its reservation.
func (l *budgetLedger) settle(scopes []budgetScope, tokens int64, cost float64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, sc := range scopes {
		u := l.current(sc.id, now)
		u.Tokens += tokens
		u.CostDayUSD += cost
		u.CostMonthUSD += cost
		if l.inflight[sc.id]--; l.inflight[sc.id] <= 0 {
			delete(l.inflight, sc.id)
		}
		l.dirty[sc.id] = true
	}
	l.maxTokens, l.maxCost, l.settled = max(l.maxTokens, tokens), max(l.maxCost, cost), true
}

func (l *budgetLedger) refusal(sc budgetScope, budget, limit string, reset, now time.Time) *overBudget {
	wait := reset.Sub(now)
	return &overBudget{
		msg: fmt.Sprintf("over budget: %s allows %s %s; it resets at %s UTC (in %s)",
			sc.label, limit, budget, reset.UTC().Format("2006-01-02 15:04"), wait.Round(time.Second)),
		retry: wait,
	}
}

func (l *budgetLedger) busy(sc budgetScope, budget string) *overBudget {
	return &overBudget{
		msg:   fmt.Sprintf("over budget: %s for %s is nearly spent and other questions are still being answered; try again in a few seconds", budget, sc.label),
		retry: 2 * time.Second,
	}
}

// budgetRow is one scope's limits and usage, for Settings and the API.
type budgetRow struct {
	Scope  string             `json:"scope"`
	Limits store.BudgetLimits `json:"limits"`
	Usage  store.BudgetUsage  `json:"usage"`
}

// snapshot lists every scope with a limit or usage, global first.
func (l *budgetLedger) snapshot() (store.Budgets, []budgetRow) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{"global": true}
	for id := range l.limits.Keys {
		seen["key:"+id] = true
	}
	for id := range l.limits.Users {
		seen["user:"+id] = true
	}
	for scope := range l.usage {
		seen[scope] = true
	}
	rows := make([]budgetRow, 0, len(seen))
	for scope := range seen {
		rows = append(rows, budgetRow{Scope: scope, Limits: l.limitsOf(scope), Usage: *l.current(scope, now)})
	}
	sort.Slice(rows, func(i, j int) bool {
		if (rows[i].Scope == "global") != (rows[j].Scope == "global") {
			return rows[i].Scope == "global"
		}
		return rows[i].Scope < rows[j].Scope
	})
	return l.limits, rows
}

// ask answers req within the budgets of the caller: the one way the ask
// handlers call the assistant. Over budget it returns 429 (ERATELIMITED)
// with Retry-After, before anything is sent.
func (s *Server) ask(c echo.Context, ctx context.Context, req assistant.Request, emit func(assistant.Event) error) (*assistant.Result, error) {
	settle, over := s.budgets.reserve(scopesOf(principalOf(c)))
	if over != nil {
		s.budgets.refusals.Add(1)
		c.Response().Header().Set("Retry-After", retryAfter(over.retry))
		return nil, store.Errorf(store.ERATELIMITED, "%s", over.msg)
	}
	res, err := s.asst.Ask(ctx, req, emit)
	if res != nil {
		settle(res.TokensIn+res.TokensOut, res.CostUSD)
	} else {
		settle(0, 0)
	}
	if res != nil && res.Escalated {
		s.notifyEscalation(ctx, s.baseURL(c), res.ConversationID)
	}
	return res, err
}

// budgetsBody is GET /api/v1/budgets: the limits and every scope's usage.
type budgetsBody struct {
	store.Budgets
	Usage []budgetRow `json:"usage"`
}

func (s *Server) handleBudgetsGet(c echo.Context) error {
	b, rows := s.budgets.snapshot()
	return c.JSON(http.StatusOK, budgetsBody{Budgets: b, Usage: rows})
}

// handleBudgetsPut replaces the budgets (admin), audited, and enforces
// them from the next ask.
func (s *Server) handleBudgetsPut(c echo.Context) error {
	var b store.Budgets
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	if err := s.store.PutSetting(c.Request().Context(), principalOf(c).actor, store.SettingBudgets, b); err != nil {
		return err
	}
	s.budgets.setLimits(b)
	return s.handleBudgetsGet(c)
}

// handleBudgetsPage is Settings → Budgets (admin).
func (s *Server) handleBudgetsPage(c echo.Context) error {
	notice := ""
	if c.QueryParam("notice") == "budget-saved" {
		notice = "Budget saved. It applies from the next question."
	}
	return s.budgetsPage(c, http.StatusOK, notice, "")
}

func (s *Server) budgetsPage(c echo.Context, status int, notice, formErr string) error {
	ctx := c.Request().Context()
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{"global": "Global (every ask)"}
	scopes := []ui.BudgetScopeOption{{Value: "global", Label: names["global"]}}
	for _, k := range keys {
		names["key:"+k.ID] = fmt.Sprintf("API key %q", k.Name)
		scopes = append(scopes, ui.BudgetScopeOption{Value: "key:" + k.ID, Label: names["key:"+k.ID]})
	}
	for _, u := range users {
		names["user:"+u.ID] = "User " + u.Name + " <" + u.Email + ">"
		scopes = append(scopes, ui.BudgetScopeOption{Value: "user:" + u.ID, Label: names["user:"+u.ID]})
	}
	_, rows := s.budgets.snapshot()
	page := ui.BudgetsPage{Chrome: chrome(c, "Settings", "settings"), Scopes: scopes, Notice: notice, Error: formErr, Sent: s.webhookStats()}
	for _, r := range rows {
		label := names[r.Scope]
		if label == "" {
			label = r.Scope + " (removed)"
		}
		page.Rows = append(page.Rows, ui.BudgetRow{Scope: r.Scope, Label: label,
			RequestsPerMinute: intText(r.Limits.RequestsPerMinute), TokensPerDay: intText(r.Limits.TokensPerDay),
			CostPerDay: usdText(r.Limits.CostPerDayUSD), CostPerMonth: usdText(r.Limits.CostPerMonthUSD),
			UsedRequests: ui.Count(r.Usage.Requests), UsedTokens: ui.Count(r.Usage.Tokens),
			UsedDay: ui.Cost(r.Usage.CostDayUSD), UsedMon: ui.Cost(r.Usage.CostMonthUSD)})
	}
	return render(c, status, ui.BudgetsTab(page))
}

func intText(v *int64) string {
	if v == nil {
		return ""
	}
	return ui.Count(*v)
}

func usdText(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("$%.2f", *v)
}

// handleBudgetForm sets one scope's limits from the Settings form.
func (s *Server) handleBudgetForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	var lim store.BudgetLimits
	intField := func(name string) (*int64, error) {
		v := strings.TrimSpace(c.FormValue(name))
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64)
		if err != nil {
			return nil, store.Errorf(store.EINVALID, "%s: want a whole number", name)
		}
		return &n, nil
	}
	usdField := func(name string) (*float64, error) {
		v := strings.TrimPrefix(strings.TrimSpace(c.FormValue(name)), "$")
		if v == "" {
			return nil, nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, store.Errorf(store.EINVALID, "%s: want an amount in dollars", name)
		}
		return &x, nil
	}
	var err error
	if lim.RequestsPerMinute, err = intField("requests_per_minute"); err == nil {
		if lim.TokensPerDay, err = intField("tokens_per_day"); err == nil {
			if lim.CostPerDayUSD, err = usdField("cost_per_day_usd"); err == nil {
				lim.CostPerMonthUSD, err = usdField("cost_per_month_usd")
			}
		}
	}
	if err == nil {
		err = s.setBudget(c, c.FormValue("scope"), lim)
	}
	if err != nil {
		return formError(err, func(status int, msg string) error { return s.budgetsPage(c, status, "", msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/settings/budgets?notice=budget-saved")
}

// setBudget replaces one scope's limits, saved and enforced.
func (s *Server) setBudget(c echo.Context, scope string, lim store.BudgetLimits) error {
	b, _ := s.budgets.snapshot()
	next := store.Budgets{Global: b.Global, Keys: maps.Clone(b.Keys), Users: maps.Clone(b.Users)}
	put := func(m *map[string]store.BudgetLimits, id string) {
		if *m == nil {
			*m = map[string]store.BudgetLimits{}
		}
		if lim.Empty() {
			delete(*m, id)
		} else {
			(*m)[id] = lim
		}
	}
	switch {
	case scope == "global":
		next.Global = lim
	case strings.HasPrefix(scope, "key:") && len(scope) > 4:
		put(&next.Keys, scope[4:])
	case strings.HasPrefix(scope, "user:") && len(scope) > 5:
		put(&next.Users, scope[5:])
	default:
		return store.Errorf(store.EINVALID, "scope: want global, key:ID or user:ID")
	}
	if err := next.Validate(); err != nil {
		return err
	}
	if err := s.store.PutSetting(c.Request().Context(), principalOf(c).actor, store.SettingBudgets, next); err != nil {
		return err
	}
	s.budgets.setLimits(next)
	return nil
}
