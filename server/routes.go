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
		{http.MethodGet, "/chat", viewer, s.handlePlanned("chat")},
		{http.MethodGet, "/prompts", viewer, s.handlePlanned("prompts")},
		{http.MethodGet, "/traces", viewer, s.handleTracesPage},
		{http.MethodGet, "/evals", viewer, s.handlePlanned("evals")},
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
		{http.MethodPost, "/api/v1/feedback", viewer, s.handleFeedback},
		{http.MethodGet, "/api/v1/traces", viewer, s.handleTraceList},
		{http.MethodGet, "/api/v1/traces/:id", viewer, s.handleTraceGet},
		{http.MethodGet, "/api/v1/backup", admin, s.handleBackup},
	}
}

func (s *Server) registerRoutes(e *echo.Echo) {
	for _, r := range s.routes() {
		var mw []echo.MiddlewareFunc
		if r.role != "" {
			mw = append(mw, s.require(r.role))
		}
		e.Add(r.method, r.path, r.handler, mw...)
	}
	static := echo.WrapHandler(assets.Handler())
	e.GET(assets.Prefix+"*", static)
	e.HEAD(assets.Prefix+"*", static)
}
