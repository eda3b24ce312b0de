package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// Usage rollups count a day's asks per user, API key and widget visitor:
// what the users page and the cost page read. They live in the rollups
// bucket under their own level byte, so the dashboard's range scans of
// minute, hour and day rollups never see them, and they are written in
// the same transaction as the traces (deriveTraces) and the thumbs
// (feedbackDerived). Only the counters a usage row shows are kept: no
// latency sketches, no knowledge gaps.
const levelUsage = 'u'

// UsageDim is what a usage rollup is counted by.
type UsageDim byte

const (
	UsageUser    UsageDim = 'u' // the trace's user ID (a signed-in user, or the API key behind an API or widget ask)
	UsageKey     UsageDim = 'k' // the API key's name, for asks made with a key
	UsageVisitor UsageDim = 'v' // a widget visitor (schema.AttrVisitor)
)

// VisitorPrefix marks a widget visitor in a user filter: the trace index
// lists a widget ask under "visitor:<id>" as well as under its key's ID,
// so the explorer's user filter finds one visitor's asks.
const VisitorPrefix = "visitor:"

func usageKey(day time.Time, dim UsageDim, value string) []byte {
	k := make([]byte, 0, 10+len(value))
	k = append(k, levelUsage, byte(dim))
	k = binary.BigEndian.AppendUint64(k, uint64(day.Unix()))
	return append(k, value...)
}

// usageOf lists who a trace's usage is counted for: only real traffic
// (the channels the dashboard counts).
func usageOf(t *Trace) map[UsageDim]string {
	if ch := cmp.Or(attrString(t.Attributes, schema.AttrChannel), schema.ChannelAPI); !slices.Contains(TrafficChannels, ch) {
		return nil
	}
	out := map[UsageDim]string{}
	if t.UserID != "" {
		out[UsageUser] = strings.ReplaceAll(t.UserID, "\x00", "")
	}
	if name, ok := strings.CutPrefix(attrString(t.Attributes, schema.AttrActor), ActorKey+":"); ok && name != "" {
		out[UsageKey] = name
	}
	if v := attrString(t.Attributes, schema.AttrVisitor); v != "" {
		out[UsageVisitor] = v
	}
	return out
}

// usageCounters keeps the fields of r a usage row shows.
func usageCounters(r *Rollup) *Rollup {
	return &Rollup{Requests: r.Requests, Errors: r.Errors, Fallbacks: r.Fallbacks, Escalations: r.Escalations,
		TokensIn: r.TokensIn, TokensOut: r.TokensOut, CostUSD: r.CostUSD, Up: r.Up, Down: r.Down}
}

// addUsage adds r's counters to the day's usage rollups of t's user, key
// and visitor.
func (d rollupDelta) addUsage(t *Trace, r *Rollup, sign int64) {
	who := usageOf(t)
	if len(who) == 0 {
		return
	}
	day := periodStart(levelDay, t.Start)
	c := usageCounters(r)
	for dim, v := range who {
		k := string(usageKey(day, dim, v))
		acc := d[k]
		if acc == nil {
			acc = &Rollup{}
			d[k] = acc
		}
		acc.merge(c, sign)
	}
}

// UsageRow is one user's, key's or visitor's asks over a window.
type UsageRow struct {
	Dim   UsageDim `json:"-"`
	Value string   `json:"id"` // user ID, key name or visitor ID
	Rollup
}

// Usage sums the usage rollups of the days overlapping [from, to) for
// one dimension, most costly first (then most asks). Whole days: a window
// that starts mid-day counts that day whole.
func (s *Store) Usage(ctx context.Context, from, to time.Time, dim UsageDim) ([]UsageRow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	acc := map[string]*Rollup{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRollups).Cursor()
		lo := usageKey(periodStart(levelDay, from), dim, "")
		hi := usageKey(to, dim, "")
		for k, v := c.Seek(lo); len(k) >= 10 && bytes.Compare(k[:10], hi) < 0; k, v = c.Next() {
			r := acc[string(k[10:])]
			if r == nil {
				r = &Rollup{}
				acc[string(k[10:])] = r
			}
			if err := r.addEncoded(v); err != nil {
				return err
			}
		}
		return nil
	})
	rows := make([]UsageRow, 0, len(acc))
	for v, r := range acc {
		rows = append(rows, UsageRow{Dim: dim, Value: v, Rollup: *r})
	}
	slices.SortFunc(rows, func(a, b UsageRow) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Value, b.Value))
	})
	return rows, err
}
