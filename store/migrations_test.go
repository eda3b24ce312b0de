package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

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
	if v, err := s.schemaVersion(); err != nil || v != SchemaVersion() || v != 8 {
		t.Fatalf("schema version %d, %v; want 8", v, err)
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
