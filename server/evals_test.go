package server

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"llmops/evals"
	"llmops/store"
	"llmops/store/schema"
)

// get sends an authenticated GET.
func getJSON[T any](tb testing.TB, url, key string) (int, T) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, decodeBody[T](tb, res)
}

// upload posts a multipart form with one file.
func upload(tb testing.TB, url, key, field, name, data string, fields map[string]string) *http.Response {
	tb.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile(field, name)
	fw.Write([]byte(data))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// waitRun polls a run until it has finished, for up to 5 minutes: a
// 90-case run under -race on a busy machine takes a minute or more.
func waitRun(tb testing.TB, s *Server, key, id string) store.EvalRun {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		_, run := getJSON[store.EvalRun](tb, s.URL()+"/api/v1/evals/runs/"+id, key)
		if run.Finished() {
			return run
		}
		if time.Now().After(deadline) {
			tb.Fatalf("run %s still %s after 5 minutes (%d/%d)", id, run.Status, run.Done, run.Total)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSampleEvalIsFirstRun: a new install has the sample set and its run.
func TestSampleEvalIsFirstRun(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	key := keyFor(t, s, store.RoleViewer)
	_, list := getJSON[struct{ Runs []store.EvalRun }](t, s.URL()+"/api/v1/evals/runs", key)
	if len(list.Runs) != 1 || list.Runs[0].SetName != evals.SampleSetName || list.Runs[0].Name != "Sample baseline" {
		t.Fatalf("runs of a new install: %+v", list.Runs)
	}
	run := waitRun(t, s, key, list.Runs[0].ID)
	if run.Status != schema.RunDone || run.Done != 90 || run.Metrics["hit@5"] < 0.9 {
		t.Fatalf("sample run: %s %d/%d hit@5 %.3f (%s)", run.Status, run.Done, run.Total, run.Metrics["hit@5"], run.Error)
	}
	// Its cases are traced as kind "eval", hidden from the Traces page
	// unless asked for, and never offered as chat suggestions.
	page := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return b.String()
	}
	if all, evalOnly := page("/traces"), page("/traces?kind=eval"); strings.Contains(all, "ask · eval") || !strings.Contains(evalOnly, "ask · eval") {
		t.Errorf("eval traces: on /traces %v, on ?kind=eval %v", strings.Contains(all, "ask · eval"), strings.Contains(evalOnly, "ask · eval"))
	}
	// The set page counts every run, not just the ones it lists.
	for range 21 {
		r := &store.EvalRun{SetID: run.SetID, SetName: run.SetName, SetVersion: 1, Status: schema.RunDone}
		if err := s.store.CreateRun(context.Background(), store.Actor{Kind: store.ActorCLI, Name: "t"}, r); err != nil {
			t.Fatal(err)
		}
	}
	if body := page("/evals/sets/" + run.SetID); !strings.Contains(body, "22 runs") {
		t.Errorf("set page does not count 22 runs")
	}
	// Restarting does not run it again.
	if err := s.startSampleEval(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	_, list = getJSON[struct{ Runs []store.EvalRun }](t, s.URL()+"/api/v1/evals/runs", key)
	if len(list.Runs) != 22 {
		t.Errorf("%d runs after a restart, want 22", len(list.Runs))
	}
}

// TestEvalsAPI: import (bad lines named, then skipped), add a case from a
// trace, run, compare, export.
func TestEvalsAPI(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	editor := keyFor(t, s, store.RoleEditor)
	viewer := keyFor(t, s, store.RoleViewer)
	csv := "question,reference_answer,document_ids,tags\n" +
		"How do I cancel my subscription?,The account owner cancels in Settings > Billing.,billing/cancel-subscription,billing\n" +
		",missing question,,\n" +
		"Can I change integrations from the phone app?,\"No, only in the web app.\",mobile/mobile-apps-overview,mobile\n"
	res := upload(t, s.URL()+"/api/v1/evals/sets", editor, "file", "smoke.csv", csv, map[string]string{"name": "smoke"})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("import with a bad line: %d", res.StatusCode)
	}
	e := decodeBody[map[string]map[string]string](t, res)
	if msg := e["error"]["message"]; !strings.Contains(msg, "line 3") || !strings.Contains(msg, "skip-invalid") {
		t.Errorf("import error %q does not name line 3", msg)
	}
	res = upload(t, s.URL()+"/api/v1/evals/sets", editor, "file", "smoke.csv", csv, map[string]string{"name": "smoke", "skip_invalid": "on"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("import with skip_invalid: %d", res.StatusCode)
	}
	imp := decodeBody[evals.Import](t, res)
	if imp.Added != 2 || len(imp.Skipped) != 1 || imp.Skipped[0].Line != 3 || imp.Set.Version != 1 {
		t.Fatalf("import: %+v", imp)
	}

	// A case from an answered question.
	asked := decodeBody[struct {
		TraceID string `json:"trace_id"`
	}](t, post(t, s.URL()+"/api/v1/ask", `{"question":"How do I add a new location?"}`, "Authorization", "Bearer "+viewer))
	s.traces.Flush(context.Background())
	res = post(t, s.URL()+"/api/v1/evals/sets/"+imp.Set.ID+"/cases", `{"trace_id":"`+asked.TraceID+`","reference_answer":"Settings > Locations > Add."}`, "Authorization", "Bearer "+editor)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("add from trace: %d", res.StatusCode)
	}
	set := decodeBody[store.TestSet](t, res)
	if set.Version != 2 || set.Cases != 3 {
		t.Fatalf("after adding: %+v", set)
	}
	_, got := getJSON[struct {
		Cases []store.EvalCase
	}](t, s.URL()+"/api/v1/evals/sets/smoke", viewer)
	last := got.Cases[len(got.Cases)-1]
	if last.TraceID != asked.TraceID || last.Question != "How do I add a new location?" || len(last.DocumentIDs) == 0 {
		t.Errorf("case from trace: %+v", last)
	}

	// Viewers cannot start runs; editors can.
	if res := post(t, s.URL()+"/api/v1/evals/runs", `{"set":"smoke"}`, "Authorization", "Bearer "+viewer); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer starting a run: %d", res.StatusCode)
	}
	start := func(body string) store.EvalRun {
		res := post(t, s.URL()+"/api/v1/evals/runs", body, "Authorization", "Bearer "+editor)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("start run %s: %d", body, res.StatusCode)
		}
		return waitRun(t, s, viewer, decodeBody[store.EvalRun](t, res).ID)
	}
	a := start(`{"set":"smoke","name":"keyword","settings":{"mode":"keyword","no_rerank":true}}`)
	b := start(`{"set":"smoke","name":"hybrid"}`)
	if a.Status != schema.RunDone || b.Status != schema.RunDone || b.Total != 3 || b.SetVersion != 2 {
		t.Fatalf("runs: %+v / %+v", a, b)
	}
	if res := post(t, s.URL()+"/api/v1/evals/runs", `{"set":"smoke","settings":{"mode":"telepathy"}}`, "Authorization", "Bearer "+editor); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad mode: %d", res.StatusCode)
	}
	code, cmp := getJSON[struct {
		Metrics []struct {
			Metric string  `json:"metric"`
			N      int     `json:"n"`
			Lo     float64 `json:"ci_low"`
			Hi     float64 `json:"ci_high"`
		}
		Cases   []map[string]any
		Matched int
	}](t, s.URL()+"/api/v1/evals/compare?a="+a.ID+"&b="+b.ID, viewer)
	if code != http.StatusOK || cmp.Matched != 3 || len(cmp.Cases) != 3 || len(cmp.Metrics) == 0 {
		t.Fatalf("compare: %d %+v", code, cmp)
	}
	// Export round-trips through import unchanged: no new version.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v1/evals/sets/smoke/export", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	exp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(exp.Body)
	exp.Body.Close()
	res = upload(t, s.URL()+"/api/v1/evals/sets", editor, "file", "smoke.jsonl", buf.String(), map[string]string{"name": "smoke"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("re-import: %d", res.StatusCode)
	}
	if again := decodeBody[evals.Import](t, res); again.Set.Version != 2 {
		t.Errorf("re-importing the same cases made version %d", again.Set.Version)
	}
	// An empty set runs (to nothing) and then fills from a trace.
	if res := post(t, s.URL()+"/api/v1/evals/sets", `{"name":"Regressions"}`, "Authorization", "Bearer "+editor); res.StatusCode != http.StatusCreated {
		t.Fatalf("create an empty set: %d", res.StatusCode)
	}
	if empty := start(`{"set":"Regressions"}`); empty.Status != schema.RunDone || empty.Total != 0 {
		t.Errorf("run of an empty set: %+v", empty)
	}
	if res := post(t, s.URL()+"/api/v1/evals/sets/Regressions/cases", `{"trace_id":"`+asked.TraceID+`"}`, "Authorization", "Bearer "+editor); res.StatusCode != http.StatusOK {
		t.Errorf("add to the empty set by name: %d", res.StatusCode)
	}
	if res := post(t, s.URL()+"/api/v1/evals/runs/"+a.ID+"/cancel", ``, "Authorization", "Bearer "+editor); res.StatusCode != http.StatusConflict {
		t.Errorf("cancelling a finished run: %d", res.StatusCode)
	}

	// Deleting: a run goes with its results; a set goes, its runs stay.
	del := func(path, key string) int {
		req, _ := http.NewRequest(http.MethodDelete, s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := del("/api/v1/evals/runs/"+a.ID, viewer); code != http.StatusForbidden {
		t.Errorf("viewer deleting a run: %d", code)
	}
	if code := del("/api/v1/evals/runs/"+a.ID, editor); code != http.StatusNoContent {
		t.Errorf("delete run: %d", code)
	}
	if code, _ := getJSON[map[string]any](t, s.URL()+"/api/v1/evals/runs/"+a.ID+"/results", viewer); code != http.StatusNotFound {
		t.Errorf("deleted run: %d", code)
	}
	if code := del("/api/v1/evals/sets/smoke", editor); code != http.StatusOK {
		t.Errorf("delete set: %d", code)
	}
	if code, _ := getJSON[map[string]any](t, s.URL()+"/api/v1/evals/sets/smoke", viewer); code != http.StatusNotFound {
		t.Errorf("deleted set: %d", code)
	}
	if code, _ := getJSON[map[string]any](t, s.URL()+"/api/v1/evals/runs/"+b.ID+"/results", viewer); code != http.StatusOK {
		t.Errorf("a run of the deleted set: %d", code)
	}
	pageReq, _ := http.NewRequest(http.MethodGet, s.URL()+"/evals/runs/"+b.ID, nil)
	pageReq.Header.Set("Authorization", "Bearer "+viewer)
	if res, err := http.DefaultClient.Do(pageReq); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("run page of the deleted set: %v %v", res, err)
	}
	if _, err := s.runner.Resume(context.Background(), b.ID); err == nil {
		t.Errorf("resumed a run whose set is gone")
	}
}
