package store

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// Setting names.
const (
	SettingPrices = "prices" // []llm.Price: the model price table
	// SettingGuardrails is the guardrails configuration (guard.Config):
	// each guard's mode, the scope sentence, allowed domains, blocked terms.
	SettingGuardrails = "guardrails"
	// SettingPinnedQuestions ([]string) are the chat suggestions an admin
	// pinned, shown before the frequently asked ones.
	SettingPinnedQuestions = "chat_pinned_questions"
)

// Setting reads setting name into v and reports whether it was set.
func (s *Store) Setting(ctx context.Context, name string, v any) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bucketSettings), []byte(name), v)
		return err
	})
	return ok, err
}

// PutSetting stores setting name, audited with the value before and after.
func (s *Store) PutSetting(ctx context.Context, actor Actor, name string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	after, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		before := string(b.Get([]byte(name)))
		if err := putJSON(b, []byte(name), v); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "setting", ResourceID: name,
			Before: Preview(before, 500), After: Preview(string(after), 500)})
	})
}
