package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

// formCall posts an HTML form with a bearer key.
func formCall(h http.Handler, path string, form url.Values, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+auth)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// offTopic falls back on the sample data: nothing in it is about birds.
const offTopic = `{"question":"What is the airspeed velocity of an unladen swallow?"}`

// TestEscalationInboxAPI: a widget answer that falls back and one asking
// for a person land in the inbox, once each, with one webhook post per
// new escalation; reviewers list and move them, viewers cannot; every
// change is audited.
func TestEscalationInboxAPI(t *testing.T) {
	t.Parallel()
	posts := make(chan map[string]any, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		posts <- body
	}))
	defer hook.Close()
	s := sampleServer(t, func(c *Config) { c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	h := s.http.Handler
	admin, reviewer, viewer := keyFor(t, s, store.RoleAdmin), keyFor(t, s, store.RoleReviewer), keyFor(t, s, store.RoleViewer)

	// The webhook: an address outside the allow-list is refused, an admin sets it.
	if rec := formCall(h, "/escalations/webhook", url.Values{"webhook_url": {"http://10.1.2.3/hook"}}, admin); rec.Code != http.StatusBadRequest {
		t.Errorf("private webhook address: %d, want 400", rec.Code)
	}
	if rec := formCall(h, "/escalations/webhook", url.Values{"webhook_url": {hook.URL + "/secret-path"}}, reviewer); rec.Code != http.StatusForbidden {
		t.Errorf("reviewer sets the webhook: %d, want 403", rec.Code)
	}
	if rec := formCall(h, "/escalations/webhook", url.Values{"webhook_url": {hook.URL + "/secret-path"}}, admin); rec.Code != http.StatusSeeOther {
		t.Fatalf("admin sets the webhook: %d %s", rec.Code, rec.Body)
	}

	pk := widgetKey(t, s, admin, "")
	_, fell := widgetAsk(t, s, pk, offTopic, true)
	if !fell.Fallback || !fell.Escalated || fell.ConversationID == "" {
		t.Fatalf("off-topic widget answer: %+v; want a fallback that escalates", fell)
	}
	// A follow-up in the same conversation is not a new escalation.
	widgetAsk(t, s, pk, `{"question":"And of an African swallow?","conversation_id":"`+fell.ConversationID+`"}`, false)
	_, person := widgetAsk(t, s, pk, `{"question":"Can I talk to a human about my Quokka Pass?"}`, false)
	if !person.Escalated {
		t.Fatalf("asking for a person: %+v; want escalated", person)
	}

	got := map[string]map[string]any{}
	for range 2 {
		select {
		case p := <-posts:
			got[p["escalation"].(string)] = p
		case <-time.After(30 * time.Second):
			t.Fatalf("webhook posts: got %d, want 2", len(got))
		}
	}
	if p := got[fell.ConversationID]; p == nil || p["reason"] != store.ReasonFallback || !strings.Contains(p["text"].(string), "unladen swallow") ||
		!strings.HasSuffix(p["url"].(string), "/escalations/"+fell.ConversationID) {
		t.Errorf("fallback webhook = %v", p)
	}
	if p := got[person.ConversationID]; p == nil || p["reason"] != store.ReasonAskedHuman || !strings.Contains(p["text"].(string), "asked for a person") {
		t.Errorf("person webhook = %v", p)
	}
	select {
	case p := <-posts:
		t.Errorf("a third webhook post: %v", p)
	case <-time.After(200 * time.Millisecond):
	}

	type list struct {
		Items []struct {
			store.Escalation
			Contact *store.Contact `json:"contact"`
		}
		Counts map[string]int
	}
	if rec := call(h, "GET", "/api/v1/escalations", "", viewer); rec.Code != http.StatusForbidden {
		t.Errorf("viewer lists: %d, want 403", rec.Code)
	}
	rec := call(h, "GET", "/api/v1/escalations?state=open", "", reviewer)
	var l list
	if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || rec.Code != 200 || len(l.Items) != 2 || l.Counts["open"] != 2 {
		t.Fatalf("reviewer lists open: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "GET", "/api/v1/escalations?state=later", "", reviewer); rec.Code != http.StatusBadRequest {
		t.Errorf("bad state filter: %d, want 400", rec.Code)
	}

	path := "/api/v1/escalations/" + fell.ConversationID
	for _, tc := range []struct {
		who, body string
		want      int
	}{
		{viewer, `{"state":"assigned"}`, http.StatusForbidden},
		{reviewer, `{"state":"resolved"}`, http.StatusBadRequest}, // a note is required
		{reviewer, `{"state":"open"}`, http.StatusConflict},       // it is open
		{reviewer, `{"state":"assigned"}`, http.StatusOK},         // to the caller
		{reviewer, `{"state":"resolved","note":"Emailed the customer."}`, http.StatusOK},
		{reviewer, `{"state":"assigned","assignee":"x"}`, http.StatusConflict},
	} {
		if rec := call(h, "PATCH", path, tc.body, tc.who); rec.Code != tc.want {
			t.Errorf("PATCH %s: %d %s, want %d", tc.body, rec.Code, rec.Body, tc.want)
		}
	}
	if rec := call(h, "PATCH", "/api/v1/escalations/01HZZZZZZZZZZZZZZZZZZZZZZZ", `{"state":"assigned"}`, reviewer); rec.Code != http.StatusNotFound {
		t.Errorf("unknown escalation: %d, want 404", rec.Code)
	}
	e, _, err := s.store.Escalation(context.Background(), fell.ConversationID)
	if err != nil || e.State != store.EscalationResolved || e.Assignee != "k-reviewer" || e.Note != "Emailed the customer." {
		t.Errorf("after resolving: %+v, %v", e, err)
	}
	events, _, err := s.store.FindAudit(context.Background(), store.AuditFilter{Resource: "escalation"})
	if err != nil || len(events) != 2 || events[0].Actor.Name != "k-reviewer" {
		t.Errorf("audit: %+v, %v; want 2 events by k-reviewer", events, err)
	}
	settings, _, _ := s.store.FindAudit(context.Background(), store.AuditFilter{Resource: "setting", Target: store.SettingEscalationWebhook})
	for _, ev := range settings {
		if strings.Contains(ev.After, "secret-path") {
			t.Errorf("the webhook's secret path is in the audit log: %q", ev.After)
		}
	}

	// The inbox page counts and filters.
	page := call(h, "GET", "/escalations?state=resolved", "", viewer).Body.String()
	for _, want := range []string{`data-testid="count-open">1<`, `data-testid="count-resolved">1<`, `data-testid="escalation-` + fell.ConversationID + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("inbox page lacks %s", want)
		}
	}
	if strings.Contains(page, person.ConversationID) {
		t.Error("the resolved filter lists an open escalation")
	}
}

// TestWidgetContact: a visitor leaves contact details only on their own
// escalated conversation; reviewers see them, viewers do not; they go
// with the conversation.
func TestWidgetContact(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	admin, reviewer, viewer := keyFor(t, s, store.RoleAdmin), keyFor(t, s, store.RoleReviewer), keyFor(t, s, store.RoleViewer)
	pk, other := widgetKey(t, s, admin, ""), widgetKey(t, s, admin, "")
	_, fell := widgetAsk(t, s, pk, offTopic, false)
	_, calm := widgetAsk(t, s, pk, `{"question":"How do I cancel my subscription?"}`, false)
	if !fell.Escalated || calm.Escalated {
		t.Fatalf("fallback escalated %v, answer escalated %v", fell.Escalated, calm.Escalated)
	}
	// A conversation a signed-in user started through the API.
	res := post(t, s.URL()+"/api/v1/ask", offTopic, "Authorization", "Bearer "+viewer)
	staff := decodeBody[struct {
		ConversationID string `json:"conversation_id"`
	}](t, res)

	contact := func(key, origin, body string) int {
		res := post(t, s.URL()+widgetPrefix+"contact", body, "Authorization", "Bearer "+key, "Origin", origin, "Sec-Fetch-Site", "cross-site")
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	// Each key has five requests at once per visitor: the cases share them
	// out between the two keys (bad input is refused before ownership is
	// looked at).
	good := `{"conversation_id":"` + fell.ConversationID + `","email":"ada@example.com","name":"Ada","message":"Please call back"}`
	for _, tc := range []struct {
		name, key, origin, body string
		want                    int
	}{
		{"secret key", reviewer, widgetSite, good, http.StatusUnauthorized},
		{"origin not allowed", pk, "https://evil.example.net", good, http.StatusForbidden},
		{"another widget key", other, widgetSite, good, http.StatusNotFound},
		{"a staff conversation", pk, widgetSite, `{"conversation_id":"` + staff.ConversationID + `","email":"ada@example.com"}`, http.StatusNotFound},
		{"unknown conversation", pk, widgetSite, `{"conversation_id":"01HZZZZZZZZZZZZZZZZZZZZZZZ","email":"ada@example.com"}`, http.StatusNotFound},
		{"no conversation", other, widgetSite, `{"email":"ada@example.com"}`, http.StatusBadRequest},
		{"not escalated", pk, widgetSite, `{"conversation_id":"` + calm.ConversationID + `","email":"ada@example.com"}`, http.StatusConflict},
		{"bad email", other, widgetSite, `{"conversation_id":"` + fell.ConversationID + `","email":"ada at example"}`, http.StatusBadRequest},
		{"nothing left", other, widgetSite, `{"conversation_id":"` + fell.ConversationID + `"}`, http.StatusBadRequest},
		{"long message", other, widgetSite, `{"conversation_id":"` + fell.ConversationID + `","message":"` + strings.Repeat("m", store.MaxContactMessage+1) + `"}`, http.StatusBadRequest},
		{"own conversation", pk, widgetSite, good, http.StatusOK},
	} {
		if got := contact(tc.key, tc.origin, tc.body); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}

	// Reviewers see the details; viewers learn only that there are some.
	page := call(h, "GET", "/escalations/"+fell.ConversationID, "", reviewer).Body.String()
	if !strings.Contains(page, "ada@example.com") || !strings.Contains(page, "Please call back") {
		t.Error("reviewer's escalation page lacks the contact details")
	}
	page = call(h, "GET", "/escalations/"+fell.ConversationID, "", viewer).Body.String()
	if strings.Contains(page, "ada@example.com") || strings.Contains(page, "Please call back") || !strings.Contains(page, `data-testid="contact-hidden"`) {
		t.Error("viewer's escalation page shows the contact details")
	}
	if !strings.Contains(page, "/traces/"+fell.TraceID) {
		t.Error("escalation page does not link the answer's trace")
	}
	rec := call(h, "GET", "/api/v1/escalations", "", reviewer)
	if !strings.Contains(rec.Body.String(), `"email":"ada@example.com"`) {
		t.Errorf("reviewer's list lacks the contact: %s", rec.Body)
	}

	// Retention deletes the conversation with its details.
	if err := s.store.SetRetentionDays(context.Background(), store.Actor{Kind: store.ActorCLI, Name: "t"}, 1); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Now().Add(72 * time.Hour) }
	if _, err := s.applyRetention(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := call(h, "GET", "/escalations/"+fell.ConversationID, "", reviewer); rec.Code != http.StatusNotFound {
		t.Errorf("escalation page after retention: %d, want 404", rec.Code)
	}
}

// TestCaseFromTraceUnanswerable: "Add to test set" on a trace can mark
// the case unanswerable (should have refused): no relevant documents; by
// default the cited documents are kept.
func TestCaseFromTraceUnanswerable(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	editor := keyFor(t, s, store.RoleEditor)
	ctx := context.Background()
	set, err := s.store.CreateTestSet(ctx, store.Actor{Kind: store.ActorCLI, Name: "t"}, store.TestSet{Name: "from traces"}, "", []store.EvalCase{{Question: "seed?"}})
	if err != nil {
		t.Fatal(err)
	}
	res := post(t, s.URL()+"/api/v1/ask", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+editor)
	ans := decodeBody[struct {
		TraceID string `json:"trace_id"`
	}](t, res)
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, unanswerable := range []bool{false, true} {
		form := url.Values{"trace_id": {ans.TraceID}, "set_id": {set.ID}}
		if unanswerable {
			form.Set("unanswerable", "1")
		}
		if rec := formCall(h, "/evals/cases/from-trace", form, editor); rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "case-added") {
			t.Fatalf("add (unanswerable %v): %d %s", unanswerable, rec.Code, rec.Header().Get("Location"))
		}
	}
	got, err := s.store.TestSet(ctx, set.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.store.TestSetVersion(ctx, set.ID, got.Version)
	if err != nil || len(v.Cases) != 3 {
		t.Fatalf("cases: %+v, %v", v, err)
	}
	if c := v.Cases[1]; c.Unanswerable || len(c.DocumentIDs) == 0 {
		t.Errorf("default case: unanswerable %v, documents %v; want answerable with the cited documents", c.Unanswerable, c.DocumentIDs)
	}
	if c := v.Cases[2]; !c.Unanswerable || len(c.DocumentIDs) != 0 || c.TraceID != ans.TraceID {
		t.Errorf("unanswerable case: %+v", c)
	}
}

// TestChatHistoryIsOwn: the chat page reopens only the caller's own
// conversations; another's is not found, and is not listed.
func TestChatHistoryIsOwn(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	ada, bob := keyFor(t, s, store.RoleViewer), keyFor(t, s, store.RoleEditor)
	res := post(t, s.URL()+"/api/v1/ask", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+ada)
	ans := decodeBody[struct {
		ConversationID string `json:"conversation_id"`
	}](t, res)
	if err := s.traces.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := call(h, "GET", "/chat?c="+ans.ConversationID, "", ada).Body.String()
	if !strings.Contains(page, `data-conversation-id="`+ans.ConversationID+`"`) || !strings.Contains(page, `id="chat-turns"`) ||
		!strings.Contains(page, "How do I cancel my subscription?") || !strings.Contains(page, `"citations":[{`) {
		t.Errorf("own conversation not reopened with its citations")
	}
	if rec := call(h, "GET", "/chat?c="+ans.ConversationID, "", bob); rec.Code != http.StatusNotFound {
		t.Errorf("another's conversation: %d, want 404", rec.Code)
	}
	if page := call(h, "GET", "/chat", "", bob).Body.String(); strings.Contains(page, ans.ConversationID) {
		t.Error("another's conversation is listed")
	}
}
