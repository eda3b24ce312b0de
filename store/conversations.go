package store

import (
	"context"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Conversation is a multi-turn chat with the assistant: the chat page's,
// a widget visitor's or an API client's. Earlier turns let a follow-up
// question be rewritten into a standalone one before retrieval.
type Conversation struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"` // chat, widget, api, cli
	Owner     string    `json:"owner"`   // Actor.String() of who started it; only they may continue it
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Escalated is set once any answer fell back: a human should follow up.
	Escalated bool   `json:"escalated,omitempty"`
	Turns     []Turn `json:"turns"`
	// Contact is what a widget visitor left for a person to get back to
	// them (POST /api/v1/widget/contact); shown to reviewers and up only.
	Contact *Contact `json:"contact,omitempty"`
}

// Turn is one question and its answer.
type Turn struct {
	Question string `json:"question"`
	// Standalone is the question rewritten with the conversation's
	// context, as retrieval saw it; empty when it needed no rewrite.
	Standalone string `json:"standalone,omitempty"`
	Answer     string `json:"answer"`
	TraceID    string `json:"trace_id"`
	Fallback   bool   `json:"fallback,omitempty"`
	// AskedPerson: the question asked for a person (it escalates).
	AskedPerson bool      `json:"asked_person,omitempty"`
	At          time.Time `json:"at"`
}

// MaxTurns bounds the turns a conversation keeps; older ones are dropped
// (their traces remain).
const MaxTurns = 50

// Conversation returns a conversation owned by owner. Another owner's
// conversation is reported as not found, so IDs cannot be probed.
func (s *Store) Conversation(ctx context.Context, id, owner string) (*Conversation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var c Conversation
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketConversations), []byte(id), &c)
		if err != nil {
			return err
		}
		if !ok || c.Owner != owner {
			return Errorf(ENOTFOUND, "conversation %s not found", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// StartConversation stores a new, empty conversation.
func (s *Store) StartConversation(ctx context.Context, id, channel, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" || strings.TrimSpace(owner) == "" {
		return Errorf(EINVALID, "conversation ID and owner are required")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		if b.Get([]byte(id)) != nil {
			return Errorf(ECONFLICT, "conversation %s exists", id)
		}
		now := s.now().UTC()
		if err := tx.Bucket(bucketConversationsByOwner).Put(ownerKey(owner, id), nil); err != nil {
			return err
		}
		return putJSON(b, []byte(id), &Conversation{ID: id, Channel: channel, Owner: owner, CreatedAt: now, UpdatedAt: now, Turns: []Turn{}})
	})
}

// AppendTurn adds a turn to conversation id, creating it (with channel
// and owner) when id is new. Turns beyond MaxTurns drop the oldest. An
// escalated turn puts the conversation in the escalation inbox.
func (s *Store) AppendTurn(ctx context.Context, id, channel, owner string, t Turn, escalate bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" || strings.TrimSpace(owner) == "" {
		return Errorf(EINVALID, "conversation ID and owner are required")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		var c Conversation
		ok, err := getJSON(b, []byte(id), &c)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if !ok {
			c = Conversation{ID: id, Channel: channel, Owner: owner, CreatedAt: now}
			if err := tx.Bucket(bucketConversationsByOwner).Put(ownerKey(owner, id), nil); err != nil {
				return err
			}
		} else if c.Owner != owner {
			return Errorf(ENOTFOUND, "conversation %s not found", id)
		}
		if t.At.IsZero() {
			t.At = now
		}
		c.Turns = append(c.Turns, t)
		if n := len(c.Turns); n > MaxTurns {
			c.Turns = append([]Turn(nil), c.Turns[n-MaxTurns:]...)
		}
		c.UpdatedAt = now
		c.Escalated = c.Escalated || escalate
		if escalate {
			// The inbox record commits with the turn: no escalation is
			// flagged on the conversation without landing in the inbox.
			if err := escalateTx(tx, &c, &t, now); err != nil {
				return err
			}
		}
		return putJSON(b, []byte(id), &c)
	})
}

// ConversationByID returns a conversation whoever owns it, for the staff
// pages that show one (the conversation page); Conversation is the
// owner's view.
func (s *Store) ConversationByID(ctx context.Context, id string) (*Conversation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var c Conversation
	err := s.db.View(func(tx *bolt.Tx) error {
		if ok, err := getJSON(tx.Bucket(bucketConversations), []byte(id), &c); err != nil {
			return err
		} else if !ok {
			return Errorf(ENOTFOUND, "conversation %s not found", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}
