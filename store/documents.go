package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// Document is one ingested file of the knowledge base. Its chunks and
// vectors live in their own buckets; bbolt is their source of truth and the
// search indexes are rebuilt from it.
type Document struct {
	ID             string            `json:"id"`
	Source         string            `json:"source"` // file name or path; re-uploading it replaces the document
	Title          string            `json:"title"`
	Format         string            `json:"format"`
	Category       string            `json:"category,omitempty"`
	ProductVersion string            `json:"product_version,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	SourceURL      string            `json:"source_url,omitempty"`
	LastUpdated    string            `json:"last_updated,omitempty"` // the document's own date, from its metadata
	Meta           map[string]string `json:"meta,omitempty"`
	Hash           string            `json:"hash"` // sha256 of the file's bytes
	Size           int64             `json:"size"`
	Chunks         int               `json:"chunks"`
	Tokens         int               `json:"tokens"`
	ChunkConfig    int               `json:"chunk_config"` // version of the chunking config used
	EmbedModel     string            `json:"embed_model"`  // model ID of its vectors
	CreatedAt      time.Time         `json:"created_at"`   // first ingested
	UpdatedAt      time.Time         `json:"updated_at"`   // last content change
	// PII counts the personal data rag/guard/pii found in the document's
	// chunks at ingestion, per type ({"EMAIL": 2}); PIIRedacted says it was
	// replaced with placeholders before indexing (Guardrails setting).
	PII         map[string]int `json:"pii,omitempty"`
	PIIRedacted bool           `json:"pii_redacted,omitempty"`
}

// Chunk is a piece of a document exactly as the retriever indexes it.
type Chunk struct {
	ID         string   `json:"id"`
	DocumentID string   `json:"document_id"`
	Index      int      `json:"index"`
	Text       string   `json:"text"`
	Headings   []string `json:"headings,omitempty"`
	Page       int      `json:"page,omitempty"`
	Kind       string   `json:"kind,omitempty"`
	Tokens     int      `json:"tokens"`
	Core       string   `json:"core,omitempty"` // sentence-window chunks: the centre sentence
	// Flag is set when rag/guard found text addressing the assistant. It
	// is stored in the chunk_flags bucket, not with the chunk: reads that
	// show or answer from chunks (Document, ChunksByID) fill it in.
	Flag *ChunkFlag `json:"flag,omitempty"`
}

// ChunkID names chunk i of a document; IDs sort by document then position,
// so one prefix scan reads a document's chunks in order.
func ChunkID(docID string, i int) string { return fmt.Sprintf("%s-%05d", docID, i) }

// DocumentWrite is one document to commit with its chunks and their
// vectors (one per chunk, from model Model).
type DocumentWrite struct {
	Doc     *Document
	Chunks  []Chunk // with their Flag when rag/guard flagged them
	Vectors [][]float32
	Model   string
}

// CommitResult says what CommitDocuments did with one DocumentWrite.
type CommitResult struct {
	Outcome schema.IngestOutcome // created, updated, unchanged or duplicate
	Doc     *Document            // the stored document (the existing one when unchanged or duplicate)
	// RemovedChunks are chunk IDs that no longer exist: the indexes must
	// drop them. Chunks replaced in place keep their IDs and are listed too.
	RemovedChunks []string
}

// CommitDocuments writes a group of documents in one transaction: a
// document and all its chunks and vectors become visible together or not
// at all. A document whose source exists is replaced (keeping its ID); one
// whose bytes are already stored is left alone.
func (s *Store) CommitDocuments(ctx context.Context, actor Actor, writes []DocumentWrite) ([]CommitResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	results := make([]CommitResult, len(writes))
	err := s.db.Update(func(tx *bolt.Tx) error {
		fp, n := readFingerprint(tx)
		for i, w := range writes {
			res, err := s.commitDocument(tx, actor, w, &fp)
			if err != nil {
				return fmt.Errorf("commit %s: %w", w.Doc.Source, err)
			}
			results[i] = res
			if res.Outcome == schema.IngestCreated || res.Outcome == schema.IngestUpdated {
				n += len(w.Chunks) - len(res.RemovedChunks)
			}
		}
		return writeFingerprint(tx, fp, n)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func (s *Store) commitDocument(tx *bolt.Tx, actor Actor, w DocumentWrite, fp *Fingerprint) (CommitResult, error) {
	docs := tx.Bucket(bucketDocuments)
	doc := w.Doc
	if len(w.Vectors) != len(w.Chunks) {
		return CommitResult{}, fmt.Errorf("%d vectors for %d chunks", len(w.Vectors), len(w.Chunks))
	}
	var old *Document
	if id := tx.Bucket(bucketDocsBySource).Get([]byte(doc.Source)); id != nil {
		var err error
		if old, err = documentByID(tx, id); err != nil {
			return CommitResult{}, err
		}
		if old.Hash == doc.Hash && old.EmbedModel == w.Model && sameMetadata(old, doc) {
			return CommitResult{Outcome: schema.IngestUnchanged, Doc: old}, nil
		}
	} else if id := tx.Bucket(bucketDocsByHash).Get([]byte(doc.Hash)); id != nil {
		dup, err := documentByID(tx, id)
		if err != nil {
			return CommitResult{}, err
		}
		return CommitResult{Outcome: schema.IngestDuplicate, Doc: dup}, nil
	}

	now := s.now().UTC()
	res := CommitResult{Outcome: schema.IngestCreated}
	if old != nil {
		res.Outcome = schema.IngestUpdated
		removed, err := deleteChunks(tx, old, fp)
		if err != nil {
			return CommitResult{}, err
		}
		res.RemovedChunks = removed
		if err := tx.Bucket(bucketDocsByHash).Delete([]byte(old.Hash)); err != nil {
			return CommitResult{}, err
		}
		doc.ID, doc.CreatedAt = old.ID, old.CreatedAt
	} else {
		doc.ID, doc.CreatedAt = NewIDAt(now), now
	}
	doc.UpdatedAt, doc.EmbedModel, doc.Chunks, doc.Tokens = now, w.Model, len(w.Chunks), 0

	chunks := tx.Bucket(bucketChunks)
	vecs, err := tx.Bucket(bucketVectors).CreateBucketIfNotExists([]byte(w.Model))
	if err != nil {
		return CommitResult{}, err
	}
	chunks.FillPercent, vecs.FillPercent = appendFill, appendFill
	for i := range w.Chunks {
		c := &w.Chunks[i]
		c.DocumentID, c.Index, c.ID = doc.ID, i, ChunkID(doc.ID, i)
		doc.Tokens += c.Tokens
		flag := c.Flag
		c.Flag = nil // kept in chunk_flags
		err := putJSON(chunks, []byte(c.ID), c)
		c.Flag = flag
		if err != nil {
			return CommitResult{}, err
		}
		if flag != nil {
			if err := putChunkFlag(tx, c.ID, flag); err != nil {
				return CommitResult{}, err
			}
		}
		if err := vecs.Put([]byte(c.ID), EncodeVector(w.Vectors[i])); err != nil {
			return CommitResult{}, err
		}
		fp.Toggle(doc, c)
	}
	if err := putJSON(docs, []byte(doc.ID), doc); err != nil {
		return CommitResult{}, err
	}
	if err := tx.Bucket(bucketDocsBySource).Put([]byte(doc.Source), []byte(doc.ID)); err != nil {
		return CommitResult{}, err
	}
	if err := tx.Bucket(bucketDocsByHash).Put([]byte(doc.Hash), []byte(doc.ID)); err != nil {
		return CommitResult{}, err
	}
	ev := AuditEvent{Actor: actor, Action: "create", Resource: "document", ResourceID: doc.ID, After: doc.summary()}
	if old != nil {
		ev.Action, ev.Before = "update", old.summary()
	}
	if err := s.writeAudit(tx, ev); err != nil {
		return CommitResult{}, err
	}
	res.Doc = doc
	return res, nil
}

// sameMetadata reports whether a re-upload changes nothing the indexes or
// pages show; new metadata on the same bytes is an update.
func sameMetadata(a, b *Document) bool {
	return a.Title == b.Title && a.Category == b.Category && a.ProductVersion == b.ProductVersion &&
		a.SourceURL == b.SourceURL && a.LastUpdated == b.LastUpdated && slices.Equal(a.Tags, b.Tags)
}

func (d *Document) summary() string {
	return fmt.Sprintf("%s (%s, %d chunks, sha256 %.12s)", d.Source, d.Format, d.Chunks, d.Hash)
}

// deleteChunks removes a document's chunks and their vectors under every
// model, and returns the removed chunk IDs.
func deleteChunks(tx *bolt.Tx, doc *Document, fp *Fingerprint) ([]string, error) {
	chunks := tx.Bucket(bucketChunks)
	prefix := []byte(doc.ID + "-")
	var ids []string
	c := chunks.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var ch Chunk
		if err := decode(v, &ch); err != nil {
			return nil, err
		}
		fp.Toggle(doc, &ch)
		ids = append(ids, ch.ID)
	}
	// Delete after the scan: deleting under a moving cursor can skip keys.
	models := tx.Bucket(bucketVectors)
	for _, id := range ids {
		if err := chunks.Delete([]byte(id)); err != nil {
			return nil, err
		}
		if err := putChunkFlag(tx, id, nil); err != nil {
			return nil, err
		}
		err := models.ForEachBucket(func(model []byte) error {
			return models.Bucket(model).Delete([]byte(id))
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// DeleteDocument removes a document with its chunks and vectors, and
// returns it with the removed chunk IDs so the indexes can drop them.
func (s *Store) DeleteDocument(ctx context.Context, actor Actor, id string) (*Document, []string, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var doc *Document
	var removed []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if doc, err = documentByID(tx, []byte(id)); err != nil {
			return err
		}
		fp, n := readFingerprint(tx)
		if removed, err = deleteChunks(tx, doc, &fp); err != nil {
			return err
		}
		for _, del := range []struct{ b, k []byte }{
			{bucketDocuments, []byte(doc.ID)}, {bucketDocsBySource, []byte(doc.Source)}, {bucketDocsByHash, []byte(doc.Hash)},
		} {
			if err := tx.Bucket(del.b).Delete(del.k); err != nil {
				return err
			}
		}
		if err := writeFingerprint(tx, fp, n-len(removed)); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "document", ResourceID: doc.ID, Before: doc.summary()})
	})
	if err != nil {
		return nil, nil, err
	}
	return doc, removed, nil
}

func documentByID(tx *bolt.Tx, id []byte) (*Document, error) {
	var d Document
	if ok, err := getJSON(tx.Bucket(bucketDocuments), id, &d); err != nil {
		return nil, err
	} else if !ok {
		return nil, Errorf(ENOTFOUND, "document %s not found", id)
	}
	return &d, nil
}

// Document returns a document with its chunks in order.
func (s *Store) Document(ctx context.Context, id string) (*Document, []Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var doc *Document
	var chunks []Chunk
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if doc, err = documentByID(tx, []byte(id)); err != nil {
			return err
		}
		prefix := []byte(doc.ID + "-")
		c := tx.Bucket(bucketChunks).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var ch Chunk
			if err := decode(v, &ch); err != nil {
				return err
			}
			if ch.Flag, err = chunkFlag(tx, ch.ID); err != nil {
				return err
			}
			chunks = append(chunks, ch)
		}
		return nil
	})
	return doc, chunks, err
}

// DocumentBySource finds the document ingested from source.
func (s *Store) DocumentBySource(ctx context.Context, source string) (*Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var doc *Document
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketDocsBySource).Get([]byte(source))
		if id == nil {
			return Errorf(ENOTFOUND, "no document from %s", source)
		}
		var err error
		doc, err = documentByID(tx, id)
		return err
	})
	return doc, err
}

// ListDocuments returns every document, newest first.
func (s *Store) ListDocuments(ctx context.Context) ([]Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var docs []Document
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDocuments).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var d Document
			if err := decode(v, &d); err != nil {
				return err
			}
			docs = append(docs, d)
		}
		return nil
	})
	return docs, err
}

// KnowledgeStats summarises the knowledge base.
type KnowledgeStats struct {
	Documents int
	Chunks    int
}

// KnowledgeStats counts documents and chunks.
func (s *Store) KnowledgeStats(ctx context.Context) (KnowledgeStats, error) {
	if err := ctx.Err(); err != nil {
		return KnowledgeStats{}, err
	}
	var st KnowledgeStats
	err := s.db.View(func(tx *bolt.Tx) error {
		st.Documents = tx.Bucket(bucketDocuments).Stats().KeyN
		_, st.Chunks = readFingerprint(tx)
		return nil
	})
	return st, err
}

// ForEachChunk calls fn with every chunk and its document, in document
// order, from one read transaction (a consistent snapshot). It is how the
// indexes are rebuilt from the store.
func (s *Store) ForEachChunk(ctx context.Context, fn func(d *Document, c *Chunk) error) error {
	return s.ForEachChunkVector(ctx, "", func(d *Document, c *Chunk, _ []float32) error { return fn(d, c) })
}

// Filterable metadata keys shared by the indexes and retrieval filters.
const (
	MetaCategory       = "category"
	MetaProductVersion = "product_version"
	MetaTag            = "tag" // one entry per tag
)

// NormalizeTags trims, lower-cases and de-duplicates tags.
func NormalizeTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Fingerprint is an order-independent checksum of every chunk (its ID and
// text): the XOR of per-chunk hashes, updated in the same transaction as
// the chunks. An index stores the fingerprint it was built to; a mismatch
// at start-up means it missed a write (a crash between the bbolt commit and
// the index update) and must be rebuilt.
type Fingerprint [16]byte

// Toggle adds a chunk to the fingerprint, or removes it if present. It
// covers everything an index entry is built from (the chunk's ID, text and
// headings, and its document's title and filter metadata), so a change to
// any of them that an index missed is detected.
func (f *Fingerprint) Toggle(d *Document, c *Chunk) {
	h := sha256.New()
	for _, part := range [][]string{{c.ID, c.Text, d.Title, strings.ToLower(d.Category), d.ProductVersion}, c.Headings, NormalizeTags(d.Tags)} {
		for _, s := range part {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	var sum [32]byte
	h.Sum(sum[:0])
	for i := range f {
		f[i] ^= sum[i]
	}
}

func (f Fingerprint) String() string { return fmt.Sprintf("%x", f[:]) }

// readFingerprint returns the chunk fingerprint and chunk count.
func readFingerprint(tx *bolt.Tx) (Fingerprint, int) {
	var fp Fingerprint
	meta := tx.Bucket(bucketMeta)
	copy(fp[:], meta.Get(metaFingerprint))
	n := 0
	if v := meta.Get(metaChunkCount); len(v) == 8 {
		n = int(binary.BigEndian.Uint64(v))
	}
	return fp, n
}

func writeFingerprint(tx *bolt.Tx, fp Fingerprint, n int) error {
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(metaFingerprint, fp[:]); err != nil {
		return err
	}
	return meta.Put(metaChunkCount, encodeVersion(n))
}

// ChunkFingerprint returns the fingerprint of all stored chunks and their
// count.
func (s *Store) ChunkFingerprint(ctx context.Context) (Fingerprint, int, error) {
	if err := ctx.Err(); err != nil {
		return Fingerprint{}, 0, err
	}
	var fp Fingerprint
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		fp, n = readFingerprint(tx)
		return nil
	})
	return fp, n, err
}

// ChunkRef is a chunk with its document, as retrieval returns it.
type ChunkRef struct {
	Chunk    Chunk
	Document *Document
}

// ChunksByID reads chunks and their documents in the order given, from
// one read transaction. IDs that no longer exist are skipped.
func (s *Store) ChunksByID(ctx context.Context, ids []string) ([]ChunkRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]ChunkRef, 0, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		chunks := tx.Bucket(bucketChunks)
		docs := map[string]*Document{}
		for _, id := range ids {
			var c Chunk
			if ok, err := getJSON(chunks, []byte(id), &c); err != nil {
				return err
			} else if !ok {
				continue
			}
			var err error
			if c.Flag, err = chunkFlag(tx, c.ID); err != nil {
				return err
			}
			d, ok := docs[c.DocumentID]
			if !ok {
				var err error
				if d, err = documentByID(tx, []byte(c.DocumentID)); err != nil {
					return err
				}
				docs[c.DocumentID] = d
			}
			out = append(out, ChunkRef{Chunk: c, Document: d})
		}
		// Queries read their results' chunks through the map: release the
		// pages every releaseChunkReads chunks, or a day of queries over a
		// large corpus would leave most of the file in the process's RSS.
		if n := s.chunkReads.Add(int64(len(ids))); n/releaseChunkReads != (n-int64(len(ids)))/releaseChunkReads {
			releaseMapped(tx)
		}
		return nil
	})
	return out, err
}
