package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"llmops/store"
	"llmops/store/schema"
)

func multipartBody(t *testing.T, fields map[string]string, files map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, body := range files {
		w, _ := mw.CreateFormFile("files", name)
		io.WriteString(w, body)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestDocumentsAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	editor, viewer := keyFor(t, s, store.RoleEditor), keyFor(t, s, store.RoleViewer)
	h := s.http.Handler
	call := func(method, path, key string, body io.Reader, ctype, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, body)
		req.Header.Set("Authorization", "Bearer "+key)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	body, ctype := multipartBody(t, map[string]string{"category": "Billing", "tags": "refunds, plans"}, map[string]string{
		"../../etc/refunds.md": "# Refunds\n\nAnnual plans are refunded pro rata within thirty days of renewal.\n",
		"empty.txt":            "",
	})
	rec := call("POST", "/api/v1/documents", editor, body, ctype, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var sum uploadSummary
	json.Unmarshal(rec.Body.Bytes(), &sum)
	if sum.Counts["created"] != 1 || sum.Counts["failed"] != 1 {
		t.Fatalf("upload summary = %+v", sum)
	}
	var docID string
	for _, r := range sum.Results {
		if r.Outcome == "created" {
			docID = r.DocumentID
			if r.Name != "etc/refunds.md" {
				t.Errorf("stored name %q, want the client's relative path without ..", r.Name)
			}
		} else if !strings.Contains(r.Error, "empty") {
			t.Errorf("empty file error = %q", r.Error)
		}
	}

	rec = call("GET", "/api/v1/documents/"+docID, viewer, nil, "", "")
	var got struct {
		Document documentJSON
		Chunks   []store.Chunk
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != 200 || got.Document.Category != "billing" || len(got.Document.Tags) != 2 || len(got.Chunks) == 0 {
		t.Fatalf("get document: %d %+v", rec.Code, got)
	}

	// Streaming progress, one JSON object per line, ending in a summary.
	body, ctype = multipartBody(t, nil, map[string]string{"slack.md": "# Slack\n\nConnect Slack from Settings then Integrations.\n"})
	rec = call("POST", "/api/v1/documents", editor, body, ctype, "application/x-ndjson")
	if rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("content type %q", rec.Header().Get("Content-Type"))
	}
	var stages []string
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if st, ok := ev["stage"].(string); ok {
			stages = append(stages, st)
		}
	}
	if strings.Join(stages, ",") != "queued,parse,chunk,embed,index,done" {
		t.Errorf("stages = %v", stages)
	}

	if rec := call("DELETE", "/api/v1/documents/"+docID, viewer, nil, "", ""); rec.Code != http.StatusForbidden {
		t.Errorf("viewer delete: %d", rec.Code)
	}
	if rec := call("DELETE", "/api/v1/documents/"+docID, editor, nil, "", ""); rec.Code != http.StatusNoContent {
		t.Errorf("editor delete: %d %s", rec.Code, rec.Body)
	}
	if rec := call("GET", "/api/v1/documents/"+docID, viewer, nil, "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("deleted document: %d", rec.Code)
	}
	rec = call("POST", "/api/v1/documents", editor, strings.NewReader(`{"files": []}`), "application/json", "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "multipart") {
		t.Errorf("JSON upload: %d %s", rec.Code, rec.Body)
	}
}

func TestUploadLimit(t *testing.T) {
	t.Parallel()
	s := mustServer(t, func(c *Config) { c.MaxBodyBytes, c.MaxUploadBytes = 4<<10, 64<<10 })
	key := keyFor(t, s, store.RoleEditor)
	for _, chunked := range []bool{false, true} {
		body, ctype := multipartBody(t, nil, map[string]string{"big.txt": strings.Repeat("word ", 30<<10)})
		var r io.Reader = body
		if chunked {
			r = io.MultiReader(body) // hides the length: the limit must hold while reading
		}
		req := httptest.NewRequest("POST", "/api/v1/documents", r)
		if chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		s.http.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "too_large") {
			t.Errorf("chunked=%v: %d %s, want 413", chunked, rec.Code, rec.Body)
		}
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a.md": "a.md", "docs/a/README.md": "docs/a/README.md", "../../etc/passwd": "etc/passwd",
		"/abs/x.md": "abs/x.md", `C:\Users\me\x.md`: "Users/me/x.md", "": "upload", "..": "upload", "a/../../b.md": "b.md",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUploadIsTraced(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleEditor)
	body, ctype := multipartBody(t, nil, map[string]string{"a.md": "# A\n\nSome text for a chunk.\n", "b.txt": ""})
	req := httptest.NewRequest("POST", "/api/v1/documents", body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ctype)
	s.http.Handler.ServeHTTP(httptest.NewRecorder(), req)
	if err := s.traces.Close(context.Background()); err != nil { // flush
		t.Fatal(err)
	}
	traces, _, err := s.store.ListTraces(context.Background(), store.TraceFilter{Kind: schema.KindIngest})
	if err != nil || len(traces) != 1 {
		t.Fatalf("ingest traces = %d, %v", len(traces), err)
	}
	tr, spans, _ := s.store.Trace(context.Background(), traces[0].ID)
	if tr.Status != schema.StatusError || !strings.Contains(tr.Output, "1 created") || !strings.Contains(tr.Output, "1 failed") {
		t.Errorf("trace = %+v", tr)
	}
	stages := map[string]bool{}
	for _, sp := range spans {
		stages[sp.Name] = true
	}
	for _, want := range []string{"a.md", "b.txt", "parse", "chunk", "embed", "index"} {
		if !stages[want] {
			t.Errorf("no span %q in %v", want, stages)
		}
	}
}

func TestFeedbackAPI(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleViewer)
	tr := &store.Trace{ID: store.NewID(), Kind: schema.KindAsk, Name: "ask", Status: schema.StatusOK}
	s.traces.Write(context.Background(), tr)
	s.traces.Close(context.Background())
	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/feedback", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		s.http.Handler.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(`{"trace_id": "` + tr.ID + `", "value": -1, "comment": "outdated price"}`); rec.Code != http.StatusCreated {
		t.Fatalf("feedback: %d %s", rec.Code, rec.Body)
	}
	for body, want := range map[string]int{
		`{"trace_id": "` + tr.ID + `", "value": 5}`: 400,
		`{"trace_id": "missing", "value": 1}`:       404,
		`{"value": 1}`:                              400,
		`{"trace_id": 7}`:                           400,
	} {
		if rec := post(body); rec.Code != want {
			t.Errorf("%s: %d, want %d", body, rec.Code, want)
		}
	}
	req := httptest.NewRequest("GET", "/api/v1/traces/"+tr.ID, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	s.http.Handler.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "outdated price") {
		t.Errorf("trace does not carry its feedback: %s", rec.Body)
	}
}
