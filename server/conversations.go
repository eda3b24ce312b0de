package server

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// maxConversationTurns bounds the traces the conversation page lists (a
// conversation keeps store.MaxTurns turns; its traces may be more).
const maxConversationTurns = 200

// handleConversationPage shows one conversation turn by turn, each turn
// with its trace's latency, tokens, cost, groundedness and feedback. The
// turns come from the traces (the trace index's conversation run), so a
// conversation whose record is gone, or that dropped old turns, still
// shows every traced ask.
func (s *Server) handleConversationPage(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if len(id) > store.MaxIDLen {
		return store.Errorf(store.ENOTFOUND, "conversation not found")
	}
	traces, more, err := s.store.ListTraces(ctx, store.TraceFilter{Conversation: id, Page: store.Page{Limit: maxConversationTurns}})
	if err != nil {
		return err
	}
	conv, err := s.store.ConversationByID(ctx, id)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		return err
	}
	if conv == nil && len(traces) == 0 {
		return store.Errorf(store.ENOTFOUND, "conversation %s not found", id)
	}
	slices.Reverse(traces) // oldest turn first
	p := ui.ConversationView{Chrome: chrome(c, "Conversation", "traces"), ID: id, Now: s.now(), More: more != ""}
	if conv != nil {
		p.Channel, p.Owner, p.Created, p.Escalated = conv.Channel, conv.Owner, conv.CreatedAt, conv.Escalated
	}
	for i := range traces {
		t := &traces[i]
		turn := ui.ConversationTurn{TraceID: t.ID, Time: t.Start, Question: t.Input, Answer: t.Output, Status: t.Status, Latency: t.Duration(),
			TokensIn: t.TokensIn, TokensOut: t.TokensOut, CostUSD: t.CostUSD}
		if q, ok := t.Attributes[schema.AttrQuestion].(string); ok && q != "" {
			turn.Question = q
		}
		if sq, ok := t.Attributes[schema.AttrStandaloneQuestion].(string); ok && sq != turn.Question {
			turn.Standalone = sq
		}
		if g, ok := t.Attributes[schema.AttrGroundedness].(float64); ok {
			turn.Groundedness = &g
		}
		if m, ok := t.Attributes[schema.AttrResponseModel].(string); ok {
			turn.Model = m
		}
		if p.Channel == "" {
			p.Channel, _ = t.Attributes[schema.AttrChannel].(string)
		}
		feedback, err := s.store.FeedbackFor(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, f := range feedback {
			if f.Value > 0 {
				turn.Up++
			} else if f.Value < 0 {
				turn.Down++
			}
			if f.Comment != "" {
				turn.Comments = append(turn.Comments, f.Comment)
			}
		}
		p.Latency += turn.Latency
		p.CostUSD += t.CostUSD
		p.TokensIn += t.TokensIn
		p.TokensOut += t.TokensOut
		p.Up += turn.Up
		p.Down += turn.Down
		p.Turns = append(p.Turns, turn)
	}
	return render(c, http.StatusOK, ui.ConversationPage(p))
}
