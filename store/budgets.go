package store

import (
	"context"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SettingBudgets is the setting holding Budgets (Settings → Budgets,
// PUT /api/v1/budgets), audited like every setting.
const SettingBudgets = "budgets"

// BudgetLimits caps asks over fixed UTC windows. A nil field is no limit;
// a zero one blocks every ask.
type BudgetLimits struct {
	RequestsPerMinute *int64   `json:"requests_per_minute,omitempty"`
	TokensPerDay      *int64   `json:"tokens_per_day,omitempty"`
	CostPerDayUSD     *float64 `json:"cost_per_day_usd,omitempty"`
	CostPerMonthUSD   *float64 `json:"cost_per_month_usd,omitempty"`
}

// Empty reports whether no limit is set.
func (l BudgetLimits) Empty() bool {
	return l.RequestsPerMinute == nil && l.TokensPerDay == nil && l.CostPerDayUSD == nil && l.CostPerMonthUSD == nil
}

// Budgets are the team's ask budgets: one global, one per API key (by key
// ID) and one per user (by user ID). An ask must fit all that apply.
type Budgets struct {
	Global BudgetLimits            `json:"global"`
	Keys   map[string]BudgetLimits `json:"keys,omitempty"`
	Users  map[string]BudgetLimits `json:"users,omitempty"`
}

// Validate refuses negative or non-finite limits, naming the field.
func (b Budgets) Validate() error {
	check := func(where string, l BudgetLimits) error {
		if l.RequestsPerMinute != nil && *l.RequestsPerMinute < 0 {
			return Errorf(EINVALID, "%s.requests_per_minute: must be 0 or more", where)
		}
		if l.TokensPerDay != nil && *l.TokensPerDay < 0 {
			return Errorf(EINVALID, "%s.tokens_per_day: must be 0 or more", where)
		}
		for name, v := range map[string]*float64{"cost_per_day_usd": l.CostPerDayUSD, "cost_per_month_usd": l.CostPerMonthUSD} {
			if v != nil && (*v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0)) {
				return Errorf(EINVALID, "%s.%s: must be a number, 0 or more", where, name)
			}
		}
		return nil
	}
	if err := check("global", b.Global); err != nil {
		return err
	}
	for id, l := range b.Keys {
		if id == "" {
			return Errorf(EINVALID, "keys: a key ID is empty")
		}
		if err := check("keys."+id, l); err != nil {
			return err
		}
	}
	for id, l := range b.Users {
		if id == "" {
			return Errorf(EINVALID, "users: a user ID is empty")
		}
		if err := check("users."+id, l); err != nil {
			return err
		}
	}
	return nil
}

// BudgetUsage is what one budget scope ("global", "key:ID", "user:ID")
// has spent in its current windows. A window that has passed counts as 0.
type BudgetUsage struct {
	Minute       time.Time `json:"minute"` // start of the minute Requests counts
	Requests     int64     `json:"requests"`
	Day          time.Time `json:"day"` // start of the UTC day Tokens and CostDayUSD count
	Tokens       int64     `json:"tokens"`
	CostDayUSD   float64   `json:"cost_day_usd"`
	Month        time.Time `json:"month"` // start of the UTC month CostMonthUSD counts
	CostMonthUSD float64   `json:"cost_month_usd"`
}

// BudgetUsage reads every scope's saved usage.
func (s *Store) BudgetUsage(ctx context.Context) (map[string]BudgetUsage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]BudgetUsage{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBudgetUsage).ForEach(func(k, v []byte) error {
			var u BudgetUsage
			if err := decode(v, &u); err != nil {
				return err
			}
			out[string(k)] = u
			return nil
		})
	})
	return out, err
}

// SaveBudgetUsage writes the usage of the scopes given, in one
// transaction. The ledger calls it about once a second with what changed,
// so counting asks costs one small commit a second, not one per ask.
func (s *Store) SaveBudgetUsage(ctx context.Context, usage map[string]BudgetUsage) error {
	if len(usage) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBudgetUsage)
		for scope, u := range usage {
			if err := putJSON(b, []byte(scope), u); err != nil {
				return err
			}
		}
		return nil
	})
}
