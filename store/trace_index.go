package store

import (
	"bytes"
	"context"
	"strings"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// Secondary indexes of traces, for the explorer's filters: one key per
// (field, value, trace), field byte + value + 0 + trace ID, with no value.
// Trace IDs sort by time, so each (field, value) run lists its traces
// oldest to newest and a filter reads it backwards. They are written in
// the same transaction as the trace (trace_writer.go), feedback in the
// one that records the thumb.
const (
	idxKind         = 'k'
	idxStatus       = 's'
	idxChannel      = 'c'
	idxModel        = 'm'
	idxPrompt       = 'p'
	idxUser         = 'u'
	idxKey          = 'a' // the API key's name, for asks made with a key
	idxConversation = 'v'
	idxEscalated    = 'e' // value "1"
	idxFeedback     = 'f' // value "up" or "down"
)

func indexKey(field byte, value, id string) []byte {
	k := make([]byte, 0, 2+len(value)+len(id))
	k = append(k, field)
	k = append(k, value...)
	k = append(k, 0)
	return append(k, id...)
}

func indexPrefix(field byte, value string) []byte {
	k := make([]byte, 0, 2+len(value))
	k = append(k, field)
	k = append(k, value...)
	return append(k, 0)
}

// traceIndexEntries lists a trace's index keys (feedback aside).
func traceIndexEntries(t *Trace) [][]byte {
	clean := func(s string) string { return strings.ReplaceAll(s, "\x00", "") }
	out := [][]byte{indexKey(idxKind, clean(string(t.Kind)), t.ID), indexKey(idxStatus, clean(string(t.Status)), t.ID)}
	add := func(field byte, v string) {
		if v = clean(v); v != "" {
			out = append(out, indexKey(field, v, t.ID))
		}
	}
	add(idxChannel, attrString(t.Attributes, schema.AttrChannel))
	add(idxModel, attrString(t.Attributes, schema.AttrResponseModel))
	add(idxPrompt, attrString(t.Attributes, schema.AttrPrompt))
	add(idxUser, t.UserID)
	if v := attrString(t.Attributes, schema.AttrVisitor); v != "" {
		add(idxUser, VisitorPrefix+v) // a widget visitor, beside the widget key's ID
	}
	if name, ok := strings.CutPrefix(attrString(t.Attributes, schema.AttrActor), ActorKey+":"); ok {
		add(idxKey, name)
	}
	add(idxConversation, attrString(t.Attributes, schema.AttrConversationID))
	if attrBool(t.Attributes, schema.AttrEscalated) {
		add(idxEscalated, "1")
	}
	return out
}

// traceChange is a trace written by a commit, with the version it
// replaced (nil for a new trace).
type traceChange struct {
	old, new *Trace
	spans    []Span // written with new
}

// deriveTraces keeps the secondary indexes and the rollups in step with
// the traces a commit wrote: old entries and old rollup contributions
// out, new ones in. It runs inside the commit's transaction, so a crash
// keeps or loses both together.
func deriveTraces(tx *bolt.Tx, changes []traceChange) error {
	idx := tx.Bucket(bucketTraceIndex)
	idx.FillPercent = appendFill
	delta := rollupDelta{}
	for _, ch := range changes {
		if ch.old != nil {
			for _, k := range traceIndexEntries(ch.old) {
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
			if d, r, ok := rollupOf(ch.old, storedSpansIfAsk(tx, ch.old)); ok {
				delta.add(ch.old.Start, d, r, -1)
				delta.addUsage(ch.old, r, -1)
			}
		}
		for _, k := range traceIndexEntries(ch.new) {
			if err := idx.Put(k, nil); err != nil {
				return err
			}
		}
		spans := ch.spans
		if len(spans) == 0 && ch.old != nil {
			spans = storedSpansIfAsk(tx, ch.new)
		}
		if d, r, ok := rollupOf(ch.new, spans); ok {
			delta.add(ch.new.Start, d, r, 1)
			delta.addUsage(ch.new, r, 1)
		}
	}
	return delta.apply(tx)
}

// storedSpansIfAsk reads the spans of a trace that rollupOf counts.
func storedSpansIfAsk(tx *bolt.Tx, t *Trace) []Span {
	if t.Kind != schema.KindAsk && t.Kind != schema.KindEval {
		return nil
	}
	var spans []Span
	c := tx.Bucket(bucketSpans).Cursor()
	prefix := []byte(t.ID)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var sp Span
		if decode(v, &sp) == nil {
			spans = append(spans, sp)
		}
	}
	return spans
}

// feedbackDerived counts a thumb in the rollups of its trace's minute and
// indexes the trace as having that feedback.
func feedbackDerived(tx *bolt.Tx, traceJSON []byte, value int) error {
	var t Trace
	if err := decode(traceJSON, &t); err != nil {
		return err
	}
	thumb := "up"
	r := &Rollup{Up: 1}
	if value < 0 {
		thumb, r = "down", &Rollup{Down: 1}
	}
	if err := tx.Bucket(bucketTraceIndex).Put(indexKey(idxFeedback, thumb, t.ID), nil); err != nil {
		return err
	}
	if d, _, ok := rollupOf(&t, nil); ok {
		delta := rollupDelta{}
		delta.add(t.Start, d, r, 1)
		delta.addUsage(&t, r, 1)
		return delta.apply(tx)
	}
	return nil
}

// rebuildTraceDerived recomputes the rollups and secondary indexes from
// the stored traces and feedback, migrateBatch traces a transaction. It
// starts by emptying both, so running it again after a crash is safe.
func rebuildTraceDerived(db *bolt.DB) error {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketRollups, bucketTraceIndex} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := batchOver(db, bucketTraces, func(tx *bolt.Tx, _, v []byte) error {
		var t Trace
		if err := decode(v, &t); err != nil {
			return err
		}
		return deriveTraces(tx, []traceChange{{new: &t, spans: storedSpansIfAsk(tx, &t)}})
	}); err != nil {
		return err
	}
	return batchOver(db, bucketFeedback, func(tx *bolt.Tx, _, v []byte) error {
		var f Feedback
		if err := decode(v, &f); err != nil {
			return err
		}
		if tv := tx.Bucket(bucketTraces).Get([]byte(f.TraceID)); tv != nil {
			return feedbackDerived(tx, tv, f.Value)
		}
		return nil
	})
}

// batchOver calls fn on every record of bucket, in key order,
// migrateBatch records a transaction. fn must not write to bucket.
func batchOver(db *bolt.DB, bucket []byte, fn func(tx *bolt.Tx, k, v []byte) error) error {
	var after []byte
	for done := false; !done; {
		err := db.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucket).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for n := 0; k != nil && n < migrateBatch; k, v = c.Next() {
				if err := fn(tx, k, v); err != nil {
					return err
				}
				after = bytes.Clone(k)
				n++
			}
			done = k == nil
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RebuildTraceDerived recomputes rollups and trace indexes from the
// stored traces and feedback (what migration 15 does), while the trace
// writer is stopped.
func (s *Store) RebuildTraceDerived(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return rebuildTraceDerived(s.db)
}
