package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session is a signed-in browser. Only the hash of its token is stored, so a
// copy of the database cannot be used to sign in.
type Session struct {
	Hash      string    `json:"hash"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// CreateSession signs user in for ttl and returns the token for the cookie.
// The sign-in is audited.
func (s *Store) CreateSession(ctx context.Context, u *User, ttl time.Duration, ip, userAgent string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	token := newSecret(32)
	now := s.now().UTC()
	sess := Session{Hash: hashSecret(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl), IP: ip, UserAgent: userAgent}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketSessions), []byte(sess.Hash), sess); err != nil {
			return err
		}
		actor := Actor{Kind: ActorUser, ID: u.ID, Name: u.Email}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: ActionLoginSucceeded, Resource: "session", ResourceID: u.Email, IP: ip, UserAgent: userAgent})
	})
	return token, err
}

// SessionUser returns the session for token and its user, or EUNAUTHORIZED
// when the token is unknown or expired.
func (s *Store) SessionUser(ctx context.Context, token string) (*Session, *User, error) {
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
		if !ok || s.now().After(sess.ExpiresAt) {
			return Errorf(EUNAUTHORIZED, "your session has expired; sign in again")
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

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(hashSecret(token)))
	})
}

// DeleteExpiredSessions removes sessions past their expiry and reports how
// many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	now := s.now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteSessionsWhere(tx, func(sess *Session) bool { return now.After(sess.ExpiresAt) })
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
