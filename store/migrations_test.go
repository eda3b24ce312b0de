package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// v7Trace and v7Spans are an ask as schema 7 stored it: bare attribute
// keys, a fallback answer with status ok.
const v7Trace = `{"id":%q,"kind":"ask","name":"ask · chat","start":"2025-01-02T03:04:05Z","end":"2025-01-02T03:04:06Z","status":"ok",
"input":"How do I cancel?","output":"I don't know","tokens_in":100,"tokens_out":20,"cost_usd":0.001,"future_field":{"kept":true},
"attributes":{"question":"How do I cancel?","channel":"chat","actor":"user:ada","conversation_id":"",
"filters":{"category":"billing","tags":["web","mobile"]},"standalone_question":"How do I cancel my plan?",
"model":"gpt-4o-mini","prompt":"support-answer@1","answer":"I don't know","groundedness":0.25,"fallback":true,"escalated":true,
"citations":[{"n":1,"document_id":"d1","title":"Billing"}],"retrieved":["d1-00000"],"removed_citations":1,"ttft_ms":120,"custom":"x"}}`

var v7Spans = []struct{ name, attrs, status, err string }{
	{"prompt", `{"template":"support-answer@1","tokens":90,"text":"[system]\nAnswer"}`, "ok", ""},
	{"llm", `{"model":"gpt-4o-mini","tokens_in":100,"tokens_out":20,"usage_reported":true,"ttft_ms":80.5,"cost_usd":0.001,"attempts":2,"finish_reason":"stop","output":"It is [1]."}`, "error", "cancelled: the client went away"},
	{"groundedness", `{"score":0.25,"threshold":0.5,"fallback":true,"removed_citations":1,"sentence_support":[0.25]}`, "ok", ""},
}

func TestMigrationV8RewritesTraces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Turn the new database back into a schema 7 one holding old-shaped
	// traces: more than fit one migration batch, so several commits run.
	const n = 2*migrateBatch + 7
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(metaSchemaVersion, encodeVersion(7)); err != nil {
			return err
		}
		for i := range n {
			id := fmt.Sprintf("01JTRACE%08d", i)
			ids = append(ids, id)
			if err := tx.Bucket(bucketTraces).Put([]byte(id), []byte(fmt.Sprintf(v7Trace, id))); err != nil {
				return err
			}
			for j, sp := range v7Spans {
				spanID := fmt.Sprintf("S%d", j)
				v := fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":%q,"kind":"chain","start":"2025-01-02T03:04:05Z","status":%q,"error":%q,"attributes":%s}`,
					id, spanID, sp.name, sp.status, sp.err, sp.attrs)
				if err := tx.Bucket(bucketSpans).Put(spanKey(id, spanID), []byte(v)); err != nil {
					return err
				}
			}
		}
		// An ingest trace of schema 7.
		return tx.Bucket(bucketTraces).Put([]byte("01JZINGEST"), []byte(`{"id":"01JZINGEST","kind":"ingest","name":"a.md","status":"error","error":"1 of 1 files failed","attributes":{"actor":"cli:ops","files":1}}`))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatalf("open schema 7: %v", err)
	}
	defer s.Close()
	if v, err := s.schemaVersion(); err != nil || v != SchemaVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, SchemaVersion())
	}

	wantTrace := map[string]any{
		schema.AttrQuestion: "How do I cancel?", schema.AttrChannel: "chat", schema.AttrActor: "user:ada",
		schema.AttrFilterCategory: "billing", schema.AttrFilterTags: []any{"web", "mobile"},
		schema.AttrStandaloneQuestion: "How do I cancel my plan?", schema.AttrResponseModel: "gpt-4o-mini",
		schema.AttrPrompt: "support-answer@1", schema.AttrAnswer: "I don't know", schema.AttrGroundedness: 0.25,
		schema.AttrFallback: true, schema.AttrEscalated: true,
		schema.AttrCitations:        []any{map[string]any{"n": 1.0, "document_id": "d1", "title": "Billing"}},
		schema.AttrRetrieved:        []any{"d1-00000"},
		schema.AttrRemovedCitations: 1.0, schema.AttrTTFTMS: 120.0, "custom": "x",
	}
	wantSpans := map[string]map[string]any{
		schema.SpanPrompt: {schema.AttrPrompt: "support-answer@1", schema.AttrPromptTokens: 90.0, schema.AttrPromptText: "[system]\nAnswer"},
		schema.SpanLLM: {schema.AttrResponseModel: "gpt-4o-mini", schema.AttrUsageInputTokens: 100.0, schema.AttrUsageOutputTokens: 20.0,
			schema.AttrUsageReported: true, schema.AttrTTFTMS: 80.5, schema.AttrCostUSD: 0.001, schema.AttrAttempts: 2.0,
			schema.AttrResponseFinishReasons: []any{"stop"}, schema.AttrOutput: "It is [1]."},
		schema.SpanGroundedness: {schema.AttrGroundedness: 0.25, schema.AttrThreshold: 0.5, schema.AttrFallback: true,
			schema.AttrRemovedCitations: 1.0, schema.AttrSentenceSupport: []any{0.25}},
	}
	wantStatus := map[string]schema.TraceStatus{schema.SpanPrompt: schema.StatusOK, schema.SpanLLM: schema.StatusCancelled, schema.SpanGroundedness: schema.StatusOK}
	for _, i := range []int{0, migrateBatch - 1, migrateBatch, n - 1} {
		tr, spans, err := s.Trace(ctx, ids[i])
		if err != nil {
			t.Fatalf("trace %d: %v", i, err)
		}
		if tr.Status != schema.StatusFallback {
			t.Errorf("trace %d: status %q, want %q", i, tr.Status, schema.StatusFallback)
		}
		if !reflect.DeepEqual(tr.Attributes, wantTrace) {
			t.Errorf("trace %d attributes:\ngot  %v\nwant %v", i, tr.Attributes, wantTrace)
		}
		if tr.TokensIn != 100 || tr.Input != "How do I cancel?" || tr.Name != "ask · chat" {
			t.Errorf("trace %d fields changed: %+v", i, tr)
		}
		if len(spans) != len(v7Spans) {
			t.Fatalf("trace %d: %d spans, want %d", i, len(spans), len(v7Spans))
		}
		for _, sp := range spans {
			if !reflect.DeepEqual(sp.Attributes, wantSpans[sp.Name]) {
				t.Errorf("trace %d span %s attributes:\ngot  %v\nwant %v", i, sp.Name, sp.Attributes, wantSpans[sp.Name])
			}
			if sp.Status != wantStatus[sp.Name] {
				t.Errorf("trace %d span %s: status %q, want %q", i, sp.Name, sp.Status, wantStatus[sp.Name])
			}
		}
	}
	// Fields this version does not know survive the rewrite.
	err = s.db.View(func(tx *bolt.Tx) error {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(tx.Bucket(bucketTraces).Get([]byte(ids[0])), &rec); err != nil {
			return err
		}
		if string(rec["future_field"]) != `{"kept":true}` {
			t.Errorf("future_field = %s, want it kept", rec["future_field"])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ingest, _, err := s.Trace(ctx, "01JZINGEST")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{schema.AttrActor: "cli:ops", schema.AttrFiles: 1.0}; ingest.Status != schema.StatusError || !reflect.DeepEqual(ingest.Attributes, want) {
		t.Errorf("ingest trace: status %q, attributes %v; want error, %v", ingest.Status, ingest.Attributes, want)
	}
}

// A crash repeats a batched migration from the start: a record already
// rewritten must come through unchanged.
func TestMigrationV8IsIdempotent(t *testing.T) {
	t.Parallel()
	records := [][]byte{
		fmt.Appendf(nil, v7Trace, "01JA"),
		[]byte(`{"trace_id":"01JA","id":"S1","name":"llm","status":"error","error":"cancelled: the client went away","attributes":{"model":"m","finish_reason":"length"}}`),
		[]byte(`{"trace_id":"01JA","id":"S2","name":"retrieve","status":"ok"}`),
	}
	for i, v := range records {
		once, _, err := traceV8(v)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		twice, changed, err := traceV8(once)
		if err != nil || changed || string(twice) != string(once) {
			t.Errorf("record %d: second pass changed %v (%v):\n%s\n%s", i, changed, err, once, twice)
		}
	}
	if _, changed, _ := traceV8(records[2]); changed {
		t.Errorf("a record without old keys or statuses was rewritten")
	}
}

// TestMigrationV9KeyOwners turns a database back into schema 8 holding
// keys made every way before owners existed, and checks what migration 9
// makes of each.
func TestMigrationV9KeyOwners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	lead := &User{Email: "lead@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, lead); err != nil {
		t.Fatal(err)
	}
	leadActor := Actor{Kind: ActorUser, ID: lead.ID, Name: lead.Email}
	viewer := &User{Email: "vic@example.com", Role: RoleViewer, PasswordHash: []byte("h")}
	reused := &User{Email: "rae@example.com", Role: RoleAdmin, PasswordHash: []byte("h")}
	for _, u := range []*User{viewer, reused} {
		if err := s.CreateUser(ctx, leadActor, u); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	gone := Actor{Kind: ActorUser, ID: NewID(), Name: "gone@example.com"}
	deletedKey := NewID()
	type oldKey struct {
		name   string
		role   Role
		maker  *Actor // its create event; nil: none
		by     string // CreatedBy
		at     time.Time
		pk     bool
		id     string
		secret string
	}
	keys := []*oldKey{
		{name: "lead's", role: RoleAdmin, maker: &leadActor},
		{name: "viewer's admin", role: RoleAdmin, maker: &Actor{Kind: ActorUser, ID: viewer.ID, Name: viewer.Email}},
		{name: "gone's", role: RoleAdmin, maker: &gone},
		{name: "made by gone's", role: RoleEditor}, // maker set below
		{name: "made by a deleted key of lead's", role: RoleEditor, maker: &Actor{Kind: ActorKey, ID: deletedKey, Name: "old"}},
		{name: "cli", role: RoleAdmin, maker: &Actor{Kind: ActorCLI, Name: "ops"}},
		{name: "no event", role: RoleViewer, by: "user:lead@example.com", at: lead.CreatedAt.Add(time.Hour)},
		{name: "no event, email reused", role: RoleViewer, by: "user:rae@example.com", at: reused.CreatedAt.Add(-time.Hour)},
		{name: "gone's widget", role: RoleViewer, maker: &gone, pk: true},
	}
	for i, k := range keys {
		k.id, k.secret = NewID(), fmt.Sprintf("llmops_secret%d", i)
		if k.at.IsZero() {
			k.at = time.Now().UTC()
		}
	}
	keys[3].maker = &Actor{Kind: ActorKey, ID: keys[2].id, Name: keys[2].name}

	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(metaSchemaVersion, encodeVersion(8)); err != nil {
			return err
		}
		audit := func(a Actor, id string) error {
			return putAudit(tx, time.Now(), AuditEvent{Actor: a, Action: "create", Resource: "api_key", ResourceID: id, After: "x"})
		}
		if err := audit(leadActor, deletedKey); err != nil {
			return err
		}
		for _, k := range keys {
			rec := APIKey{ID: k.id, Name: k.name, Role: k.role, Hint: k.secret[:11], CreatedAt: k.at, CreatedBy: k.by}
			if k.pk {
				rec.Kind, rec.Origins, rec.RatePerMinute = KeyPublishable, []string{"https://help.example.com"}, 20
			}
			if k.maker != nil {
				rec.CreatedBy = k.maker.String()
				if err := audit(*k.maker, k.id); err != nil {
					return err
				}
			}
			if err := putJSON(tx.Bucket(bucketAPIKeys), []byte(k.id), storedKey{rec, hashSecret(k.secret)}); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAPIKeyHashes).Put([]byte(hashSecret(k.secret)), []byte(k.id)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatalf("open schema 8: %v", err)
	}
	defer s.Close()
	want := []struct {
		owner string // "-": revoked
		role  Role
	}{
		{lead.ID, RoleAdmin},
		{viewer.ID, RoleViewer},
		{"-", ""},
		{"-", ""},
		{lead.ID, RoleEditor},
		{"", RoleAdmin},
		{lead.ID, RoleViewer},
		{"-", ""},
		{"-", ""},
	}
	for i, k := range keys {
		got, err := s.APIKeyBySecret(ctx, k.secret)
		if want[i].owner == "-" {
			if ErrorCode(err) != EUNAUTHORIZED {
				t.Errorf("%s: got %+v, %v; want it revoked", k.name, got, err)
			}
			continue
		}
		if err != nil || got.OwnerID != want[i].owner || got.Role != want[i].role {
			t.Errorf("%s: got %+v, %v; want owner %q, role %s", k.name, got, err, want[i].owner, want[i].role)
		}
	}
	if list, _ := s.ListAPIKeys(ctx); len(list) != 5 {
		t.Errorf("%d keys listed after the migration, want 5", len(list))
	}
	events, _, err := s.ListAudit(ctx, Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var deletes, updates int
	for _, ev := range events {
		if ev.Actor.Kind != ActorSystem {
			continue
		}
		switch ev.Action {
		case "delete":
			deletes++
		case "update":
			updates++
			if ev.ResourceID != keys[1].id || !strings.Contains(ev.Before, "role=admin") || !strings.Contains(ev.After, "role=viewer") {
				t.Errorf("clamp event %+v, want %s from admin to viewer", ev, keys[1].name)
			}
		}
	}
	if deletes != 4 || updates != 1 {
		t.Errorf("migration audited %d revocations and %d role changes, want 4 and 1", deletes, updates)
	}
	for _, err := range s.Check() {
		t.Errorf("consistency: %v", err)
	}
}

// migrationNamed returns the version of the migration whose name starts
// with prefix, so tests need no edit when migrations are renumbered.
func migrationNamed(t *testing.T, prefix string) int {
	t.Helper()
	for _, m := range migrations {
		if strings.HasPrefix(m.name, prefix) {
			return m.version
		}
	}
	t.Fatalf("no migration named %q…", prefix)
	return 0
}

// TestMigrationAccountLinks turns a database back into the schema before
// account links, with a session from before last-seen times, and checks
// that the migration adds the bucket and that the old session does not
// go idle on the upgrade.
func TestMigrationAccountLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	version := migrationNamed(t, "accounts: one-time invite and reset links")
	s, err := Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	u := &User{Email: "lead@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, u); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	month := time.Now().UTC().Add(-30 * 24 * time.Hour)
	token := "old-session-token"
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(metaSchemaVersion, encodeVersion(version-1)); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketAccountLinks); err != nil {
			return err
		}
		// As written before: no last_seen_at, and a field from elsewhere.
		old := fmt.Sprintf(`{"hash":%q,"user_id":%q,"created_at":%q,"expires_at":%q,"ip":"192.0.2.1","extra":1}`,
			hashSecret(token), u.ID, month.Format(time.RFC3339), month.Add(60*24*time.Hour).Format(time.RFC3339))
		return tx.Bucket(bucketSessions).Put([]byte(hashSecret(token)), []byte(old))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	s, err = Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatalf("open schema %d: %v", version-1, err)
	}
	defer s.Close()
	sess, _, err := s.SessionUser(ctx, token, 7*24*time.Hour)
	if err != nil {
		t.Fatalf("a session a month old, used before the upgrade: %v; want it to survive a 7-day idle limit", err)
	}
	if sess.LastSeenAt.Before(before.Add(-time.Second)) || sess.IP != "192.0.2.1" {
		t.Errorf("migrated session %+v: want it last seen at the upgrade, its IP kept", sess)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAccountLinks) == nil {
			return fmt.Errorf("no %s bucket", bucketAccountLinks)
		}
		if v := tx.Bucket(bucketSessions).Get([]byte(hashSecret(token))); !strings.Contains(string(v), `"extra":1`) {
			return fmt.Errorf("the session lost a field it had: %s", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if _, _, err := s.InviteUser(ctx, Actor{Kind: ActorCLI, Name: "t"}, &User{Email: "new@example.com", Role: RoleViewer}, time.Hour); err != nil {
		t.Errorf("invite after the migration: %v", err)
	}
	for _, err := range s.Check() {
		t.Errorf("consistency: %v", err)
	}
}
