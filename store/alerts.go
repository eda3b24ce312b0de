package store

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AlertState is whether an alert's condition holds.
type AlertState string

// Alert states.
const (
	AlertOK     AlertState = "ok"
	AlertFiring AlertState = "firing"
)

// AlertRule is an alert: a condition on a monitoring metric over a
// sliding window (WindowCount answers or Window of time), with its current
// state and the history of its changes. server/alerting evaluates it.
type AlertRule struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Metric      string  `json:"metric"`
	Op          string  `json:"op"` // "<" or ">"
	Threshold   float64 `json:"threshold"`
	Window      string  `json:"window,omitempty"`       // a duration such as "10m"
	WindowCount int     `json:"window_count,omitempty"` // the last N answers (rated answers for thumbs_down_ratio)
	WebhookURL  string  `json:"webhook_url,omitempty"`
	Muted       bool    `json:"muted"` // evaluated and shown, but not delivered

	State AlertState `json:"state"`
	Since time.Time  `json:"since,omitzero"` // when State began
	// Value is the metric's last evaluated value; nil while the window
	// holds too little data.
	Value   *float64     `json:"value"`
	History []AlertEvent `json:"history"` // newest last, at most MaxAlertHistory

	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created"`
}

// AlertEvent is one change of an alert's state.
type AlertEvent struct {
	At    time.Time  `json:"at"`
	State AlertState `json:"state"`
	Value float64    `json:"value"`
}

// MaxAlertHistory is how many state changes an alert keeps.
const MaxAlertHistory = 100

// Alerts returns every alert rule, oldest first.
func (s *Store) Alerts(ctx context.Context) ([]AlertRule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []AlertRule
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAlerts).ForEach(func(_, v []byte) error {
			var a AlertRule
			if err := decode(v, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// Alert returns one alert rule.
func (s *Store) Alert(ctx context.Context, id string) (*AlertRule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var a AlertRule
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketAlerts), []byte(id), &a)
		if err == nil && !ok {
			err = Errorf(ENOTFOUND, "alert %s not found", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAlert stores a new rule (ID, state and creation time are set
// here), audited.
func (s *Store) CreateAlert(ctx context.Context, actor Actor, a *AlertRule) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	a.ID, a.Created, a.CreatedBy = NewIDAt(now), now, actor.ID
	a.State, a.Since, a.Value, a.History = AlertOK, now, nil, nil
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketAlerts), []byte(a.ID), a); err != nil {
			return err
		}
		after, _ := json.Marshal(a)
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "alert", ResourceID: a.ID, After: Preview(string(after), 500)})
	})
}

// UpdateAlert changes a rule with fn, audited, and returns it.
func (s *Store) UpdateAlert(ctx context.Context, actor Actor, id string, fn func(*AlertRule) error) (*AlertRule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var a AlertRule
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		before := string(b.Get([]byte(id)))
		if before == "" {
			return Errorf(ENOTFOUND, "alert %s not found", id)
		}
		if err := decode([]byte(before), &a); err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		a.ID = id
		if err := putJSON(b, []byte(id), &a); err != nil {
			return err
		}
		after, _ := json.Marshal(&a)
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "alert", ResourceID: id,
			Before: Preview(before, 500), After: Preview(string(after), 500)})
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAlert removes a rule, audited.
func (s *Store) DeleteAlert(ctx context.Context, actor Actor, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		before := b.Get([]byte(id))
		if before == nil {
			return Errorf(ENOTFOUND, "alert %s not found", id)
		}
		ev := AuditEvent{Actor: actor, Action: "delete", Resource: "alert", ResourceID: id, Before: Preview(string(before), 500)}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		return s.writeAudit(tx, ev)
	})
}

// SetAlertState records an evaluation's outcome: the value, and, when the
// state changed, the new state with a history entry (the oldest dropped
// past MaxAlertHistory). Not audited: the evaluator, not a person, did it.
// A rule deleted meanwhile is left deleted.
func (s *Store) SetAlertState(ctx context.Context, id string, state AlertState, value *float64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		var a AlertRule
		if ok, err := getJSON(b, []byte(id), &a); err != nil || !ok {
			return err
		}
		a.Value = value
		if state != a.State {
			a.State, a.Since = state, at
			v := 0.0
			if value != nil {
				v = *value
			}
			a.History = append(a.History, AlertEvent{At: at, State: state, Value: v})
			if n := len(a.History); n > MaxAlertHistory {
				a.History = append([]AlertEvent(nil), a.History[n-MaxAlertHistory:]...)
			}
		}
		return putJSON(b, []byte(id), &a)
	})
}
