package server

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
)

// writeReviewWeek stores n widget answers in week 2026-W50, each its own
// conversation, the first thumbed down.
func writeReviewWeek(t *testing.T, s *Server, n int) []string {
	t.Helper()
	ctx := context.Background()
	monday, _ := store.ParseISOWeek("2026-W50")
	var ids []string
	for i := range n {
		at := monday.Add(time.Duration(i) * time.Hour)
		q := fmt.Sprintf("How do I cancel plan %d?", i)
		tr := &store.Trace{ID: store.NewIDAt(at), Kind: schema.KindAsk, Name: "ask", Start: at, End: at.Add(time.Second), Status: schema.StatusOK,
			Input: q, Output: "Open Billing.", Attributes: map[string]any{schema.AttrChannel: schema.ChannelWidget, schema.AttrQuestion: q,
				schema.AttrAnswer: "Open Billing.", schema.AttrConversationID: fmt.Sprintf("conv-%d", i), schema.AttrGroundedness: 0.9, schema.AttrThreshold: 0.35}}
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tr.ID)
	}
	if err := s.traces.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.store.AddFeedback(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, &store.Feedback{TraceID: ids[0], Value: -1, Comment: "wrong"}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestReviewAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	h := s.http.Handler
	admin, editor := keyFor(t, s, store.RoleAdmin), keyFor(t, s, store.RoleEditor)
	rev1, rev2, viewer := keyFor(t, s, store.RoleReviewer), keyFor(t, s, store.RoleReviewer), keyFor(t, s, store.RoleViewer)
	ids := writeReviewWeek(t, s, 30)

	// Policy: defaults, then a change that is validated and audited.
	rec := call(h, "GET", "/api/v1/review/policy", "", admin)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"sample_rate":0.05`) || !strings.Contains(rec.Body.String(), `"weekly_target":50`) {
		t.Fatalf("policy: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "PUT", "/api/v1/review/policy", `{"sample_rate":2}`, admin); rec.Code != 400 || !strings.HasPrefix(errorMessage(t, rec), "sample_rate") {
		t.Errorf("bad rate: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "PUT", "/api/v1/review/policy", `{"sample_rate":1,"weekly_target":10,"double_share":0}`, admin); rec.Code != 200 {
		t.Fatalf("put policy: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "PUT", "/api/v1/review/policy", `{"sample_rate":1}`, editor); rec.Code != 403 {
		t.Errorf("editor put policy: %d, want 403", rec.Code)
	}
	events, _, _ := s.store.FindAudit(context.Background(), store.AuditFilter{Resource: "setting"})
	if len(events) == 0 || events[0].ResourceID != store.SettingReviewPolicy {
		t.Errorf("policy change not audited: %+v", events)
	}

	// The queue: the thumbs down plus a sample, up to the target.
	if rec := call(h, "GET", "/api/v1/review/queue?week=2026-W50", "", viewer); rec.Code != 403 {
		t.Errorf("viewer queue: %d, want 403", rec.Code)
	}
	if rec := call(h, "GET", "/api/v1/review/queue?week=2026-50", "", rev1); rec.Code != 400 {
		t.Errorf("bad week: %d, want 400", rec.Code)
	}
	rec = call(h, "GET", "/api/v1/review/queue?week=2026-W50", "", rev1)
	var q struct {
		Week  string      `json:"week"`
		Items []queueItem `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &q); err != nil || rec.Code != 200 || q.Week != "2026-W50" || len(q.Items) != 10 {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	first := q.Items[0]
	if first.TraceID != ids[0] || first.Reason[0] != store.ReasonThumbsDown || first.State != store.ReviewOpen {
		t.Errorf("first item %+v, want the thumbs down", first)
	}

	// Label: reviewer 1, then reviewer 2 conflicts and sees the first.
	label := `{"verdict":"incorrect","grounded":false,"cause":"knowledge_gap","corrected_answer":"Billing → Plan → Cancel.","documents":["billing/refunds-and-cancellation.md"]}`
	if rec := call(h, "POST", "/api/v1/review/items/"+first.ID+"/label", `{"verdict":"meh","grounded":true}`, rev1); rec.Code != 400 {
		t.Errorf("bad verdict: %d", rec.Code)
	}
	if rec := call(h, "POST", "/api/v1/review/items/"+first.ID+"/label", label, viewer); rec.Code != 403 {
		t.Errorf("viewer label: %d, want 403", rec.Code)
	}
	rec = call(h, "POST", "/api/v1/review/items/"+first.ID+"/label", label, rev1)
	var res labelResult
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 || res.Item.State != store.ReviewDone {
		t.Fatalf("label: %d %s", rec.Code, rec.Body)
	}
	// "incorrect" goes to the policy's findings set by itself.
	if res.Set != "Review findings" || res.TestCase == nil || res.TestCase.ReferenceAnswer != "Billing → Plan → Cancel." {
		t.Errorf("automatic test case: %s", rec.Body)
	}
	rec = call(h, "POST", "/api/v1/review/items/"+first.ID+"/label", `{"verdict":"correct","grounded":true}`, rev2)
	var conflict struct {
		apiError
		Label store.ReviewLabel `json:"label"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &conflict)
	if rec.Code != http.StatusConflict || conflict.Error.Code != store.ECONFLICT || conflict.Label.Verdict != store.VerdictIncorrect {
		t.Errorf("second reviewer: %d %s; want 409 showing the first label", rec.Code, rec.Body)
	}
	events, _, _ = s.store.FindAudit(context.Background(), store.AuditFilter{Resource: "review_item", Action: "label"})
	if len(events) == 0 || events[0].Action != "label" {
		t.Errorf("label not audited: %+v", events)
	}

	// Into a test set by hand (editor): should have refused → unanswerable.
	second := q.Items[1]
	if rec := call(h, "POST", "/api/v1/review/items/"+second.ID+"/test-case", `{"set":"Refusals"}`, editor); rec.Code != 400 {
		t.Errorf("unlabelled item to test set: %d, want 400", rec.Code)
	}
	if rec := call(h, "POST", "/api/v1/review/items/"+second.ID+"/label", `{"verdict":"should_have_refused","grounded":false,"cause":"policy"}`, rev2); rec.Code != 200 {
		t.Fatalf("label 2: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "POST", "/api/v1/review/items/"+second.ID+"/test-case", `{"set":"Refusals"}`, rev1); rec.Code != 403 {
		t.Errorf("reviewer adds a test case: %d, want 403", rec.Code)
	}
	rec = call(h, "POST", "/api/v1/review/items/"+second.ID+"/test-case", `{"set":"Refusals"}`, editor)
	var tc struct {
		Set  string         `json:"set"`
		Case store.EvalCase `json:"case"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tc); err != nil || rec.Code != 201 || tc.Set != "Refusals" || !tc.Case.Unanswerable || tc.Case.TraceID != second.TraceID {
		t.Errorf("test case: %d %s", rec.Code, rec.Body)
	}

	// Report.
	rec = call(h, "GET", "/api/v1/review/report?week=2026-W50", "", viewer)
	var rep struct {
		Labelled int            `json:"labelled"`
		Failing  int            `json:"failing"`
		Verdicts map[string]int `json:"verdicts"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rec.Code != 200 || rep.Labelled != 2 || rep.Failing != 2 || rep.Verdicts["should_have_refused"] != 1 {
		t.Errorf("report: %d %s", rec.Code, rec.Body)
	}
}

// TestReviewItemPage: the reviewing view of a real answer shows its cited
// chunks' text, the chunks retrieved but not cited, the user's comment,
// groundedness and the trace link; a viewer sees it without the form.
func TestReviewItemPage(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	admin, viewer := keyFor(t, s, store.RoleAdmin), keyFor(t, s, store.RoleViewer)
	rec := call(h, "POST", "/api/v1/ask", `{"question":"How do I cancel my subscription?"}`, admin)
	var ans struct {
		TraceID   string `json:"trace_id"`
		Citations []struct {
			ChunkID string `json:"chunk_id"`
		} `json:"citations"`
		Retrieved []string `json:"retrieved"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || rec.Code != 200 || len(ans.Citations) == 0 {
		t.Fatalf("ask: %d %s", rec.Code, rec.Body)
	}
	if err := s.traces.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := call(h, "POST", "/api/v1/feedback", `{"trace_id":"`+ans.TraceID+`","value":-1,"comment":"I wanted the refund part"}`, admin); rec.Code != 201 {
		t.Fatalf("feedback: %d %s", rec.Code, rec.Body)
	}
	at, _ := store.IDTime(ans.TraceID)
	rec = call(h, "GET", "/api/v1/review/queue?week="+store.ISOWeek(at), "", admin)
	if !strings.Contains(rec.Body.String(), ans.TraceID) {
		t.Fatalf("queue lacks the thumbed-down answer: %s", rec.Body)
	}
	chunks, err := s.store.ChunksByID(context.Background(), []string{ans.Citations[0].ChunkID})
	if err != nil || len(chunks) != 1 {
		t.Fatal(chunks, err)
	}
	rec = call(h, "GET", "/review/items/"+ans.TraceID, "", admin)
	page := rec.Body.String()
	firstLine := strings.SplitN(strings.TrimSpace(chunks[0].Chunk.Text), "\n", 2)[0]
	for _, want := range []string{"How do I cancel my subscription?", "I wanted the refund part", "groundedness", `href="/traces/` + ans.TraceID + `"`,
		`data-testid="label-form"`, html.EscapeString(firstLine)} {
		if !strings.Contains(page, want) {
			t.Errorf("reviewing view lacks %q", want)
		}
	}
	if uncited := len(ans.Retrieved) - len(ans.Citations); uncited > 0 && !strings.Contains(page, "Retrieved but not cited ("+fmt.Sprint(uncited)) {
		t.Errorf("reviewing view does not list the %d retrieved-but-not-cited chunks", uncited)
	}
	rec = call(h, "GET", "/review/items/"+ans.TraceID, "", viewer)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), `data-testid="label-form"`) {
		t.Errorf("viewer: %d, and the label form is shown: %v", rec.Code, strings.Contains(rec.Body.String(), `data-testid="label-form"`))
	}
}
