package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"llmops/store/schema"

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

	bucketAlerts      = []byte("alerts")       // alert rule ULID → AlertRule (with its state and history)
	bucketBudgetUsage = []byte("budget_usage") // budget scope → BudgetUsage

	bucketAccountLinks = []byte("account_links") // sha256(token) → AccountLink (one-time invite or reset link)

	bucketPrompts          = []byte("prompts")            // prompt name → Prompt (labels, gate)
	bucketPromptVersions   = []byte("prompt_versions")    // name + 0 + 8-byte version → PromptVersion (immutable)
	bucketPromptHashes     = []byte("prompt_hashes")      // name + 0 + content hash → 8-byte version
	bucketPromptLabelMoves = []byte("prompt_label_moves") // name + 0 + move ID (time-sorted) → LabelMove

	bucketChunkFlags = []byte("chunk_flags") // chunk ID → ChunkFlag (text that addresses the assistant; held until approved)

	bucketRollups    = []byte("rollups")     // level (m/h/d) + 8-byte period start + channel 0 model 0 prompt → Rollup (guard counts included)
	bucketTraceIndex = []byte("trace_index") // field byte + value + 0 + trace ID → nothing (see trace_index.go)

	bucketEscalations          = []byte("escalations")            // conversation ID → Escalation (the inbox)
	bucketConversationsByOwner = []byte("conversations_by_owner") // owner + 0 + conversation ID → nothing (chat history)
	bucketReviewItems          = []byte("review_items")           // ISO week + 0 + trace ID → ReviewItem (the weekly review queue and its labels)
	bucketTraceViews           = []byte("trace_views")            // view ID → TraceView (a saved filter set of the trace explorer)
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
	// batched, when set, runs before up in transactions of its own: a
	// rewrite of every record of a bucket is too big for one. A crash
	// runs it again from the start, so it must be idempotent.
	batched func(db *bolt.DB) error
}

var migrations = []migration{
	{1, "accounts, audit and traces", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketUsers, bucketUsersByEmail, bucketSessions,
			bucketAPIKeys, bucketAPIKeyHashes, bucketAudit, bucketTraces, bucketSpans)
	}, nil},
	{2, "knowledge base", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketDocuments, bucketDocsBySource, bucketDocsByHash, bucketChunks,
			bucketVectors, bucketEmbedModels, bucketModelBlobs, bucketChunkConfigs)
	}, nil},
	{3, "chunk counter", func(tx *bolt.Tx) error {
		// Counting by walking the bucket touches every page of a large
		// database; keep the count beside the fingerprint instead.
		n := tx.Bucket(bucketChunks).Stats().KeyN
		return tx.Bucket(bucketMeta).Put(metaChunkCount, encodeVersion(n))
	}, nil},
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
	}, nil},
	{5, "feedback", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketFeedback)
	}, nil},
	{6, "conversations and settings", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketConversations, bucketSettings)
	}, nil},
	{7, "evals", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketEvalSets, bucketEvalSetNames, bucketEvalSetVersions, bucketEvalRuns, bucketEvalResults, bucketJudgeCache)
	}, nil},
	{8, "trace schema: OpenTelemetry-shaped attribute keys, fallback and cancelled statuses", nil, func(db *bolt.DB) error {
		if err := rewriteBucket(db, bucketTraces, traceV8); err != nil {
			return err
		}
		return rewriteBucket(db, bucketSpans, traceV8)
	}},
	{9, "API keys belong to a user: owner IDs, keys of removed users revoked, none above its owner's role", func(tx *bolt.Tx) error {
		return keyOwnersV9(tx, time.Now())
	}, nil},
	// Nothing to rewrite: a key without a scope answers from everything,
	// as before. The version is what matters: an older binary, which would
	// ignore scopes and answer from everything, refuses to open the file.
	// Nothing here depends on the number, so it can be renumbered.
	{10, "publishable keys may be scoped to categories and tags", func(*bolt.Tx) error { return nil }, nil},
	// Self-contained (no version in its code or test), so an integrator
	// can renumber it past a migration from another branch.
	{11, "accounts: one-time invite and reset links; sessions record when they were last seen", func(tx *bolt.Tx) error {
		return accountLinksAndLastSeen(tx, time.Now())
	}, nil},
	// Self-contained: the buckets are new, so it can be renumbered. The
	// prompts themselves are seeded by rag/prompt at start-up.
	{12, "prompt registry: prompts, immutable versions, labels and their history", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketPrompts, bucketPromptVersions, bucketPromptHashes, bucketPromptLabelMoves)
	}, nil},
	// Only the bucket: the rules that flag chunks live in rag/guard, which
	// the store does not import. The knowledge base checks the chunks
	// stored before this version at its next open (meta guard_version is
	// absent, so older than any rule set), writing flags in bounded
	// batches. Self-contained, so an integrator can renumber it.
	{13, "chunks whose text addresses the assistant are flagged and held from public answers until approved", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketChunkFlags)
	}, nil},
	// Self-contained: two new buckets, renumber freely.
	{14, "monitoring: alert rules with their history, budget usage counters", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketAlerts, bucketBudgetUsage)
	}, nil},
	// Self-contained: renumber freely.
	{15, "monitoring: per-minute/hour/day rollups and secondary indexes of traces, built from the stored traces", func(*bolt.Tx) error { return nil }, func(db *bolt.DB) error {
		return rebuildTraceDerived(db)
	}},
	{16, "escalation inbox (one record per escalated conversation) and chat history (conversations by owner)", escalationsAndOwnerIndex, nil},
	{17, "review: the weekly review queue with its assignments and labels", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketReviewItems)
	}, nil},
	// Self-contained: renumber freely. The rebuild adds the per-day usage
	// rollups (user, API key, widget visitor) and indexes widget visitors.
	{18, "monitoring: saved views of the trace explorer; usage rollups per user, API key and widget visitor", func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketTraceViews)
	}, func(db *bolt.DB) error {
		return rebuildTraceDerived(db)
	}},
	// Self-contained: renumber freely. The rebuild rewrites every rollup
	// in codec version 2, with each guard's flagged, redacted and blocked
	// asks and the asks a guard blocked, counted from the traces'
	// llmops.guards and llmops.guard.blocked.
	{19, "monitoring: guard verdict counts (flagged, redacted, blocked per guard) in the minute/hour/day rollups", func(*bolt.Tx) error { return nil }, func(db *bolt.DB) error {
		return rebuildTraceDerived(db)
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
		if m.batched != nil {
			if err := m.batched(s.db); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put(metaApp, metaAppName); err != nil {
				return err
			}
			if m.up != nil {
				if err := m.up(tx); err != nil {
					return err
				}
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

// migrateBatch bounds the records one transaction of a batched migration
// visits, so a large trace history is rewritten in many small commits.
const migrateBatch = 500

// rewriteBucket passes every value of a bucket through fn, in key order,
// migrateBatch records a transaction, writing back the values fn changed.
func rewriteBucket(db *bolt.DB, bucket []byte, fn func(v []byte) ([]byte, bool, error)) error {
	var after []byte // the last key done; nil before the first batch
	for done := false; !done; {
		err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			type put struct{ k, v []byte }
			var puts []put
			for n := 0; k != nil && n < migrateBatch; k, v = c.Next() {
				out, changed, err := fn(v)
				if err != nil {
					return fmt.Errorf("%s %s: %w", bucket, k, err)
				}
				if changed {
					puts = append(puts, put{k, out})
				}
				after = bytes.Clone(k)
				n++
			}
			done = k == nil
			// Written after the scan: a cursor is not stable across puts.
			for _, p := range puts {
				if err := b.Put(p.k, p.v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// v8Keys maps the attribute keys written before schema 8 to schema's, on
// traces and spans alike.
var v8Keys = map[string]string{
	"question":            schema.AttrQuestion,
	"standalone_question": schema.AttrStandaloneQuestion,
	"channel":             schema.AttrChannel,
	"actor":               schema.AttrActor,
	"conversation_id":     schema.AttrConversationID,
	"answer":              schema.AttrAnswer,
	"citations":           schema.AttrCitations,
	"retrieved":           schema.AttrRetrieved,
	"escalated":           schema.AttrEscalated,
	"prompt":              schema.AttrPrompt,
	"groundedness":        schema.AttrGroundedness,
	"fallback":            schema.AttrFallback,
	"removed_citations":   schema.AttrRemovedCitations,
	"ttft_ms":             schema.AttrTTFTMS,
	"model":               schema.AttrResponseModel, // the model that answered, on the trace and the llm span
	"tokens_in":           schema.AttrUsageInputTokens,
	"tokens_out":          schema.AttrUsageOutputTokens,
	"question_chars":      schema.AttrQuestionChars,
	"turns":               schema.AttrTurns,
	"rewritten":           schema.AttrRewritten,
	"query":               schema.AttrQuery,
	"hits":                schema.AttrHits,
	"candidates":          schema.AttrCandidates,
	"embed_ms":            schema.AttrEmbedMS,
	"keyword_weight":      schema.AttrKeywordWeight,
	"vector_weight":       schema.AttrVectorWeight,
	"usage_reported":      schema.AttrUsageReported,
	"cost_usd":            schema.AttrCostUSD,
	"attempts":            schema.AttrAttempts,
	"threshold":           schema.AttrThreshold,
	"sentence_support":    schema.AttrSentenceSupport,
	"judge_scores":        schema.AttrJudgeScores,
	"judge_error":         schema.AttrJudgeError,
	"embed_error":         schema.AttrEmbedError,
	"files":               schema.AttrFiles,
	"outcome":             schema.AttrOutcome,
	"chunks":              schema.AttrChunks,
	"format":              schema.AttrFormat,
	"document_id":         schema.AttrDocumentID,
}

// v8SpanKeys are the generic keys only one span wrote, by span name.
var v8SpanKeys = map[string]map[string]string{
	schema.SpanPrompt:       {"template": schema.AttrPrompt, "tokens": schema.AttrPromptTokens, "text": schema.AttrPromptText},
	schema.SpanLLM:          {"output": schema.AttrOutput},
	schema.SpanGroundedness: {"score": schema.AttrGroundedness},
}

// traceV8 rewrites a stored trace or span to schema 8: attribute keys are
// renamed (finish_reason becomes a one-element finish_reasons list, the
// filters object three flat keys, an empty conversation_id is dropped); an
// ask that fell back gets status fallback instead of ok, and a trace or
// span cancelled by its caller status cancelled instead of error. The
// record is handled as raw JSON, so fields this version does not know
// survive unchanged.
func traceV8(v []byte) ([]byte, bool, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, false, err
	}
	var attrs map[string]json.RawMessage
	if raw, ok := rec["attributes"]; ok {
		if err := json.Unmarshal(raw, &attrs); err != nil {
			return nil, false, fmt.Errorf("attributes: %w", err)
		}
	}
	var name, status, errText string
	_ = json.Unmarshal(rec["name"], &name)
	_ = json.Unmarshal(rec["status"], &status)
	_ = json.Unmarshal(rec["error"], &errText)
	_, isSpan := rec["trace_id"]

	changed := false
	rename := func(old, key string, val json.RawMessage) {
		delete(attrs, old)
		if _, taken := attrs[key]; !taken {
			attrs[key] = val
		}
		changed = true
	}
	var perSpan map[string]string
	if isSpan {
		perSpan = v8SpanKeys[name]
	}
	for _, old := range slices.Sorted(maps.Keys(attrs)) {
		val := attrs[old]
		if key, ok := perSpan[old]; ok {
			rename(old, key, val)
			continue
		}
		switch old {
		case "finish_reason":
			var reason string
			if json.Unmarshal(val, &reason) == nil {
				list, _ := json.Marshal([]string{reason})
				val = list
			}
			rename(old, schema.AttrResponseFinishReasons, val)
		case "filters":
			var f struct {
				Category       string   `json:"category"`
				ProductVersion string   `json:"product_version"`
				Tags           []string `json:"tags"`
			}
			if err := json.Unmarshal(val, &f); err != nil {
				return nil, false, fmt.Errorf("attribute filters: %w", err)
			}
			delete(attrs, old)
			changed = true
			if f.Category != "" {
				attrs[schema.AttrFilterCategory], _ = json.Marshal(f.Category)
			}
			if f.ProductVersion != "" {
				attrs[schema.AttrFilterProductVersion], _ = json.Marshal(f.ProductVersion)
			}
			if len(f.Tags) > 0 {
				attrs[schema.AttrFilterTags], _ = json.Marshal(f.Tags)
			}
		case "conversation_id":
			if string(val) == `""` {
				delete(attrs, old)
				changed = true
				continue
			}
			rename(old, v8Keys[old], val)
		default:
			if key, ok := v8Keys[old]; ok {
				rename(old, key, val)
			}
		}
	}

	newStatus := status
	switch {
	case status == string(schema.StatusOK) && !isSpan && string(attrs[schema.AttrFallback]) == "true":
		newStatus = string(schema.StatusFallback)
	case status == string(schema.StatusError) && strings.HasPrefix(errText, "cancelled: "): // the ask's text for context.Canceled
		newStatus = string(schema.StatusCancelled)
	}
	if newStatus != status {
		rec["status"], _ = json.Marshal(newStatus)
		changed = true
	}
	if !changed {
		return v, false, nil
	}
	if attrs != nil {
		raw, err := json.Marshal(attrs)
		if err != nil {
			return nil, false, err
		}
		rec["attributes"] = raw
	}
	out, err := json.Marshal(rec)
	return out, true, err
}

// keyOwnersV9 gives every stored API key its owner (schema 9). Who made a
// key is read from its create event in the audit log, whose actor holds
// the user's ID, or the making key's, followed to the user (or CLI) that
// made that one; the key's CreatedBy ("user:EMAIL") is the fallback when
// the event is missing. Keys made by the CLI, the system or an unknown
// actor become service keys. Keys whose owner was removed are revoked and
// keys above their owner's role are lowered to it, each audited as done
// by the migration.
func keyOwnersV9(tx *bolt.Tx, now time.Time) error {
	makers := map[string]Actor{} // key ID → who made it
	err := tx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
		if !bytes.Contains(v, []byte(`"api_key"`)) {
			return nil // most events are about other things: skip decoding them
		}
		var ev AuditEvent
		if err := decode(v, &ev); err != nil {
			return err
		}
		if ev.Resource == "api_key" && ev.Action == "create" {
			makers[ev.ResourceID] = ev.Actor
		}
		return nil
	})
	if err != nil {
		return err
	}
	var keys []*APIKey
	byID := map[string]*APIKey{}
	err = tx.Bucket(bucketAPIKeys).ForEach(func(_, v []byte) error {
		var sk storedKey
		if err := decode(v, &sk); err != nil {
			return err
		}
		sk.APIKey.Hash = sk.Hash
		keys = append(keys, &sk.APIKey)
		byID[sk.ID] = &sk.APIKey
		return nil
	})
	if err != nil {
		return err
	}

	// ownerOf returns the ID of the user key id acts for: "" for a
	// service key, an ID no user has when its owner was removed.
	const removed = "removed"
	byEmail := func(email string, madeAt time.Time) string {
		uid := tx.Bucket(bucketUsersByEmail).Get([]byte(strings.ToLower(email)))
		if uid == nil {
			return removed
		}
		// An account made after the key reuses a removed one's email
		// (compared in milliseconds: an ID's time has no finer grain).
		if u, err := userByID(tx, uid); err != nil || u.CreatedAt.Truncate(time.Millisecond).After(madeAt) {
			return removed
		}
		return string(uid)
	}
	var ownerOf func(id string, depth int) string
	ownerOf = func(id string, depth int) string {
		k := byID[id] // nil for a key deleted since
		a, ok := makers[id]
		if !ok {
			if k == nil {
				return "" // no key, no event: nothing to go on
			}
			email, byUser := strings.CutPrefix(k.CreatedBy, ActorUser+":")
			if !byUser {
				return ""
			}
			return byEmail(email, k.CreatedAt)
		}
		switch a.Kind {
		case ActorUser:
			if a.ID != "" {
				return a.ID
			}
			madeAt, _ := IDTime(id)
			return byEmail(a.Name, madeAt)
		case ActorKey:
			if depth > 32 {
				return removed // makers come before what they make, so no loop; refuse one anyway
			}
			return ownerOf(a.ID, depth+1)
		}
		return ""
	}

	actor := Actor{Kind: ActorSystem, Name: "schema migration 9"}
	b := tx.Bucket(bucketAPIKeys)
	for _, k := range keys {
		owner := ownerOf(k.ID, 0)
		if owner == "" {
			continue // a service key, as stored
		}
		u, err := userByID(tx, []byte(owner))
		if ErrorCode(err) == ENOTFOUND {
			if err := deleteKey(tx, k); err != nil {
				return err
			}
			if err := putAudit(tx, now, AuditEvent{Actor: actor, Action: "delete", Resource: "api_key", ResourceID: k.ID,
				Before: k.summary(), After: "revoked: its owner was removed"}); err != nil {
				return err
			}
			continue
		} else if err != nil {
			return err
		}
		k.OwnerID = u.ID
		if !u.Role.Allows(k.Role) {
			before := k.summary()
			k.Role = u.Role
			if err := putAudit(tx, now, AuditEvent{Actor: actor, Action: "update", Resource: "api_key", ResourceID: k.ID,
				Before: before, After: k.summary() + " (its owner " + u.Email + " is " + string(u.Role) + ")"}); err != nil {
				return err
			}
		}
		if err := putJSON(b, []byte(k.ID), storedKey{*k, k.Hash}); err != nil {
			return err
		}
	}
	return nil
}

// accountLinksAndLastSeen creates the account_links bucket and stamps
// every stored session as last seen at now: sessions now end after an
// idle time counted from their last use, and one from before this schema
// would otherwise count from its creation and end on the upgrade.
func accountLinksAndLastSeen(tx *bolt.Tx, now time.Time) error {
	if err := createBuckets(tx, bucketAccountLinks); err != nil {
		return err
	}
	b := tx.Bucket(bucketSessions)
	type put struct{ k, v []byte }
	var puts []put
	err := b.ForEach(func(k, v []byte) error {
		var rec map[string]json.RawMessage // raw, so fields this version does not know survive
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil // an undecodable session is pruned as expired at start-up
		}
		if _, ok := rec["last_seen_at"]; ok {
			return nil
		}
		rec["last_seen_at"], _ = json.Marshal(now.UTC())
		out, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		puts = append(puts, put{bytes.Clone(k), out})
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range puts { // after the walk: a cursor is not stable across puts
		if err := b.Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}
