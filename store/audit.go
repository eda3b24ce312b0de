package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEvent records one change: who did what to which resource, with a
// short before/after summary (never secrets).
type AuditEvent struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Actor      Actor     `json:"actor"`
	Action     string    `json:"action"`   // create, update, delete, login, ...
	Resource   string    `json:"resource"` // user, api_key, session, ...
	ResourceID string    `json:"resource_id,omitempty"`
	Before     string    `json:"before,omitempty"`
	After      string    `json:"after,omitempty"`
}

// writeAudit appends an audit event in the caller's transaction, so the
// change and its record commit or fail together.
func (s *Store) writeAudit(tx *bolt.Tx, ev AuditEvent) error {
	return putAudit(tx, s.now(), ev)
}

// putAudit appends an audit event that happened at t (migrations have no
// Store clock).
func putAudit(tx *bolt.Tx, t time.Time, ev AuditEvent) error {
	ev.Time = t.UTC()
	ev.ID = NewIDAt(ev.Time)
	return putJSON(tx.Bucket(bucketAudit), []byte(ev.ID), ev)
}

// Page asks for one page of a newest-first list. Before is the cursor
// returned as Next by the previous page ("" starts at the newest).
type Page struct {
	Before string
	Limit  int
}

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return 50
	case p.Limit > 500:
		return 500
	}
	return p.Limit
}

// ListAudit returns audit events newest first, and the cursor of the next
// page ("" when there is none).
func (s *Store) ListAudit(ctx context.Context, p Page) ([]AuditEvent, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var events []AuditEvent
	var next string
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		next, err = scanNewest(tx.Bucket(bucketAudit), p, func(_, v []byte) error {
			var ev AuditEvent
			if err := decode(v, &ev); err != nil {
				return err
			}
			events = append(events, ev)
			return nil
		})
		return err
	})
	return events, next, err
}

// scanNewest walks bucket b from the key just before p.Before (or the last
// key) backwards, calling fn for up to p.Limit entries. It returns the key
// to pass as Before for the following page.
func scanNewest(b *bolt.Bucket, p Page, fn func(k, v []byte) error) (string, error) {
	c := b.Cursor()
	var k, v []byte
	if p.Before == "" {
		k, v = c.Last()
	} else {
		// Before is exclusive: Seek lands on the first key >= Before and
		// Prev steps to the newest key older than it.
		k, _ = c.Seek([]byte(p.Before))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	n, last := 0, ""
	for ; k != nil; k, v = c.Prev() {
		if n == p.limit() {
			return last, nil
		}
		if err := fn(k, v); err != nil {
			return "", err
		}
		last = string(k)
		n++
	}
	return "", nil
}
