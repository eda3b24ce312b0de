package store

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SettingRetentionDays names the setting that keeps traces this many days
// (an int); DefaultRetentionDays applies when it is not set.
const (
	SettingRetentionDays = "retention_days"
	DefaultRetentionDays = 90
	MaxRetentionDays     = 3650
)

// RetentionDays returns how many days traces are kept.
func (s *Store) RetentionDays(ctx context.Context) (int, error) {
	days := DefaultRetentionDays
	if _, err := s.Setting(ctx, SettingRetentionDays, &days); err != nil {
		return 0, err
	}
	return days, nil
}

// SetRetentionDays stores how many days traces are kept (1 to
// MaxRetentionDays), audited as any setting.
func (s *Store) SetRetentionDays(ctx context.Context, actor Actor, days int) error {
	if days < 1 || days > MaxRetentionDays {
		return Errorf(EINVALID, "retention_days must be between 1 and %d", MaxRetentionDays)
	}
	return s.PutSetting(ctx, actor, SettingRetentionDays, days)
}

// DeleteTracesBefore deletes the traces that started before cutoff, with
// their spans, feedback and index entries, at most batch traces a
// transaction so the trace writer and readers are never held up long.
// Rollups stay: the dashboard keeps its history. onBatch, when set, gets
// the IDs each committed transaction deleted (for the full-text index).
func (s *Store) DeleteTracesBefore(ctx context.Context, cutoff time.Time, batch int, onBatch func(ids []string)) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	floor, ok := idFloor(cutoff)
	if !ok {
		return 0, Errorf(EINVALID, "cutoff %s out of range", cutoff)
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var ids []string
		err := s.db.Update(func(tx *bolt.Tx) error {
			tb := tx.Bucket(bucketTraces)
			c := tb.Cursor()
			type victim struct {
				id string
				t  Trace
			}
			var victims []victim
			for k, v := c.First(); k != nil && string(k) < floor && len(victims) < batch; k, v = c.Next() {
				var t Trace
				if err := decode(v, &t); err != nil {
					t = Trace{ID: string(k)} // undecodable: delete it all the same
				}
				victims = append(victims, victim{string(k), t})
			}
			for _, vc := range victims {
				if err := deleteTraceTx(tx, &vc.t, vc.id); err != nil {
					return err
				}
				ids = append(ids, vc.id)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(ids)
		if len(ids) > 0 && onBatch != nil {
			onBatch(ids)
		}
		if len(ids) < batch {
			return total, nil
		}
	}
}

// deleteTraceTx removes one trace and everything keyed by it.
func deleteTraceTx(tx *bolt.Tx, t *Trace, id string) error {
	if err := tx.Bucket(bucketTraces).Delete([]byte(id)); err != nil {
		return err
	}
	idx := tx.Bucket(bucketTraceIndex)
	t.ID = id
	for _, k := range append(traceIndexEntries(t), indexKey(idxFeedback, FeedbackUp, id), indexKey(idxFeedback, FeedbackDown, id)) {
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bucketSpans, bucketFeedback} {
		b := tx.Bucket(name)
		c := b.Cursor()
		prefix := []byte(id)
		var keys [][]byte
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}
