package server

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// CostReport is GET /api/v1/cost's answer and the cost page's content:
// spend per day, model, channel, user and API key over whole UTC days,
// and this month's spend with its projection to the month's end. It reads
// day rollups and usage rollups only, never a trace.
type CostReport struct {
	Window         string      `json:"window"`
	From           time.Time   `json:"from"` // midnight UTC, the first day counted
	To             time.Time   `json:"to"`   // the end of today (UTC)
	CostUSD        float64     `json:"cost_usd"`
	Requests       int64       `json:"requests"`
	CostPerRequest float64     `json:"cost_per_request_usd"`
	Month          MonthCost   `json:"month"`
	Days           []CostSlice `json:"days"`
	Models         []CostSlice `json:"models"`
	Channels       []CostSlice `json:"channels"`
	Users          []CostSlice `json:"users"`
	Keys           []CostSlice `json:"keys"`
}

// MonthCost is the calendar month so far and its straight-line projection.
type MonthCost struct {
	Start        time.Time `json:"start"`
	SoFarUSD     float64   `json:"so_far_usd"`
	ProjectedUSD float64   `json:"projected_usd"` // so far ÷ the month's elapsed share
	Elapsed      float64   `json:"elapsed"`       // share of the month gone, 0..1
}

// CostSlice is one day, model, channel, user or key with what it spent.
type CostSlice struct {
	Key       string    `json:"key"`            // the day (2006-01-02), model, channel, user ID or key name
	Name      string    `json:"name,omitempty"` // a user's email, or a key's name, when Key is an ID
	Day       time.Time `json:"day,omitzero"`
	Requests  int64     `json:"requests"`
	TokensIn  int64     `json:"tokens_in"`
	TokensOut int64     `json:"tokens_out"`
	CostUSD   float64   `json:"cost_usd"`
	Up        int64     `json:"up"`
	Down      int64     `json:"down"`
}

func costSlice(key string, r *store.Rollup) CostSlice {
	return CostSlice{Key: key, Requests: r.Requests, TokensIn: r.TokensIn, TokensOut: r.TokensOut, CostUSD: round6(r.CostUSD), Up: r.Up, Down: r.Down}
}

// usageDays reads a window of whole days ("7d", "30d"; default def)
// ending today: from midnight UTC days-1 days ago to the end of today.
func (s *Server) usageDays(window, def string) (string, time.Time, time.Time, error) {
	window = cmp.Or(window, def)
	d, err := parseWindow(window)
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	days := max(int(d/(24*time.Hour)), 1)
	today := s.now().UTC().Truncate(24 * time.Hour)
	return window, today.AddDate(0, 0, 1-days), today.AddDate(0, 0, 1), nil
}

// costReport builds the cost of the window's whole days.
func (s *Server) costReport(ctx context.Context, window string) (*CostReport, error) {
	window, from, to, err := s.usageDays(window, "30d")
	if err != nil {
		return nil, err
	}
	total, days, by, err := s.store.Rollups(ctx, from, to, store.RollupFilter{}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	rep := &CostReport{Window: window, From: from, To: to, CostUSD: round6(total.CostUSD), Requests: total.Requests}
	if total.Requests > 0 {
		rep.CostPerRequest = round6(total.CostUSD / float64(total.Requests))
	}
	for i := range days {
		day := from.AddDate(0, 0, i)
		sl := costSlice(day.Format(time.DateOnly), &days[i])
		sl.Day = day
		rep.Days = append(rep.Days, sl)
	}
	models, channels := map[string]*store.Rollup{}, map[string]*store.Rollup{}
	for i := range by {
		for _, m := range []struct {
			acc map[string]*store.Rollup
			key string
		}{{models, cmp.Or(by[i].Model, "(none)")}, {channels, by[i].Channel}} {
			r := m.acc[m.key]
			if r == nil {
				r = &store.Rollup{}
				m.acc[m.key] = r
			}
			r.Add(&by[i].Rollup)
		}
	}
	rep.Models, rep.Channels = costSlices(models), costSlices(channels)
	users, err := s.usageSlices(ctx, from, to, store.UsageUser)
	if err != nil {
		return nil, err
	}
	keys, err := s.usageSlices(ctx, from, to, store.UsageKey)
	if err != nil {
		return nil, err
	}
	rep.Users, rep.Keys = users, keys

	now := s.now().UTC()
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	month, _, _, err := s.store.Rollups(ctx, monthStart, now.Truncate(time.Minute).Add(time.Minute), store.RollupFilter{}, 0)
	if err != nil {
		return nil, err
	}
	elapsed := float64(now.Sub(monthStart)) / float64(monthStart.AddDate(0, 1, 0).Sub(monthStart))
	rep.Month = MonthCost{Start: monthStart, SoFarUSD: round6(month.CostUSD), Elapsed: round4(elapsed)}
	if elapsed > 0 {
		rep.Month.ProjectedUSD = round6(month.CostUSD / elapsed)
	}
	return rep, nil
}

func costSlices(m map[string]*store.Rollup) []CostSlice {
	out := make([]CostSlice, 0, len(m))
	for k, r := range m {
		out = append(out, costSlice(k, r))
	}
	slices.SortFunc(out, func(a, b CostSlice) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Key, b.Key))
	})
	return out
}

// maxUsageRows bounds the users, keys or visitors a report lists.
const maxUsageRows = 200

// usageSlices reads one usage dimension, most costly first, with users'
// emails and keys' names put beside their IDs.
func (s *Server) usageSlices(ctx context.Context, from, to time.Time, dim store.UsageDim) ([]CostSlice, error) {
	rows, err := s.store.Usage(ctx, from, to, dim)
	if err != nil {
		return nil, err
	}
	rows = rows[:min(len(rows), maxUsageRows)]
	names := map[string]string{}
	if dim == store.UsageUser && len(rows) > 0 {
		users, err := s.store.ListUsers(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			names[u.ID] = cmp.Or(u.Name, u.Email)
		}
		keys, err := s.store.ListAPIKeys(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			names[k.ID] = "key " + k.Name
		}
	}
	out := make([]CostSlice, 0, len(rows))
	for i := range rows {
		sl := costSlice(rows[i].Value, &rows[i].Rollup)
		sl.Name = names[rows[i].Value]
		out = append(out, sl)
	}
	return out, nil
}

// handleCost serves GET /api/v1/cost?window=30d.
func (s *Server) handleCost(c echo.Context) error {
	rep, err := s.costReport(c.Request().Context(), c.QueryParam("window"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// handleCostPage shows the cost page.
func (s *Server) handleCostPage(c echo.Context) error {
	rep, err := s.costReport(c.Request().Context(), c.QueryParam("window"))
	if err != nil {
		return err
	}
	p := ui.CostPage{Chrome: chrome(c, "Cost", "traces"), Window: rep.Window, CostUSD: rep.CostUSD, Requests: rep.Requests,
		CostPerRequest: rep.CostPerRequest, MonthStart: rep.Month.Start, MonthSoFar: rep.Month.SoFarUSD, MonthProjected: rep.Month.ProjectedUSD,
		MonthElapsed: rep.Month.Elapsed, CanBudget: principalOf(c).role == store.RoleAdmin}
	for _, d := range rep.Days {
		p.Days = append(p.Days, ui.CostBar{Label: d.Day.Format("Jan 2"), CostUSD: d.CostUSD, Requests: d.Requests,
			Href: tracesHref(url.Values{"from": {d.Day.Format("2006-01-02T15:04")}, "to": {d.Day.AddDate(0, 0, 1).Format("2006-01-02T15:04")}})})
	}
	from := rep.From.Format("2006-01-02T15:04")
	row := func(sl CostSlice, param string) ui.CostRow {
		return ui.CostRow{Label: cmp.Or(sl.Name, sl.Key), Title: sl.Key, Requests: sl.Requests, TokensIn: sl.TokensIn, TokensOut: sl.TokensOut,
			CostUSD: sl.CostUSD, Href: tracesHref(url.Values{param: {sl.Key}, "from": {from}})}
	}
	for _, sl := range rep.Models {
		r := row(sl, "model")
		if sl.Key == "(none)" {
			r.Href = ""
		}
		p.Models = append(p.Models, r)
	}
	for _, sl := range rep.Channels {
		p.Channels = append(p.Channels, row(sl, "channel"))
	}
	for _, sl := range rep.Users {
		p.Users = append(p.Users, row(sl, "user"))
	}
	for _, sl := range rep.Keys {
		p.Keys = append(p.Keys, row(sl, "key"))
	}
	return render(c, http.StatusOK, ui.CostView(p))
}

func tracesHref(q url.Values) string { return "/traces?" + q.Encode() }

// handleAskersPage shows the users page (/traces/users; /settings/users manages accounts): asks, cost and thumbs per user
// (or the API key behind an API or widget ask) and per widget visitor.
func (s *Server) handleAskersPage(c echo.Context) error {
	ctx := c.Request().Context()
	window, from, to, err := s.usageDays(c.QueryParam("window"), "7d")
	if err != nil {
		return err
	}
	users, err := s.usageSlices(ctx, from, to, store.UsageUser)
	if err != nil {
		return err
	}
	visitors, err := s.usageSlices(ctx, from, to, store.UsageVisitor)
	if err != nil {
		return err
	}
	p := ui.AskersPage{Chrome: chrome(c, "Users", "traces"), Window: window, From: from}
	fromQ := from.Format("2006-01-02T15:04")
	for _, sl := range users {
		p.Users = append(p.Users, ui.UsageRow{Label: cmp.Or(sl.Name, sl.Key), ID: sl.Key, Requests: sl.Requests, CostUSD: sl.CostUSD,
			TokensIn: sl.TokensIn, TokensOut: sl.TokensOut, Up: sl.Up, Down: sl.Down, Href: tracesHref(url.Values{"user": {sl.Key}, "from": {fromQ}})})
	}
	for _, sl := range visitors {
		id := store.VisitorPrefix + sl.Key
		p.Visitors = append(p.Visitors, ui.UsageRow{Label: sl.Key, ID: id, Requests: sl.Requests, CostUSD: sl.CostUSD,
			TokensIn: sl.TokensIn, TokensOut: sl.TokensOut, Up: sl.Up, Down: sl.Down, Href: tracesHref(url.Values{"user": {id}, "from": {fromQ}})})
	}
	return render(c, http.StatusOK, ui.AskersView(p))
}
