package ui

import (
	"fmt"
	"time"

	"llmops/store/schema"
)

// TraceFilters are the trace explorer's filters as the URL holds them.
type TraceFilters struct {
	Q, Status, Channel, Model, Prompt, User, Key, Conversation, Feedback string
	Escalated                                                            bool
	MinLatencyMS, MaxGroundedness, From, To                              string
}

// Active reports whether any filter is set.
func (f TraceFilters) Active() bool {
	return f != TraceFilters{}
}

// TraceStatusOptions, TraceChannelOptions and TraceFeedbackOptions are
// the filter bar's choices.
var (
	TraceStatusOptions   = []string{"ok", "fallback", "error", "cancelled", "running"}
	TraceChannelOptions  = []string{"chat", "widget", "api", "cli", "eval", "bench"}
	TraceFeedbackOptions = []string{"up", "down", "none"}
)

// TraceViewChip is a saved view in the explorer's views bar.
type TraceViewChip struct {
	ID, Name, Query, Owner string
	Shared, CanDelete      bool
	Current                bool // the explorer shows this view's filters now
}

// ConversationView is the conversation page: every traced turn of one
// conversation, oldest first, with the totals.
type ConversationView struct {
	Chrome
	ID, Channel, Owner  string
	Created, Now        time.Time
	Escalated           bool
	More                bool // more turns than the page lists
	Turns               []ConversationTurn
	Latency             time.Duration
	CostUSD             float64
	TokensIn, TokensOut int
	Up, Down            int
}

// ConversationTurn is one ask of a conversation with its trace's numbers.
type ConversationTurn struct {
	TraceID                      string
	Time                         time.Time
	Question, Standalone, Answer string
	Model                        string
	Status                       schema.TraceStatus
	Latency                      time.Duration
	TokensIn, TokensOut          int
	CostUSD                      float64
	Groundedness                 *float64
	Up, Down                     int
	Comments                     []string
}

// UsageWindows are the users and cost pages' windows: whole UTC days.
var UsageWindows = []string{"1d", "7d", "30d", "90d"}

// AskersPage lists asks, cost and thumbs per user (or API key) and per
// widget visitor over a window.
type AskersPage struct {
	Chrome
	Window          string
	From            time.Time
	Users, Visitors []UsageRow
}

// UsageRow is one user's, key's or visitor's usage.
type UsageRow struct {
	Label, ID           string
	Requests            int64
	TokensIn, TokensOut int64
	CostUSD             float64
	Up, Down            int64
	Href                string // the explorer filtered to them
}

// CostPage is the cost page.
type CostPage struct {
	Chrome
	Window                     string
	CostUSD, CostPerRequest    float64
	Requests                   int64
	MonthStart                 time.Time
	MonthSoFar, MonthProjected float64
	MonthElapsed               float64
	Days                       []CostBar
	Models, Channels           []CostRow
	Users, Keys                []CostRow
	CanBudget                  bool // an admin: link to the budgets
}

// CostBar is one day of the cost chart.
type CostBar struct {
	Label    string
	CostUSD  float64
	Requests int64
	Href     string
}

// CostRow is one model, channel, user or key with its spend.
type CostRow struct {
	Label, Title        string
	Requests            int64
	TokensIn, TokensOut int64
	CostUSD             float64
	Href                string
}

// MaxCost is the largest day's cost, for scaling the bars.
func (p CostPage) MaxCost() float64 {
	m := 0.0
	for _, d := range p.Days {
		m = max(m, d.CostUSD)
	}
	return m
}

// barHeight is a bar's height in percent of the tallest (at least 1 %
// when it spent anything, so a small day still shows).
func barHeight(v, maxV float64) string {
	if maxV <= 0 || v <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", max(100*v/maxV, 1))
}

// viewTitle describes a saved view on hover: its filters and owner.
func viewTitle(v TraceViewChip) string {
	return v.Query + " (saved by " + v.Owner + ")"
}

// anyCurrent reports whether one of the views is the explorer's filters:
// then there is nothing new to save.
func anyCurrent(views []TraceViewChip) bool {
	for _, v := range views {
		if v.Current {
			return true
		}
	}
	return false
}
