package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"llmops/rag"
	"llmops/rag/answer"
	"llmops/rag/assistant"
	"llmops/store"
	"llmops/store/schema"
)

const widgetSite = "https://help.example.com"

// quokkaDocs are two documents ingested the way `llmops ingest DIR` does
// it, named by their absolute path on the ingesting machine: a billing
// article published at a public URL, and an integrations one that is not.
func quokkaDocs(t *testing.T, s *Server) (dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "home", "maya", "help-centre")
	files := []rag.File{
		{Name: filepath.Join(dir, "billing", "quokka-pass.md"), Meta: rag.Meta{Category: "billing", SourceURL: "https://help.example.com/billing/quokka-pass"},
			Data: []byte("# Quokka Pass billing\n\nThe Quokka Pass is a prepaid bundle of shift credits, billed once a year.\n\n" +
				"To buy a Quokka Pass, open Settings → Billing → Quokka Pass and choose how many credits you need.\n\n" +
				"Unused Quokka Pass credits roll over for twelve months and are refunded pro rata when you cancel.\n")},
		{Name: filepath.Join(dir, "integrations", "quokka-sync.md"), Meta: rag.Meta{Category: "integrations"},
			Data: []byte("# Quokka Sync integration\n\nQuokka Sync copies your Rosterly schedules into the Quokka calendar app every fifteen minutes.\n\n" +
				"To connect Quokka Sync, open Settings → Integrations → Quokka Sync and sign in with your Quokka account.\n\n" +
				"Disconnect Quokka Sync from the same page to stop copying schedules.\n")},
	}
	for _, r := range s.kb.Ingest(context.Background(), store.Actor{Kind: store.ActorCLI, Name: "maya"}, files, nil) {
		if r.Outcome != schema.IngestCreated {
			t.Fatalf("ingest %s: %s %s", r.Name, r.Outcome, r.Error)
		}
	}
	return dir
}

// widgetKey makes a publishable key for widgetSite through the API, with
// an optional scope as JSON, and returns its secret.
func widgetKey(t *testing.T, s *Server, admin, scope string) string {
	t.Helper()
	body := `{"name":"Help centre","kind":"publishable","origins":["` + widgetSite + `"]`
	if scope != "" {
		body += `,"scope":` + scope
	}
	res := post(t, s.URL()+"/api/v1/keys", body+"}", "Authorization", "Bearer "+admin)
	k := decodeBody[struct{ Key string }](t, res)
	if res.StatusCode != http.StatusCreated || k.Key == "" {
		t.Fatalf("create widget key %s: %d", body, res.StatusCode)
	}
	return k.Key
}

// widgetAsk asks through the widget API (stream or not) as a browser on
// widgetSite would, and returns the raw body and the answer in it.
func widgetAsk(t *testing.T, s *Server, key, body string, stream bool) (string, widgetAnswer) {
	t.Helper()
	path := "ask"
	if stream {
		path = "ask/stream"
	}
	res := post(t, s.URL()+widgetPrefix+path, body, "Authorization", "Bearer "+key, "Origin", widgetSite, "Sec-Fetch-Site", "cross-site")
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("widget %s %s: %d %s %v", path, body, res.StatusCode, raw, err)
	}
	var ans widgetAnswer
	if !stream {
		if err := json.Unmarshal(raw, &ans); err != nil {
			t.Fatal(err)
		}
		return string(raw), ans
	}
	var cites []widgetCitation
	readSSE(strings.NewReader(string(raw)), func(ev sseEvent) {
		switch ev.name {
		case "citations":
			var c struct{ Citations []widgetCitation }
			json.Unmarshal([]byte(ev.data), &c)
			cites = c.Citations
		case "done":
			json.Unmarshal([]byte(ev.data), &ans)
		}
	})
	if ans.TraceID == "" {
		t.Fatalf("no done event in %s", raw)
	}
	if !slices.Equal(cites, ans.Citations) {
		t.Errorf("citations event %+v, done %+v", cites, ans.Citations)
	}
	return string(raw), ans
}

// ulid matches the IDs llmops stores documents, chunks and traces under.
var ulid = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)

// TestWidgetAnswersArePublic: what a help site's visitor receives, as
// JSON or as every event of a stream, names sources by title and public
// URL only: no path on the ingesting machine, no document or chunk ID,
// no score.
func TestWidgetAnswersArePublic(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	dir := quokkaDocs(t, s)
	docs, err := s.store.ListDocuments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pk := widgetKey(t, s, keyFor(t, s, store.RoleAdmin), "")

	for _, tc := range []struct {
		name, body string
		stream     bool
	}{
		{"json", `{"question":"How do I buy a Quokka Pass?"}`, false},
		{"stream", `{"question":"How do I buy a Quokka Pass?"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, ans := widgetAsk(t, s, pk, tc.body, tc.stream)
			if strings.Contains(raw, dir) || strings.Contains(raw, "/home/maya") {
				t.Errorf("the answer shows the ingesting machine's paths:\n%s", raw)
			}
			for _, d := range docs {
				if strings.Contains(raw, d.ID) || strings.Contains(raw, `"`+d.Source+`"`) {
					t.Errorf("the answer shows document %s (%s):\n%s", d.ID, d.Source, raw)
				}
			}
			for _, id := range ulid.FindAllString(raw, -1) {
				if id != ans.TraceID && id != ans.ConversationID {
					t.Errorf("the answer holds an ID that is neither its trace nor its conversation: %s", id)
				}
			}
			for _, key := range []string{`"score"`, `"source"`, `"document_id"`, `"chunk_id"`, `"heading"`, `"retrieved"`, `"model"`} {
				if strings.Contains(raw, key) {
					t.Errorf("the answer has a %s field:\n%s", key, raw)
				}
			}
			if ans.Fallback || len(ans.Citations) == 0 {
				t.Fatalf("no grounded answer: %+v", ans)
			}
			c := ans.Citations[0]
			if c.N != 1 || c.Title != "Quokka Pass billing" || c.SourceURL != "https://help.example.com/billing/quokka-pass" || c.Snippet == "" {
				t.Errorf("first citation %+v, want [1] Quokka Pass billing with its source_url", c)
			}
		})
	}
}

// TestPublicResult: every field of an answer that is not the visitor's
// business is left out, including on a fallback's closest articles.
func TestPublicResult(t *testing.T) {
	t.Parallel()
	const path, docID, chunkID = "/home/maya/help/billing/plans.md", "01KA0000000000000000000DOC", "01KA0000000000000000000DOC-00002"
	res := &assistant.Result{
		Answer: "Plans are billed monthly. [1]", Groundedness: 0.92, TraceID: "01KA00000000000000000TRACE", ConversationID: "01KA000000000000000000CONV",
		Citations: []assistant.Citation{{Citation: answer.Citation{N: 1, ChunkID: chunkID, DocumentID: docID, Title: "Plans", Source: path,
			Snippet: "Plans are billed monthly.", Page: 2, SourceURL: "https://help.example.com/plans"}, Heading: "Plans › Billing", Score: 0.81}},
		Closest:    []assistant.Source{{DocumentID: docID, Title: "Plans", Source: path, SourceURL: "https://help.example.com/plans"}, {DocumentID: "01KB", Title: "Internal", Source: "/srv/x.md"}},
		Standalone: "how are plans billed", LatencyMS: 12, TTFTMS: 3, TokensIn: 100, TokensOut: 20, CostUSD: 0.01, Model: "m", Prompt: "support-answer@1",
		RemovedCitations: 1, Retrieved: []string{chunkID}, Ranked: []string{chunkID},
	}
	b, err := json.Marshal(publicResult(res))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"answer":"Plans are billed monthly. [1]","citations":[{"n":1,"title":"Plans","snippet":"Plans are billed monthly.","source_url":"https://help.example.com/plans"}],` +
		`"fallback":false,"escalated":false,"trace_id":"01KA00000000000000000TRACE","conversation_id":"01KA000000000000000000CONV",` +
		`"closest":[{"title":"Plans","source_url":"https://help.example.com/plans"},{"title":"Internal"}]}`
	if string(b) != want {
		t.Errorf("public answer\n%s\nwant\n%s", b, want)
	}
	if b, _ := json.Marshal(publicCitations(nil)); string(b) != "[]" {
		t.Errorf("no citations = %s, want []", b)
	}
}

// TestWidgetKeyScope: a key scoped to billing answers only from billing
// documents, whatever filters the visitor sends.
func TestWidgetKeyScope(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	quokkaDocs(t, s)
	docs, err := s.store.ListDocuments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	category := map[string]string{} // title → category
	for _, d := range docs {
		category[d.Title] = d.Category
	}
	admin := keyFor(t, s, store.RoleAdmin)
	everything := widgetKey(t, s, admin, "")
	billing := widgetKey(t, s, admin, `{"categories":[" Billing"]}`)
	const integrations = `{"question":"How do I connect Quokka Sync?","filters":{"category":"integrations"}}`
	res := post(t, s.URL()+"/api/v1/keys", `{"name":"x","kind":"publishable","origins":["`+widgetSite+`"],"scope":{"categories":["Billing"],"tags":[" FAQ"]}}`, "Authorization", "Bearer "+admin)
	if k := decodeBody[keyJSON](t, res); res.StatusCode != http.StatusCreated || k.Scope.String() != "categories=billing tags=faq" {
		t.Errorf("create a scoped key: %d, scope %+v", res.StatusCode, k.Scope)
	}
	res = post(t, s.URL()+"/api/v1/keys", `{"name":"x","role":"viewer","scope":{"categories":["billing"]}}`, "Authorization", "Bearer "+admin)
	if res.Body.Close(); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a secret key with a scope: %d, want 400", res.StatusCode)
	}

	// Unscoped, the integrations question is answered from its article.
	_, ans := widgetAsk(t, s, everything, integrations, false)
	if ans.Fallback || len(ans.Citations) == 0 || ans.Citations[0].Title != "Quokka Sync integration" {
		t.Fatalf("unscoped key: %+v, want an answer from Quokka Sync integration", ans)
	}

	// Scoped to billing: billing questions are answered…
	_, ans = widgetAsk(t, s, billing, `{"question":"How do I buy a Quokka Pass?"}`, false)
	if ans.Fallback || len(ans.Citations) == 0 || ans.Citations[0].Title != "Quokka Pass billing" {
		t.Fatalf("scoped key, billing question: %+v, want an answer from Quokka Pass billing", ans)
	}
	s.traces.Flush(context.Background())
	if tr, _, err := s.store.Trace(context.Background(), ans.TraceID); err != nil || fmt.Sprint(tr.Attributes[schema.AttrScopeCategories]) != "[billing]" {
		t.Errorf("the trace does not record the key's scope: %v, %v", tr.Attributes[schema.AttrScopeCategories], err)
	}

	// …and nothing outside billing reaches the answer, with or without
	// the visitor's own filters.
	for _, body := range []string{integrations, `{"question":"How do I connect Quokka Sync?"}`, `{"question":"How do I connect Quokka Sync?","filters":{"tags":["slack"]}}`} {
		_, ans := widgetAsk(t, s, billing, body, true)
		var titles []string
		for _, c := range ans.Citations {
			titles = append(titles, c.Title)
		}
		for _, a := range ans.Closest {
			titles = append(titles, a.Title)
		}
		for _, title := range titles {
			if category[title] != "billing" {
				t.Errorf("%s: the billing key's answer draws on %q (%s): %+v", body, title, category[title], ans)
			}
		}
		if strings.Contains(ans.Answer, "Quokka Sync") {
			t.Errorf("%s: the billing key's answer tells about Quokka Sync: %q", body, ans.Answer)
		}
	}
}

// TestWidgetSettingsScope: Settings → Chat widget saves a new key's
// categories and tags and shows them in the list.
func TestWidgetSettingsScope(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ctx := context.Background()
	hash, _ := hashPassword("the right password")
	if err := s.store.CreateFirstAdmin(ctx, &store.User{Email: "lead@example.com", Name: "Lead", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	h := s.http.Handler
	rec := postForm(h, "/login", url.Values{"email": {"lead@example.com"}, "password": {"the right password"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in: got %d", rec.Code)
	}
	session := rec.Result().Cookies()

	rec = postForm(h, "/settings/widget", url.Values{"name": {"Billing help"}, "origins": {widgetSite}, "rate_per_minute": {"20"},
		"categories": {"Billing, getting started"}, "tags": {"public,\nFAQ"}}, session...)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: got %d: %s", rec.Code, rec.Body)
	}
	if got := pageDoc(t, rec).Find(`[data-testid="new-widget-key-scope"] .chip`).Text(); got != "billinggetting started#public#faq" {
		t.Errorf("new key's scope on the page: %q", got)
	}
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %+v, %v", keys, err)
	}
	want := store.KeyScope{Categories: []string{"billing", "getting started"}, Tags: []string{"public", "faq"}}
	if got := keys[0].Scope; !slices.Equal(got.Categories, want.Categories) || !slices.Equal(got.Tags, want.Tags) {
		t.Errorf("saved scope %+v, want %+v", got, want)
	}

	rec = call(h, http.MethodGet, "/settings/widget", "", "", session...)
	row := pageDoc(t, rec).Find(`[data-testid="widget-keys-table"] tbody tr`)
	if got := row.Find(`[data-testid="widget-key-scope"]`).Text(); !strings.Contains(got, "getting started") || !strings.Contains(got, "#faq") {
		t.Errorf("the key list shows scope %q", got)
	}

	rec = postForm(h, "/settings/widget", url.Values{"name": {"Too wide"}, "origins": {widgetSite}, "rate_per_minute": {"20"},
		"tags": {strings.Repeat("x", 65)}}, session...)
	if rec.Code != http.StatusBadRequest || !strings.Contains(pageDoc(t, rec).Find(`[data-testid="form-error"]`).Text(), "longer than 64") {
		t.Errorf("an over-long tag: got %d", rec.Code)
	}
}
