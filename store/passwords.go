package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// LinkPurpose says what an account link is for.
type LinkPurpose string

const (
	// LinkInvite lets a new member, made without a password, choose one.
	LinkInvite LinkPurpose = "invite"
	// LinkReset lets a member whose password an admin reset choose a new one.
	LinkReset LinkPurpose = "reset"
)

// AccountLink is a one-time link that lets a person set their password and
// signs them in: an invite or a password reset, made by an admin and
// handed over by them (llmops sends no e-mail). Like sessions and API keys,
// only the hash of its token is stored. A user has at most one: making a
// new one replaces the old.
type AccountLink struct {
	Hash      string      `json:"hash"`
	Purpose   LinkPurpose `json:"purpose"`
	UserID    string      `json:"user_id"`
	CreatedBy Actor       `json:"created_by"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt time.Time   `json:"expires_at"`
}

// HasPassword reports whether u has chosen a password (an invited member
// has not, until they open their link).
func (u *User) HasPassword() bool { return len(u.PasswordHash) > 0 }

// InviteUser adds a member without a password and returns the token of
// their invite link, valid for ttl. The account and its link are made in
// one transaction, both audited.
func (s *Store) InviteUser(ctx context.Context, actor Actor, u *User, ttl time.Duration) (string, *AccountLink, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if u.HasPassword() {
		return "", nil, Errorf(EINVALID, "an invited member chooses their own password; send a password or an invite, not both")
	}
	if err := prepareUser(u); err != nil {
		return "", nil, err
	}
	var token string
	var link *AccountLink
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := s.insertUser(tx, actor, u, false); err != nil {
			return err
		}
		var err error
		token, link, err = s.putLink(tx, actor, u, LinkInvite, ttl)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, link, nil
}

// CreatePasswordLink makes a one-time link, valid for ttl, with which user
// userID chooses a new password: a reset, or a fresh invite for a member
// who never chose one. Their current password keeps working until the
// link is used; any earlier link of theirs stops working now. Audited.
func (s *Store) CreatePasswordLink(ctx context.Context, actor Actor, userID string, ttl time.Duration) (string, *AccountLink, *User, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, nil, err
	}
	var token string
	var link *AccountLink
	var u *User
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if u, err = userByID(tx, []byte(userID)); err != nil {
			return err
		}
		purpose := LinkReset
		if !u.HasPassword() {
			purpose = LinkInvite
		}
		token, link, err = s.putLink(tx, actor, u, purpose, ttl)
		return err
	})
	if err != nil {
		return "", nil, nil, err
	}
	return token, link, u, nil
}

// putLink stores a new link for u, replacing any earlier one (and
// dropping every expired link on the way), audited.
func (s *Store) putLink(tx *bolt.Tx, actor Actor, u *User, purpose LinkPurpose, ttl time.Duration) (string, *AccountLink, error) {
	now := s.now().UTC()
	replaced, err := deleteLinksWhere(tx, func(l *AccountLink) bool { return l.UserID == u.ID || !now.Before(l.ExpiresAt) })
	if err != nil {
		return "", nil, err
	}
	token := newSecret(32)
	link := &AccountLink{Hash: hashSecret(token), Purpose: purpose, UserID: u.ID, CreatedBy: actor, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := putJSON(tx.Bucket(bucketAccountLinks), []byte(link.Hash), link); err != nil {
		return "", nil, err
	}
	ev := AuditEvent{Actor: actor, Action: "create", Resource: "account_link", ResourceID: u.ID,
		After: string(purpose) + " link for " + u.Email + ", expires " + link.ExpiresAt.Format("2006-01-02 15:04 MST")}
	if replaced[u.ID] {
		ev.Before = "an earlier link for " + u.Email + " (now void)"
	}
	return token, link, s.writeAudit(tx, ev)
}

// AccountLinkByToken returns the link token opens and whose account it
// is for, or ENOTFOUND (with the reason) when it was used, replaced,
// never existed, expired, or its account is gone.
func (s *Store) AccountLinkByToken(ctx context.Context, token string) (*AccountLink, *User, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var link *AccountLink
	var u *User
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		link, u, err = s.linkByToken(tx, token)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return link, u, nil
}

func (s *Store) linkByToken(tx *bolt.Tx, token string) (*AccountLink, *User, error) {
	var link AccountLink
	ok, err := getJSON(tx.Bucket(bucketAccountLinks), []byte(hashSecret(token)), &link)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, Errorf(ENOTFOUND, "This link does not work: it was already used, or an admin made a newer one. Ask an admin for a new link.")
	}
	if !s.now().Before(link.ExpiresAt) {
		return nil, nil, Errorf(ENOTFOUND, "This link expired on %s. Ask an admin for a new one.", link.ExpiresAt.Format("2 Jan 2006 15:04 MST"))
	}
	u, err := userByID(tx, []byte(link.UserID))
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, Errorf(ENOTFOUND, "The account this link was for has been removed.")
	}
	if err != nil {
		return nil, nil, err
	}
	return &link, u, nil
}

// UseAccountLink spends the link token opens: its account's password
// becomes the one hashed as passwordHash, every session it had is signed
// out, and a new session (ttl, ip, userAgent) is returned with the user.
// All in one transaction, so a link works once even when opened twice at
// the same moment. Audited.
func (s *Store) UseAccountLink(ctx context.Context, token string, passwordHash []byte, ttl time.Duration, ip, userAgent string) (string, *User, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if len(passwordHash) == 0 {
		return "", nil, Errorf(EINVALID, "password is required")
	}
	var session string
	var u *User
	err := s.db.Update(func(tx *bolt.Tx) error {
		link, user, err := s.linkByToken(tx, token)
		if err != nil {
			return err
		}
		u = user
		if err := tx.Bucket(bucketAccountLinks).Delete([]byte(link.Hash)); err != nil {
			return err
		}
		n, err := s.setPassword(tx, u, passwordHash, "")
		if err != nil {
			return err
		}
		actor := Actor{Kind: ActorUser, ID: u.ID, Name: u.Email}
		after := "password set with an " + string(link.Purpose) + " link"
		if link.Purpose == LinkReset {
			after = "password set with a reset link"
		}
		if n > 0 {
			after += "; " + plural(n, "session") + " signed out"
		}
		if err := s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "user", ResourceID: u.ID, Before: u.summary(), After: after}); err != nil {
			return err
		}
		session, err = s.putSession(tx, u, ttl, ip, userAgent)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return session, u, nil
}

// ChangePassword gives user userID the password hashed as passwordHash
// and signs out every session of theirs except the one whose hash is keep
// ("" keeps none); their unused account link, if any, stops working. It
// reports how many sessions it ended. The caller has checked the current
// password. Audited.
func (s *Store) ChangePassword(ctx context.Context, actor Actor, userID string, passwordHash []byte, keep string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(passwordHash) == 0 {
		return 0, Errorf(EINVALID, "password is required")
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		u, err := userByID(tx, []byte(userID))
		if err != nil {
			return err
		}
		if n, err = s.setPassword(tx, u, passwordHash, keep); err != nil {
			return err
		}
		after := "password changed"
		if n > 0 {
			after += "; " + plural(n, "other session") + " signed out"
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "user", ResourceID: u.ID, Before: u.summary(), After: after})
	})
	return n, err
}

// setPassword stores u's new password hash, ends their sessions but keep
// and voids their account links; it returns how many sessions ended.
func (s *Store) setPassword(tx *bolt.Tx, u *User, passwordHash []byte, keep string) (int, error) {
	u.PasswordHash = passwordHash
	if err := putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u); err != nil {
		return 0, err
	}
	if _, err := deleteLinksWhere(tx, func(l *AccountLink) bool { return l.UserID == u.ID }); err != nil {
		return 0, err
	}
	return deleteSessionsWhere(tx, func(sess *Session) bool { return sess.UserID == u.ID && sess.Hash != keep })
}

// deleteLinksWhere removes the account links match selects (and any that
// no longer decode) and returns the users whose links it removed.
func deleteLinksWhere(tx *bolt.Tx, match func(*AccountLink) bool) (map[string]bool, error) {
	b := tx.Bucket(bucketAccountLinks)
	var doomed [][]byte
	users := map[string]bool{}
	err := b.ForEach(func(k, v []byte) error {
		var l AccountLink
		if err := decode(v, &l); err != nil || match(&l) {
			doomed = append(doomed, append([]byte(nil), k...))
			users[l.UserID] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return users, nil
}
