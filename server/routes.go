package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"llmops/assets"
	"llmops/store"
)

// route is one entry of the route table. role is the least role that may
// call it; public routes have none.
type route struct {
	method  string
	path    string
	role    store.Role // "" = public
	handler echo.HandlerFunc
}

// routes is llmops's one route table: pages and /api/v1 side by side, each
// with the role it needs. The route × role test walks this table.
func (s *Server) routes() []route {
	const (
		public = store.Role("")
		viewer = store.RoleViewer
		editor = store.RoleEditor
		admin  = store.RoleAdmin
		widget = widgetRole
	)
	return []route{
		// Process and probes.
		{http.MethodGet, "/healthz", public, s.handleHealthz},
		{http.MethodGet, "/readyz", public, s.handleReadyz},
		{http.MethodGet, "/metrics", public, s.mets.handler()},

		// First run and sign-in.
		{http.MethodGet, "/setup", public, s.handleSetupPage},
		{http.MethodPost, "/setup", public, s.handleSetup},
		{http.MethodGet, "/login", public, s.handleLoginPage},
		{http.MethodPost, "/login", public, s.handleLogin},
		{http.MethodPost, "/logout", public, s.handleLogout},

		// Pages.
		{http.MethodGet, "/", viewer, s.handleOverview},
		{http.MethodGet, "/knowledge", viewer, s.handleKnowledgePage},
		{http.MethodGet, "/knowledge/:id", viewer, s.handleDocumentPage},
		{http.MethodPost, "/knowledge/:id/delete", editor, s.handleDocumentDeleteForm},
		{http.MethodPost, "/knowledge/reembed", editor, s.handleKnowledgeReembedForm},
		{http.MethodPost, "/knowledge/reembed/cancel", editor, s.handleKnowledgeReembedCancelForm},
		{http.MethodGet, "/chat", viewer, s.handleChatPage},
		{http.MethodGet, "/prompts", viewer, s.handlePlanned("prompts")},
		{http.MethodGet, "/traces", viewer, s.handleTracesPage},
		{http.MethodGet, "/traces/:id", viewer, s.handleTracePage},
		{http.MethodGet, "/evals", viewer, s.handleEvalsPage},
		{http.MethodGet, "/evals/sets/:id", viewer, s.handleTestSetPage},
		{http.MethodPost, "/evals/sets", editor, s.handleTestSetCreateForm},
		{http.MethodPost, "/evals/sets/import", editor, s.handleTestSetImportForm},
		{http.MethodPost, "/evals/sets/:id/cases", editor, s.handleTestCaseForm},
		{http.MethodPost, "/evals/sets/:id/delete", editor, s.handleTestSetDeleteForm},
		{http.MethodPost, "/evals/cases/from-trace", editor, s.handleCaseFromTraceForm},
		{http.MethodPost, "/evals/runs", editor, s.handleRunForm},
		{http.MethodPost, "/evals/sample-run", editor, s.handleSampleRunForm},
		{http.MethodGet, "/evals/runs/:id", viewer, s.handleRunPage},
		{http.MethodPost, "/evals/runs/:id/cancel", editor, s.handleRunCancelForm},
		{http.MethodPost, "/evals/runs/:id/resume", editor, s.handleRunResumeForm},
		{http.MethodPost, "/evals/runs/:id/delete", editor, s.handleRunDeleteForm},
		{http.MethodGet, "/evals/compare", viewer, s.handleComparePage},
		{http.MethodGet, "/review", viewer, s.handlePlanned("review")},
		{http.MethodGet, "/settings", viewer, s.handleProfilePage},
		{http.MethodGet, "/settings/keys", admin, s.handleKeysPage},
		{http.MethodPost, "/settings/keys", admin, s.handleKeyCreateForm},
		{http.MethodPost, "/settings/keys/:id/delete", admin, s.handleKeyDeleteForm},
		{http.MethodGet, "/settings/users", admin, s.handleUsersPage},
		{http.MethodPost, "/settings/users", admin, s.handleUserCreateForm},
		{http.MethodPost, "/settings/users/:id/role", admin, s.handleUserRoleForm},
		{http.MethodPost, "/settings/users/:id/delete", admin, s.handleUserDeleteForm},
		{http.MethodGet, "/settings/audit", admin, s.handleAuditPage},
		{http.MethodGet, "/settings/models", admin, s.handleModelsPage},
		{http.MethodPost, "/settings/models", admin, s.handlePricesForm},
		{http.MethodGet, "/settings/widget", admin, s.handleWidgetPage},
		{http.MethodPost, "/settings/widget", admin, s.handleWidgetKeyCreateForm},
		{http.MethodPost, "/settings/widget/:id/delete", admin, s.handleWidgetKeyDeleteForm},

		// The chat widget: its script, and its API for publishable keys.
		{http.MethodGet, "/widget.js", public, s.handleWidgetScript},
		{http.MethodPost, widgetPrefix + "ask", widget, s.handleAsk},
		{http.MethodPost, widgetPrefix + "ask/stream", widget, s.handleAskStream},
		{http.MethodPost, widgetPrefix + "feedback", widget, s.handleWidgetFeedback},

		// JSON API.
		{http.MethodGet, "/api/v1/me", viewer, s.handleMe},
		{http.MethodGet, "/api/v1/keys", admin, s.handleKeyList},
		{http.MethodPost, "/api/v1/keys", admin, s.handleKeyCreate},
		{http.MethodDelete, "/api/v1/keys/:id", admin, s.handleKeyDelete},
		{http.MethodGet, "/api/v1/users", admin, s.handleUserList},
		{http.MethodPost, "/api/v1/users", admin, s.handleUserCreate},
		{http.MethodPatch, "/api/v1/users/:id", admin, s.handleUserUpdate},
		{http.MethodDelete, "/api/v1/users/:id", admin, s.handleUserDelete},
		{http.MethodGet, "/api/v1/audit", admin, s.handleAuditList},
		{http.MethodGet, "/api/v1/documents", viewer, s.handleDocumentList},
		{http.MethodPost, "/api/v1/documents", editor, s.handleDocumentUpload},
		{http.MethodGet, "/api/v1/documents/:id", viewer, s.handleDocumentGet},
		{http.MethodDelete, "/api/v1/documents/:id", editor, s.handleDocumentDelete},
		{http.MethodPost, "/api/v1/knowledge/reembed", editor, s.handleKnowledgeReembed},
		{http.MethodDelete, "/api/v1/knowledge/reembed", editor, s.handleKnowledgeReembedCancel},
		{http.MethodPost, "/api/v1/ask", viewer, s.handleAsk},
		{http.MethodPost, "/api/v1/ask/stream", viewer, s.handleAskStream},
		{http.MethodPost, "/api/v1/feedback", viewer, s.handleFeedback},
		{http.MethodGet, "/api/v1/traces", viewer, s.handleTraceList},
		{http.MethodGet, "/api/v1/traces/:id", viewer, s.handleTraceGet},
		{http.MethodGet, "/api/v1/evals/sets", viewer, s.handleTestSetList},
		{http.MethodPost, "/api/v1/evals/sets", editor, s.handleTestSetCreate},
		{http.MethodGet, "/api/v1/evals/sets/:id", viewer, s.handleTestSetGet},
		{http.MethodGet, "/api/v1/evals/sets/:id/export", viewer, s.handleTestSetExport},
		{http.MethodPost, "/api/v1/evals/sets/:id/cases", editor, s.handleTestCasesAdd},
		{http.MethodDelete, "/api/v1/evals/sets/:id", editor, s.handleTestSetDelete},
		{http.MethodGet, "/api/v1/evals/runs", viewer, s.handleRunList},
		{http.MethodPost, "/api/v1/evals/runs", editor, s.handleRunCreate},
		{http.MethodGet, "/api/v1/evals/runs/:id", viewer, s.handleRunGet},
		{http.MethodGet, "/api/v1/evals/runs/:id/results", viewer, s.handleRunResults},
		{http.MethodPost, "/api/v1/evals/runs/:id/cancel", editor, s.handleRunCancel},
		{http.MethodPost, "/api/v1/evals/runs/:id/resume", editor, s.handleRunResume},
		{http.MethodDelete, "/api/v1/evals/runs/:id", editor, s.handleRunDelete},
		{http.MethodGet, "/api/v1/evals/compare", viewer, s.handleCompare},
		{http.MethodGet, "/api/v1/settings/prices", admin, s.handlePricesGet},
		{http.MethodPut, "/api/v1/settings/prices", admin, s.handlePricesPut},
		{http.MethodGet, "/api/v1/backup", admin, s.handleBackup},
	}
}

// widgetRole marks routes for publishable keys only (the chat widget):
// cross-origin, no cookies, per-visitor rate limits.
const widgetRole = store.Role("widget")

func (s *Server) registerRoutes(e *echo.Echo) {
	for _, r := range s.routes() {
		var mw []echo.MiddlewareFunc
		switch r.role {
		case "":
		case widgetRole:
			mw = append(mw, widgetCORS, s.widgetAuth(r.path != widgetPrefix+"feedback"))
			e.OPTIONS(r.path, func(echo.Context) error { return nil }, widgetCORS)
		default:
			mw = append(mw, s.require(r.role))
		}
		e.Add(r.method, r.path, r.handler, mw...)
	}
	static := echo.WrapHandler(assets.Handler())
	e.GET(assets.Prefix+"*", static)
	e.HEAD(assets.Prefix+"*", static)
}
