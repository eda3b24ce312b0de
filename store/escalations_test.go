package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

func TestEscalationInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := MustOpenClock(t)
	reviewer := store.Actor{Kind: store.ActorUser, ID: "u1", Name: "rita@example.com"}
	const owner = "key:widget1"
	calm, esc := store.NewID(), store.NewID()
	if err := s.AppendTurn(ctx, calm, "widget", owner, store.Turn{Question: "how do I cancel?", Answer: "Click Cancel.", TraceID: "t0"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendTurn(ctx, esc, "widget", owner, store.Turn{Question: "can I pay in bitcoin?", Answer: "I could not find that.", TraceID: "t1", Fallback: true}, true); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	if err := s.AppendTurn(ctx, esc, "widget", owner, store.Turn{Question: "let me talk to a human", Answer: "…", TraceID: "t2"}, true); err != nil {
		t.Fatal(err)
	}
	l, err := s.Escalations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Counts[store.EscalationOpen] != 1 || l.Counts[store.EscalationResolved] != 0 {
		t.Fatalf("inbox = %+v; want one open record", l)
	}
	e := l.Items[0]
	if e.ID != esc || e.State != store.EscalationOpen || e.Reason != store.ReasonFallback || e.TraceID != "t1" || e.Answers != 2 || e.Channel != "widget" {
		t.Errorf("record = %+v", e)
	}

	// The webhook claim goes out once.
	if _, ok, err := s.ClaimEscalationNotice(ctx, esc); err != nil || !ok {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	if _, ok, _ := s.ClaimEscalationNotice(ctx, esc); ok {
		t.Error("second claim succeeded")
	}

	// Transitions: table of (change, want error code or state).
	steps := []struct {
		ch      store.EscalationChange
		code    string
		state   store.EscalationState
		checkFn func(*store.Escalation) bool
	}{
		{store.EscalationChange{State: "closed"}, store.EINVALID, "", nil},
		{store.EscalationChange{State: store.EscalationAssigned}, store.EINVALID, "", nil},             // no assignee
		{store.EscalationChange{State: store.EscalationResolved, Note: "  "}, store.EINVALID, "", nil}, // no note
		{store.EscalationChange{State: store.EscalationOpen}, store.ECONFLICT, "", nil},                // already open
		{store.EscalationChange{State: store.EscalationAssigned, Assignee: "a\nb"}, store.EINVALID, "", nil},
		{store.EscalationChange{State: store.EscalationAssigned, Assignee: "rita@example.com"}, "", store.EscalationAssigned,
			func(e *store.Escalation) bool { return e.Assignee == "rita@example.com" }},
		{store.EscalationChange{State: store.EscalationAssigned, Assignee: "sam@example.com"}, "", store.EscalationAssigned,
			func(e *store.Escalation) bool { return e.Assignee == "sam@example.com" }},
		{store.EscalationChange{State: store.EscalationResolved, Note: strings.Repeat("n", 4001)}, store.EINVALID, "", nil},
		{store.EscalationChange{State: store.EscalationResolved, Note: "Replied by e-mail: we take cards only."}, "", store.EscalationResolved,
			func(e *store.Escalation) bool {
				return e.ResolvedAt != nil && e.ResolvedBy == "rita@example.com" && e.Note != "" && e.Assignee == "sam@example.com"
			}},
		{store.EscalationChange{State: store.EscalationAssigned, Assignee: "x"}, store.ECONFLICT, "", nil}, // resolved → assigned
	}
	for i, st := range steps {
		// A second between changes: audit events of one millisecond
		// sort by their IDs' random part when other tests make IDs in
		// between (ulid's monotonic entropy only holds within one run
		// of the same millisecond).
		clock.Add(time.Second)
		got, err := s.UpdateEscalation(ctx, reviewer, esc, st.ch)
		if st.code != "" {
			if store.ErrorCode(err) != st.code {
				t.Errorf("step %d %+v: err %v, want %s", i, st.ch, err, st.code)
			}
			continue
		}
		if err != nil || got.State != st.state || !st.checkFn(got) {
			t.Errorf("step %d %+v: got %+v, %v", i, st.ch, got, err)
		}
	}
	if _, err := s.UpdateEscalation(ctx, reviewer, calm, store.EscalationChange{State: store.EscalationAssigned, Assignee: "x"}); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("a conversation that never escalated: %v, want ENOTFOUND", err)
	}
	if l, _ := s.Escalations(ctx, store.EscalationResolved); len(l.Items) != 1 || l.Counts[store.EscalationResolved] != 1 || l.Counts[store.EscalationOpen] != 0 {
		t.Errorf("resolved filter = %+v", l)
	}
	if _, err := s.Escalations(ctx, "pending"); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("bad state filter: %v", err)
	}

	// Every state change is audited, contact details never.
	events, _, err := s.FindAudit(ctx, store.AuditFilter{Resource: "escalation"})
	if err != nil || len(events) != 3 {
		t.Fatalf("audit = %d events, %v; want 3", len(events), err)
	}
	if events[0].After != "resolved → sam@example.com: Replied by e-mail: we take cards only." || events[0].Before != "assigned → sam@example.com" {
		t.Errorf("last audit event = %+v", events[0])
	}

	// Escalating again reopens a resolved record, and notifies again.
	clock.Add(time.Minute)
	if err := s.AppendTurn(ctx, esc, "widget", owner, store.Turn{Question: "and ethereum?", TraceID: "t3", Fallback: true}, true); err != nil {
		t.Fatal(err)
	}
	e2, _, err := s.Escalation(ctx, esc)
	if err != nil || e2.State != store.EscalationOpen || e2.ResolvedAt != nil || e2.Answers != 3 || e2.Notified {
		t.Errorf("after a new escalation: %+v, %v", e2, err)
	}
	if days, err := s.EscalationsPerDay(ctx, clock.Now(), 3); err != nil || days[2] != 1 || days[0]+days[1] != 0 {
		t.Errorf("per day = %v, %v; want [0 0 1]", days, err)
	}
}

func TestConversationContact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := MustOpenClock(t)
	const owner, other = "key:widget1", "key:widget2"
	id := store.NewID()
	if err := s.AppendTurn(ctx, id, "widget", owner, store.Turn{Question: "refund?", TraceID: "t1", Fallback: true}, true); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]store.Contact{
		"empty":          {},
		"not an address": {Email: "ada-at-example.com"},
		"display name":   {Email: "Ada <ada@example.com>"},
		"no dot":         {Email: "ada@localhost"},
		"two addresses":  {Email: "a@example.com, b@example.com"},
		"long email":     {Email: strings.Repeat("a", 250) + "@example.com"},
		"long name":      {Name: strings.Repeat("n", store.MaxContactName+1)},
		"long message":   {Message: strings.Repeat("m", store.MaxContactMessage+1)},
		"name newline":   {Name: "Ada\r\nBcc: x"},
	} {
		if err := s.SetConversationContact(ctx, id, owner, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
	calm := store.NewID()
	if err := s.AppendTurn(ctx, calm, "widget", owner, store.Turn{Question: "hi", TraceID: "t0"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConversationContact(ctx, calm, owner, store.Contact{Email: "ada@example.com"}); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("a conversation not escalated: %v, want ECONFLICT", err)
	}
	if err := s.SetConversationContact(ctx, id, other, store.Contact{Email: "eve@example.com"}); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("another owner's conversation: %v, want ENOTFOUND", err)
	}
	if err := s.SetConversationContact(ctx, id, owner, store.Contact{Email: " ada@example.com ", Name: "Ada", Message: "Please call back"}); err != nil {
		t.Fatal(err)
	}
	e, c, err := s.Escalation(ctx, id)
	if err != nil || !e.HasContact || c.Contact == nil || c.Contact.Email != "ada@example.com" || c.Contact.Message != "Please call back" {
		t.Fatalf("escalation %+v conversation contact %+v, %v", e, c.Contact, err)
	}

	// Retention: a conversation last active before the cutoff goes, with
	// its contact details and inbox record; a recent one stays.
	clock.Add(48 * time.Hour)
	recent := store.NewID()
	if err := s.AppendTurn(ctx, recent, "widget", owner, store.Turn{Question: "hi", TraceID: "t9", Fallback: true}, true); err != nil {
		t.Fatal(err)
	}
	// Batches of one: the pass goes on until every old one is gone.
	n, err := s.DeleteConversationsBefore(ctx, clock.Now().Add(-24*time.Hour), 1)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want the two old ones", n, err)
	}
	if _, err := s.Conversation(ctx, id, owner); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("old conversation still there: %v", err)
	}
	if _, _, err := s.Escalation(ctx, id); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("old inbox record (and its contact details) still there: %v", err)
	}
	if l, _ := s.Escalations(ctx, ""); len(l.Items) != 1 || l.Items[0].ID != recent {
		t.Errorf("inbox after retention = %+v", l.Items)
	}
	if h, _ := s.Conversations(ctx, owner, 10); len(h) != 1 || h[0].ID != recent {
		t.Errorf("history after retention = %+v", h)
	}
}

func TestConversationHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := MustOpenClock(t)
	const ada, bob = "user:ada", "user:bob"
	var ids []string
	for i, q := range []string{"first question", "second question", "third question"} {
		id := store.NewIDAt(clock.Now())
		ids = append(ids, id)
		if err := s.StartConversation(ctx, id, "chat", ada); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendTurn(ctx, id, "chat", ada, store.Turn{Question: q, TraceID: "t" + q}, false); err != nil {
			t.Fatal(err)
		}
		_ = i
		clock.Add(time.Minute)
	}
	// An empty conversation (an ask that failed) and another user's are not listed.
	if err := s.StartConversation(ctx, store.NewIDAt(clock.Now()), "chat", ada); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendTurn(ctx, store.NewID(), "chat", bob, store.Turn{Question: "bob's"}, false); err != nil {
		t.Fatal(err)
	}
	// The first conversation goes on: it is the most recently active.
	clock.Add(time.Minute)
	if err := s.AppendTurn(ctx, ids[0], "chat", ada, store.Turn{Question: "follow-up"}, false); err != nil {
		t.Fatal(err)
	}
	h, err := s.Conversations(ctx, ada, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range h {
		got = append(got, c.Title)
	}
	if want := "first question|third question|second question"; strings.Join(got, "|") != want {
		t.Errorf("history = %q, want %q", strings.Join(got, "|"), want)
	}
	if h[0].Turns != 2 {
		t.Errorf("turns = %d, want 2", h[0].Turns)
	}
	if h, _ := s.Conversations(ctx, bob, 10); len(h) != 1 || h[0].Title != "bob's" {
		t.Errorf("bob's history = %+v", h)
	}
}
