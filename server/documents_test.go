package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
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
	body, ctype := multipartBody(t, nil, map[string]string{"a.md": "# A\n\nSome text for a chunk.\n", "c.md": "# C\n\nOther text for a chunk.\n", "b.txt": ""})
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
	if tr.Status != schema.StatusError || !strings.Contains(tr.Output, "2 created") || !strings.Contains(tr.Output, "1 failed") {
		t.Errorf("trace = %+v", tr)
	}
	byID := map[string]store.Span{}
	for _, sp := range spans {
		byID[sp.ID] = sp
	}
	// Each file has its own parse and chunk; the embedding and commit the
	// two good files shared are one span each, not one per file.
	var got []string
	for _, sp := range spans {
		name := sp.Name
		if p, ok := byID[sp.ParentID]; ok {
			name = p.Name + "/" + name
		}
		if n, ok := sp.Attributes[schema.AttrBatchFiles]; ok {
			name += fmt.Sprintf(" [%v files, %v chunks]", n, sp.Attributes[schema.AttrChunks])
		}
		got = append(got, name)
	}
	sort.Strings(got)
	want := []string{"a.md", "a.md/chunk", "a.md/parse", "b.txt", "b.txt/parse", "c.md", "c.md/chunk", "c.md/parse",
		"embed batch · 2 files [2 files, 2 chunks]", "store and index · 2 files [2 files, 2 chunks]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans =\n%q\nwant\n%q", got, want)
	}
	for _, sp := range spans {
		if sp.End.Before(sp.Start) {
			t.Errorf("span %s ends before it starts", sp.Name)
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

// TestUploadMetadataLimits: upload metadata over a limit is refused with
// a 400 that names the field and the limit, and nothing is stored; an
// upload at the limits lands.
func TestUploadMetadataLimits(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleEditor)
	upload := func(fields, files map[string]string) *httptest.ResponseRecorder {
		body, ctype := multipartBody(t, fields, files)
		req := httptest.NewRequest("POST", "/api/v1/documents", body)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		s.http.Handler.ServeHTTP(rec, req)
		return rec
	}
	manyTags := make([]string, 2_000_000)
	for i := range manyTags {
		manyTags[i] = "t" + strconv.Itoa(i)
	}
	huge := strings.Repeat("x", 5_000_000)
	doc := map[string]string{"a.md": "# A\n\nAnnual plans are refunded pro rata.\n"}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		files  map[string]string
		want   []string // in the message: the field and its limit
	}{
		{"2M tags", map[string]string{"tags": strings.Join(manyTags, ",")}, doc, []string{"tags", "20"}},
		{"long tag", map[string]string{"tags": "ok, " + strings.Repeat("y", 65)}, doc, []string{"tags", "64"}},
		{"5M title", map[string]string{"title": huge}, doc, []string{"title", "300"}},
		{"5M category", map[string]string{"category": huge}, doc, []string{"category", "100"}},
		{"5M product version", map[string]string{"product_version": huge}, doc, []string{"product_version", "64"}},
		{"5M last updated", map[string]string{"last_updated": huge}, doc, []string{"last_updated", "64"}},
		{"long source URL", map[string]string{"source_url": "https://example.com/" + strings.Repeat("p", 2100)}, doc, []string{"source_url", "2048"}},
		{"source URL not http", map[string]string{"source_url": "javascript:alert(1)"}, doc, []string{"source_url", "http"}},
		{"long file name", nil, map[string]string{strings.Repeat("d/", 600) + "a.md": "# A\n\nText.\n"}, []string{"file name", "1024"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := upload(tc.fields, tc.files)
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != http.StatusBadRequest || e.Error.Code != store.EINVALID {
				t.Fatalf("got %d %.300s, want 400 invalid", rec.Code, rec.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Error.Message, w) {
					t.Errorf("message %q does not say %q", e.Error.Message, w)
				}
			}
			if rec.Body.Len() > 1024 {
				t.Errorf("error body is %d bytes, want under 1 KB", rec.Body.Len())
			}
		})
	}
	if docs, err := s.store.ListDocuments(context.Background()); err != nil || len(docs) != 0 {
		t.Fatalf("after refused uploads: %d documents (%v), want none", len(docs), err)
	}

	// At the limits, with duplicates and blanks that normalising removes.
	tags := []string{" ", "Dup", "dup"}
	for i := range 19 {
		tags = append(tags, fmt.Sprintf("%02d%s", i, strings.Repeat("é", 62)))
	}
	rec := upload(map[string]string{
		"tags": strings.Join(tags, ","), "title": strings.Repeat("T", 300), "category": strings.Repeat("c", 100),
		"product_version": strings.Repeat("5", 64), "source_url": "https://help.example.com/" + strings.Repeat("p", 2048-25),
	}, doc)
	var sum uploadSummary
	if err := json.Unmarshal(rec.Body.Bytes(), &sum); err != nil || rec.Code != http.StatusOK || sum.Counts[schema.IngestCreated] != 1 {
		t.Fatalf("upload at the limits: %d %.500s", rec.Code, rec.Body)
	}
	got, _, err := s.store.Document(context.Background(), sum.Results[0].DocumentID)
	if err != nil || len(got.Tags) != 20 || len([]rune(got.Title)) != 300 || len(got.SourceURL) != 2048 {
		t.Fatalf("stored document: %d tags, title %d, source URL %d (%v)", len(got.Tags), len([]rune(got.Title)), len(got.SourceURL), err)
	}
}

// TestUploadFrontMatterLimits: a file whose own front matter breaks a
// limit fails alone, with the reason; its sibling lands.
func TestUploadFrontMatterLimits(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	key := keyFor(t, s, store.RoleEditor)
	tags := make([]string, 10_000)
	for i := range tags {
		tags[i] = "tag" + strconv.Itoa(i)
	}
	body, ctype := multipartBody(t, nil, map[string]string{
		"bad.md":  "---\ntitle: Bad\ntags: [" + strings.Join(tags, ", ") + "]\n---\n\n# Bad\n\nThis file has far too many tags.\n",
		"good.md": "---\ntitle: Good\ntags: [billing]\n---\n\n# Good\n\nRefunds are paid within thirty days.\n",
	})
	req := httptest.NewRequest("POST", "/api/v1/documents", body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ctype)
	rec := httptest.NewRecorder()
	s.http.Handler.ServeHTTP(rec, req)
	var sum uploadSummary
	if err := json.Unmarshal(rec.Body.Bytes(), &sum); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("upload: %d %.300s", rec.Code, rec.Body)
	}
	for _, r := range sum.Results {
		switch r.Name {
		case "bad.md":
			if r.Outcome != schema.IngestFailed || !strings.Contains(r.Error, "tags") || !strings.Contains(r.Error, "20") {
				t.Errorf("bad.md: %s %q, want failed naming tags and the limit", r.Outcome, r.Error)
			}
		case "good.md":
			if r.Outcome != schema.IngestCreated {
				t.Errorf("good.md: %s %q, want created", r.Outcome, r.Error)
			}
		}
	}
	docs, err := s.store.ListDocuments(context.Background())
	if err != nil || len(docs) != 1 || docs[0].Source != "good.md" {
		t.Fatalf("stored %+v (%v), want only good.md", docs, err)
	}
}
