package ui

// GuardrailsPage is /guardrails: each guard with its mode and counts, the
// scope sentence, allowed domains, blocked terms and a box to try a text.
type GuardrailsPage struct {
	Chrome
	CanEdit         bool // admins change the configuration; others see it
	Notice, Error   string
	Guards          []GuardRow
	ScopeSentence   string
	MinScope        float64
	AllowedDomains  string // one a line
	BlockedTerms    string // one a line
	RedactDocuments bool
	Moderation      bool // a moderation endpoint is configured
}

// GuardRow is one guard on the Guardrails page.
type GuardRow struct {
	Name        string // input.pii
	Description string
	Mode        string
	Modes       []string
	FailClosed  bool
	Day, Week   GuardCounts
}

// GuardCounts are a guard's verdicts over a window.
type GuardCounts struct {
	Flagged, Redacted, Blocked int64
}

// guardLabel is a guard's name for people: "Input · PII".
func guardLabel(name string) string {
	labels := map[string]string{
		"input.pii": "Input · PII", "input.injection": "Input · Prompt injection", "input.moderation": "Input · Moderation",
		"input.scope": "Input · Scope", "output.policy": "Output · Policy", "output.pii": "Output · PII", "output.moderation": "Output · Moderation",
	}
	if l, ok := labels[name]; ok {
		return l
	}
	return name
}

// modeHint says what a mode does, for the select's options.
func modeHint(m string) string {
	switch m {
	case "off":
		return "off"
	case "flag":
		return "flag (answer, mark the trace)"
	case "redact":
		return "redact (remove, then answer)"
	case "block":
		return "block (fallback, escalate)"
	}
	return m
}

// modeBadge colours a mode: off grey, flag amber, redact and block red.
func modeBadge(m string) string {
	switch m {
	case "flag":
		return "warn"
	case "redact", "block":
		return "error"
	}
	return "neutral"
}
