package ui

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
