package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names. Every bucket llmops uses is declared here and created by a
// migration below, so the schema has one home.
var (
	bucketMeta         = []byte("meta")
	bucketUsers        = []byte("users")          // user ID → User
	bucketUsersByEmail = []byte("users_by_email") // lower(email) → user ID
	bucketSessions     = []byte("sessions")       // sha256(token) → Session
	bucketAPIKeys      = []byte("api_keys")       // key ID → APIKey
	bucketAPIKeyHashes = []byte("api_key_hashes") // sha256(secret) → key ID
	bucketAudit        = []byte("audit")          // event ID (time-sorted) → AuditEvent
	bucketTraces       = []byte("traces")         // trace ID (time-sorted) → Trace
	bucketSpans        = []byte("spans")          // trace ID + span ID → Span

	bucketDocuments    = []byte("documents")      // document ID → Document
	bucketDocsBySource = []byte("docs_by_source") // source → document ID
	bucketDocsByHash   = []byte("docs_by_hash")   // sha256 of content → document ID
	bucketChunks       = []byte("chunks")         // chunk ID (doc ID + "-" + index) → Chunk
	bucketVectors      = []byte("vectors")        // model ID → bucket: chunk ID → little-endian float32s
	bucketEmbedModels  = []byte("embed_models")   // model ID → EmbedModel
	bucketModelBlobs   = []byte("model_blobs")    // model ID → trained model bytes
	bucketChunkConfigs = []byte("chunk_configs")  // version (8-byte big endian) → ChunkConfig
	bucketFeedback     = []byte("feedback")       // trace ID + feedback ID → Feedback

	bucketConversations = []byte("conversations") // conversation ID → Conversation
	bucketSettings      = []byte("settings")      // setting name → JSON value

	bucketEvalSets        = []byte("eval_sets")         // set ID → TestSet
	bucketEvalSetNames    = []byte("eval_set_names")    // lower(name) → set ID
	bucketEvalSetVersions = []byte("eval_set_versions") // set ID + 0 + 8-byte version → TestSetVersion
	bucketEvalRuns        = []byte("eval_runs")         // run ID (time-sorted) → EvalRun
	bucketEvalResults     = []byte("eval_results")      // run ID + 0 + 8-byte case index → CaseResult
	bucketJudgeCache      = []byte("judge_cache")       // sha256 of judge input → verdict JSON
)

var (
	metaApp           = []byte("app")
	metaAppName       = []byte("llmops")
	metaSchemaVersion = []byte("schema_version")
	metaActiveModel   = []byte("active_embed_model")
	metaFingerprint   = []byte("chunk_fingerprint")
	metaChunkCount    = []byte("chunk_count")
)

// migration moves the schema from version-1 to version. Migrations run in
// order, each in its own transaction together with the version bump, so a
// crash leaves the database at the last completed version.
type migration struct {
	version int
	name    string
	up      func(tx *bolt.Tx) error
}

var migrations = []migration{
	{1, "accounts, audit and traces", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketUsers, bucketUsersByEmail, bucketSessions,
			bucketAPIKeys, bucketAPIKeyHashes, bucketAudit, bucketTraces, bucketSpans)
	}},
	{2, "knowledge base", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketDocuments, bucketDocsBySource, bucketDocsByHash, bucketChunks,
			bucketVectors, bucketEmbedModels, bucketModelBlobs, bucketChunkConfigs)
	}},
	{3, "chunk counter", func(tx *bolt.Tx) error {
		// Counting by walking the bucket touches every page of a large
		// database; keep the count beside the fingerprint instead.
		n := tx.Bucket(bucketChunks).Stats().KeyN
		return tx.Bucket(bucketMeta).Put(metaChunkCount, encodeVersion(n))
	}},
	{4, "fingerprint covers index metadata", func(tx *bolt.Tx) error {
		var fp Fingerprint
		n := 0
		var doc *Document
		err := tx.Bucket(bucketChunks).ForEach(func(_, v []byte) error {
			var c Chunk
			if err := decode(v, &c); err != nil {
				return err
			}
			if doc == nil || doc.ID != c.DocumentID {
				var err error
				if doc, err = documentByID(tx, []byte(c.DocumentID)); err != nil {
					return err
				}
			}
			fp.Toggle(doc, &c)
			n++
			return nil
		})
		if err != nil {
			return err
		}
		return writeFingerprint(tx, fp, n)
	}},
	{5, "feedback", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketFeedback)
	}},
	{6, "conversations and settings", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketConversations, bucketSettings)
	}},
	{7, "evals", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketEvalSets, bucketEvalSetNames, bucketEvalSetVersions, bucketEvalRuns, bucketEvalResults, bucketJudgeCache)
	}},
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func createBuckets(tx *bolt.Tx, names ...[]byte) error {
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrate stamps a new database as llmops's and applies pending migrations.
func (s *Store) migrate() error {
	version, err := s.schemaVersion()
	if err != nil {
		return err
	}
	for _, m := range migrations {
		if m.version <= version {
			continue
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put(metaApp, metaAppName); err != nil {
				return err
			}
			if err := m.up(tx); err != nil {
				return err
			}
			return meta.Put(metaSchemaVersion, encodeVersion(m.version))
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// checkSchema validates a database opened read-only without changing it.
func (s *Store) checkSchema() error {
	version, err := s.schemaVersion()
	if err != nil {
		return err
	}
	if version < SchemaVersion() {
		return fmt.Errorf("database schema %d is older than %d: open it once with llmops serve to migrate", version, SchemaVersion())
	}
	return nil
}

// schemaVersion reads the stamped version: 0 for an empty database, an
// ErrForeignDB for a bbolt file that some other program wrote.
func (s *Store) schemaVersion() (int, error) {
	version := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("%w (it has buckets but no llmops meta)", ErrForeignDB)
			}
			return nil
		}
		if !bytes.Equal(meta.Get(metaApp), metaAppName) {
			return fmt.Errorf("%w (meta app is %q)", ErrForeignDB, meta.Get(metaApp))
		}
		v := meta.Get(metaSchemaVersion)
		if len(v) != 8 {
			return fmt.Errorf("%w (schema version missing)", ErrForeignDB)
		}
		version = int(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return 0, err
	}
	if version > SchemaVersion() {
		return 0, fmt.Errorf("%w (database %d, binary %d)", ErrNewerSchema, version, SchemaVersion())
	}
	return version, nil
}

func encodeVersion(v int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return b
}

// MarkOnce sets a one-time flag and reports whether this call set it (so a
// start-up task such as loading the sample data runs once per data dir).
func (s *Store) MarkOnce(ctx context.Context, flag string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	first := false
	key := []byte("once:" + flag)
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta.Get(key) != nil {
			return nil
		}
		first = true
		return meta.Put(key, []byte(s.now().UTC().Format(time.RFC3339)))
	})
	return first, err
}
