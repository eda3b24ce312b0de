// Package ui renders llmops's pages with templ. Components take plain view
// structs built by the server; ui imports neither echo nor bbolt, so every
// page can be rendered (and golden-tested) without a running server.
package ui

import (
	"time"

	"llmops/store/schema"
)

// Viewer is the signed-in person as the page chrome shows them.
type Viewer struct {
	Name    string
	Email   string
	Role    string
	IsAdmin bool
}

// Initials returns up to two letters for the avatar.
func (v Viewer) Initials() string {
	out := []rune{}
	prevSpace := true
	for _, r := range v.Name {
		if r == ' ' || r == '.' || r == '@' || r == '-' {
			prevSpace = true
			continue
		}
		if prevSpace && len(out) < 2 {
			out = append(out, r)
		}
		prevSpace = false
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// Chrome is what every signed-in page needs: title, active nav item, viewer.
type Chrome struct {
	Title  string
	Active string // nav key, e.g. "knowledge"
	Viewer Viewer
}

// NavItem is one entry of the sidebar.
type NavItem struct {
	Key   string
	Label string
	Href  string
	Icon  string
	Soon  bool // the page explains what it will hold; its feature is not built yet
}

// Nav is the sidebar, in order.
var Nav = []NavItem{
	{Key: "dashboard", Label: "Overview", Href: "/", Icon: "dashboard"},
	{Key: "knowledge", Label: "Knowledge", Href: "/knowledge", Icon: "book"},
	{Key: "chat", Label: "Chat", Href: "/chat", Icon: "chat"},
	{Key: "prompts", Label: "Prompts", Href: "/prompts", Icon: "prompt"},
	{Key: "traces", Label: "Traces", Href: "/traces", Icon: "activity"},
	{Key: "evals", Label: "Evals", Href: "/evals", Icon: "flask"},
	{Key: "alerts", Label: "Alerts", Href: "/alerts", Icon: "bell"},
	{Key: "escalations", Label: "Inbox", Href: "/escalations", Icon: "inbox"},
	{Key: "guardrails", Label: "Guardrails", Href: "/guardrails", Icon: "shield"},
	{Key: "review", Label: "Review", Href: "/review", Icon: "review"},
	{Key: "settings", Label: "Settings", Href: "/settings", Icon: "settings"},
}

// Step is one item of the overview's getting-started checklist.
type Step struct {
	Title string
	Desc  string
	Href  string
	Done  bool
}

// Overview is the dashboard page.
type Overview struct {
	Chrome
	// Window is the dashboard's window (one of DashboardWindows); the
	// charts load it from /api/v1/dashboard.
	Window      string
	Requests24h int
	Traces      int
	Documents   int
	Chunks      int
	Users       int
	Keys        int
	Steps       []Step
	Now         time.Time
}

// Planned describes a page whose feature is not built yet: what it will
// hold, so nobody meets a dead link or a made-up number.
type Planned struct {
	Chrome
	Icon    string
	Summary string
	Items   []PlannedItem
}

// PlannedItem is one capability a planned page will offer.
type PlannedItem struct {
	Title string
	Desc  string
}

// AuthForm is the setup and login pages' state.
type AuthForm struct {
	Email string
	Name  string
	Token string
	Next  string
	Error string
}

// SettingsTab names the Settings sub-pages.
type SettingsTab struct {
	Key       string
	Label     string
	Href      string
	AdminOnly bool
}

// SettingsTabs lists the Settings sub-pages in order.
var SettingsTabs = []SettingsTab{
	{Key: "profile", Label: "Profile & appearance", Href: "/settings"},
	{Key: "sessions", Label: "Sessions", Href: "/settings/sessions"},
	{Key: "keys", Label: "API keys", Href: "/settings/keys", AdminOnly: true},
	{Key: "widget", Label: "Chat widget", Href: "/settings/widget", AdminOnly: true},
	{Key: "models", Label: "Models & prices", Href: "/settings/models", AdminOnly: true},
	{Key: "budgets", Label: "Budgets", Href: "/settings/budgets", AdminOnly: true},
	// The review sampling policy is edited beside the queue it shapes.
	{Key: "review-policy", Label: "Review sampling", Href: "/review#policy", AdminOnly: true},
	{Key: "users", Label: "Users", Href: "/settings/users", AdminOnly: true},
	{Key: "audit", Label: "Audit log", Href: "/settings/audit", AdminOnly: true},
}

// Profile is Settings' first tab: who you are, your password, the theme.
type Profile struct {
	Chrome
	CreatedAt time.Time
	// HasAccount is false for an API key, which has no password.
	HasAccount bool
	Password   PasswordRule
	Error      string // from the change-password form
	Notice     string
}

// PasswordRule is the password rule as forms state it.
type PasswordRule struct {
	Text      string // e.g. "at least 10 characters and at most 72 bytes"
	MinLength int    // for the input's minlength
}

// SessionRow is one signed-in browser.
type SessionRow struct {
	ID        string
	Device    string // e.g. "Chrome on Linux"
	UserAgent string
	IP        string
	CreatedAt time.Time
	LastSeen  time.Time
	Current   bool // the browser looking at the page
}

// Sessions is the Sessions tab: your signed-in browsers.
type Sessions struct {
	Chrome
	Sessions   []SessionRow
	HasAccount bool // false for an API key, which has no sessions
	Idle       time.Duration
	TTL        time.Duration
	Notice     string
	Now        time.Time
}

// NewLink is an invite or password-reset link, shown once to the admin
// who made it.
type NewLink struct {
	URL       string
	Email     string
	Invite    bool // an invite (else a password reset)
	ExpiresAt time.Time
}

// SetPassword is the page an invite or reset link opens.
type SetPassword struct {
	Token    string
	Invite   bool
	Name     string
	Email    string
	Password PasswordRule
	// Refused holds why the link does not work; the form is not shown.
	Refused string
	Error   string
}

// KeyRow is one API key in the list (never its secret).
type KeyRow struct {
	ID        string
	Name      string
	Role      string
	Hint      string
	CreatedBy string
	CreatedAt time.Time
	LastUsed  time.Time
	// Service keys belong to no user (made by llmops keys create), so
	// they stay when people leave; the others go with their owner.
	Service bool
}

// Keys is the API keys tab.
type Keys struct {
	Chrome
	Keys      []KeyRow
	NewSecret string // shown once, right after creation
	NewName   string
	Form      KeyForm
	Error     string
	Notice    string
	Now       time.Time
}

// KeyForm holds what the create-key form was submitted with.
type KeyForm struct {
	Name string
	Role string
}

// UserRow is one user in the list.
type UserRow struct {
	ID        string
	Name      string
	Email     string
	Role      string
	CreatedAt time.Time
	IsSelf    bool
	Invited   bool // has not chosen a password yet
}

// Users is the users tab.
type Users struct {
	Chrome
	Users    []UserRow
	Form     UserForm
	Password PasswordRule
	NewLink  *NewLink // the link just made, shown once
	LinkTTL  time.Duration
	Error    string
	Notice   string
	Now      time.Time
}

// UserForm holds what the add-user form was submitted with.
type UserForm struct {
	Name  string
	Email string
	Role  string
}

// AuditRow is one audit event.
type AuditRow struct {
	Time       time.Time
	Actor      string
	ActorKind  string
	Action     string
	Resource   string
	ResourceID string
	Before     string
	After      string
	IP         string // sign-in events: where from
	UserAgent  string
}

// Audit is the audit log tab.
type Audit struct {
	Chrome
	Events []AuditRow
	// Filter is what the filter bar shows, as the URL gave it (from and
	// to as datetime-local values, UTC).
	Filter AuditFilter
	// NextURL pages on. With no events it means the scan stopped at its
	// bound before finding a match: there are older events to look at.
	NextURL string
	Now     time.Time
}

// AuditFilter is the audit log's filter bar.
type AuditFilter struct {
	Actor, Action, Resource, Target, From, To string
}

// Active reports whether any filter is set.
func (f AuditFilter) Active() bool { return f != AuditFilter{} }

// AuditActions and AuditResources are the filter bar's suggestions.
var (
	AuditActions   = []string{"create", "update", "delete", "login", "login.succeeded", "login.failed", "login.locked", "logout", "setup", "setup.succeeded", "setup.failed"}
	AuditResources = []string{"user", "session", "setup", "api_key", "setting", "document", "test_set", "eval_run", "embedding_model", "chunk_config"}
)

// TraceRow is one trace in the traces list.
type TraceRow struct {
	ID        string
	Time      time.Time
	Kind      schema.TraceKind
	Name      string
	Input     string
	Output    string
	Status    schema.TraceStatus
	Latency   time.Duration
	TokensIn  int
	TokensOut int
	CostUSD   float64
	// Groundedness is the answer's support score, when it has one.
	Groundedness *float64
	Conversation string // the conversation the ask belongs to, if any
}

// Traces is the traces list page.
type Traces struct {
	Chrome
	Rows    []TraceRow
	NextURL string
	// Kind is the kind shown ("" all but eval); eval runs' traces are
	// hidden by default so test traffic does not bury real requests.
	Kind schema.TraceKind
	Now  time.Time
	// Filter is the explorer's filters; ExportQuery the same as a query
	// string, for the export links.
	Filter      TraceFilters
	ExportQuery string
	// Saved views: the caller's and the shared ones; ViewQuery is the
	// current filters as a view keeps them; ViewError a refused save.
	Views     []TraceViewChip
	ViewQuery string
	ViewError string
}

// ErrorPage is shown for errors on HTML routes.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
	Viewer  *Viewer
}

// RoleOptions lists roles for select boxes, most powerful first.
var RoleOptions = []string{"admin", "editor", "reviewer", "viewer"}

// DocumentRow is one document in the knowledge list.
type DocumentRow struct {
	ID             string
	Title          string
	Source         string
	Format         string
	Category       string
	ProductVersion string
	Tags           []string
	Size           int64
	Chunks         int
	Tokens         int
	Model          string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastUpdated    string // the document's own date
	Stale          bool
}

// JobView is a re-embed job's progress.
type JobView struct {
	State  schema.JobState
	Reason string
	From   string
	To     string
	Done   int
	Total  int
	Error  string
}

// Knowledge is the knowledge base page.
type Knowledge struct {
	Chrome
	Rows      []DocumentRow
	Chunks    int
	Model     string
	Job       *JobView
	CanEdit   bool
	StaleDays int
	MaxUpload string
	Notice    string
	Now       time.Time
}

// ChunkRow is one chunk on a document page.
type ChunkRow struct {
	ID       string // the page anchor citations link to: #chunk-ID
	Index    int
	Text     string
	Headings []string
	Page     int
	Kind     string
	Tokens   int
	Flags    []string
	Guard    *GuardFlag // set when rag/guard flagged the chunk's text
}

// GuardFlag is a chunk whose text addresses the assistant: held from
// widget answers until an editor approves it.
type GuardFlag struct {
	Reason, Match string
	Rules         []string
	Held          bool
	ApprovedBy    string
	ApprovedAt    time.Time
}

// DocumentPage shows one document's chunks as the retriever sees them.
type DocumentPage struct {
	Chrome
	Doc       DocumentRow
	Chunks    []ChunkRow
	CanEdit   bool
	MaxTokens int
	Now       time.Time
	Held      int // chunks held by a rag/guard flag
	Notice    string
	// PII says what personal data ingestion found ("Personal data found:
	// EMAIL 2, PHONE 1, redacted before indexing"); "" when none.
	PII string
}

// Models is Settings → Models & prices.
type Models struct {
	Chrome
	Answerer, AnswererURL string
	Embedder, EmbedderURL string
	Judge                 string
	ThresholdText         string
	Prices                string // the team's own prices, as edited
	Defaults              []PriceRow
	Error, Notice         string
}

// PriceRow is one model's price, formatted.
type PriceRow struct {
	Model, Input, Output string
	Aliases              []string // other names of the same model, at the same price
}

// DashboardWindows are the Overview's window choices.
var DashboardWindows = []string{"1h", "24h", "7d", "30d"}
