package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	sampledata "llmops/sample-data"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// maxSuggestions bounds the suggested questions on an empty chat.
const maxSuggestions = 4

// handleChatPage is the staff chat: the assistant as customers get it,
// with links to each answer's trace.
func (s *Server) handleChatPage(c echo.Context) error {
	ctx := c.Request().Context()
	docs, err := s.store.ListDocuments(ctx)
	if err != nil {
		return err
	}
	p := ui.Chat{Chrome: chrome(c, "Chat", "chat"), Answerer: s.answererLabel(), CanViewTraces: true, Threshold: s.asst.Threshold()}
	hasSample := false
	for _, d := range docs {
		if d.Category != "" && !slices.Contains(p.Categories, d.Category) {
			p.Categories = append(p.Categories, d.Category)
		}
		hasSample = hasSample || strings.HasPrefix(d.Source, sampleSourcePrefix)
	}
	slices.Sort(p.Categories)
	if p.Suggestions, err = s.suggestions(ctx, hasSample); err != nil {
		return err
	}
	return render(c, http.StatusOK, ui.ChatPage(p))
}

// answererLabel says what writes the answers, for the chat page.
func (s *Server) answererLabel() string {
	if s.cfg.LLMBaseURL == "" {
		return "Extractive answerer (offline)"
	}
	return s.cfg.LLMModel
}

// suggestions are questions people asked recently that got a grounded
// answer, topped up from the sample eval set while sample data is loaded.
func (s *Server) suggestions(ctx context.Context, hasSample bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(q string) {
		k := strings.ToLower(strings.TrimSpace(q))
		if k != "" && !seen[k] && len(out) < maxSuggestions && len(q) <= 120 {
			seen[k] = true
			out = append(out, q)
		}
	}
	// Status ok leaves out answers that fell back (status fallback).
	traces, _, err := s.store.ListTraces(ctx, store.TraceFilter{Kind: schema.KindAsk, Status: schema.StatusOK, Page: store.Page{Limit: 100}})
	if err != nil {
		return nil, err
	}
	for _, t := range traces {
		// Only the team's own chat questions: widget visitors' may hold
		// personal details.
		if t.Attributes[schema.AttrChannel] == schema.ChannelChat {
			add(t.Input)
		}
	}
	if hasSample && len(out) < maxSuggestions {
		qs, err := sampledata.Questions()
		if err != nil {
			return nil, err
		}
		// Short questions from different categories read best as chips.
		slices.SortStableFunc(qs, func(a, b sampledata.Question) int { return len(a.Question) - len(b.Question) })
		cats := map[string]bool{}
		for _, q := range qs {
			if q.Answerable && !cats[q.Category] {
				cats[q.Category] = true
				add(q.Question)
			}
		}
	}
	return out, nil
}
