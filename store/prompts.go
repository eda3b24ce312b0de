package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Prompt is a named prompt of the product (the answer prompt, the
// follow-up rewrite, the judges, the fallback message) with its labels.
// Its versions are immutable and stored apart (PromptVersion).
type Prompt struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Kind says what renders the prompt, and so which variables it
	// gets (a rag/prompt kind: "answer", "rewrite", "judge", "message").
	Kind      string    `json:"kind,omitempty"`
	Latest    int       `json:"latest"` // highest version ever saved, from 1
	CreatedAt time.Time `json:"created_at"`
	// Labels point at versions: production, staging, dev and custom ones.
	Labels map[string]PromptLabel `json:"labels,omitempty"`
	// Gate, when set, guards moves of the production label.
	Gate *PromptGate `json:"gate,omitempty"`
}

// PromptLabel points a label at one version, or splits traffic between
// versions by weight (Split non-empty, Version 0).
type PromptLabel struct {
	Version   int           `json:"version,omitempty"`
	Split     []SplitTarget `json:"split,omitempty"`
	UpdatedAt time.Time     `json:"updated_at"`
	UpdatedBy string        `json:"updated_by,omitempty"`
}

// SplitTarget is one arm of a weighted split.
type SplitTarget struct {
	Version int `json:"version"`
	Weight  int `json:"weight"`
}

// Versions lists the versions the label points at, in order.
func (l PromptLabel) Versions() []int {
	if len(l.Split) == 0 {
		return []int{l.Version}
	}
	out := make([]int, len(l.Split))
	for i, s := range l.Split {
		out[i] = s.Version
	}
	return out
}

// String is "4" or "4:90,5:10".
func (l PromptLabel) String() string {
	if len(l.Split) == 0 {
		if l.Version == 0 {
			return ""
		}
		return strconv.Itoa(l.Version)
	}
	parts := make([]string, len(l.Split))
	for i, s := range l.Split {
		parts[i] = fmt.Sprintf("%d:%d", s.Version, s.Weight)
	}
	return strings.Join(parts, ",")
}

// PromptGate is a prompt's eval gate: production may move only to a
// version with a finished, passing run on SetID.
type PromptGate struct {
	SetID string `json:"set_id"`
	// Thresholds holds per-metric bars ("faithfulness": 0.8): at least the
	// value, or at most it for a metric where lower is better.
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	// NoRegression also requires no metric to be significantly worse than
	// on the version production points at now, on the same set (paired
	// bootstrap, as the Evals comparison computes it).
	NoRegression bool `json:"no_regression,omitempty"`
}

// PromptConfig is what a team tunes beside the words. A field left unset
// (nil or zero) takes the server's setting.
type PromptConfig struct {
	Model                 string   `json:"model,omitempty"`
	Temperature           *float64 `json:"temperature,omitempty"`
	MaxTokens             int      `json:"max_tokens,omitempty"`
	TopK                  int      `json:"top_k,omitempty"`
	RetrievalMode         string   `json:"retrieval_mode,omitempty"` // hybrid, keyword, vector
	Rerank                *bool    `json:"rerank,omitempty"`
	GroundednessThreshold *float64 `json:"groundedness_threshold,omitempty"`
}

// PromptVersion is one immutable version of a prompt.
type PromptVersion struct {
	Name      string       `json:"name"`
	Version   int          `json:"version"`
	Template  string       `json:"template"`
	Variables []string     `json:"variables"`
	Config    PromptConfig `json:"config"`
	Message   string       `json:"message"`
	Author    string       `json:"author"`
	CreatedAt time.Time    `json:"created_at"`
	// Hash is the content address: template, variables and config.
	Hash string `json:"hash"`
}

// ContentHash is the content address of a version: the same template,
// variables and config always give the same hash, whatever the message.
func (v *PromptVersion) ContentHash() string {
	vars := slices.Clone(v.Variables)
	slices.Sort(vars)
	cfg, _ := json.Marshal(v.Config) // struct fields: a stable order
	h := sha256.New()
	for _, part := range [][]byte{[]byte(v.Template), []byte(strings.Join(vars, "\x00")), cfg} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// LabelMove is one entry of a label's history.
type LabelMove struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Label  string    `json:"label"`
	From   string    `json:"from"` // PromptLabel.String before; "" when new
	To     string    `json:"to"`
	Actor  Actor     `json:"actor"`
	Reason string    `json:"reason,omitempty"` // an admin's gate override
}

// ConflictError is the ECONFLICT of a save whose base version is not the
// latest: Current is the latest version, so the client can rebase.
type ConflictError struct {
	Err     *Error
	Current *PromptVersion
}

func (e *ConflictError) Error() string { return e.Err.Message }
func (e *ConflictError) Unwrap() error { return e.Err }

// Limits on prompts.
const (
	MaxPromptTemplate = 64 << 10
	MaxPromptMessage  = 500
	MaxPromptLabels   = 50
	MaxSplitArms      = 10
)

var (
	promptNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	labelNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// ValidPromptName reports whether name may name a prompt.
func ValidPromptName(name string) bool { return promptNameRE.MatchString(name) }

// ValidLabelName reports whether name may name a label.
func ValidLabelName(name string) bool { return labelNameRE.MatchString(name) }

func promptVersionKey(name string, v int) []byte {
	k := make([]byte, 0, len(name)+9)
	k = append(k, name...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(v))
}

func promptSubKey(name, sub string) []byte {
	return append(append([]byte(name), 0), sub...)
}

// Prompts lists every prompt, by name.
func (s *Store) Prompts(ctx context.Context) ([]Prompt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Prompt
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPrompts).ForEach(func(_, v []byte) error {
			var p Prompt
			if err := decode(v, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// Prompt returns the prompt name (ENOTFOUND when there is none).
func (s *Store) Prompt(ctx context.Context, name string) (*Prompt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var p *Prompt
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		p, err = promptIn(tx, name)
		return err
	})
	return p, err
}

func promptIn(tx *bolt.Tx, name string) (*Prompt, error) {
	var p Prompt
	ok, err := getJSON(tx.Bucket(bucketPrompts), []byte(name), &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Errorf(ENOTFOUND, "no prompt %q", name)
	}
	return &p, nil
}

// PromptVersions lists the versions of name, oldest first.
func (s *Store) PromptVersions(ctx context.Context, name string) ([]PromptVersion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []PromptVersion
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := promptIn(tx, name); err != nil {
			return err
		}
		prefix := append([]byte(name), 0)
		c := tx.Bucket(bucketPromptVersions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var pv PromptVersion
			if err := decode(v, &pv); err != nil {
				return err
			}
			out = append(out, pv)
		}
		return nil
	})
	return out, err
}

// PromptVersion returns version v of name (ENOTFOUND when missing).
func (s *Store) PromptVersion(ctx context.Context, name string, v int) (*PromptVersion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var pv *PromptVersion
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		pv, err = promptVersionIn(tx, name, v)
		return err
	})
	return pv, err
}

func promptVersionIn(tx *bolt.Tx, name string, v int) (*PromptVersion, error) {
	var pv PromptVersion
	ok, err := getJSON(tx.Bucket(bucketPromptVersions), promptVersionKey(name, v), &pv)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Errorf(ENOTFOUND, "prompt %s has no version %d", name, v)
	}
	return &pv, nil
}

// CreatePrompt stores a new prompt with its first version and points
// labels at it, audited. A prompt that exists already is left alone and
// reported as not created: seeding runs at every start.
func (s *Store) CreatePrompt(ctx context.Context, actor Actor, p Prompt, first PromptVersion, labels []string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !ValidPromptName(p.Name) {
		return false, Errorf(EINVALID, "prompt name %q: use 1 to 64 lower-case letters, digits, '.', '_' or '-'", p.Name)
	}
	created := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPrompts)
		if b.Get([]byte(p.Name)) != nil {
			return nil
		}
		now := s.now().UTC()
		first.Name, first.Version, first.CreatedAt = p.Name, 1, now
		first.Author = actorName(actor)
		first.Hash = first.ContentHash()
		p.Latest, p.CreatedAt, p.Labels = 1, now, map[string]PromptLabel{}
		for _, l := range labels {
			p.Labels[l] = PromptLabel{Version: 1, UpdatedAt: now, UpdatedBy: first.Author}
		}
		if err := putJSON(tx.Bucket(bucketPromptVersions), promptVersionKey(p.Name, 1), first); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPromptHashes).Put(promptSubKey(p.Name, first.Hash), encodeVersion(1)); err != nil {
			return err
		}
		for _, l := range labels {
			if err := s.putLabelMove(tx, p.Name, LabelMove{Label: l, To: "1", Actor: actor}); err != nil {
				return err
			}
		}
		if err := putJSON(b, []byte(p.Name), p); err != nil {
			return err
		}
		created = true
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "prompt", ResourceID: p.Name + "@1",
			After: Preview(first.Message, 200)})
	})
	return created, err
}

// SavePromptVersion stores v as the next version of its prompt unless a
// version with the same content exists, which is returned instead (created
// false). base is the version the change was made from: when it is not
// the latest, the save fails with a *ConflictError holding the latest.
func (s *Store) SavePromptVersion(ctx context.Context, actor Actor, v PromptVersion, base int) (*PromptVersion, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var out *PromptVersion
	created := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		p, err := promptIn(tx, v.Name)
		if err != nil {
			return err
		}
		v.Hash = v.ContentHash()
		if n := tx.Bucket(bucketPromptHashes).Get(promptSubKey(v.Name, v.Hash)); n != nil {
			out, err = promptVersionIn(tx, v.Name, int(binary.BigEndian.Uint64(n)))
			if err == nil || ErrorCode(err) != ENOTFOUND {
				return err
			} // a deleted version's content saves anew
		}
		if base != p.Latest {
			cur, err := promptVersionIn(tx, v.Name, p.Latest)
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
			return &ConflictError{Err: Errorf(ECONFLICT, "prompt %s is at version %d, not %d: someone saved a version since; start from version %d",
				v.Name, p.Latest, base, p.Latest), Current: cur}
		}
		p.Latest++
		v.Version, v.CreatedAt, v.Author = p.Latest, s.now().UTC(), actorName(actor)
		if err := putJSON(tx.Bucket(bucketPromptVersions), promptVersionKey(v.Name, v.Version), v); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPromptHashes).Put(promptSubKey(v.Name, v.Hash), encodeVersion(v.Version)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketPrompts), []byte(v.Name), p); err != nil {
			return err
		}
		out, created = &v, true
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "prompt_version",
			ResourceID: fmt.Sprintf("%s@%d", v.Name, v.Version), After: Preview(v.Message, 200)})
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// MovePromptLabel points label at to (a version or a split), records the
// move in the label's history and the audit log, and returns the prompt
// as it is now. Every version to names must exist. reason, when set, is
// an admin's override of the gate and is kept with the move. check runs
// inside the transaction with the prompt as it is (the gate); an error
// from it stops the move.
func (s *Store) MovePromptLabel(ctx context.Context, actor Actor, name, label string, to PromptLabel, reason string, check func(*Prompt) error) (*Prompt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !ValidLabelName(label) {
		return nil, Errorf(EINVALID, "label %q: use 1 to 32 lower-case letters, digits, '_' or '-'", label)
	}
	var out *Prompt
	err := s.db.Update(func(tx *bolt.Tx) error {
		p, err := promptIn(tx, name)
		if err != nil {
			return err
		}
		for _, v := range to.Versions() {
			if _, err := promptVersionIn(tx, name, v); err != nil {
				return err
			}
		}
		if check != nil {
			if err := check(p); err != nil {
				return err
			}
		}
		if p.Labels == nil {
			p.Labels = map[string]PromptLabel{}
		}
		before, had := p.Labels[label]
		if !had && len(p.Labels) >= MaxPromptLabels {
			return Errorf(EINVALID, "prompt %s has %d labels already", name, MaxPromptLabels)
		}
		to.UpdatedAt, to.UpdatedBy = s.now().UTC(), actorName(actor)
		p.Labels[label] = to
		if err := putJSON(tx.Bucket(bucketPrompts), []byte(name), p); err != nil {
			return err
		}
		if err := s.putLabelMove(tx, name, LabelMove{Label: label, From: before.String(), To: to.String(), Actor: actor, Reason: reason}); err != nil {
			return err
		}
		action := "label.move"
		after := to.String()
		if reason != "" {
			action = "label.override"
			after += " (gate overridden: " + Preview(reason, 200) + ")"
		}
		out = p
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: action, Resource: "prompt_label", ResourceID: name + ":" + label,
			Before: before.String(), After: after})
	})
	return out, err
}

func (s *Store) putLabelMove(tx *bolt.Tx, name string, m LabelMove) error {
	m.Time = s.now().UTC()
	m.ID = NewIDAt(m.Time)
	return putJSON(tx.Bucket(bucketPromptLabelMoves), promptSubKey(name, m.ID), m)
}

// LabelHistory lists the label moves of prompt name, newest first; label
// "" lists every label's.
func (s *Store) LabelHistory(ctx context.Context, name, label string) ([]LabelMove, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []LabelMove
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := promptIn(tx, name); err != nil {
			return err
		}
		prefix := append([]byte(name), 0)
		c := tx.Bucket(bucketPromptLabelMoves).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var m LabelMove
			if err := decode(v, &m); err != nil {
				return err
			}
			if label == "" || m.Label == label {
				out = append(out, m)
			}
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// DeletePromptVersion deletes version v of name, audited. It refuses
// (ECONFLICT) while a label points at it, in one version or a split.
func (s *Store) DeletePromptVersion(ctx context.Context, actor Actor, name string, v int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		p, err := promptIn(tx, name)
		if err != nil {
			return err
		}
		pv, err := promptVersionIn(tx, name, v)
		if err != nil {
			return err
		}
		for _, l := range slices.Sorted(maps.Keys(p.Labels)) {
			if slices.Contains(p.Labels[l].Versions(), v) {
				return Errorf(ECONFLICT, "version %d of %s is what label %s points at; move the label first", v, name, l)
			}
		}
		if err := tx.Bucket(bucketPromptVersions).Delete(promptVersionKey(name, v)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPromptHashes).Delete(promptSubKey(name, pv.Hash)); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "prompt_version", ResourceID: fmt.Sprintf("%s@%d", name, v)})
	})
}

// SetPromptGate sets (or, with nil, clears) the eval gate of name, audited.
func (s *Store) SetPromptGate(ctx context.Context, actor Actor, name string, g *PromptGate) (*Prompt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *Prompt
	err := s.db.Update(func(tx *bolt.Tx) error {
		p, err := promptIn(tx, name)
		if err != nil {
			return err
		}
		before, _ := json.Marshal(p.Gate)
		p.Gate = g
		after, _ := json.Marshal(g)
		if err := putJSON(tx.Bucket(bucketPrompts), []byte(name), p); err != nil {
			return err
		}
		out = p
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "prompt_gate", ResourceID: name,
			Before: Preview(string(before), 500), After: Preview(string(after), 500)})
	})
	return out, err
}

func actorName(a Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Kind
}
