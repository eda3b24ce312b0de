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
	return s.chatPage(c, http.StatusOK, "", "")
}

// chatPage renders the chat; pinnedText and pinnedError refill the
// admin's pinned-suggestions form after a refused save.
func (s *Server) chatPage(c echo.Context, status int, pinnedText, pinnedError string) error {
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
	if p.Chrome.Viewer.IsAdmin {
		pinned, err := s.pinnedQuestions(ctx)
		if err != nil {
			return err
		}
		p.Pinned = &ui.PinnedForm{Text: strings.Join(pinned, "\n"), Count: len(pinned), Error: pinnedError}
		if pinnedError != "" {
			p.Pinned.Text = pinnedText
		}
	}
	if err := s.chatHistory(c, &p); err != nil {
		return err
	}
	return render(c, status, ui.ChatPage(p))
}

// hasSampleData reports whether the sample knowledge base is loaded.
func (s *Server) hasSampleData(ctx context.Context) (bool, error) {
	docs, err := s.store.ListDocuments(ctx)
	if err != nil {
		return false, err
	}
	for _, d := range docs {
		if strings.HasPrefix(d.Source, sampleSourcePrefix) {
			return true, nil
		}
	}
	return false, nil
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

// suggestions are, in order: the questions an admin pinned, then the
// questions the team asks most often (at least twice, paraphrases counted
// as one) whose answers were grounded, not a fallback and got no thumbs
// down, then, while sample data is loaded, questions from the sample eval
// set. The last questions someone happened to type are not suggestions.
func (s *Server) suggestions(ctx context.Context, hasSample bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(q string) {
		k := paraphraseKey(q)
		if k != "" && !seen[k] && len(out) < maxSuggestions && len(q) <= 120 {
			seen[k] = true
			out = append(out, asked(q))
		}
	}
	pinned, err := s.pinnedQuestions(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range pinned {
		add(q)
	}
	// Status ok leaves out answers that fell back (status fallback).
	traces, _, err := s.store.ListTraces(ctx, store.TraceFilter{Kind: schema.KindAsk, Status: schema.StatusOK, Page: store.Page{Limit: 500}})
	if err != nil {
		return nil, err
	}
	type question struct {
		texts  map[string]int // each phrasing and how often it was typed
		count  int
		order  int // first seen, newest first: ties go to the recent one
		traces []string
	}
	byKey := map[string]*question{}
	for i, t := range traces {
		// Only the team's own chat questions: widget visitors' may hold
		// personal details.
		if t.Attributes[schema.AttrChannel] != schema.ChannelChat || !grounded(t.Attributes) {
			continue
		}
		k := paraphraseKey(t.Input)
		if k == "" {
			continue
		}
		q := byKey[k]
		if q == nil {
			q = &question{texts: map[string]int{}, order: i}
			byKey[k] = q
		}
		q.texts[strings.TrimSpace(t.Input)]++
		q.count++
		q.traces = append(q.traces, t.ID)
	}
	ranked := make([]*question, 0, len(byKey))
	for _, q := range byKey {
		if q.count >= minAskedForSuggestion {
			ranked = append(ranked, q)
		}
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
		if s.thumbedDown(ctx, q.traces) {
			continue // someone said the answer was wrong
		}
		add(bestPhrasing(q.texts))
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

// minAskedForSuggestion is how often a question must have been asked (in
// any phrasing) to be suggested: once is what someone typed, not what the
// team asks.
const minAskedForSuggestion = 2

// grounded reports whether a traced answer met the groundedness it was
// held to (traces from before the threshold was recorded count as
// grounded when their status was ok).
func grounded(attrs map[string]any) bool {
	g, ok := attrs[schema.AttrGroundedness].(float64)
	if !ok {
		return true
	}
	th, ok := attrs[schema.AttrThreshold].(float64)
	return !ok || g >= th
}

// thumbedDown reports whether any of the traces got a thumbs down.
func (s *Server) thumbedDown(ctx context.Context, traceIDs []string) bool {
	for _, id := range traceIDs {
		fb, err := s.store.FeedbackFor(ctx, id)
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

// suggestionStopwords are the words that do not change what a question
// asks: "How do I export timesheets?" and "how can I export my timesheets"
// are one question.
var suggestionStopwords = map[string]bool{
	"a": true, "an": true, "the": true, "i": true, "we": true, "you": true, "my": true, "our": true, "your": true, "me": true, "us": true,
	"do": true, "does": true, "can": true, "could": true, "how": true, "is": true, "are": true, "to": true, "there": true, "way": true,
	"please": true, "it": true, "in": true, "on": true, "of": true, "for": true, "with": true, "should": true, "would": true, "be": true,
	"possible": true, "what": true, "where": true, "which": true, "some": true, "any": true, "this": true, "that": true, "about": true, "from": true,
}

// paraphraseKey reduces a question to its content words, singular and
// sorted, so that paraphrases and differently cased or punctuated
// questions share a key.
func paraphraseKey(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var keep []string
	for _, w := range words {
		if suggestionStopwords[w] {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = strings.TrimSuffix(w, "s")
		}
		keep = append(keep, w)
	}
	if len(keep) == 0 {
		// Only stopwords ("how do I?"): the words themselves are the key.
		keep = words
	}
	slices.Sort(keep)
	return strings.Join(slices.Compact(keep), " ")
}

// bestPhrasing picks how a question is shown: the phrasing typed most
// often, preferring one that starts with a capital and ends with a
// question mark, then the shorter.
func bestPhrasing(texts map[string]int) string {
	score := func(t string) int {
		n := texts[t] * 4
		if r, _ := utf8.DecodeRuneInString(t); unicode.IsUpper(r) {
			n++
		}
		if strings.HasSuffix(t, "?") {
			n++
		}
		return n
	}
	best := ""
	for t := range texts {
		if best == "" || score(t) > score(best) || (score(t) == score(best) && (len(t) < len(best) || (len(t) == len(best) && t < best))) {
			best = t
		}
	}
	return best
}

// asked shows a question as a suggestion: a capital first letter, "I"
// as a word in capitals, and a question mark, however it was typed.
func asked(q string) string {
	q = strings.TrimSpace(q)
	r, n := utf8.DecodeRuneInString(q)
	q = string(unicode.ToUpper(r)) + q[n:]
	words := strings.Split(q, " ")
	for i, w := range words {
		switch w {
		case "i", "i'm", "i've", "i'd", "i'll":
			words[i] = "I" + w[1:]
		}
	}
	q = strings.Join(words, " ")
	if !strings.HasSuffix(q, "?") && !strings.HasSuffix(q, ".") {
		q += "?"
	}
	return q
}
