package server

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// handleOverview shows real counts and a checklist made from the
// instance's state.
func (s *Server) handleOverview(c echo.Context) error {
	ctx := c.Request().Context()
	now := s.now()
	p := ui.Overview{Chrome: chrome(c, "Overview", "dashboard"), Now: now, Window: "24h"}
	if w := c.QueryParam("window"); slices.Contains(ui.DashboardWindows, w) {
		p.Window = w
	}
	var err error
	if p.Users, err = s.store.CountUsers(ctx); err != nil {
		return err
	}
	if p.Traces, err = s.store.CountTraces(ctx); err != nil {
		return err
	}
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !k.Publishable() { // widget keys are listed under Chat widget, not API keys
			p.Keys++
		}
	}
	// One ask trace is enough to tick "Ask the assistant" (eval cases and
	// ingests are other kinds).
	asks, _, err := s.store.ListTraces(ctx, store.TraceFilter{Kind: schema.KindAsk, Page: store.Page{Limit: 1}})
	if err != nil {
		return err
	}
	// Real traffic only (chat, widget, API), from the rollups: eval,
	// ingest and playground traces are not requests.
	day, _, _, err := s.store.Rollups(ctx, now.Add(-24*time.Hour), now.Add(time.Minute), store.RollupFilter{}, 0)
	if err != nil {
		return err
	}
	p.Requests24h = int(day.Requests)
	docs, err := s.store.ListDocuments(ctx)
	if err != nil {
		return err
	}
	own := 0
	for _, d := range docs {
		p.Chunks += d.Chunks
		if !strings.HasPrefix(d.Source, sampleSourcePrefix) {
			own++
		}
	}
	p.Documents = len(docs)
	uploadDesc := "Markdown, HTML, PDF, DOCX and FAQs become the assistant's knowledge base."
	if own == 0 && len(docs) > 0 {
		uploadDesc = "The sample help centre is loaded so you can try everything; add your own docs next to it or delete it."
	}
	admin := principalOf(c).role == store.RoleAdmin
	link := func(href string) string {
		if admin {
			return href
		}
		return "" // non-admins cannot open these settings
	}
	p.Steps = []ui.Step{
		{Title: "Create the admin account", Desc: "Done during first-run setup.", Done: true},
		{Title: "Invite your team", Desc: "Add reviewers, editors and viewers with the least role each needs.", Href: link("/settings/users"), Done: p.Users > 1},
		{Title: "Create an API key", Desc: "For CI eval gates, the CLI against this server, and other services.", Href: link("/settings/keys"), Done: p.Keys > 0},
		{Title: "Upload your product docs", Desc: uploadDesc, Href: "/knowledge", Done: own > 0},
		{Title: "Ask the assistant", Desc: "Grounded answers with citations, in Chat and the embeddable widget.", Href: "/chat", Done: len(asks) > 0},
	}
	return render(c, http.StatusOK, ui.OverviewPage(p))
}

func (s *Server) handleProfilePage(c echo.Context) error {
	return s.profilePage(c, http.StatusOK, ui.Profile{Notice: noticeText(c.QueryParam("notice"))})
}
