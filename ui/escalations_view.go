package ui

import "time"

// Escalations is the escalation inbox: conversations flagged for a person,
// filtered by state, with the counts of each state and new escalations per
// day.
type Escalations struct {
	Chrome
	State  string // the filter: "", open, assigned or resolved
	Tabs   []EscalationTab
	Items  []EscalationRow
	PerDay []DayCount // new escalations per day, oldest first
	// Webhook settings, for admins: where new escalations are posted.
	CanConfigure bool
	WebhookURL   string
	Error        string
	Notice       string
	Now          time.Time
}

// EscalationTab is one state filter with its count.
type EscalationTab struct {
	Label  string
	Href   string
	Count  int
	Active bool
	State  string // "" for all
}

// DayCount is one day's count.
type DayCount struct {
	Day   string // 2006-01-02
	Count int
}

// EscalationRow is an inbox record as lists show it.
type EscalationRow struct {
	ID         string
	Question   string
	Channel    string
	Reason     string // "fallback" or "asked_person"
	State      string
	Assignee   string
	Answers    int
	HasContact bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ReasonLabel says why a conversation was escalated, in words.
func (r EscalationRow) ReasonLabel() string {
	if r.Reason == "asked_person" {
		return "Asked for a person"
	}
	return "Fell back"
}

// EscalationStateClass is the badge colour of a state: open is a warning,
// assigned is in hand, resolved is done.
func EscalationStateClass(state string) string {
	switch state {
	case "open":
		return "warn"
	case "assigned":
		return "accent"
	case "resolved":
		return "ok"
	}
	return "neutral"
}

// EscalationStateSign is the sign beside a state, so colour is not the
// only signal.
func EscalationStateSign(state string) string {
	switch state {
	case "open":
		return "●"
	case "assigned":
		return "◐"
	case "resolved":
		return "✓"
	}
	return ""
}

// Escalation is one escalated conversation: its turns with their traces,
// the contact details the visitor left (reviewers and up), and the state
// form.
type Escalation struct {
	Chrome
	Row        EscalationRow
	Note       string
	ResolvedBy string
	ResolvedAt *time.Time
	Turns      []EscalationTurn
	Contact    *EscalationContact // nil when none was left, or the viewer may not see it
	// ContactHidden: details exist but the viewer's role may not see them.
	ContactHidden bool
	CanChange     bool   // reviewers and up change the state
	Me            string // the viewer's e-mail, for "Assign to me"
	Error         string
	Notice        string
	Now           time.Time
}

// EscalationTurn is one question and answer of the conversation.
type EscalationTurn struct {
	N        int
	Question string
	Answer   string
	TraceID  string
	Fallback bool
	At       time.Time
}

// EscalationContact is what the visitor left.
type EscalationContact struct {
	Email   string
	Name    string
	Message string
	At      time.Time
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sumDays(days []DayCount) int {
	n := 0
	for _, d := range days {
		n += d.Count
	}
	return n
}

// dayBarHeight is a day's bar as a share of the busiest day (at least a
// sliver for a day with any).
func dayBarHeight(n int, days []DayCount) int {
	top := 0
	for _, d := range days {
		top = max(top, d.Count)
	}
	if top == 0 || n == 0 {
		return 0
	}
	return max(4, n*100/top)
}
