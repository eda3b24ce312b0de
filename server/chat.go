package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"llmops/rag/assistant"
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
	if err := s.chatHistory(c, &p); err != nil {
		return err
	}
	return render(c, http.StatusOK, ui.ChatPage(p))
}

// maxChatHistory bounds the past conversations the chat page lists.
const maxChatHistory = 30

// chatHistory fills the chat page's list of the caller's past
// conversations and, with ?c=ID, the one to reopen: its turns with their
// citations and the figures "View trace" goes with, read from each
// answer's trace (a turn whose trace retention removed keeps its text).
func (s *Server) chatHistory(c echo.Context, p *ui.Chat) error {
	ctx := c.Request().Context()
	owner := assistant.Owner(principalOf(c).actor)
	list, err := s.store.Conversations(ctx, owner, maxChatHistory)
	if err != nil {
		return err
	}
	id := c.QueryParam("c")
	for _, h := range list {
		p.History = append(p.History, ui.ChatHistoryItem{ID: h.ID, Title: h.Title, Turns: h.Turns, Escalated: h.Escalated,
			UpdatedAt: h.UpdatedAt, Current: h.ID == id})
	}
	p.Now = s.now()
	if id == "" {
		return nil
	}
	if len(id) > store.MaxIDLen {
		return store.Errorf(store.ENOTFOUND, "conversation not found")
	}
	conv, err := s.store.Conversation(ctx, id, owner)
	if err != nil {
		return err
	}
	p.ConversationID = conv.ID
	for _, t := range conv.Turns {
		turn := ui.ChatTurn{Question: t.Question, Answer: t.Answer, TraceID: t.TraceID, Fallback: t.Fallback, Escalated: conv.Escalated && (t.Fallback || t.AskedPerson)}
		if tr, _, err := s.store.Trace(ctx, t.TraceID); err == nil {
			turn.Citations = tr.Attributes[schema.AttrCitations]
			turn.LatencyMS = tr.Duration().Milliseconds()
			turn.Model, _ = tr.Attributes[schema.AttrResponseModel].(string)
			if g, ok := tr.Attributes[schema.AttrGroundedness].(float64); ok {
				turn.Groundedness = &g
			}
			if r, ok := tr.Attributes[schema.AttrRelevance].(float64); ok {
				turn.Relevance = &r
			}
		} else if store.ErrorCode(err) != store.ENOTFOUND {
			return err
		}
		p.Turns = append(p.Turns, turn)
	}
	return nil
}

// answererLabel says what writes the answers, for the chat page.
func (s *Server) answererLabel() string {
	if s.cfg.LLMBaseURL == "" {
		return "Extractive answerer (offline)"
	}
	return s.cfg.LLMModel
}

// suggestions are the questions the team asks most often that got a
// well-received answer (grounded, no thumbs down), topped up from the
// sample eval set while sample data is loaded.
func (s *Server) suggestions(ctx context.Context, hasSample bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(q string) {
		k := strings.ToLower(strings.TrimSpace(q))
		if k != "" && !seen[k] && len(out) < maxSuggestions && len(q) <= 120 {
			seen[k] = true
			out = append(out, asked(q))
		}
	}
	// Status ok leaves out answers that fell back (status fallback).
	traces, _, err := s.store.ListTraces(ctx, store.TraceFilter{Kind: schema.KindAsk, Status: schema.StatusOK, Page: store.Page{Limit: 200}})
	if err != nil {
		return nil, err
	}
	type question struct {
		text  string
		count int
		order int // first seen, newest first: ties go to the recent one
	}
	byKey := map[string]*question{}
	for i, t := range traces {
		// Only the team's own chat questions: widget visitors' may hold
		// personal details.
		if t.Attributes[schema.AttrChannel] != schema.ChannelChat {
			continue
		}
		k := strings.ToLower(strings.TrimRight(strings.TrimSpace(t.Input), "?!. "))
		if k == "" {
			continue
		}
		q := byKey[k]
		if q == nil {
			q = &question{text: t.Input, order: i}
			byKey[k] = q
		}
		q.count++
	}
	ranked := make([]*question, 0, len(byKey))
	for _, q := range byKey {
		ranked = append(ranked, q)
	}
	slices.SortFunc(ranked, func(a, b *question) int {
		if a.count != b.count {
			return b.count - a.count
		}
		return a.order - b.order
	})
	for _, q := range ranked {
		if len(out) == maxSuggestions {
			break
		}
		if s.thumbedDown(ctx, traces, q.text) {
			continue // someone said the answer was wrong
		}
		add(q.text)
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

// thumbedDown reports whether any of the traces asking question got a
// thumbs down.
func (s *Server) thumbedDown(ctx context.Context, traces []store.Trace, question string) bool {
	k := strings.ToLower(strings.TrimRight(strings.TrimSpace(question), "?!. "))
	for _, t := range traces {
		if strings.ToLower(strings.TrimRight(strings.TrimSpace(t.Input), "?!. ")) != k {
			continue
		}
		fb, err := s.store.FeedbackFor(ctx, t.ID)
		if err != nil {
			continue
		}
		for _, f := range fb {
			if f.Value < 0 {
				return true
			}
		}
	}
	return false
}

// asked shows a question as a suggestion: a capital first letter and a
// question mark, however it was typed.
func asked(q string) string {
	q = strings.TrimSpace(q)
	r, n := utf8.DecodeRuneInString(q)
	q = string(unicode.ToUpper(r)) + q[n:]
	if !strings.HasSuffix(q, "?") && !strings.HasSuffix(q, ".") {
		q += "?"
	}
	return q
}
