package server

import (
	"context"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// handleTracePage shows one trace with its span waterfall and feedback.
// ?span=ID opens that span's details, so a span can be linked to.
func (s *Server) handleTracePage(c echo.Context) error {
	ctx := c.Request().Context()
	t, spans, err := s.store.Trace(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	feedback, err := s.store.FeedbackFor(ctx, t.ID)
	if err != nil {
		return err
	}
	v := traceDetail(t, spans, feedback)
	v.Chrome = chrome(c, "Trace", "traces")
	if t.Name != "" {
		v.Chrome.Title = "Trace · " + t.Name // tabs of several traces stay apart
	}
	if t.UserID != "" {
		// People recognise a name, not an account ID; keys and widget
		// visitors have none and keep their ID.
		if u, err := s.store.UserByID(ctx, t.UserID); err == nil {
			v.UserName = u.Name
			if v.UserName == "" {
				v.UserName = u.Email
			}
		}
	}
	if v.Turn, err = s.conversationTurn(ctx, t); err != nil {
		return err
	}
	v.Selected = c.QueryParam("span")
	v.Now = s.now()
	v.Threshold = s.asst.Threshold()
	if t.Kind == schema.KindAsk && s.canEdit(c) {
		sets, err := s.store.TestSets(ctx)
		if err != nil {
			return err
		}
		v.CanAddCase, v.FormError = true, c.QueryParam("error")
		for _, ts := range sets {
			v.TestSets = append(v.TestSets, setRow(&ts))
		}
	}
	return render(c, http.StatusOK, ui.TracePage(v))
}

// traceDetail copies a stored trace into the page's view.
func traceDetail(t *store.Trace, spans []store.Span, feedback []store.Feedback) ui.TraceDetail {
	v := ui.TraceDetail{ID: t.ID, Kind: t.Kind, Name: t.Name, Start: t.Start, End: t.End, Status: t.Status, Error: t.Error,
		UserID: t.UserID, SessionID: t.SessionID, Input: t.Input, Output: t.Output, Attributes: t.Attributes,
		TokensIn: t.TokensIn, TokensOut: t.TokensOut, CostUSD: t.CostUSD}
	for _, sp := range spans {
		v.Spans = append(v.Spans, ui.SpanView{ID: sp.ID, ParentID: sp.ParentID, Name: sp.Name, Kind: sp.Kind, Start: sp.Start, End: sp.End,
			Status: sp.Status, Error: sp.Error, Attributes: sp.Attributes})
	}
	for _, f := range feedback {
		actor := f.Actor.Name
		if actor == "" {
			actor = f.Actor.String()
		}
		v.Feedback = append(v.Feedback, ui.FeedbackView{Value: f.Value, Comment: f.Comment, Actor: actor, Time: f.CreatedAt})
	}
	return v
}

// maxConversationTraces bounds the answers of one conversation the trace
// page counts (a conversation keeps store.MaxTurns).
const maxConversationTraces = 200

// conversationTurn places an ask among the answers of its conversation,
// through the trace index's conversation entries; nil for a trace with
// no conversation or the only answer of one.
func (s *Server) conversationTurn(ctx context.Context, t *store.Trace) (*ui.TurnPosition, error) {
	conv, _ := t.Attributes[schema.AttrConversationID].(string)
	if conv == "" || t.Kind != schema.KindAsk {
		return nil, nil
	}
	page, _, err := s.store.ListTraces(ctx, store.TraceFilter{Kind: schema.KindAsk, Conversation: conv, Page: store.Page{Limit: maxConversationTraces}})
	if err != nil || len(page) < 2 {
		return nil, err
	}
	slices.Reverse(page) // oldest first
	i := slices.IndexFunc(page, func(x store.Trace) bool { return x.ID == t.ID })
	if i < 0 {
		return nil, nil
	}
	turn := &ui.TurnPosition{N: i + 1, Of: len(page)}
	if i > 0 {
		turn.Prev = page[i-1].ID
	}
	if i+1 < len(page) {
		turn.Next = page[i+1].ID
	}
	return turn, nil
}
