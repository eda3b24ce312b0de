package store

import (
	"context"
	"strings"
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
	// IP and UserAgent say where a sign-in event came from.
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Audit actions of sign-in, besides create, update and delete. A failed
// or locked-out sign-in names the e-mail tried as its ResourceID.
const (
	ActionLoginSucceeded = "login.succeeded"
	ActionLoginFailed    = "login.failed"
	ActionLoginLocked    = "login.locked" // refused by the rate limit (429)
	ActionLogout         = "logout"
	ActionSetupSucceeded = "setup.succeeded"
	ActionSetupFailed    = "setup.failed"
)

// Lengths an audit event keeps of what a client sent: sign-in events
// record an e-mail, address and user agent nobody has vouched for.
const (
	maxAuditTarget    = 256
	maxAuditIP        = 64
	MaxAuditUserAgent = 200
)

// RecordAudit appends an event that goes with no stored change of its own
// (a failed sign-in, a sign-out), in its own transaction.
func (s *Store) RecordAudit(ctx context.Context, ev AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return s.writeAudit(tx, ev) })
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
	ev.Actor.Name = Preview(ev.Actor.Name, maxAuditTarget)
	ev.ResourceID = Preview(ev.ResourceID, maxAuditTarget)
	ev.IP = Preview(ev.IP, maxAuditIP)
	ev.UserAgent = Preview(ev.UserAgent, MaxAuditUserAgent)
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

// AuditFilter selects audit events for FindAudit. Empty fields match
// everything.
type AuditFilter struct {
	Page
	Actor string // the actor's name (an e-mail, a key's name) or ID, any case
	// Action matches exactly, any case; one without a dot also matches
	// its family ("login" matches "login.failed").
	Action   string
	Resource string    // the kind of resource: user, api_key, session, ...
	Target   string    // the resource's ID (for sign-in events, the e-mail), any case
	From, To time.Time // From ≤ Time < To; zero is unbounded
	// MaxScan bounds how many events one call examines (0: 10,000). A
	// page that reaches it ends early, with a cursor to go on from, so a
	// filter that matches little never reads the whole log at once.
	MaxScan int
}

// DefaultAuditScan is how many events FindAudit examines per page unless
// AuditFilter.MaxScan says otherwise.
const DefaultAuditScan = 10_000

func (f *AuditFilter) match(ev *AuditEvent) bool {
	switch {
	case f.Actor != "" && !strings.EqualFold(ev.Actor.Name, f.Actor) && !strings.EqualFold(ev.Actor.ID, f.Actor),
		f.Action != "" && !actionMatches(ev.Action, f.Action),
		f.Resource != "" && !strings.EqualFold(ev.Resource, f.Resource),
		f.Target != "" && !strings.EqualFold(ev.ResourceID, f.Target),
		!f.From.IsZero() && ev.Time.Before(f.From),
		!f.To.IsZero() && !ev.Time.Before(f.To):
		return false
	}
	return true
}

func actionMatches(action, want string) bool {
	if strings.EqualFold(action, want) {
		return true
	}
	family := want + "."
	return !strings.Contains(want, ".") && len(action) > len(family) && strings.EqualFold(action[:len(family)], family)
}

// ListAudit returns audit events newest first, and the cursor of the next
// page ("" when there is none).
func (s *Store) ListAudit(ctx context.Context, p Page) ([]AuditEvent, string, error) {
	return s.FindAudit(ctx, AuditFilter{Page: p})
}

// FindAudit returns the events f selects, newest first, and the cursor of
// the next page ("" when there is none). The bucket is keyed by
// time-sorted IDs, so From and To become where the scan starts and stops;
// the other fields are checked on each event, at most f.MaxScan of them
// per call. A page that stops at that bound may hold fewer than its limit
// (even none) and still have a next cursor.
func (s *Store) FindAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	start, stop := f.Before, ""
	if !f.To.IsZero() {
		// Keys below the floor of To rounded up to a millisecond hold
		// times before it, or in its millisecond; match checks the rest.
		if id, ok := idFloor(f.To.Add(time.Millisecond - 1)); ok && (start == "" || id < start) {
			start = id
		} else if !ok && f.To.Before(time.UnixMilli(0)) {
			return nil, "", nil
		}
	}
	if !f.From.IsZero() {
		stop, _ = idFloor(f.From)
	}
	maxScan := f.MaxScan
	if maxScan <= 0 {
		maxScan = DefaultAuditScan
	}
	var events []AuditEvent
	var next string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		var k, v []byte
		if start == "" {
			k, v = c.Last()
		} else if k, _ = c.Seek([]byte(start)); k == nil {
			// Seek lands on the first key >= start; start is exclusive.
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		last := "" // the last key examined: where a scan cut short goes on from
		for scanned := 0; k != nil && string(k) >= stop; k, v = c.Prev() {
			if scanned == maxScan {
				next = last
				return nil
			}
			if scanned%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			scanned++
			var ev AuditEvent
			if err := decode(v, &ev); err != nil {
				return err
			}
			if f.match(&ev) {
				if len(events) == f.limit() {
					next = last
					return nil
				}
				events = append(events, ev)
			}
			last = string(k)
		}
		return nil
	})
	return events, next, err
}
