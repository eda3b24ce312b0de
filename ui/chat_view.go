package ui

import "time"

// Chat is the Chat page: ask the knowledge base, with streamed, cited
// answers. (The component is ChatPage; a type of the same name cannot sit
// beside it in this package, so the struct follows the Keys/KeysPage
// naming.)
type Chat struct {
	Chrome
	Suggestions   []string // suggested questions for the empty state (up to 6)
	Categories    []string // document categories for an optional filter select
	Answerer      string   // e.g. "Extractive answerer (offline)" or "gpt-4o-mini"; shown subtly
	CanViewTraces bool     // staff: show "View trace" links under answers
	// Threshold is the groundedness below which answers fall back; the
	// groundedness badge's colours derive from it (GroundednessBand).
	Threshold float64
	// History lists the viewer's past conversations, most recent first.
	History []ChatHistoryItem
	// ConversationID and Turns reopen a past conversation (?c=ID):
	// chat.js renders the turns and goes on with the conversation.
	ConversationID string
	Turns          []ChatTurn
	Now            time.Time
	Pinned         *PinnedForm // admins only: the questions they pinned as suggestions
}

// ChatHistoryItem is one past conversation in the chat page's history.
type ChatHistoryItem struct {
	ID        string
	Title     string // the first question
	Turns     int
	Escalated bool
	UpdatedAt time.Time
	Current   bool // the one reopened
}

// ChatTurn is a past question and answer as chat.js renders it: the
// fields of a streamed answer's done event that the page shows.
type ChatTurn struct {
	Question     string   `json:"question"`
	Answer       string   `json:"answer"`
	TraceID      string   `json:"trace_id"`
	Fallback     bool     `json:"fallback"`
	Escalated    bool     `json:"escalated"`
	Citations    any      `json:"citations"` // as the trace recorded them
	LatencyMS    int64    `json:"latency_ms"`
	Model        string   `json:"model,omitempty"`
	Groundedness *float64 `json:"groundedness,omitempty"`
	Relevance    *float64 `json:"relevance,omitempty"`
}

// PinnedForm is the admin's form for pinned chat suggestions: one
// question a line, shown before the frequently asked ones.
type PinnedForm struct {
	Text  string
	Count int
	Error string
}

// maxSuggestions bounds the empty state's suggested questions: more reads
// as a wall, not a hint.
const maxSuggestions = 6

func (p Chat) suggestions() []string {
	if len(p.Suggestions) > maxSuggestions {
		return p.Suggestions[:maxSuggestions]
	}
	return p.Suggestions
}

// WidgetSettings is Settings → Chat widget: publishable keys for the
// embeddable widget.
type WidgetSettings struct {
	Chrome
	Keys      []WidgetKey
	Created   *WidgetKeyCreated // set right after creation
	ScriptURL string            // absolute URL of widget.js, e.g. "http://127.0.0.1:8080/widget.js"
	Error     string
	Notice    string
	Now       time.Time
	// Categories are the knowledge base's document categories, offered
	// for a new key's scope.
	Categories []string
}

// WidgetKey is one publishable widget key in the list, with the key itself
// (it is meant for page source) unless it was made before keys were kept.
type WidgetKey struct {
	ID, Name, Hint        string
	Key                   string
	Origins               []string
	RatePerMinute         int
	Categories, Tags      []string // its scope; none: every document
	CreatedBy             string
	CreatedAt, LastUsedAt time.Time
}

// WidgetKeyCreated is a key just created.
type WidgetKeyCreated struct {
	Name, Secret     string
	Origins          []string
	Categories, Tags []string
}

// defaultWidgetRate is the create form's per-visitor questions per minute.
const defaultWidgetRate = 20

// Snippet is the ready-to-paste embed code for a new key.
func (w WidgetSettings) Snippet() string {
	if w.Created == nil {
		return ""
	}
	return w.SnippetFor(w.Created.Secret)
}

// SnippetFor is the embed code for a publishable key.
func (w WidgetSettings) SnippetFor(key string) string {
	return `<script src="` + w.ScriptURL + `" data-key="` + key + `" async></script>`
}
