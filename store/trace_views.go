package store

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TraceView is a saved view of the trace explorer: a name for a set of
// filters (the explorer's query string). A view is its owner's unless
// Shared, when the whole team sees it.
type TraceView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"` // the explorer's filters, URL-encoded, without cursor or limit
	Owner     string    `json:"owner"` // Actor.String() of who saved it
	OwnerName string    `json:"owner_name"`
	Shared    bool      `json:"shared"`
	Created   time.Time `json:"created"`
}

// Limits on saved views.
const (
	MaxTraceViewName  = 80
	MaxTraceViewQuery = 2000
	MaxTraceViews     = 500 // per store
)

// traceViewParams are the query parameters a view keeps: the explorer's
// filters, not its page.
var traceViewParams = []string{"q", "status", "kind", "channel", "model", "prompt", "user", "key", "conversation", "feedback",
	"escalated", "min_latency_ms", "max_groundedness", "min_cost_usd", "from", "to"}

// CleanTraceViewQuery keeps the filter parameters of a query string, in a
// stable order, and drops empty ones.
func CleanTraceViewQuery(raw string) (string, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return "", Errorf(EINVALID, "query is not a URL query string")
	}
	out := url.Values{}
	for _, k := range traceViewParams {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out.Encode(), nil
}

// SaveTraceView stores a new view for actor.
func (s *Store) SaveTraceView(ctx context.Context, actor Actor, v *TraceView) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v.Name = strings.TrimSpace(v.Name)
	switch {
	case v.Name == "":
		return Errorf(EINVALID, "name is required")
	case len([]rune(v.Name)) > MaxTraceViewName:
		return Errorf(EINVALID, "name is longer than %d characters", MaxTraceViewName)
	case len(v.Query) > MaxTraceViewQuery:
		return Errorf(EINVALID, "query is longer than %d characters", MaxTraceViewQuery)
	}
	q, err := CleanTraceViewQuery(v.Query)
	if err != nil {
		return err
	}
	v.Query, v.ID, v.Owner, v.OwnerName, v.Created = q, NewID(), actor.String(), actor.Name, time.Now().UTC()
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTraceViews)
		if b.Stats().KeyN >= MaxTraceViews {
			return Errorf(EINVALID, "there are already %d saved views: delete some first", MaxTraceViews)
		}
		return putJSON(b, []byte(v.ID), v)
	})
}

// TraceViews lists the views actor sees (its own and the shared ones),
// by name.
func (s *Store) TraceViews(ctx context.Context, actor Actor) ([]TraceView, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	me := actor.String()
	var out []TraceView
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTraceViews).ForEach(func(_, raw []byte) error {
			var v TraceView
			if err := decode(raw, &v); err != nil {
				return err
			}
			if v.Shared || v.Owner == me {
				out = append(out, v)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b TraceView) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, err
}

// DeleteTraceView deletes a view: its owner's, or anyone's for an admin.
func (s *Store) DeleteTraceView(ctx context.Context, actor Actor, id string, admin bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTraceViews)
		var v TraceView
		if ok, err := getJSON(b, []byte(id), &v); err != nil {
			return err
		} else if !ok || (!v.Shared && v.Owner != actor.String()) {
			return Errorf(ENOTFOUND, "saved view %s not found", id)
		}
		if v.Owner != actor.String() && !admin {
			return Errorf(EFORBIDDEN, "only %s or an admin may delete this view", v.OwnerName)
		}
		return b.Delete([]byte(id))
	})
}
