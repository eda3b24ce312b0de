package store

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// User is a person who signs in with email and password.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash []byte    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
}

func (u *User) summary() string { return fmt.Sprintf("%s <%s> role=%s", u.Name, u.Email, u.Role) }

// NormalizeEmail lowercases and trims an email address and validates it.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "", Errorf(EINVALID, "email %q is not a valid address", email)
	}
	return email, nil
}

// CountUsers returns how many user accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketUsers).Stats().KeyN
		return nil
	})
	return n, err
}

// CreateFirstAdmin creates u as an admin, but only while no user exists, so
// two racing setup forms cannot both claim the instance.
func (s *Store) CreateFirstAdmin(ctx context.Context, u *User) error {
	u.Role = RoleAdmin
	return s.createUser(ctx, Actor{}, u, true)
}

// CreateUser adds a user; the email must be unused.
func (s *Store) CreateUser(ctx context.Context, actor Actor, u *User) error {
	return s.createUser(ctx, actor, u, false)
}

func (s *Store) createUser(ctx context.Context, actor Actor, u *User, first bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !u.HasPassword() {
		return Errorf(EINVALID, "password is required")
	}
	if err := prepareUser(u); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return s.insertUser(tx, actor, u, first) })
}

// prepareUser validates a new user's email and role and tidies its fields.
func prepareUser(u *User) error {
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	}
	if !u.Role.Valid() {
		return Errorf(EINVALID, "role %q is not valid", u.Role)
	}
	u.Email, u.Name = email, strings.TrimSpace(u.Name)
	if u.Name == "" {
		u.Name = email
	}
	return nil
}

// insertUser adds the prepared user u in tx, audited; first refuses it
// once any user exists.
func (s *Store) insertUser(tx *bolt.Tx, actor Actor, u *User, first bool) error {
	users, byEmail := tx.Bucket(bucketUsers), tx.Bucket(bucketUsersByEmail)
	if first && users.Stats().KeyN > 0 {
		return Errorf(ECONFLICT, "setup is already complete")
	}
	if byEmail.Get([]byte(u.Email)) != nil {
		return Errorf(ECONFLICT, "a user with email %s already exists", u.Email)
	}
	u.CreatedAt = s.now().UTC()
	u.ID = NewIDAt(u.CreatedAt)
	if first {
		actor = Actor{Kind: ActorUser, ID: u.ID, Name: u.Email}
	}
	if err := putJSON(users, []byte(u.ID), u); err != nil {
		return err
	}
	if err := byEmail.Put([]byte(u.Email), []byte(u.ID)); err != nil {
		return err
	}
	after := u.summary()
	if !u.HasPassword() {
		after += " (invited: no password yet)"
	}
	return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "user", ResourceID: u.ID, After: after})
}

// UserByEmail finds a user by (case-insensitive) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	var u *User
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketUsersByEmail).Get([]byte(email))
		if id == nil {
			return Errorf(ENOTFOUND, "user not found")
		}
		var err error
		u, err = userByID(tx, id)
		return err
	})
	return u, err
}

// UserByID finds a user by ID.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var u *User
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		u, err = userByID(tx, []byte(id))
		return err
	})
	return u, err
}

func userByID(tx *bolt.Tx, id []byte) (*User, error) {
	var u User
	if ok, err := getJSON(tx.Bucket(bucketUsers), id, &u); err != nil {
		return nil, err
	} else if !ok {
		return nil, Errorf(ENOTFOUND, "user not found")
	}
	return &u, nil
}

// ListUsers returns every user, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var users []User
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			var u User
			if err := decode(v, &u); err != nil {
				return err
			}
			users = append(users, u)
			return nil
		})
	})
	return users, err
}

// SetUserRole changes a user's role and lowers their API keys to it. The
// last admin cannot be demoted, so the instance always has someone who
// can manage it.
func (s *Store) SetUserRole(ctx context.Context, actor Actor, id string, role Role) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, Errorf(EINVALID, "role %q is not valid", role)
	}
	var u *User
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if u, err = userByID(tx, []byte(id)); err != nil {
			return err
		}
		if u.Role == role {
			return nil
		}
		if u.Role == RoleAdmin && countAdmins(tx) == 1 {
			return Errorf(ECONFLICT, "%s is the last admin; make someone else admin first", u.Email)
		}
		before := u.summary()
		u.Role = role
		if err := putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u); err != nil {
			return err
		}
		if err := s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "user", ResourceID: u.ID, Before: before, After: u.summary()}); err != nil {
			return err
		}
		return clampKeysOf(tx, s.now(), actor, u)
	})
	return u, err
}

// DeleteUser removes a user, signs out all their sessions, voids their
// account link and revokes their API keys. The last admin cannot be
// deleted.
func (s *Store) DeleteUser(ctx context.Context, actor Actor, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		u, err := userByID(tx, []byte(id))
		if err != nil {
			return err
		}
		if u.Role == RoleAdmin && countAdmins(tx) == 1 {
			return Errorf(ECONFLICT, "%s is the last admin and cannot be deleted", u.Email)
		}
		if err := tx.Bucket(bucketUsers).Delete([]byte(u.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsersByEmail).Delete([]byte(u.Email)); err != nil {
			return err
		}
		if _, err := deleteSessionsWhere(tx, func(sess *Session) bool { return sess.UserID == u.ID }); err != nil {
			return err
		}
		if _, err := deleteLinksWhere(tx, func(l *AccountLink) bool { return l.UserID == u.ID }); err != nil {
			return err
		}
		if err := s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "user", ResourceID: u.ID, Before: u.summary()}); err != nil {
			return err
		}
		return revokeKeysOf(tx, s.now(), actor, u)
	})
}

func countAdmins(tx *bolt.Tx) int {
	n := 0
	_ = tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
		var u User
		if decode(v, &u) == nil && u.Role == RoleAdmin {
			n++
		}
		return nil
	})
	return n
}
