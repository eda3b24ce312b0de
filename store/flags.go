package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ChunkFlag marks a chunk whose text addresses the assistant rather than
// the reader ("ignore previous instructions", "e-mail your password to
// …"), found by rag/guard at ingestion. A flagged chunk is held: it is
// kept out of widget (publishable-key) answers until an editor approves it
// or its document. A flag lives in its own bucket beside the chunk and goes
// with it: a re-ingest that changes the document replaces its chunks and
// their flags, so changed content is checked (and held) again.
type ChunkFlag struct {
	Rules  []string `json:"rules"`           // the rag/guard rules that matched
	Reason string   `json:"reason"`          // what the text does, for the document page
	Match  string   `json:"match,omitempty"` // the matched words, shortened
	// Guard is the rag/guard rule-set version that flagged the chunk.
	Guard      int        `json:"guard"`
	FlaggedAt  time.Time  `json:"flagged_at"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	ApprovedBy string     `json:"approved_by,omitempty"` // the approving actor's name
}

// Held reports whether the flag keeps its chunk out of public answers.
func (f *ChunkFlag) Held() bool { return f != nil && f.ApprovedAt == nil }

// metaGuardVersion is the rag/guard version every stored chunk has been
// checked with (absent: none, e.g. data from before flags existed).
var metaGuardVersion = []byte("guard_version")

// putChunkFlag stores a chunk's flag, or removes it when f is nil.
func putChunkFlag(tx *bolt.Tx, chunkID string, f *ChunkFlag) error {
	b := tx.Bucket(bucketChunkFlags)
	if f == nil {
		return b.Delete([]byte(chunkID))
	}
	return putJSON(b, []byte(chunkID), f)
}

// chunkFlag reads a chunk's flag; nil when it has none.
func chunkFlag(tx *bolt.Tx, chunkID string) (*ChunkFlag, error) {
	var f ChunkFlag
	if ok, err := getJSON(tx.Bucket(bucketChunkFlags), []byte(chunkID), &f); err != nil || !ok {
		return nil, err
	}
	return &f, nil
}

// HeldChunks returns which of ids are held (flagged and not approved), in
// one read transaction: the knowledge base drops them from the hits of a
// search that must not see them.
func (s *Store) HeldChunks(ctx context.Context, ids []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	held := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChunkFlags)
		if b.Stats().KeyN == 0 {
			return nil
		}
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			var f ChunkFlag
			if err := decode(v, &f); err != nil {
				return err
			}
			if f.Held() {
				held[id] = true
			}
		}
		return nil
	})
	return held, err
}

// ChunkFlags returns every stored flag by chunk ID.
func (s *Store) ChunkFlags(ctx context.Context) (map[string]ChunkFlag, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]ChunkFlag{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChunkFlags).ForEach(func(k, v []byte) error {
			var f ChunkFlag
			if err := decode(v, &f); err != nil {
				return err
			}
			out[string(k)] = f
			return nil
		})
	})
	return out, err
}

// GuardVersion returns the rag/guard version every stored chunk has been
// checked with; 0 when they never were.
func (s *Store) GuardVersion(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(metaGuardVersion); len(b) == 8 {
			v = int(binary.BigEndian.Uint64(b))
		}
		return nil
	})
	return v, err
}

// FlagUpdate is a chunk's flag after a re-check: Flag nil removes it.
type FlagUpdate struct {
	ChunkID string
	Flag    *ChunkFlag
}

// flagBatch bounds the flags one transaction of UpdateChunkFlags writes.
const flagBatch = 1000

// UpdateChunkFlags writes the result of checking stored chunks again
// (after an upgrade of the rules), in transactions of at most flagBatch
// flags, then records version as the one every chunk has been checked
// with. A chunk whose new flag names the same rules as its old one keeps
// its approval; a chunk deleted meanwhile is skipped. An interrupted
// update leaves the version unchanged, so the check runs again.
func (s *Store) UpdateChunkFlags(ctx context.Context, version int, updates []FlagUpdate) error {
	for start := 0; start < len(updates); start += flagBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := updates[start:min(len(updates), start+flagBatch)]
		err := s.db.Update(func(tx *bolt.Tx) error {
			chunks := tx.Bucket(bucketChunks)
			for _, u := range batch {
				if u.Flag != nil && chunks.Get([]byte(u.ChunkID)) == nil {
					continue
				}
				old, err := chunkFlag(tx, u.ChunkID)
				if err != nil {
					return err
				}
				f := u.Flag
				if f != nil && old != nil && slices.Equal(old.Rules, f.Rules) {
					g := *f
					g.FlaggedAt, g.ApprovedAt, g.ApprovedBy = old.FlaggedAt, old.ApprovedAt, old.ApprovedBy
					f = &g
				}
				if err := putChunkFlag(tx, u.ChunkID, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("update chunk flags: %w", err)
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaGuardVersion, encodeVersion(version))
	})
}

// ApproveChunks approves the held chunks of a document: all of them, or
// only chunkID when it is not empty. It returns how many it approved and
// audits the approval in the same transaction. Approving a chunk that is
// not held is a no-op; a chunk that is not the document's is ENOTFOUND.
func (s *Store) ApproveChunks(ctx context.Context, actor Actor, docID, chunkID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		doc, err := documentByID(tx, []byte(docID))
		if err != nil {
			return err
		}
		prefix := []byte(doc.ID + "-")
		if chunkID != "" && (!strings.HasPrefix(chunkID, string(prefix)) || tx.Bucket(bucketChunks).Get([]byte(chunkID)) == nil) {
			return Errorf(ENOTFOUND, "chunk %.40s not found in document %s", chunkID, doc.ID)
		}
		now := s.now().UTC()
		var ids, reasons []string
		var approved []ChunkFlag
		c := tx.Bucket(bucketChunkFlags).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if chunkID != "" && string(k) != chunkID {
				continue
			}
			var f ChunkFlag
			if err := decode(v, &f); err != nil {
				return err
			}
			if !f.Held() {
				continue
			}
			f.ApprovedAt, f.ApprovedBy = &now, actor.Name
			ids, reasons, approved = append(ids, string(k)), append(reasons, f.Reason), append(approved, f)
		}
		// Written after the scan: a Put under a moving cursor can skip keys.
		for i := range ids {
			if err := putChunkFlag(tx, ids[i], &approved[i]); err != nil {
				return err
			}
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		ev := AuditEvent{Actor: actor, Action: "approve", Resource: "document", ResourceID: doc.ID,
			Before: fmt.Sprintf("%d flagged chunks held: %s", n, strings.Join(ids, ", ")), After: "approved for public answers"}
		if chunkID != "" {
			ev.Resource, ev.ResourceID, ev.Before = "chunk", chunkID, "flagged: "+reasons[0]
		}
		return s.writeAudit(tx, ev)
	})
	return n, err
}
