package store

import (
	"bytes"
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// EscalationState is where an escalated conversation stands in the inbox.
type EscalationState string

const (
	EscalationOpen     EscalationState = "open"     // nobody has taken it yet
	EscalationAssigned EscalationState = "assigned" // a person follows it up
	EscalationResolved EscalationState = "resolved" // done, with a note saying how
)

// EscalationStates lists the states in the inbox's order.
var EscalationStates = []EscalationState{EscalationOpen, EscalationAssigned, EscalationResolved}

// Escalation reasons: why the conversation was flagged.
const (
	ReasonFallback    = "fallback"     // an answer fell back (no support in the docs, or too little groundedness)
	ReasonAskedHuman  = "asked_person" // the customer asked for a person
	maxEscalationNote = 4000           // runes of a resolution note
	maxAssigneeLen    = 254            // an e-mail address's limit
)

// Escalation is an inbox record: one per escalated conversation, keyed by
// the conversation's ID. A conversation that escalates again after being
// resolved is opened again.
type Escalation struct {
	ID         string          `json:"id"` // the conversation's ID
	Channel    string          `json:"channel"`
	Reason     string          `json:"reason"`   // of the first escalated answer; asking for a person wins over a fallback
	Question   string          `json:"question"` // the question that escalated first
	TraceID    string          `json:"trace_id"` // that answer's trace
	Answers    int             `json:"escalated_answers"`
	State      EscalationState `json:"state"`
	Assignee   string          `json:"assignee,omitempty"`
	Note       string          `json:"note,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	ResolvedAt *time.Time      `json:"resolved_at,omitempty"`
	ResolvedBy string          `json:"resolved_by,omitempty"`
	// Notified is set once the new-escalation webhook has been queued.
	Notified bool `json:"notified,omitempty"`
	// HasContact says the visitor left contact details (they live on the
	// conversation and are shown to reviewers and up only).
	HasContact bool `json:"has_contact"`
}

// Contact is what a widget visitor chose to leave so that a person can
// get back to them. It is stored with the conversation and deleted with it.
type Contact struct {
	Email   string    `json:"email,omitempty"`
	Name    string    `json:"name,omitempty"`
	Message string    `json:"message,omitempty"`
	At      time.Time `json:"at"`
}

// Contact limits, in runes.
const (
	MaxContactEmail   = 254
	MaxContactName    = 100
	MaxContactMessage = 2000
)

// Validate trims c and checks it: at least one field, an e-mail address
// that parses as one bare address, sizes within the limits.
func (c *Contact) Validate() error {
	c.Email, c.Name, c.Message = strings.TrimSpace(c.Email), strings.TrimSpace(c.Name), strings.TrimSpace(c.Message)
	for _, f := range []struct {
		name, v string
		max     int
	}{{"email", c.Email, MaxContactEmail}, {"name", c.Name, MaxContactName}, {"message", c.Message, MaxContactMessage}} {
		if !utf8.ValidString(f.v) {
			return Errorf(EINVALID, "%s is not valid UTF-8", f.name)
		}
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return Errorf(EINVALID, "%s is longer than %d characters (%d)", f.name, f.max, n)
		}
		if strings.ContainsAny(f.v, "\x00") || (f.name != "message" && strings.ContainsAny(f.v, "\r\n")) {
			return Errorf(EINVALID, "%s contains control characters", f.name)
		}
	}
	if c.Email == "" && c.Name == "" && c.Message == "" {
		return Errorf(EINVALID, "leave an email, a name or a message")
	}
	if c.Email != "" {
		a, err := mail.ParseAddress(c.Email)
		// Only a bare address: no display name, no comments, one @ with a
		// dotted domain.
		if err != nil || a.Name != "" || a.Address != c.Email || !strings.Contains(c.Email[strings.LastIndexByte(c.Email, '@')+1:], ".") {
			return Errorf(EINVALID, "email %q is not an e-mail address", Preview(c.Email, 60))
		}
	}
	return nil
}

// escalateTx records an escalated answer of conversation c in the inbox:
// a new open record, or one more answer on the existing record (opened
// again when it was resolved).
func escalateTx(tx *bolt.Tx, c *Conversation, t *Turn, now time.Time) error {
	b := tx.Bucket(bucketEscalations)
	var e Escalation
	ok, err := getJSON(b, []byte(c.ID), &e)
	if err != nil {
		return err
	}
	if !ok {
		reason := ReasonFallback
		if t.AskedPerson || !t.Fallback {
			reason = ReasonAskedHuman
		}
		e = Escalation{ID: c.ID, Channel: c.Channel, Reason: reason, Question: Preview(t.Question, 500), TraceID: t.TraceID,
			State: EscalationOpen, CreatedAt: now}
	} else if e.State == EscalationResolved {
		e.State, e.ResolvedAt, e.ResolvedBy, e.Notified = EscalationOpen, nil, "", false
	}
	e.Answers++
	e.UpdatedAt = now
	e.HasContact = c.Contact != nil
	return putJSON(b, []byte(c.ID), &e)
}

// EscalationList is one state's page of the inbox, with the count of
// every state.
type EscalationList struct {
	Items  []Escalation            `json:"items"`
	Counts map[EscalationState]int `json:"counts"`
}

// Escalations lists the inbox newest first (by last change), only state
// when it is not empty, with the counts of every state. The inbox holds
// one record per escalated conversation within retention, so one pass
// over it is cheap.
func (s *Store) Escalations(ctx context.Context, state EscalationState) (*EscalationList, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if state != "" && !slices.Contains(EscalationStates, state) {
		return nil, Errorf(EINVALID, "state must be open, assigned or resolved (got %q)", Preview(string(state), 40))
	}
	out := &EscalationList{Items: []Escalation{}, Counts: map[EscalationState]int{}}
	for _, st := range EscalationStates {
		out.Counts[st] = 0
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEscalations).ForEach(func(_, v []byte) error {
			var e Escalation
			if err := decode(v, &e); err != nil {
				return err
			}
			out.Counts[e.State]++
			if state == "" || e.State == state {
				out.Items = append(out.Items, e)
			}
			return nil
		})
	})
	slices.SortFunc(out.Items, func(a, b Escalation) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, err
}

// EscalationsPerDay counts the escalations created on each of the days
// days up to and including the day of now (UTC), oldest first.
func (s *Store) EscalationsPerDay(ctx context.Context, now time.Time, days int) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	counts := make([]int, days)
	today := now.UTC().Truncate(24 * time.Hour)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEscalations).ForEach(func(_, v []byte) error {
			var e Escalation
			if err := decode(v, &e); err != nil {
				return err
			}
			back := int(today.Sub(e.CreatedAt.UTC().Truncate(24*time.Hour)) / (24 * time.Hour))
			if back >= 0 && back < days {
				counts[days-1-back]++
			}
			return nil
		})
	})
	return counts, err
}

// Escalation returns an inbox record and its conversation (contact
// details included: the caller decides who sees them).
func (s *Store) Escalation(ctx context.Context, id string) (*Escalation, *Conversation, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var e Escalation
	var c Conversation
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketEscalations), []byte(id), &e)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "escalation %s not found", Preview(id, MaxIDLen))
		}
		if ok, err = getJSON(tx.Bucket(bucketConversations), []byte(id), &c); err != nil {
			return err
		} else if !ok {
			c = Conversation{ID: id, Channel: e.Channel, Turns: []Turn{}}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return &e, &c, nil
}

// EscalationChange is a PATCH of an inbox record.
type EscalationChange struct {
	State    EscalationState `json:"state"`
	Assignee string          `json:"assignee,omitempty"`
	Note     string          `json:"note,omitempty"`
}

// escalationMoves are the allowed state changes. Assigned → assigned is a
// hand-over; resolved → open reopens.
var escalationMoves = map[EscalationState][]EscalationState{
	EscalationOpen:     {EscalationAssigned, EscalationResolved},
	EscalationAssigned: {EscalationAssigned, EscalationOpen, EscalationResolved},
	EscalationResolved: {EscalationOpen},
}

// UpdateEscalation moves record id to ch.State, audited in the same
// transaction. Assigning needs an assignee (the caller fills in itself
// when there is none); resolving needs a note; opening clears both.
func (s *Store) UpdateEscalation(ctx context.Context, actor Actor, id string, ch EscalationChange) (*Escalation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch.Assignee, ch.Note = strings.TrimSpace(ch.Assignee), strings.TrimSpace(ch.Note)
	switch {
	case !slices.Contains(EscalationStates, ch.State):
		return nil, Errorf(EINVALID, "state must be open, assigned or resolved (got %q)", Preview(string(ch.State), 40))
	case ch.State == EscalationAssigned && ch.Assignee == "":
		return nil, Errorf(EINVALID, "assignee is required to assign")
	case ch.State == EscalationResolved && ch.Note == "":
		return nil, Errorf(EINVALID, "note is required to resolve: say how it was resolved")
	case utf8.RuneCountInString(ch.Assignee) > maxAssigneeLen || strings.ContainsAny(ch.Assignee, "\x00\r\n"):
		return nil, Errorf(EINVALID, "assignee must be at most %d characters on one line", maxAssigneeLen)
	case utf8.RuneCountInString(ch.Note) > maxEscalationNote || !utf8.ValidString(ch.Note):
		return nil, Errorf(EINVALID, "note must be valid text of at most %d characters", maxEscalationNote)
	}
	var e Escalation
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEscalations)
		ok, err := getJSON(b, []byte(id), &e)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "escalation %s not found", Preview(id, MaxIDLen))
		}
		if !slices.Contains(escalationMoves[e.State], ch.State) {
			return Errorf(ECONFLICT, "escalation %s is %s; it cannot become %s", id, e.State, ch.State)
		}
		before := e.summary()
		now := s.now().UTC()
		e.State, e.UpdatedAt = ch.State, now
		switch ch.State {
		case EscalationOpen:
			e.Assignee, e.Note, e.ResolvedAt, e.ResolvedBy = "", "", nil, ""
		case EscalationAssigned:
			e.Assignee = ch.Assignee
		case EscalationResolved:
			e.Note, e.ResolvedAt, e.ResolvedBy = ch.Note, &now, actor.Name
			if ch.Assignee != "" {
				e.Assignee = ch.Assignee
			}
		}
		if err := putJSON(b, []byte(id), &e); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "escalation", ResourceID: id,
			Before: before, After: e.summary()})
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// summary is the record as the audit log shows it (never contact details).
func (e *Escalation) summary() string {
	s := string(e.State)
	if e.Assignee != "" {
		s += " → " + e.Assignee
	}
	if e.State == EscalationResolved {
		s += ": " + Preview(e.Note, 120)
	}
	return s
}

// ClaimEscalationNotice marks record id as notified and returns it, once:
// a second call (or one for a record already notified) returns false, so
// a new escalation's webhook goes out once.
func (s *Store) ClaimEscalationNotice(ctx context.Context, id string) (*Escalation, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var e Escalation
	claimed := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEscalations)
		ok, err := getJSON(b, []byte(id), &e)
		if err != nil || !ok || e.Notified || e.State != EscalationOpen {
			return err
		}
		e.Notified, claimed = true, true
		return putJSON(b, []byte(id), &e)
	})
	if err != nil || !claimed {
		return nil, false, err
	}
	return &e, true, nil
}

// SetConversationContact stores the contact details a visitor left on
// conversation id, which owner must have started (another owner's
// conversation is not found). The inbox record, if any, notes that there
// are details.
func (s *Store) SetConversationContact(ctx context.Context, id, owner string, ct Contact) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ct.Validate(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		var c Conversation
		ok, err := getJSON(b, []byte(id), &c)
		if err != nil {
			return err
		}
		if !ok || c.Owner != owner || owner == "" {
			return Errorf(ENOTFOUND, "conversation %s not found", Preview(id, MaxIDLen))
		}
		if !c.Escalated {
			return Errorf(ECONFLICT, "contact details can only be left on a conversation handed to a person")
		}
		ct.At = s.now().UTC()
		c.Contact = &ct
		if err := putJSON(b, []byte(id), &c); err != nil {
			return err
		}
		eb := tx.Bucket(bucketEscalations)
		var e Escalation
		if ok, err := getJSON(eb, []byte(id), &e); err != nil || !ok {
			return err
		}
		e.HasContact = true
		return putJSON(eb, []byte(id), &e)
	})
}

// DeleteConversationsBefore deletes the conversations last active before
// cutoff, with their contact details, owner index entries and inbox
// records, in transactions of at most batch conversations.
func (s *Store) DeleteConversationsBefore(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	total := 0
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, done := 0, false
		err := s.db.Update(func(tx *bolt.Tx) error {
			cb := tx.Bucket(bucketConversations)
			cur := cb.Cursor()
			k, v := cur.First()
			if after != nil {
				k, v = cur.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			var victims []Conversation
			scanned := 0
			for ; k != nil && scanned < batch*4; k, v = cur.Next() {
				scanned++
				after = bytes.Clone(k)
				var c Conversation
				if err := decode(v, &c); err != nil {
					c = Conversation{ID: string(k)} // undecodable: delete it all the same
				}
				c.ID = string(k)
				if c.UpdatedAt.Before(cutoff) {
					victims = append(victims, c)
					if len(victims) == batch {
						break
					}
				}
			}
			done = k == nil
			for _, c := range victims {
				for _, del := range []struct {
					b   []byte
					key []byte
				}{{bucketConversations, []byte(c.ID)}, {bucketEscalations, []byte(c.ID)}, {bucketConversationsByOwner, ownerKey(c.Owner, c.ID)}} {
					if err := tx.Bucket(del.b).Delete(del.key); err != nil {
						return err
					}
				}
			}
			n = len(victims)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if done {
			return total, nil
		}
	}
}

// ownerKey is a conversations_by_owner key: owner, 0, conversation ID.
func ownerKey(owner, id string) []byte {
	return append(append([]byte(owner), 0), id...)
}

// ConversationSummary is a line of a user's chat history.
type ConversationSummary struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"` // the first question
	Turns     int       `json:"turns"`
	Escalated bool      `json:"escalated,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Conversations lists owner's conversations that have at least one turn,
// most recently active first, at most limit of the newest started.
func (s *Store) Conversations(ctx context.Context, owner string, limit int) ([]ConversationSummary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	out := []ConversationSummary{}
	prefix := ownerKey(owner, "")
	err := s.db.View(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketConversations)
		cur := tx.Bucket(bucketConversationsByOwner).Cursor()
		// Newest started first: seek past the owner's last key and walk back.
		k, _ := cur.Seek(append(bytes.Clone(prefix[:len(prefix)-1]), 1))
		if k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = cur.Prev() {
			var c Conversation
			ok, err := getJSON(cb, k[len(prefix):], &c)
			if err != nil {
				return err
			}
			if !ok || len(c.Turns) == 0 || c.Owner != owner {
				continue
			}
			out = append(out, ConversationSummary{ID: c.ID, Title: Preview(c.Turns[0].Question, 120), Turns: len(c.Turns),
				Escalated: c.Escalated, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b ConversationSummary) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, err
}

// escalationsAndOwnerIndex is migration 16: the inbox and the owner index
// of conversations, filled from the stored conversations (every escalated
// one gets an open record, already notified: nobody wants a webhook
// storm for old escalations on upgrade).
func escalationsAndOwnerIndex(tx *bolt.Tx) error {
	if err := createBuckets(tx, bucketEscalations, bucketConversationsByOwner); err != nil {
		return err
	}
	ob, eb := tx.Bucket(bucketConversationsByOwner), tx.Bucket(bucketEscalations)
	return tx.Bucket(bucketConversations).ForEach(func(k, v []byte) error {
		var c Conversation
		if err := decode(v, &c); err != nil {
			return nil // unreadable: left to retention
		}
		c.ID = string(k)
		if err := ob.Put(ownerKey(c.Owner, c.ID), nil); err != nil {
			return err
		}
		if !c.Escalated || eb.Get(k) != nil {
			return nil
		}
		e := Escalation{ID: c.ID, Channel: c.Channel, Reason: ReasonFallback, State: EscalationOpen, CreatedAt: c.UpdatedAt, UpdatedAt: c.UpdatedAt, Notified: true}
		for _, t := range c.Turns {
			if t.Fallback {
				if e.Answers == 0 {
					e.Question, e.TraceID, e.CreatedAt = Preview(t.Question, 500), t.TraceID, t.At
				}
				e.Answers++
			}
		}
		return putJSON(eb, k, &e)
	})
}

// SettingEscalationWebhook names the setting holding the URL new
// escalations are posted to ("" or unset: none).
const SettingEscalationWebhook = "escalation_webhook_url"

// EscalationWebhook returns the new-escalation webhook URL, "" if none.
func (s *Store) EscalationWebhook(ctx context.Context) (string, error) {
	var u string
	_, err := s.Setting(ctx, SettingEscalationWebhook, &u)
	return u, err
}

// SetEscalationWebhook stores the new-escalation webhook URL (the caller
// has checked it), audited by scheme and host only: a chat webhook's path
// is its secret.
func (s *Store) SetEscalationWebhook(ctx context.Context, actor Actor, url string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		var before string
		if _, err := getJSON(b, []byte(SettingEscalationWebhook), &before); err != nil {
			return err
		}
		if err := putJSON(b, []byte(SettingEscalationWebhook), url); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "setting", ResourceID: SettingEscalationWebhook,
			Before: webhookHint(before), After: webhookHint(url)})
	})
}

// webhookHint is a webhook URL without its path: "https://hooks.slack.com/…".
func webhookHint(u string) string {
	if u == "" {
		return "(none)"
	}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(set)"
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + Preview(host, 100) + "/…"
}
