package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"llmops/store"
	"llmops/store/schema"
)

// TestPromptAPI walks the registry's JSON API as an editor: list, read,
// save (new, same content, stale base), bad templates and configs with
// positions and keys, label moves and splits, diff, and deletes refused
// while a label points at the version; viewers are refused changes.
func TestPromptAPI(t *testing.T) {
	s := mustServer(t)
	h := s.http.Handler
	editor, viewer := keyFor(t, s, store.RoleEditor), keyFor(t, s, store.RoleViewer)
	decodeBody := func(t *testing.T, body string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("decode %q: %v", body, err)
		}
		return m
	}

	rec := call(h, http.MethodGet, "/api/v1/prompts", "", viewer)
	if rec.Code != http.StatusOK {
		t.Fatalf("list: got %d %s", rec.Code, rec.Body)
	}
	var list struct {
		Prompts []struct {
			Name   string         `json:"name"`
			Latest int            `json:"latest"`
			Labels map[string]any `json:"labels"`
		} `json:"prompts"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range list.Prompts {
		names[p.Name] = true
		if p.Latest != 1 || p.Labels["production"] != float64(1) {
			t.Errorf("%s: latest %d, labels %v; want 1 with production at 1", p.Name, p.Latest, p.Labels)
		}
	}
	for _, want := range []string{"support-answer", "followup-rewrite", "fallback-message", "judge-support", "judge-faithfulness", "judge-relevancy", "judge-correctness", "judge-refusal"} {
		if !names[want] {
			t.Errorf("list lacks %s", want)
		}
	}

	rec = call(h, http.MethodGet, "/api/v1/prompts/support-answer/versions/1", "", viewer)
	v1 := decodeBody(t, rec.Body.String())
	if rec.Code != http.StatusOK || !strings.Contains(v1["template"].(string), "<passage") {
		t.Fatalf("version 1: got %d %v", rec.Code, v1)
	}

	body := `{"config":{"temperature":0.1,"max_tokens":700,"top_k":3},"message":"cooler","base_version":1}`
	if rec := call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", body, viewer); rec.Code != http.StatusForbidden {
		t.Errorf("viewer save: got %d, want 403", rec.Code)
	}
	rec = call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", body, editor)
	if rec.Code != http.StatusCreated || decodeBody(t, rec.Body.String())["version"] != float64(2) {
		t.Fatalf("save: got %d %s, want 201 with version 2", rec.Code, rec.Body)
	}
	// The same content again, even with another message: the same version.
	rec = call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", strings.Replace(body, "cooler", "again", 1), editor)
	if rec.Code != http.StatusOK || decodeBody(t, rec.Body.String())["version"] != float64(2) {
		t.Fatalf("same content: got %d %s, want 200 with version 2", rec.Code, rec.Body)
	}
	// Another change from the stale base: 409 with the current version.
	rec = call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", `{"config":{"top_k":4},"message":"x","base_version":1}`, editor)
	if m := decodeBody(t, rec.Body.String()); rec.Code != http.StatusConflict || m["current"].(map[string]any)["version"] != float64(2) {
		t.Fatalf("stale base: got %d %s, want 409 with current version 2", rec.Code, rec.Body)
	}

	for _, tc := range []struct {
		body       string
		want       string
		line, col  float64
		positioned bool
	}{
		{`{"template":"[system]\nx\n[user]\n{{.Question}} {{.Contex}}","message":"m","base_version":2}`, "not a declared variable", 4, 17, true},
		{`{"template":"{{.Question}}\n{{if}}","message":"m","base_version":2}`, "missing value for if", 2, 1, true},
		{`{"template":"{{.Question}}","message":"m","base_version":2}`, "{{.Context}}", 1, 14, true},
		{`{"config":{"temperature":-1},"message":"m","base_version":2}`, "config.temperature", 0, 0, false},
		{`{"config":{"top_k":25},"message":"m","base_version":2}`, "config.top_k", 0, 0, false},
		{`{"config":{"retrieval_mode":"magic"},"message":"m","base_version":2}`, "config.retrieval_mode", 0, 0, false},
	} {
		rec := call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", tc.body, editor)
		m := decodeBody(t, rec.Body.String())
		msg := m["error"].(map[string]any)["message"].(string)
		if rec.Code != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: got %d %q, want 400 naming %q", tc.body, rec.Code, msg, tc.want)
		}
		if tc.positioned && (m["line"] != tc.line || m["column"] != tc.col) {
			t.Errorf("%s: at %v:%v, want %v:%v", tc.body, m["line"], m["column"], tc.line, tc.col)
		}
	}

	// Labels: a viewer may not move one; an editor moves and splits.
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/staging", `{"version":2}`, viewer); rec.Code != http.StatusForbidden {
		t.Errorf("viewer move: got %d, want 403", rec.Code)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/staging", `{"version":2}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("move: got %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"split":[{"version":1,"weight":0},{"version":2,"weight":0}]}`, editor); rec.Code != http.StatusBadRequest {
		t.Errorf("zero split: got %d, want 400", rec.Code)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":2,"override_reason":"hotfix"}`, editor); rec.Code != http.StatusForbidden {
		t.Errorf("editor override: got %d, want 403", rec.Code)
	}
	rec = call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"split":[{"version":1,"weight":90},{"version":2,"weight":10}]}`, editor)
	if rec.Code != http.StatusOK {
		t.Fatalf("split: got %d %s", rec.Code, rec.Body)
	}
	got := decodeBody(t, rec.Body.String())
	if hist := got["history"].([]any); len(hist) < 5 || hist[0].(map[string]any)["to"] != "1:90,2:10" {
		t.Errorf("history: %v, want the split first", got["history"])
	}
	if rec := call(h, http.MethodDelete, "/api/v1/prompts/support-answer/versions/2", "", editor); rec.Code != http.StatusConflict {
		t.Errorf("delete a labelled version: got %d, want 409", rec.Code)
	}
	ev, _, err := s.store.FindAudit(context.Background(), store.AuditFilter{Resource: "prompt_label"})
	if err != nil || len(ev) != 2 {
		t.Errorf("audit: %d label events (%v), want 2", len(ev), err)
	}

	rec = call(h, http.MethodGet, "/api/v1/prompts/support-answer/diff?from=1&to=2", "", viewer)
	var d struct {
		Template []struct{ Op string } `json:"template"`
		Config   []struct {
			Key      string
			From, To any
		} `json:"config"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("diff: %d %s", rec.Code, rec.Body)
	}
	if len(d.Config) != 2 || d.Config[0].Key != "temperature" || d.Config[0].From != 0.2 || d.Config[0].To != 0.1 || d.Config[1].Key != "top_k" {
		t.Errorf("config diff: %+v", d.Config)
	}
	for _, l := range d.Template {
		if l.Op != " " {
			t.Errorf("template diff of a config-only change has %q lines", l.Op)
		}
	}
}

// TestPromptPlaygroundAndEnv: the playground answers one question with a
// saved version and an unsaved draft side by side, as playground traces;
// a label move reaches the next ask without a restart, and the answer
// and its trace carry name@version.
func TestPromptPlaygroundAndEnv(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	editor := keyFor(t, s, store.RoleEditor)
	ctx := context.Background()

	// An offline draft with one passage only: the extractive answerer
	// honours its top_k.
	body := `{"question":"How do I cancel my subscription?","versions":[1],"drafts":[{"config":{"top_k":1},"message":"one passage","base_version":1}]}`
	rec := call(h, http.MethodPost, "/api/v1/prompts/support-answer/playground", body, editor)
	if rec.Code != http.StatusOK {
		t.Fatalf("playground: %d %s", rec.Code, rec.Body)
	}
	var pg struct {
		Answers []struct {
			Prompt   string `json:"prompt"`
			Answer   string `json:"answer"`
			Rendered string `json:"rendered_prompt"`
			Context  []any  `json:"context"`
			TraceID  string `json:"trace_id"`
		} `json:"answers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &pg); err != nil || len(pg.Answers) != 2 {
		t.Fatalf("playground body %s: %v", rec.Body, err)
	}
	a, b := pg.Answers[0], pg.Answers[1]
	if a.Prompt != "support-answer@1" || b.Prompt != "support-answer@draft" {
		t.Errorf("arms %q and %q, want support-answer@1 and @draft", a.Prompt, b.Prompt)
	}
	if len(a.Context) != 5 || len(b.Context) != 1 || a.Answer == "" || !strings.Contains(b.Rendered, `<passage id="1"`) {
		t.Errorf("contexts %d and %d (want 5 and 1), answer %q, rendered %q", len(a.Context), len(b.Context), a.Answer, b.Rendered)
	}
	s.traces.Flush(ctx)
	tr, _, err := s.store.Trace(ctx, b.TraceID)
	if err != nil || tr.Kind != schema.KindPlayground || tr.Attributes[schema.AttrPrompt] != "support-answer@draft" {
		t.Fatalf("playground trace %+v: %v", tr, err)
	}

	// Promote a version that gives the answerer one passage: the next
	// ask uses it.
	rec = call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", `{"config":{"temperature":0.2,"max_tokens":700,"top_k":1},"message":"one passage","base_version":1}`, editor)
	if rec.Code != http.StatusCreated {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":2}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("promote: %d %s", rec.Code, rec.Body)
	}
	rec = call(h, http.MethodPost, "/api/v1/ask", `{"question":"How do I cancel my subscription?"}`, editor)
	var res struct {
		Prompt    string   `json:"prompt"`
		Retrieved []string `json:"retrieved"`
		TraceID   string   `json:"trace_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Prompt != "support-answer@2" || len(res.Retrieved) != 1 {
		t.Fatalf("ask after promotion: %d %s", rec.Code, rec.Body)
	}
	s.traces.Flush(ctx)
	if tr, _, err := s.store.Trace(ctx, res.TraceID); err != nil || tr.Attributes[schema.AttrPrompt] != "support-answer@2" || tr.Kind != schema.KindAsk {
		t.Errorf("ask trace %+v: %v", tr, err)
	}
}

// TestPromptGate: with a gate on, production moves only to a version
// with a finished, passing run on the gate's set; an admin may override
// with a reason (audited, in the label's history); rolling back to a
// version production ran before needs no run.
func TestPromptGate(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	ctx := context.Background()
	editor, admin := keyFor(t, s, store.RoleEditor), keyFor(t, s, store.RoleAdmin)
	set, err := s.store.CreateTestSet(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, store.TestSet{Name: "gate set"}, "", []store.EvalCase{
		{ID: "c1", Question: "How do I cancel my subscription?", DocumentIDs: []string{"billing/refunds-and-cancellation"}},
		{ID: "c2", Question: "How do I swap a shift?", DocumentIDs: []string{"faq/shift-swaps-faq"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(h, http.MethodPost, "/api/v1/prompts/support-answer/versions", `{"config":{"top_k":3},"message":"three passages","base_version":1}`, editor); rec.Code != http.StatusCreated {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/gate", `{"set_id":"gate set","thresholds":{"nonsense":1}}`, editor); rec.Code != http.StatusBadRequest {
		t.Errorf("unknown metric: got %d, want 400", rec.Code)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/gate", `{"set_id":"gate set","thresholds":{"hit@5":0.5}}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("gate: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":2}`, editor); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "run the gate") {
		t.Fatalf("promote without a run: %d %s, want 409", rec.Code, rec.Body)
	}
	// Staging is not gated.
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/staging", `{"version":2}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("staging: %d %s", rec.Code, rec.Body)
	}
	// An admin overrides, with a reason; rolling back needs no run.
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":2,"override_reason":"hotfix for ticket 12"}`, admin); rec.Code != http.StatusOK {
		t.Fatalf("override: %d %s", rec.Code, rec.Body)
	}
	ev, _, err := s.store.FindAudit(ctx, store.AuditFilter{Action: "label.override"})
	if err != nil || len(ev) != 1 || !strings.Contains(ev[0].After, "hotfix for ticket 12") {
		t.Errorf("override audit: %+v %v", ev, err)
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":1}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("rollback: %d %s", rec.Code, rec.Body)
	}

	// Run the gate for version 2 and wait for the run to finish.
	rec := call(h, http.MethodPost, "/api/v1/prompts/support-answer/gate/run", `{"version":2}`, editor)
	var started struct {
		Runs []store.EvalRun `json:"runs"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &started); err != nil || rec.Code != http.StatusAccepted || len(started.Runs) != 1 {
		t.Fatalf("gate run: %d %s", rec.Code, rec.Body)
	}
	waitRun(t, s, editor, started.Runs[0].ID)
	run, err := s.store.Run(ctx, started.Runs[0].ID)
	if err != nil || run.Settings.Prompt != "support-answer@2" || run.Settings.TopK != 3 {
		t.Fatalf("gate run %+v: %v", run, err)
	}
	rec = call(h, http.MethodGet, "/api/v1/prompts/support-answer/gate?version=2", "", editor)
	if !strings.Contains(rec.Body.String(), `"pass":true`) {
		t.Fatalf("verdict: %s (hit@5 %v)", rec.Body, run.Metrics["hit@5"])
	}
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":2}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("promote after a passing run: %d %s", rec.Code, rec.Body)
	}
	// A bar the run misses refuses it again.
	call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"version":1}`, editor)
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/gate", `{"set_id":"`+set.ID+`","thresholds":{"hit@5":1.01}}`, editor); rec.Code != http.StatusOK {
		t.Fatalf("gate: %d %s", rec.Code, rec.Body)
	}
	rec = call(h, http.MethodGet, "/api/v1/prompts/support-answer/gate?version=2", "", editor)
	if !strings.Contains(rec.Body.String(), `"pass":false`) || !strings.Contains(rec.Body.String(), "misses the gate on hit@5") {
		t.Errorf("verdict under a bar of 1.01: %s", rec.Body)
	}
	// Version 2 has answered in production before: moving back to it (in
	// a split here) is a rollback, which needs no new run.
	if rec := call(h, http.MethodPut, "/api/v1/prompts/support-answer/labels/production", `{"split":[{"version":1,"weight":1},{"version":2,"weight":1}]}`, editor); rec.Code != http.StatusOK {
		t.Errorf("split back onto version 2: %d %s", rec.Code, rec.Body)
	}
}
