package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"llmops/assets"
	"llmops/store"
)

// route is one entry of the route table. role is the least role that may
// call it (public routes have none); props are its limits.
type route struct {
	method  string
	path    string
	role    store.Role // "" = public
	handler echo.HandlerFunc
	props   routeProps
}

// routeProps are a route's limits beyond its role, so that they move with
// the route when it is renamed.
type routeProps uint8

const (
	// std: the request deadline (Config.RequestTimeout) and the JSON body
	// limit (Config.MaxBodyBytes).
	std routeProps = 0
	// noDeadline: no request deadline; the route ends when its work or its
	// client does (streamed answers, uploads that may learn the first
	// embedding model or call an embeddings API, backups of a big store).
	noDeadline routeProps = 1 << 0
	// uploadBody: bodies up to Config.MaxUploadBytes (document and test-set
	// uploads).
	uploadBody routeProps = 1 << 1
	// askLimit: each API key and each signed-in user may ask
	// Config.AskRate times a minute (limitAsks). The widget's routes have
	// their own per-visitor limits instead.
	askLimit routeProps = 1 << 2
)

// routes is llmops's one route table: pages and /api/v1 side by side, each
// with the role it needs. The route × role test walks this table.
func (s *Server) routes() []route {
	const (
		public   = store.Role("")
		viewer   = store.RoleViewer
		editor   = store.RoleEditor
		reviewer = store.RoleReviewer
		admin    = store.RoleAdmin
		widget   = widgetRole
	)
	return []route{
		// Process and probes.
		{http.MethodGet, "/healthz", public, s.handleHealthz, std},
		{http.MethodGet, "/readyz", public, s.handleReadyz, std},
		{http.MethodGet, "/metrics", public, s.mets.handler(), std},

		// First run and sign-in.
		{http.MethodGet, "/setup", public, s.handleSetupPage, std},
		{http.MethodPost, "/setup", public, s.handleSetup, std},
		{http.MethodGet, "/login", public, s.handleLoginPage, std},
		{http.MethodPost, "/login", public, s.handleLogin, std},
		{http.MethodPost, "/logout", public, s.handleLogout, std},
		{http.MethodGet, "/set-password", public, s.handleSetPasswordPage, std},
		{http.MethodPost, "/set-password", public, s.handleSetPassword, std},

		// Pages.
		{http.MethodGet, "/", viewer, s.handleOverview, std},
		{http.MethodGet, "/knowledge", viewer, s.handleKnowledgePage, std},
		{http.MethodGet, "/knowledge/:id", viewer, s.handleDocumentPage, std},
		{http.MethodPost, "/knowledge/:id/delete", editor, s.handleDocumentDeleteForm, std},
		{http.MethodPost, "/knowledge/:id/approve", editor, s.handleDocumentApproveForm, std},
		{http.MethodPost, "/knowledge/reembed", editor, s.handleKnowledgeReembedForm, std},
		{http.MethodPost, "/knowledge/reembed/cancel", editor, s.handleKnowledgeReembedCancelForm, std},
		{http.MethodGet, "/chat", viewer, s.handleChatPage, std},
		{http.MethodPost, "/chat/suggestions", admin, s.handleSuggestionsForm, std},
		{http.MethodGet, "/prompts", viewer, s.handlePromptsPage, std},
		{http.MethodGet, "/prompts/:name", viewer, s.handlePromptPage, std},
		{http.MethodGet, "/prompts/:name/versions/:version", viewer, s.handlePromptVersionPage, std},
		{http.MethodPost, "/prompts/:name/versions", editor, s.handlePromptVersionForm, std},
		{http.MethodPost, "/prompts/:name/labels", editor, s.handlePromptLabelForm, std},
		{http.MethodPost, "/prompts/:name/labels/:label", editor, s.handlePromptLabelForm, std},
		{http.MethodPost, "/prompts/:name/gate", editor, s.handlePromptGateForm, std},
		{http.MethodPost, "/prompts/:name/gate/run", editor, s.handlePromptGateRunForm, std},
		{http.MethodGet, "/prompts/:name/diff", viewer, s.handlePromptDiffPage, std},
		{http.MethodGet, "/prompts/:name/playground", viewer, s.handlePlaygroundPage, std},
		{http.MethodPost, "/prompts/:name/playground", viewer, s.handlePlaygroundForm, askLimit},
		{http.MethodGet, "/traces", viewer, s.handleTracesPage, std},
		{http.MethodGet, "/traces/:id", viewer, s.handleTracePage, std},
		{http.MethodGet, "/traces/users", viewer, s.handleAskersPage, std},
		{http.MethodPost, "/traces/views", viewer, s.handleTraceViewForm, std},
		{http.MethodPost, "/traces/views/:id/delete", viewer, s.handleTraceViewDeleteForm, std},
		{http.MethodGet, "/conversations/:id", viewer, s.handleConversationPage, std},
		{http.MethodGet, "/cost", viewer, s.handleCostPage, std},
		{http.MethodGet, "/evals", viewer, s.handleEvalsPage, std},
		{http.MethodGet, "/evals/sets/:id", viewer, s.handleTestSetPage, std},
		{http.MethodPost, "/evals/sets", editor, s.handleTestSetCreateForm, std},
		{http.MethodPost, "/evals/sets/import", editor, s.handleTestSetImportForm, uploadBody},
		{http.MethodPost, "/evals/sets/:id/cases", editor, s.handleTestCaseForm, std},
		{http.MethodPost, "/evals/sets/:id/delete", editor, s.handleTestSetDeleteForm, std},
		{http.MethodPost, "/evals/cases/from-trace", editor, s.handleCaseFromTraceForm, std},
		{http.MethodPost, "/evals/runs", editor, s.handleRunForm, std},
		{http.MethodPost, "/evals/sample-run", editor, s.handleSampleRunForm, std},
		{http.MethodGet, "/evals/runs/:id", viewer, s.handleRunPage, std},
		{http.MethodPost, "/evals/runs/:id/cancel", editor, s.handleRunCancelForm, std},
		{http.MethodPost, "/evals/runs/:id/resume", editor, s.handleRunResumeForm, std},
		{http.MethodPost, "/evals/runs/:id/delete", editor, s.handleRunDeleteForm, std},
		{http.MethodGet, "/evals/compare", viewer, s.handleComparePage, std},
		{http.MethodGet, "/alerts", editor, s.handleAlertsPage, std},
		{http.MethodGet, "/alerts/banner", editor, s.handleAlertBanner, std},
		{http.MethodPost, "/alerts", admin, s.handleAlertCreateForm, std},
		{http.MethodPost, "/alerts/:id/mute", editor, s.handleAlertMuteForm, std},
		{http.MethodPost, "/alerts/:id/delete", admin, s.handleAlertDeleteForm, std},
		{http.MethodGet, "/guardrails", viewer, s.handleGuardrailsPage, std},
		{http.MethodPost, "/guardrails", admin, s.handleGuardrailsForm, std},
		{http.MethodGet, "/review", viewer, s.handleReviewPage, std},
		{http.MethodPost, "/review/policy", admin, s.handleReviewPolicyForm, std},
		{http.MethodGet, "/review/items/:id", viewer, s.handleReviewItemPage, std},
		{http.MethodPost, "/review/items/:id/label", reviewer, s.handleReviewLabelForm, std},
		{http.MethodPost, "/review/items/:id/test-case", editor, s.handleReviewTestCaseForm, std},
		{http.MethodGet, "/review/report", viewer, s.handleReviewReportPage, std},
		{http.MethodGet, "/escalations", viewer, s.handleEscalationsPage, std},
		{http.MethodPost, "/escalations/webhook", admin, s.handleEscalationWebhookForm, std},
		{http.MethodGet, "/escalations/:id", viewer, s.handleEscalationPage, std},
		{http.MethodPost, "/escalations/:id", reviewer, s.handleEscalationForm, std},
		{http.MethodGet, "/settings", viewer, s.handleProfilePage, std},
		{http.MethodPost, "/settings/password", viewer, s.handlePasswordForm, std},
		{http.MethodGet, "/settings/sessions", viewer, s.handleSessionsPage, std},
		{http.MethodPost, "/settings/sessions/:id/revoke", viewer, s.handleSessionRevokeForm, std},
		{http.MethodPost, "/settings/sessions/revoke-others", viewer, s.handleSessionsRevokeOthersForm, std},
		{http.MethodGet, "/settings/keys", admin, s.handleKeysPage, std},
		{http.MethodPost, "/settings/keys", admin, s.handleKeyCreateForm, std},
		{http.MethodPost, "/settings/keys/:id/delete", admin, s.handleKeyDeleteForm, std},
		{http.MethodGet, "/settings/users", admin, s.handleUsersPage, std},
		{http.MethodPost, "/settings/users", admin, s.handleUserCreateForm, std},
		{http.MethodPost, "/settings/users/:id/role", admin, s.handleUserRoleForm, std},
		{http.MethodPost, "/settings/users/:id/delete", admin, s.handleUserDeleteForm, std},
		{http.MethodPost, "/settings/users/:id/reset", admin, s.handleUserResetForm, std},
		{http.MethodGet, "/settings/audit", admin, s.handleAuditPage, std},
		{http.MethodGet, "/settings/models", admin, s.handleModelsPage, std},
		{http.MethodPost, "/settings/models", admin, s.handlePricesForm, std},
		{http.MethodGet, "/settings/budgets", admin, s.handleBudgetsPage, std},
		{http.MethodPost, "/settings/budgets", admin, s.handleBudgetForm, std},
		{http.MethodGet, "/settings/widget", admin, s.handleWidgetPage, std},
		{http.MethodPost, "/settings/widget", admin, s.handleWidgetKeyCreateForm, std},
		{http.MethodPost, "/settings/widget/:id/delete", admin, s.handleWidgetKeyDeleteForm, std},
		{http.MethodPost, "/settings/widget/:id/scope", admin, s.handleWidgetKeyScopeForm, std},

		// The chat widget: its script, and its API for publishable keys.
		{http.MethodGet, "/widget.js", public, s.handleWidgetScript, std},
		{http.MethodPost, widgetPrefix + "ask", widget, s.handleAsk, std},
		{http.MethodPost, widgetPrefix + "ask/stream", widget, s.handleAskStream, noDeadline},
		{http.MethodPost, widgetPrefix + "feedback", widget, s.handleWidgetFeedback, std},
		{http.MethodPost, widgetPrefix + "contact", widget, s.handleWidgetContact, std},
		{http.MethodPost, widgetPrefix + "config", widget, s.handleWidgetConfig, std},

		// JSON API.
		{http.MethodGet, "/api/v1/me", viewer, s.handleMe, std},
		{http.MethodPost, "/api/v1/me/password", viewer, s.handlePasswordChange, std},
		{http.MethodGet, "/api/v1/me/sessions", viewer, s.handleSessionList, std},
		{http.MethodDelete, "/api/v1/me/sessions/:id", viewer, s.handleSessionRevoke, std},
		{http.MethodGet, "/api/v1/keys", admin, s.handleKeyList, std},
		{http.MethodPost, "/api/v1/keys", admin, s.handleKeyCreate, std},
		{http.MethodDelete, "/api/v1/keys/:id", admin, s.handleKeyDelete, std},
		{http.MethodPatch, "/api/v1/keys/:id", admin, s.handleKeyScope, std},
		{http.MethodGet, "/api/v1/users", admin, s.handleUserList, std},
		{http.MethodPost, "/api/v1/users", admin, s.handleUserCreate, std},
		{http.MethodPatch, "/api/v1/users/:id", admin, s.handleUserUpdate, std},
		{http.MethodDelete, "/api/v1/users/:id", admin, s.handleUserDelete, std},
		{http.MethodPost, "/api/v1/users/:id/reset", admin, s.handleUserReset, std},
		{http.MethodGet, "/api/v1/audit", admin, s.handleAuditList, std},
		{http.MethodGet, "/api/v1/documents", viewer, s.handleDocumentList, std},
		{http.MethodPost, "/api/v1/documents", editor, s.handleDocumentUpload, noDeadline | uploadBody},
		{http.MethodGet, "/api/v1/documents/:id", viewer, s.handleDocumentGet, std},
		{http.MethodDelete, "/api/v1/documents/:id", editor, s.handleDocumentDelete, std},
		{http.MethodPost, "/api/v1/documents/:id/approve", editor, s.handleDocumentApprove, std},
		{http.MethodPost, "/api/v1/knowledge/reembed", editor, s.handleKnowledgeReembed, std},
		{http.MethodDelete, "/api/v1/knowledge/reembed", editor, s.handleKnowledgeReembedCancel, std},
		{http.MethodPost, "/api/v1/ask", viewer, s.handleAsk, askLimit},
		{http.MethodPost, "/api/v1/ask/stream", viewer, s.handleAskStream, noDeadline | askLimit},
		{http.MethodPost, "/api/v1/feedback", viewer, s.handleFeedback, std},
		{http.MethodGet, "/api/v1/traces", viewer, s.handleTraceList, std},
		{http.MethodGet, "/api/v1/traces/:id", viewer, s.handleTraceGet, std},
		{http.MethodGet, "/api/v1/dashboard", viewer, s.handleDashboard, std},
		{http.MethodGet, "/api/v1/cost", viewer, s.handleCost, std},
		{http.MethodGet, "/api/v1/trace-views", viewer, s.handleTraceViewList, std},
		{http.MethodPost, "/api/v1/trace-views", viewer, s.handleTraceViewCreate, std},
		{http.MethodDelete, "/api/v1/trace-views/:id", viewer, s.handleTraceViewDelete, std},
		{http.MethodGet, "/api/v1/evals/sets", viewer, s.handleTestSetList, std},
		{http.MethodPost, "/api/v1/evals/sets", editor, s.handleTestSetCreate, uploadBody},
		{http.MethodGet, "/api/v1/evals/sets/:id", viewer, s.handleTestSetGet, std},
		{http.MethodGet, "/api/v1/evals/sets/:id/export", viewer, s.handleTestSetExport, std},
		{http.MethodPost, "/api/v1/evals/sets/:id/cases", editor, s.handleTestCasesAdd, std},
		{http.MethodDelete, "/api/v1/evals/sets/:id", editor, s.handleTestSetDelete, std},
		{http.MethodGet, "/api/v1/evals/runs", viewer, s.handleRunList, std},
		{http.MethodPost, "/api/v1/evals/runs", editor, s.handleRunCreate, std},
		{http.MethodGet, "/api/v1/evals/runs/:id", viewer, s.handleRunGet, std},
		{http.MethodGet, "/api/v1/evals/runs/:id/results", viewer, s.handleRunResults, std},
		{http.MethodPost, "/api/v1/evals/runs/:id/cancel", editor, s.handleRunCancel, std},
		{http.MethodPost, "/api/v1/evals/runs/:id/resume", editor, s.handleRunResume, std},
		{http.MethodDelete, "/api/v1/evals/runs/:id", editor, s.handleRunDelete, std},
		{http.MethodGet, "/api/v1/evals/compare", viewer, s.handleCompare, std},
		{http.MethodGet, "/api/v1/prompts", viewer, s.handlePromptList, std},
		{http.MethodGet, "/api/v1/prompts/:name", viewer, s.handlePromptGet, std},
		{http.MethodGet, "/api/v1/prompts/:name/versions/:version", viewer, s.handlePromptVersionGet, std},
		{http.MethodPost, "/api/v1/prompts/:name/versions", editor, s.handlePromptVersionCreate, std},
		{http.MethodDelete, "/api/v1/prompts/:name/versions/:version", editor, s.handlePromptVersionDelete, std},
		{http.MethodPut, "/api/v1/prompts/:name/labels/:label", editor, s.handlePromptLabelPut, std},
		{http.MethodGet, "/api/v1/prompts/:name/diff", viewer, s.handlePromptDiff, std},
		{http.MethodPost, "/api/v1/prompts/:name/playground", viewer, s.handlePromptPlayground, askLimit},
		{http.MethodGet, "/api/v1/prompts/:name/gate", viewer, s.handlePromptGateGet, std},
		{http.MethodPut, "/api/v1/prompts/:name/gate", editor, s.handlePromptGatePut, std},
		{http.MethodPost, "/api/v1/prompts/:name/gate/run", editor, s.handlePromptGateRun, std},
		{http.MethodGet, "/api/v1/settings/prices", admin, s.handlePricesGet, std},
		{http.MethodPut, "/api/v1/settings/prices", admin, s.handlePricesPut, std},
		{http.MethodGet, "/api/v1/chat/suggestions", viewer, s.handleSuggestionsGet, std},
		{http.MethodPut, "/api/v1/chat/suggestions", admin, s.handleSuggestionsPut, std},
		{http.MethodGet, "/api/v1/settings/retention", admin, s.handleRetentionGet, std},
		{http.MethodPut, "/api/v1/settings/retention", admin, s.handleRetentionPut, std},
		{http.MethodGet, "/api/v1/backup", admin, s.handleBackup, noDeadline},
		{http.MethodGet, "/api/v1/budgets", admin, s.handleBudgetsGet, std},
		{http.MethodPut, "/api/v1/budgets", admin, s.handleBudgetsPut, std},
		{http.MethodGet, "/api/v1/alerts", editor, s.handleAlertList, std},
		{http.MethodPost, "/api/v1/alerts", admin, s.handleAlertCreate, std},
		{http.MethodPatch, "/api/v1/alerts/:id", editor, s.handleAlertUpdate, std},
		{http.MethodDelete, "/api/v1/alerts/:id", admin, s.handleAlertDelete, std},
		{http.MethodGet, "/api/v1/escalations", reviewer, s.handleEscalationList, std},
		{http.MethodPatch, "/api/v1/escalations/:id", reviewer, s.handleEscalationPatch, std},
		{http.MethodPost, "/api/v1/guardrails/check", viewer, s.handleGuardrailsCheck, std},
		{http.MethodGet, "/api/v1/guardrails", admin, s.handleGuardrailsGet, std},
		{http.MethodPut, "/api/v1/guardrails", admin, s.handleGuardrailsPut, std},
		{http.MethodGet, "/api/v1/review/policy", admin, s.handleReviewPolicyGet, std},
		{http.MethodPut, "/api/v1/review/policy", admin, s.handleReviewPolicyPut, std},
		{http.MethodGet, "/api/v1/review/queue", reviewer, s.handleReviewQueue, std},
		{http.MethodGet, "/api/v1/review/items/:id", reviewer, s.handleReviewItemGet, std},
		{http.MethodPost, "/api/v1/review/items/:id/label", reviewer, s.handleReviewLabel, std},
		{http.MethodPost, "/api/v1/review/items/:id/claim", reviewer, s.handleReviewClaim, std},
		{http.MethodPost, "/api/v1/review/items/:id/test-case", editor, s.handleReviewTestCase, std},
		{http.MethodGet, "/api/v1/review/report", viewer, s.handleReviewReport, std},

		// OpenTelemetry in: OTLP/HTTP from other applications.
		{http.MethodPost, otlpTracesPath, editor, s.handleOTLPTraces, std},
	}
}

// propsOf is the limits of the route c matched (std for unknown routes
// and static files).
func (s *Server) propsOf(c echo.Context) routeProps {
	return s.props[c.Request().Method+" "+c.Path()]
}

// isPublic reports whether c matched a route that needs no role (static
// files included); unknown routes are not public.
func (s *Server) isPublic(c echo.Context) bool {
	return s.public[c.Request().Method+" "+c.Path()]
}

// widgetRole marks routes for publishable keys only (the chat widget):
// cross-origin, no cookies, per-visitor rate limits.
const widgetRole = store.Role("widget")

func (s *Server) registerRoutes(e *echo.Echo) {
	s.props, s.public = map[string]routeProps{}, map[string]bool{}
	for _, r := range s.routes() {
		s.props[r.method+" "+r.path] = r.props
		var mw []echo.MiddlewareFunc
		switch r.role {
		case "":
			s.public[r.method+" "+r.path] = true
		case widgetRole:
			mw = append(mw, widgetCORS, s.widgetAuth(r.path))
			e.OPTIONS(r.path, func(echo.Context) error { return nil }, widgetCORS)
		default:
			mw = append(mw, s.require(r.role))
		}
		if r.props&askLimit != 0 {
			mw = append(mw, s.limitAsks) // after require: refused calls use no tokens
		}
		e.Add(r.method, r.path, r.handler, mw...)
	}
	static := echo.WrapHandler(assets.Handler())
	e.GET(assets.Prefix+"*", static)
	e.HEAD(assets.Prefix+"*", static)
	s.public[http.MethodGet+" "+assets.Prefix+"*"] = true
	s.public[http.MethodHead+" "+assets.Prefix+"*"] = true
}
