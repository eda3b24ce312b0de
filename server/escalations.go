package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/rag/assistant"
	"llmops/store"
	"llmops/ui"
)

// escalationDays is how many days the inbox's per-day chart covers.
const escalationDays = 14

// escalationJSON is an inbox record as GET /api/v1/escalations returns
// it: with the contact details the visitor left (the route needs the
// reviewer role, who may see them).
type escalationJSON struct {
	store.Escalation
	Contact *store.Contact `json:"contact,omitempty"`
}

// handleEscalationList is GET /api/v1/escalations?state=.
func (s *Server) handleEscalationList(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := s.store.Escalations(ctx, store.EscalationState(c.QueryParam("state")))
	if err != nil {
		return err
	}
	items := make([]escalationJSON, 0, len(l.Items))
	for _, e := range l.Items {
		item := escalationJSON{Escalation: e}
		if e.HasContact {
			_, conv, err := s.store.Escalation(ctx, e.ID)
			if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
			if conv != nil {
				item.Contact = conv.Contact
			}
		}
		items = append(items, item)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "counts": l.Counts})
}

// handleEscalationPatch is PATCH /api/v1/escalations/{id} {state,
// assignee?, note?}. Assigning without an assignee assigns the caller.
func (s *Server) handleEscalationPatch(c echo.Context) error {
	var ch store.EscalationChange
	if err := decodeJSON(c, &ch); err != nil {
		return err
	}
	e, err := s.changeEscalation(c, c.Param("id"), ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

// changeEscalation applies ch as the caller, filling in the caller as
// assignee when assigning to nobody in particular.
func (s *Server) changeEscalation(c echo.Context, id string, ch store.EscalationChange) (*store.Escalation, error) {
	p := principalOf(c)
	if ch.State == store.EscalationAssigned && strings.TrimSpace(ch.Assignee) == "" {
		ch.Assignee = p.actor.Name
		if p.user != nil {
			ch.Assignee = p.user.Email
		}
	}
	return s.store.UpdateEscalation(c.Request().Context(), p.actor, id, ch)
}

// contactRequest is POST /api/v1/widget/contact.
type contactRequest struct {
	ConversationID string `json:"conversation_id"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Message        string `json:"message"`
}

// handleWidgetContact stores the contact details a widget visitor left on
// their escalated conversation. Only the conversation's owner, the
// publishable key whose visitor started it, may: the conversation ID is
// the visitor's token (unguessable, kept in the visitor's browser only).
// Any other conversation is not found.
func (s *Server) handleWidgetContact(c echo.Context) error {
	var req contactRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ConversationID == "" || len(req.ConversationID) > store.MaxIDLen {
		return store.Errorf(store.EINVALID, "conversation_id is required")
	}
	err := s.store.SetConversationContact(c.Request().Context(), req.ConversationID, assistant.Owner(principalOf(c).actor),
		store.Contact{Email: req.Email, Name: req.Name, Message: req.Message})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"saved": true})
}

// escalationPayload is the new-escalation webhook's body.
type escalationPayload struct {
	Text       string `json:"text"` // Slack (and Mattermost, Teams workflows) show this
	Escalation string `json:"escalation"`
	Channel    string `json:"channel"`
	Reason     string `json:"reason"`
	Question   string `json:"question"`
	URL        string `json:"url"`
	TraceID    string `json:"trace_id"`
	At         string `json:"at"`
}

// notifyEscalation posts a new escalation of conversation id to the
// configured webhook, once per escalation (store.ClaimEscalationNotice),
// through the alert webhooks' queue, retries and outbound checks.
func (s *Server) notifyEscalation(ctx context.Context, base, id string) {
	if s.webhooks == nil || id == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	hook, err := s.store.EscalationWebhook(ctx)
	if err != nil || hook == "" {
		return
	}
	e, ok, err := s.store.ClaimEscalationNotice(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrClosed) {
			s.log.Warn("escalation webhook: not claimed", "escalation", id, "err", err)
		}
		return
	}
	if !ok {
		return
	}
	link := base + "/escalations/" + url.PathEscape(e.ID)
	why := "an answer fell back"
	if e.Reason == store.ReasonAskedHuman {
		why = "the customer asked for a person"
	}
	s.webhooks.Post("escalation|"+e.ID, hook, escalationPayload{
		Text:       fmt.Sprintf("🙋 New escalation (%s, %s): “%s” %s", e.Channel, why, store.Preview(e.Question, 200), link),
		Escalation: e.ID, Channel: e.Channel, Reason: e.Reason, Question: e.Question, URL: link, TraceID: e.TraceID,
		At: e.CreatedAt.UTC().Format(time.RFC3339),
	})
}

// Pages.

func escalationRow(e *store.Escalation) ui.EscalationRow {
	return ui.EscalationRow{ID: e.ID, Question: e.Question, Channel: e.Channel, Reason: e.Reason, State: string(e.State),
		Assignee: e.Assignee, Answers: e.Answers, HasContact: e.HasContact, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// handleEscalationsPage is the inbox: ?state= filters it.
func (s *Server) handleEscalationsPage(c echo.Context) error {
	p, err := s.escalationsPage(c)
	if err != nil {
		return err
	}
	p.Notice = noticeText(c.QueryParam("notice"))
	return render(c, http.StatusOK, ui.EscalationsPage(p))
}

func (s *Server) escalationsPage(c echo.Context) (ui.Escalations, error) {
	ctx := c.Request().Context()
	state := c.QueryParam("state")
	p := ui.Escalations{Chrome: chrome(c, "Escalation inbox", "escalations"), State: state, Now: s.now(),
		CanConfigure: principalOf(c).role.Allows(store.RoleAdmin)}
	l, err := s.store.Escalations(ctx, store.EscalationState(state))
	if err != nil {
		return p, err
	}
	total := 0
	for _, n := range l.Counts {
		total += n
	}
	p.Tabs = append(p.Tabs, ui.EscalationTab{Label: "All", Href: "/escalations", Count: total, Active: state == ""})
	for _, st := range store.EscalationStates {
		label := strings.ToUpper(string(st[:1])) + string(st[1:])
		p.Tabs = append(p.Tabs, ui.EscalationTab{Label: label, Href: "/escalations?state=" + string(st), Count: l.Counts[st],
			Active: state == string(st), State: string(st)})
	}
	for i := range l.Items {
		p.Items = append(p.Items, escalationRow(&l.Items[i]))
	}
	days, err := s.store.EscalationsPerDay(ctx, s.now(), escalationDays)
	if err != nil {
		return p, err
	}
	first := s.now().UTC().AddDate(0, 0, 1-escalationDays)
	for i, n := range days {
		p.PerDay = append(p.PerDay, ui.DayCount{Day: first.AddDate(0, 0, i).Format(time.DateOnly), Count: n})
	}
	if p.CanConfigure {
		if p.WebhookURL, err = s.store.EscalationWebhook(ctx); err != nil {
			return p, err
		}
	}
	return p, nil
}

// handleEscalationWebhookForm saves the new-escalation webhook (admin);
// an empty URL turns it off.
func (s *Server) handleEscalationWebhookForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	u := strings.TrimSpace(c.FormValue("webhook_url"))
	if u != "" {
		if err := s.outbound.CheckURL(u); err != nil {
			p, perr := s.escalationsPage(c)
			if perr != nil {
				return perr
			}
			p.Error, p.WebhookURL = store.ErrorMessage(err), u
			return render(c, http.StatusBadRequest, ui.EscalationsPage(p))
		}
	}
	if err := s.store.SetEscalationWebhook(c.Request().Context(), principalOf(c).actor, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/escalations?notice=escalation-webhook-saved")
}

// handleEscalationPage is one escalated conversation.
func (s *Server) handleEscalationPage(c echo.Context) error {
	p, err := s.escalationPage(c, c.Param("id"))
	if err != nil {
		return err
	}
	p.Notice = noticeText(c.QueryParam("notice"))
	return render(c, http.StatusOK, ui.EscalationPageView(p))
}

func (s *Server) escalationPage(c echo.Context, id string) (ui.Escalation, error) {
	e, conv, err := s.store.Escalation(c.Request().Context(), id)
	if err != nil {
		return ui.Escalation{}, err
	}
	pr := principalOf(c)
	p := ui.Escalation{Chrome: chrome(c, "Escalation", "escalations"), Row: escalationRow(e), Note: e.Note, ResolvedBy: e.ResolvedBy,
		ResolvedAt: e.ResolvedAt, CanChange: pr.role.Allows(store.RoleReviewer), Now: s.now()}
	if pr.user != nil {
		p.Me = pr.user.Email
	}
	for i, t := range conv.Turns {
		p.Turns = append(p.Turns, ui.EscalationTurn{N: i + 1, Question: t.Question, Answer: t.Answer, TraceID: t.TraceID, Fallback: t.Fallback, At: t.At})
	}
	// Contact details are personal data: reviewers and up, never viewers.
	if ct := conv.Contact; ct != nil {
		if pr.role.Allows(store.RoleReviewer) {
			p.Contact = &ui.EscalationContact{Email: ct.Email, Name: ct.Name, Message: ct.Message, At: ct.At}
		} else {
			p.ContactHidden = true
		}
	}
	return p, nil
}

// handleEscalationForm changes an escalation's state from its page.
func (s *Server) handleEscalationForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	id := c.Param("id")
	ch := store.EscalationChange{State: store.EscalationState(c.FormValue("state")), Assignee: c.FormValue("assignee"), Note: c.FormValue("note")}
	if _, err := s.changeEscalation(c, id, ch); err != nil {
		code := store.ErrorCode(err)
		if code != store.EINVALID && code != store.ECONFLICT {
			return err
		}
		p, perr := s.escalationPage(c, id)
		if perr != nil {
			return perr
		}
		p.Error = store.ErrorMessage(err)
		status := http.StatusBadRequest
		if code == store.ECONFLICT {
			status = http.StatusConflict
		}
		return render(c, status, ui.EscalationPageView(p))
	}
	return c.Redirect(http.StatusSeeOther, "/escalations/"+url.PathEscape(id)+"?notice=escalation-"+string(ch.State))
}
