package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// APIKeyPrefix starts every API key, so leaked keys are easy to recognise
// in logs and by secret scanners.
const APIKeyPrefix = "llmops_"

// APIKey authenticates scripts and other servers with a role. The secret is
// shown once at creation; only its hash is stored.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Hint       string    `json:"hint"` // the first characters, to tell keys apart
	Hash       string    `json:"-"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// storedKey is the persisted form: APIKey hides its hash from JSON output.
type storedKey struct {
	APIKey
	Hash string `json:"hash"`
}

func (k *APIKey) summary() string { return fmt.Sprintf("%s role=%s %s…", k.Name, k.Role, k.Hint) }

// CreateAPIKey makes a new key and returns its secret, which is not stored
// and cannot be recovered.
func (s *Store) CreateAPIKey(ctx context.Context, actor Actor, name string, role Role) (string, *APIKey, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, Errorf(EINVALID, "name must be 1 to 100 characters")
	}
	if !role.Valid() {
		return "", nil, Errorf(EINVALID, "role must be one of admin, editor, reviewer, viewer (got %q)", role)
	}
	secret := APIKeyPrefix + newSecret(24)
	k := &APIKey{Name: name, Role: role, Hint: secret[:len(APIKeyPrefix)+4], Hash: hashSecret(secret), CreatedBy: actor.String()}
	err := s.db.Update(func(tx *bolt.Tx) error {
		k.CreatedAt = s.now().UTC()
		k.ID = NewIDAt(k.CreatedAt)
		if err := putJSON(tx.Bucket(bucketAPIKeys), []byte(k.ID), storedKey{*k, k.Hash}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAPIKeyHashes).Put([]byte(k.Hash), []byte(k.ID)); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "api_key", ResourceID: k.ID, After: k.summary()})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// APIKeyBySecret authenticates a presented key. Unknown and revoked keys
// get the same EUNAUTHORIZED.
func (s *Store) APIKeyBySecret(ctx context.Context, secret string) (*APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var k *APIKey
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketAPIKeyHashes).Get([]byte(hashSecret(secret)))
		if id == nil {
			return Errorf(EUNAUTHORIZED, "invalid API key")
		}
		var err error
		k, err = apiKeyByID(tx, id)
		return err
	})
	return k, err
}

func apiKeyByID(tx *bolt.Tx, id []byte) (*APIKey, error) {
	var sk storedKey
	if ok, err := getJSON(tx.Bucket(bucketAPIKeys), id, &sk); err != nil {
		return nil, err
	} else if !ok {
		return nil, Errorf(ENOTFOUND, "API key not found")
	}
	sk.APIKey.Hash = sk.Hash
	return &sk.APIKey, nil
}

// ListAPIKeys returns every key (without secrets), newest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var keys []APIKey
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAPIKeys).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var sk storedKey
			if err := decode(v, &sk); err != nil {
				return err
			}
			keys = append(keys, sk.APIKey)
		}
		return nil
	})
	return keys, err
}

// DeleteAPIKey revokes a key at once: the next request with it gets 401.
func (s *Store) DeleteAPIKey(ctx context.Context, actor Actor, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		k, err := apiKeyByID(tx, []byte(id))
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketAPIKeys).Delete([]byte(k.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAPIKeyHashes).Delete([]byte(k.Hash)); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "api_key", ResourceID: k.ID, Before: k.summary()})
	})
}

// TouchAPIKey records that a key was used at t. Callers throttle it: it is
// bookkeeping, not a change, so it is not audited.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		var sk storedKey
		b := tx.Bucket(bucketAPIKeys)
		if ok, err := getJSON(b, []byte(id), &sk); err != nil || !ok {
			return err // a key revoked meanwhile needs no touch
		}
		sk.LastUsedAt = t.UTC()
		return putJSON(b, []byte(id), sk)
	})
}
