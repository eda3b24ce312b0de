package ui

import (
	"strconv"
	"time"
)

// plural is "1 change", "3 changes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// AlertView is one alert rule as the Alerts page and the banner show it.
type AlertView struct {
	ID, Name, Metric string
	Condition        string // "error_rate > 0.05"
	Window           string // "last 50", "last 10m", "today (UTC)"
	Value            string // the last evaluated value; "" while the window lacks data
	Firing, Muted    bool
	Webhook          bool
	Since            time.Time
	History          []AlertChange // newest first
}

// AlertChange is one firing or resolved event.
type AlertChange struct {
	At     time.Time
	Firing bool
	Value  string
}

// AlertForm is the create form's values (kept when it is refused).
type AlertForm struct {
	Name, Metric, Op, Threshold, Window, WebhookURL string
}

// DeliveryStats counts what monitoring sent out, for Alerts and Settings.
type DeliveryStats struct {
	Delivered, Failed, Dropped int64
	Queued                     int
	EvaluatorDropped           int64
	OTLP                       bool
	OTLPExported, OTLPFailed   int64
	OTLPDropped                int64
}

// AlertsPage is the Alerts page.
type AlertsPage struct {
	Chrome
	Alerts    []AlertView
	Metrics   []string
	CanCreate bool // admins
	CanMute   bool // editors and admins
	Form      AlertForm
	Error     string
	Webhooks  DeliveryStats
}

// BudgetRow is one budget scope in Settings → Budgets.
type BudgetRow struct {
	Scope, Label                               string
	RequestsPerMinute, TokensPerDay            string // limits; "" is none
	CostPerDay, CostPerMonth                   string
	UsedRequests, UsedTokens, UsedDay, UsedMon string
}

// BudgetsPage is Settings → Budgets.
type BudgetsPage struct {
	Chrome
	Rows   []BudgetRow
	Scopes []BudgetScopeOption // what the form may set a budget on
	Error  string
	Notice string
	Sent   DeliveryStats
}

// BudgetScopeOption is a choice of the budget form's scope select.
type BudgetScopeOption struct {
	Value, Label string
}

// SeesAlerts reports whether the viewer may see alerts (the page and the
// banner): editors and admins, as the alerts API allows.
func (v Viewer) SeesAlerts() bool { return v.Role == "editor" || v.Role == "admin" }

// NavFor is the sidebar as v sees it: without Alerts below editor.
func NavFor(v Viewer) []NavItem {
	if v.SeesAlerts() {
		return Nav
	}
	out := make([]NavItem, 0, len(Nav))
	for _, item := range Nav {
		if item.Key != "alerts" {
			out = append(out, item)
		}
	}
	return out
}
