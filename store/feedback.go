package store

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Feedback is a thumbs up (+1) or down (-1) on a traced answer, with an
// optional comment, from a user, an API key or the chat widget.
type Feedback struct {
	ID        string    `json:"id"`
	TraceID   string    `json:"trace_id"`
	Value     int       `json:"value"`
	Comment   string    `json:"comment,omitempty"`
	Actor     Actor     `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxCommentLen bounds feedback comments, in characters.
const MaxCommentLen = 2000

// AddFeedback records feedback on an existing trace.
func (s *Store) AddFeedback(ctx context.Context, actor Actor, f *Feedback) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.Value != 1 && f.Value != -1 {
		return Errorf(EINVALID, "value must be 1 (thumbs up) or -1 (thumbs down)")
	}
	f.Comment = strings.TrimSpace(f.Comment)
	if utf8.RuneCountInString(f.Comment) > MaxCommentLen {
		return Errorf(EINVALID, "comment is longer than %d characters", MaxCommentLen)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		tv := tx.Bucket(bucketTraces).Get([]byte(f.TraceID))
		if tv == nil {
			return Errorf(ENOTFOUND, "trace %s not found", f.TraceID)
		}
		f.CreatedAt = s.now().UTC()
		f.ID = NewIDAt(f.CreatedAt)
		f.Actor = actor
		if err := feedbackDerived(tx, tv, f.Value); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketFeedback), append([]byte(f.TraceID), f.ID...), f)
	})
}

// FeedbackFor returns a trace's feedback, oldest first.
func (s *Store) FeedbackFor(ctx context.Context, traceID string) ([]Feedback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Feedback
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFeedback).Cursor()
		prefix := []byte(traceID)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var f Feedback
			if err := decode(v, &f); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// maxFeedbackScan bounds the feedback records RecentFeedback reads.
const maxFeedbackScan = 200_000

// RecentFeedback returns the last n thumbs (value ≠ 0, by when they were
// given, oldest first) on traces that started at or after since: what the
// alert evaluator reloads at start-up. Feedback is stored by trace, so it
// reads the feedback of the traces since then, newest first, at most
// maxFeedbackScan records.
func (s *Store) RecentFeedback(ctx context.Context, since time.Time, n int) ([]Feedback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	floor, _ := idFloor(since)
	var out []Feedback
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFeedback).Cursor()
		scanned := 0
		for k, v := c.Last(); k != nil && scanned < maxFeedbackScan; k, v = c.Prev() {
			scanned++
			if string(k) < floor {
				break
			}
			var f Feedback
			if err := decode(v, &f); err != nil {
				return err
			}
			if f.Value != 0 {
				out = append(out, f)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Feedback) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, err
}
