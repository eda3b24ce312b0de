package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

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

	// OwnerID is the user the key acts for: deleting them revokes it,
	// demoting them lowers its role to theirs, so a key never outlives
	// or outranks its owner. It is empty for a service key, made without
	// a user (llmops keys create, or by another service key).
	OwnerID string `json:"owner_id,omitempty"`

	// Kind is KeySecret ("", a server-side key acting with Role) or
	// KeyPublishable (the chat widget's key, safe in a web page: it may
	// only ask and send feedback, from Origins, at RatePerMinute per
	// visitor).
	Kind          string   `json:"kind,omitempty"`
	Origins       []string `json:"origins,omitempty"`
	RatePerMinute int      `json:"rate_per_minute,omitempty"`
	// Scope bounds what a publishable key's answers may draw on.
	Scope KeyScope `json:"scope,omitzero"`
	// PublishableKey is a publishable key itself, kept so that its snippet
	// can be shown whenever the widget settings are (it sits in page
	// source anyway). Secret keys keep only their hash; keys made before
	// this was kept have none.
	PublishableKey string `json:"publishable_key,omitempty"`
}

// KeyScope bounds the documents a publishable key's answers draw on:
// those in one of Categories (when there are any) that carry at least
// one of Tags (when there are any). The zero scope is the whole knowledge
// base. Values are lower-cased, as documents' categories and tags are.
type KeyScope struct {
	Categories []string `json:"categories,omitempty"`
	Tags       []string `json:"tags,omitempty"`
}

// IsZero reports whether s leaves the whole knowledge base in scope.
func (s KeyScope) IsZero() bool { return len(s.Categories) == 0 && len(s.Tags) == 0 }

// String is the scope as the audit log and the settings page say it.
func (s KeyScope) String() string {
	var parts []string
	if len(s.Categories) > 0 {
		parts = append(parts, "categories="+strings.Join(s.Categories, ","))
	}
	if len(s.Tags) > 0 {
		parts = append(parts, "tags="+strings.Join(s.Tags, ","))
	}
	return strings.Join(parts, " ")
}

// Bounds on a key's scope, the same as on a document's metadata (see
// rag.MaxCategoryRunes, rag.MaxTagRunes, rag.MaxTags). The vector index
// runs one query per category × tag pair, so the lists stay short.
const (
	maxScopeValues        = 20
	maxScopeCategoryRunes = 100
	maxScopeTagRunes      = 64
)

// NormalizeScope trims, lower-cases and de-duplicates a scope's values
// and checks their bounds.
func NormalizeScope(s KeyScope) (KeyScope, error) {
	var out KeyScope
	for _, f := range []struct {
		name     string
		in       []string
		out      *[]string
		maxRunes int
	}{
		{"categories", s.Categories, &out.Categories, maxScopeCategoryRunes},
		{"tags", s.Tags, &out.Tags, maxScopeTagRunes},
	} {
		vals := NormalizeTags(f.in)
		if len(vals) > maxScopeValues {
			return KeyScope{}, Errorf(EINVALID, "a widget key's scope takes at most %d %s (got %d)", maxScopeValues, f.name, len(vals))
		}
		for _, v := range vals {
			if utf8.RuneCountInString(v) > f.maxRunes {
				return KeyScope{}, Errorf(EINVALID, "scope %s: %q is longer than %d characters", f.name, Preview(v, 40), f.maxRunes)
			}
		}
		*f.out = vals
	}
	return out, nil
}

// API key kinds.
const (
	KeySecret      = ""
	KeyPublishable = "publishable"
)

// PublishableKeyPrefix starts publishable keys ("llmops_pk_…"), so a
// secret key pasted into a web page is easy to tell from one meant for it.
const PublishableKeyPrefix = APIKeyPrefix + "pk_"

// Publishable reports whether k is a chat widget key.
func (k *APIKey) Publishable() bool { return k.Kind == KeyPublishable }

// Service reports whether k belongs to no user (see OwnerID).
func (k *APIKey) Service() bool { return k.OwnerID == "" }

// Bounds on publishable keys.
const (
	DefaultWidgetRate = 20 // asks per minute per visitor
	maxWidgetRate     = 600
	maxOrigins        = 50
)

// storedKey is the persisted form: APIKey hides its hash from JSON output.
type storedKey struct {
	APIKey
	Hash string `json:"hash"`
}

func (k *APIKey) summary() string {
	if k.Publishable() {
		scope := ""
		if !k.Scope.IsZero() {
			scope = " " + k.Scope.String()
		}
		return fmt.Sprintf("%s publishable origins=%s rate=%d/min%s %s…", k.Name, strings.Join(k.Origins, ","), k.RatePerMinute, scope, k.Hint)
	}
	return fmt.Sprintf("%s role=%s %s…", k.Name, k.Role, k.Hint)
}

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
	if err := s.putNewKey(actor, k); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// CreatePublishableKey makes a chat widget key allowed from origins
// (scheme://host[:port] each, normalised) at ratePerMinute asks per
// visitor (0 = DefaultWidgetRate), answering from the documents in scope.
// Its secret is returned once.
func (s *Store) CreatePublishableKey(ctx context.Context, actor Actor, name string, origins []string, ratePerMinute int, scope KeyScope) (string, *APIKey, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, Errorf(EINVALID, "name must be 1 to 100 characters")
	}
	norm, err := NormalizeOrigins(origins)
	if err != nil {
		return "", nil, err
	}
	if ratePerMinute == 0 {
		ratePerMinute = DefaultWidgetRate
	}
	if ratePerMinute < 1 || ratePerMinute > maxWidgetRate {
		return "", nil, Errorf(EINVALID, "rate_per_minute must be 1 to %d (got %d)", maxWidgetRate, ratePerMinute)
	}
	if scope, err = NormalizeScope(scope); err != nil {
		return "", nil, err
	}
	secret := PublishableKeyPrefix + newSecret(24)
	k := &APIKey{Name: name, Role: RoleViewer, Kind: KeyPublishable, Origins: norm, RatePerMinute: ratePerMinute, Scope: scope,
		Hint: secret[:len(PublishableKeyPrefix)+4], Hash: hashSecret(secret), CreatedBy: actor.String(), PublishableKey: secret}
	if err := s.putNewKey(actor, k); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// NormalizeOrigins checks web origins ("https://help.example.com",
// "http://localhost:3000") and returns them lower-cased without a
// trailing slash or default port, deduplicated. At least one is needed:
// a widget key allowed nowhere would be useless, and one allowed
// everywhere would let any site spend the team's model budget.
func NormalizeOrigins(origins []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	switch {
	case len(out) == 0:
		return nil, Errorf(EINVALID, "give at least one allowed origin, e.g. https://help.example.com")
	case len(out) > maxOrigins:
		return nil, Errorf(EINVALID, "at most %d allowed origins (got %d)", maxOrigins, len(out))
	}
	return out, nil
}

func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(o, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return "", Errorf(EINVALID, "%q is not an origin: use scheme://host[:port], e.g. https://help.example.com", o)
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // IPv6
		}
	}
	return u.Scheme + "://" + host, nil
}

// AllowsOrigin reports whether a publishable key may be used from origin
// (the browser's Origin header).
func (k *APIKey) AllowsOrigin(origin string) bool {
	n, err := normalizeOrigin(origin)
	if err != nil {
		return false
	}
	for _, o := range k.Origins {
		if o == n {
			return true
		}
	}
	return false
}

// putNewKey stores a new key with its owner, hash index and audit event.
func (s *Store) putNewKey(actor Actor, k *APIKey) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		owner, err := keyOwner(tx, actor, k.Role)
		if err != nil {
			return err
		}
		k.OwnerID = owner
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
}

// keyOwner is the user a key made by actor with role belongs to: the
// signed-in user, or the owner of the key that makes it; "" (a service
// key) for the CLI and the system. A key may not outrank its owner.
func keyOwner(tx *bolt.Tx, actor Actor, role Role) (string, error) {
	var owner string
	switch actor.Kind {
	case ActorUser:
		if actor.ID == "" {
			return "", Errorf(EINVALID, "a user's key needs the user's ID")
		}
		owner = actor.ID
	case ActorKey:
		maker, err := apiKeyByID(tx, []byte(actor.ID))
		if ErrorCode(err) == ENOTFOUND {
			return "", Errorf(EUNAUTHORIZED, "invalid API key")
		} else if err != nil {
			return "", err
		}
		if !maker.Role.Allows(role) {
			return "", Errorf(EFORBIDDEN, "a key cannot make a key with more power than its own (%s)", maker.Role)
		}
		owner = maker.OwnerID
	}
	if owner == "" {
		return "", nil
	}
	u, err := userByID(tx, []byte(owner))
	if ErrorCode(err) == ENOTFOUND {
		return "", Errorf(EUNAUTHORIZED, "the key's owner no longer exists")
	} else if err != nil {
		return "", err
	}
	if !u.Role.Allows(role) {
		return "", Errorf(EFORBIDDEN, "a key cannot have more power than its owner (%s is %s)", u.Email, u.Role)
	}
	return owner, nil
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
		if k, err = apiKeyByID(tx, id); err != nil {
			return err
		}
		if k.Service() {
			return nil
		}
		// DeleteUser and SetUserRole already revoke and lower owned
		// keys; checking here too keeps the rule true for any record
		// that escaped them (a restored backup, a hand edit).
		u, err := userByID(tx, []byte(k.OwnerID))
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EUNAUTHORIZED, "invalid API key")
		} else if err != nil {
			return err
		}
		if !u.Role.Allows(k.Role) {
			k.Role = u.Role
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return k, nil
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
		if err := deleteKey(tx, k); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "api_key", ResourceID: k.ID, Before: k.summary()})
	})
}

// SetKeyScope changes what a publishable key's answers may draw on (the
// zero scope: everything), audited in the same transaction. The next ask
// with the key uses it. Secret keys have no scope: EINVALID.
func (s *Store) SetKeyScope(ctx context.Context, actor Actor, id string, scope KeyScope) (*APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scope, err := NormalizeScope(scope)
	if err != nil {
		return nil, err
	}
	var out *APIKey
	err = s.db.Update(func(tx *bolt.Tx) error {
		k, err := apiKeyByID(tx, []byte(id))
		if err != nil {
			return err
		}
		if !k.Publishable() {
			return Errorf(EINVALID, "scope is for publishable keys only; %q is a secret key", k.Name)
		}
		before := scopeText(k.Scope)
		k.Scope = scope
		if err := putJSON(tx.Bucket(bucketAPIKeys), []byte(k.ID), storedKey{*k, k.Hash}); err != nil {
			return err
		}
		out = k
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "api_key", ResourceID: k.ID,
			Before: k.Name + " answers from " + before, After: k.Name + " answers from " + scopeText(scope)})
	})
	return out, err
}

// scopeText says a scope for the audit log: "everything" for none.
func scopeText(s KeyScope) string {
	if s.IsZero() {
		return "everything"
	}
	return s.String()
}

func deleteKey(tx *bolt.Tx, k *APIKey) error {
	if err := tx.Bucket(bucketAPIKeys).Delete([]byte(k.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketAPIKeyHashes).Delete([]byte(k.Hash))
}

// keysOwnedBy returns the keys user id owns. Keys are few (people make
// them by hand), so a scan is cheaper than keeping an owner index right.
func keysOwnedBy(tx *bolt.Tx, id string) ([]*APIKey, error) {
	var out []*APIKey
	err := tx.Bucket(bucketAPIKeys).ForEach(func(_, v []byte) error {
		var sk storedKey
		if err := decode(v, &sk); err != nil {
			return err
		}
		if sk.OwnerID == id {
			sk.APIKey.Hash = sk.Hash
			out = append(out, &sk.APIKey)
		}
		return nil
	})
	return out, err
}

// revokeKeysOf deletes the keys u owns, in the transaction that deletes
// u, auditing each as done by actor at now.
func revokeKeysOf(tx *bolt.Tx, now time.Time, actor Actor, u *User) error {
	keys, err := keysOwnedBy(tx, u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := deleteKey(tx, k); err != nil {
			return err
		}
		if err := putAudit(tx, now, AuditEvent{Actor: actor, Action: "delete", Resource: "api_key", ResourceID: k.ID, Before: k.summary(),
			After: "revoked: its owner " + u.Email + " was removed"}); err != nil {
			return err
		}
	}
	return nil
}

// clampKeysOf lowers the keys u owns to u's role, in the transaction that
// changes it, auditing each as done by actor at now. A promotion raises none:
// a key's role is what it was made with, at most its owner's.
func clampKeysOf(tx *bolt.Tx, now time.Time, actor Actor, u *User) error {
	keys, err := keysOwnedBy(tx, u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if u.Role.Allows(k.Role) {
			continue
		}
		before := k.summary()
		k.Role = u.Role
		if err := putJSON(tx.Bucket(bucketAPIKeys), []byte(k.ID), storedKey{*k, k.Hash}); err != nil {
			return err
		}
		if err := putAudit(tx, now, AuditEvent{Actor: actor, Action: "update", Resource: "api_key", ResourceID: k.ID, Before: before,
			After: k.summary() + " (its owner " + u.Email + " is " + string(u.Role) + ")"}); err != nil {
			return err
		}
	}
	return nil
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
