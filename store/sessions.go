package store

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session is a signed-in browser. Only the hash of its token is stored, so a
// copy of the database cannot be used to sign in.
type Session struct {
	Hash      string    `json:"hash"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"` // absolute: the session ends then however busy it is
	// LastSeenAt is when the session was last used, recorded at most once
	// a minute (see TouchSession); a session unused for the idle time ends.
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	IP         string    `json:"ip,omitempty"` // where it was last seen from
	UserAgent  string    `json:"user_agent,omitempty"`
}

// sessionIDLen is how many hex digits of the hash name a session.
const sessionIDLen = 16

// ID names the session in lists, revocations and traces without
// revealing anything that signs in: a prefix of its token's hash.
func (sess *Session) ID() string { return sess.Hash[:min(sessionIDLen, len(sess.Hash))] }

// seen is when the session was last used (sessions from before schema 10
// that were never touched count from their creation).
func (sess *Session) seen() time.Time {
	if sess.LastSeenAt.IsZero() {
		return sess.CreatedAt
	}
	return sess.LastSeenAt
}

// ended says why the session cannot be used at now ("" while it can):
// past its absolute expiry, or unused for longer than idle (0: no limit).
func (sess *Session) ended(now time.Time, idle time.Duration) string {
	switch {
	case now.After(sess.ExpiresAt):
		return "your session has expired; sign in again"
	case idle > 0 && now.Sub(sess.seen()) > idle:
		return "you were signed out after a while without activity; sign in again"
	}
	return ""
}

func (sess *Session) summary(u *User) string {
	who := sess.UserID
	if u != nil {
		who = u.Email
	}
	s := who + " session " + sess.ID()
	if sess.IP != "" {
		s += " from " + sess.IP
	}
	return s
}

// CreateSession signs user in for ttl and returns the token for the cookie.
// The sign-in is audited.
func (s *Store) CreateSession(ctx context.Context, u *User, ttl time.Duration, ip, userAgent string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var token string
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		token, err = s.putSession(tx, u, ttl, ip, userAgent)
		return err
	})
	return token, err
}

// putSession signs u in within tx, audited, and returns the new token.
func (s *Store) putSession(tx *bolt.Tx, u *User, ttl time.Duration, ip, userAgent string) (string, error) {
	token := newSecret(32)
	now := s.now().UTC()
	sess := Session{Hash: hashSecret(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeenAt: now, IP: ip, UserAgent: userAgent}
	if err := putJSON(tx.Bucket(bucketSessions), []byte(sess.Hash), sess); err != nil {
		return "", err
	}
	actor := Actor{Kind: ActorUser, ID: u.ID, Name: u.Email}
	return token, s.writeAudit(tx, AuditEvent{Actor: actor, Action: ActionLoginSucceeded, Resource: "session", ResourceID: u.Email,
		After: "session " + sess.ID(), IP: ip, UserAgent: userAgent})
}

// SessionUser returns the session for token and its user, or EUNAUTHORIZED
// when the token is unknown, past its absolute expiry, or unused for
// longer than idle (0: sessions never go idle).
func (s *Store) SessionUser(ctx context.Context, token string, idle time.Duration) (*Session, *User, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var sess Session
	var u *User
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketSessions), []byte(hashSecret(token)), &sess)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(EUNAUTHORIZED, "your session has expired; sign in again")
		}
		if why := sess.ended(s.now(), idle); why != "" {
			return Errorf(EUNAUTHORIZED, "%s", why)
		}
		u, err = userByID(tx, []byte(sess.UserID))
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EUNAUTHORIZED, "your account no longer exists")
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return &sess, u, nil
}

// TouchSession records that the session with this hash was used now, from
// ip. It is bookkeeping, not a change, so it is not audited; callers touch
// a session at most once a minute so reads do not become writes. A
// session revoked meanwhile stays gone.
func (s *Store) TouchSession(ctx context.Context, hash, ip string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var sess Session
		if ok, err := getJSON(b, []byte(hash), &sess); err != nil || !ok {
			return err
		}
		sess.LastSeenAt = s.now().UTC()
		if ip != "" {
			sess.IP = ip
		}
		return putJSON(b, []byte(hash), sess)
	})
}

// ListSessions returns the sessions of user userID that can still be
// used (see SessionUser), most recently seen first.
func (s *Store) ListSessions(ctx context.Context, userID string, idle time.Duration) ([]Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var out []Session
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(_, v []byte) error {
			var sess Session
			if err := decode(v, &sess); err != nil {
				return err
			}
			if sess.UserID == userID && sess.ended(now, idle) == "" {
				out = append(out, sess)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Session) int {
		return cmp.Or(b.seen().Compare(a.seen()), b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.Hash, b.Hash))
	})
	return out, err
}

// RevokeSession signs out the session of user userID whose ID is id, and
// returns it; ENOTFOUND when that user has no such session. Audited.
func (s *Store) RevokeSession(ctx context.Context, actor Actor, userID, id string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(id) != sessionIDLen {
		return nil, Errorf(ENOTFOUND, "session not found")
	}
	var found *Session
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		// The ID is a prefix of the key, so the session is the first key
		// at or after it, if that key starts with it.
		k, v := b.Cursor().Seek([]byte(id))
		if k == nil || string(k[:min(len(k), sessionIDLen)]) != id {
			return Errorf(ENOTFOUND, "session not found")
		}
		var sess Session
		if err := decode(v, &sess); err != nil {
			return err
		}
		if sess.UserID != userID {
			return Errorf(ENOTFOUND, "session not found")
		}
		if err := b.Delete(k); err != nil {
			return err
		}
		found = &sess
		u, _ := userByID(tx, []byte(userID))
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "session", ResourceID: sess.ID(),
			Before: sess.summary(u), After: "signed out"})
	})
	return found, err
}

// RevokeOtherSessions signs out every session of user userID except the
// one whose hash is keep ("" keeps none), and reports how many it ended.
// Audited as one event when it ended any.
func (s *Store) RevokeOtherSessions(ctx context.Context, actor Actor, userID, keep string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteSessionsWhere(tx, func(sess *Session) bool { return sess.UserID == userID && sess.Hash != keep })
		if err != nil || n == 0 {
			return err
		}
		who := userID
		if u, err := userByID(tx, []byte(userID)); err == nil {
			who = u.Email
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "session", ResourceID: userID,
			Before: plural(n, "session") + " of " + who, After: "signed out (all but the current one)"})
	})
	return n, err
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(hashSecret(token)))
	})
}

// DeleteExpiredSessions removes sessions past their expiry or idle for
// longer than idle (0: no idle limit) and reports how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idle time.Duration) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	now := s.now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteSessionsWhere(tx, func(sess *Session) bool { return sess.ended(now, idle) != "" })
		return err
	})
	return n, err
}

// deleteSessionsWhere removes the sessions match selects (and any that no
// longer decode). Keys are collected first: deleting under a moving bbolt
// cursor can skip entries.
func deleteSessionsWhere(tx *bolt.Tx, match func(*Session) bool) (int, error) {
	b := tx.Bucket(bucketSessions)
	var doomed [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var sess Session
		if err := decode(v, &sess); err != nil || match(&sess) {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// plural is "1 session", "3 sessions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
