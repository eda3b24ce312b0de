package ui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"llmops/store/schema"
)

var traceStart = testNow.Add(-3 * time.Minute)

// at is a time ms milliseconds into the test traces.
func at(ms int) time.Time { return traceStart.Add(time.Duration(ms) * time.Millisecond) }

// askTrace is an ask as the assistant records it: nine flat spans over 2s,
// attributes decoded from JSON (float64 numbers, []any, map[string]any).
func askTrace() TraceDetail {
	span := func(id, name string, kind schema.SpanKind, from, to int, attrs map[string]any) SpanView {
		return SpanView{ID: id, Name: name, Kind: kind, Start: at(from), End: at(to), Status: schema.StatusOK, Attributes: attrs}
	}
	hits := func(prefix string) []any {
		return []any{
			map[string]any{"chunk_id": prefix + "1", "rank": 1.0, "score": 12.4817},
			map[string]any{"chunk_id": prefix + "2", "rank": 2.0, "score": 9.05},
		}
	}
	return TraceDetail{
		Chrome: Chrome{Title: "Trace · ask", Active: "traces", Viewer: admin},
		ID:     "01JDTRACEASK0000000000000", Kind: schema.KindAsk, Name: "ask", Start: at(0), End: at(2000), Status: schema.StatusOK,
		UserID: "user:maya", SessionID: "sess-42",
		Input:  "How do I connect Slack?",
		Output: "Open **Settings → Integrations** and choose Slack [1]. Admins approve the app first [2].\n\nIt syncs every 5 minutes [1].",
		Attributes: map[string]any{
			schema.AttrQuestion: "How do I connect Slack?", schema.AttrResponseModel: "gpt-4o-mini", schema.AttrPrompt: "support-answer@1",
			schema.AttrGroundedness: 0.84, schema.AttrFallback: false, schema.AttrEscalated: true,
			schema.AttrCostInputUSD: 0.0012, schema.AttrCostOutputUSD: 0.0031,
			// An attribute another tool wrote: any JSON shows, nested too.
			"custom": map[string]any{"name": "answer", "version": 3.0},
			schema.AttrCitations: []any{
				map[string]any{"n": 1.0, "title": "Slack integration", "source": "help/slack.md", "chunk_id": "c-11", "document_id": "d-slack"},
				map[string]any{"n": 2.0, "title": "Admin approvals", "source": "help/admin.md", "chunk_id": "c-27", "document_id": "d-admin", "page": 4.0},
			},
		},
		TokensIn: 1200, TokensOut: 340, CostUSD: 0.0043,
		Spans: []SpanView{
			// Out of start order on purpose: the page sorts.
			span("s9", schema.SpanGroundedness, schema.SpanKindGuard, 1910, 2000, map[string]any{schema.AttrGroundedness: 0.84}),
			span("s1", schema.SpanGuard, schema.SpanKindGuard, 0, 20, map[string]any{schema.AttrQuestionChars: 23.0}),
			span("s2", schema.SpanRewrite, schema.SpanKindChain, 20, 120, map[string]any{schema.AttrQuery: "connect slack integration"}),
			span("s3", schema.SpanRetrieveBM25, schema.SpanKindRetriever, 120, 160, map[string]any{schema.AttrHits: hits("b")}),
			span("s4", schema.SpanRetrieveVector, schema.SpanKindRetriever, 120, 200, map[string]any{schema.AttrHits: hits("v")}),
			span("s5", schema.SpanFuse, schema.SpanKindChain, 200, 205, map[string]any{schema.AttrKeywordWeight: 0.5, schema.AttrCandidates: 60.0}),
			span("s6", schema.SpanRerank, schema.SpanKindReranker, 205, 405, map[string]any{schema.AttrHits: hits("r")}),
			span("s7", schema.SpanPrompt, schema.SpanKindChain, 405, 410, map[string]any{schema.AttrPrompt: "support-answer@1"}),
			span("s8", schema.SpanLLM, schema.SpanKindLLM, 410, 1910, map[string]any{schema.AttrRequestModel: "gpt-4o-mini",
				schema.AttrResponseModel: "gpt-4o-mini-2024-07-18", schema.AttrUsageInputTokens: 1200.0, schema.AttrUsageOutputTokens: 340.0,
				schema.AttrTTFTMS: 300.0, schema.AttrCostUSD: 0.0043, schema.AttrRequestTemperature: 0.2}),
		},
		Feedback: []FeedbackView{
			{Value: 1, Comment: "Exactly right", Actor: "Maya Chen", Time: testNow.Add(-time.Minute)},
			{Value: -1, Actor: "widget", Time: testNow.Add(-30 * time.Second)},
		},
		Now: testNow,
	}
}

// ingestTrace is an upload of two files as ingest_trace.go records it: a
// span per file with a child per stage of its own; the embedding and
// commit the files shared are one span each; one file failed, slowly.
func ingestTrace() TraceDetail {
	span := func(id, parent, name string, kind schema.SpanKind, from, to int) SpanView {
		return SpanView{ID: id, ParentID: parent, Name: name, Kind: kind, Start: at(from), End: at(to), Status: schema.StatusOK}
	}
	a := span("f1", "", "a.md", "chain", 0, 200)
	a.Attributes = map[string]any{schema.AttrOutcome: string(schema.IngestCreated), schema.AttrChunks: 3.0, schema.AttrFormat: "markdown",
		schema.AttrDocumentID: "d-a", schema.AttrBatch: 1.0}
	b := span("f2", "", "b.txt", "chain", 0, 600)
	b.Status, b.Error = schema.StatusError, "empty file"
	b.Attributes = map[string]any{schema.AttrOutcome: string(schema.IngestFailed), schema.AttrChunks: 0.0}
	bParse := span("f2p", "f2", "parse", "chain", 0, 600)
	bParse.Status = schema.StatusError
	batch := map[string]any{schema.AttrBatch: 1.0, schema.AttrBatchFiles: 1.0, schema.AttrChunks: 3.0}
	embed := span("e1", "", "embed batch · 1 file", "embedding", 600, 950)
	embed.Attributes = batch
	commit := span("c1", "", "store and index · 1 file", "chain", 950, 1000)
	commit.Attributes = batch
	return TraceDetail{
		Chrome: Chrome{Title: "Trace · 2 files", Active: "traces", Viewer: admin},
		ID:     "01JDTRACEINGEST0000000000", Kind: schema.KindIngest, Name: "2 files", Start: at(0), End: at(1000),
		Status: schema.StatusError, Error: "1 of 2 files failed", Input: "a.md\nb.txt", Output: "1 created, 1 failed",
		Attributes: map[string]any{schema.AttrActor: "user:maya", schema.AttrFiles: 2.0},
		Spans: []SpanView{a, b,
			span("f1p", "f1", "parse", "chain", 0, 100),
			span("f1c", "f1", "chunk", "chain", 100, 200),
			bParse, embed, commit,
		},
		Now: testNow,
	}
}

// words joins the text of each selected element with single spaces.
func words(sel *goquery.Selection) string {
	var parts []string
	sel.Each(func(_ int, s *goquery.Selection) { parts = append(parts, strings.Fields(s.Text())...) })
	return strings.Join(parts, " ")
}

func rowsOf(doc *goquery.Document) *goquery.Selection {
	return doc.Find(`[data-testid="span-tree"] [data-testid="span-row"]`)
}

func TestTracePageAsk(t *testing.T) {
	doc, html := renderDoc(t, TracePage(askTrace()))

	head := doc.Find(`[data-testid="trace-head"]`)
	for sel, want := range map[string]string{
		`[data-testid="trace-kind"]`:       "ask",
		`h1`:                               "ask",
		`[data-testid="trace-latency"]`:    "2.0s",
		`[data-testid="trace-tokens"]`:     "1,200 → 340 (Σ 1,540)",
		`[data-testid="feedback-summary"]`: "1 thumbs up 1 thumbs down",
		`.badge.ok`:                        "✓ ok",
	} {
		if got := strings.Join(strings.Fields(head.Find(sel).First().Text()), " "); got != want {
			t.Errorf("header %s = %q, want %q", sel, got, want)
		}
	}
	cost := head.Find(`[data-testid="trace-cost"]`).Text()
	for _, want := range []string{"<$0.01", "Prompt", "$0.0012", "Completion", "$0.0031"} {
		if !strings.Contains(cost, want) {
			t.Errorf("cost %q lacks %q (the prompt/completion split shows on hover)", cost, want)
		}
	}
	scores := doc.Find(`[data-testid="scores"]`)
	for name, want := range map[string]string{"groundedness": "ok", "fallback": "neutral", "escalated": "warn"} {
		chip := scores.Find(`[data-score="` + name + `"]`)
		if !chip.HasClass(want) {
			t.Errorf("score chip %s has class %q, want %q", name, chip.AttrOr("class", ""), want)
		}
	}
	if got := strings.Join(strings.Fields(scores.Find(`[data-score="groundedness"]`).Text()), " "); got != "✓ groundedness 84%" {
		t.Errorf("groundedness chip = %q", got)
	}
	if doc.Find(`[data-testid="trace-error"]`).Length() != 0 {
		t.Error("an ok trace shows an error callout")
	}

	// The answer is wrapped text with linked [n] markers, not JSON.
	out := doc.Find(`[data-testid="trace-output"]`)
	if out.Is("pre") == false || !strings.Contains(out.Text(), "Open **Settings → Integrations**") {
		t.Errorf("output = %q", out.Text())
	}
	if got := out.Find(`a.cite`).Length(); got != 3 {
		t.Errorf("%d citation markers linked, want 3", got)
	}
	if href := out.Find(`a.cite`).First().AttrOr("href", ""); href != "#cite-1" {
		t.Errorf("marker links to %q", href)
	}
	cites := doc.Find(`[data-testid="citations"] tbody tr`)
	if cites.Length() != 2 || cites.Eq(1).Find(`a`).AttrOr("href", "") != "/knowledge/d-admin" {
		t.Errorf("citations table: %d rows, second links to %q", cites.Length(), cites.Eq(1).Find(`a`).AttrOr("href", ""))
	}

	// Flat spans in start order, ties kept in input order.
	var names []string
	rowsOf(doc).Each(func(_ int, s *goquery.Selection) {
		names = append(names, s.Find(`.span-link`).Text())
		if s.AttrOr("data-depth", "") != "0" {
			t.Errorf("row %s at depth %s, want 0", s.Find(`.span-link`).Text(), s.AttrOr("data-depth", ""))
		}
	})
	want := []string{"guard", "rewrite", "retrieve.bm25", "retrieve.vector", "fuse", "rerank", "prompt", "llm", "groundedness"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("rows = %v, want %v", names, want)
	}

	// Bars: offset and width as % of the 2s trace; 5ms is below the minimum.
	bars := map[string]string{
		"rewrite": "left:1%;width:5%;",
		"fuse":    "left:10%;width:0.5%;",
		"llm":     "left:20.5%;width:75%;",
	}
	rowsOf(doc).Each(func(_ int, s *goquery.Selection) {
		name := s.Find(`.span-link`).Text()
		if want, ok := bars[name]; ok {
			if got := s.Find(`[data-testid="bar"]`).AttrOr("style", ""); got != want {
				t.Errorf("%s bar style = %q, want %q", name, got, want)
			}
		}
	})
	llm := rowsOf(doc).Eq(7)
	if got := llm.Find(`[data-testid="ttft"]`).AttrOr("style", ""); got != "width:20%;" {
		t.Errorf("llm TTFT split = %q, want width:20%% (300ms of 1.5s)", got)
	}
	if !llm.Find(`.bar`).HasClass("kind-llm") {
		t.Error("llm bar lacks its kind colour")
	}
	if rowsOf(doc).Eq(0).Find(`[data-testid="ttft"]`).Length() != 0 {
		t.Error("a guard span shows a TTFT split")
	}
	// 1.5s of 2s with nine sibling roots: red, with a sign and the share in words.
	dur := llm.Find(`[data-testid="duration"]`)
	if !dur.HasClass("hot") || dur.Find(`.heat-sign`).Length() != 1 || !strings.Contains(dur.Text(), "1.5s") ||
		!strings.Contains(dur.Text(), "75% of the trace") || !strings.Contains(dur.Text(), "<$0.01") {
		t.Errorf("llm duration %q class %q, want hot ▲ 1.5s, 75%% of the trace · <$0.01", dur.Text(), dur.AttrOr("class", ""))
	}
	if d := rowsOf(doc).Eq(1).Find(`[data-testid="duration"]`); d.HasClass("warn") || d.HasClass("hot") {
		t.Errorf("rewrite (5%% of the trace) is coloured %q", d.AttrOr("class", ""))
	}

	// The first span is selected and its panel the only one shown.
	if got := rowsOf(doc).First().AttrOr("aria-selected", ""); got != "true" {
		t.Errorf("first row aria-selected = %q", got)
	}
	shown := doc.Find(`[data-span-panel]:not([hidden])`)
	if shown.Length() != 1 || shown.AttrOr("data-span-panel", "") != "s1" {
		t.Errorf("%d panels shown (%q), want only s1", shown.Length(), shown.AttrOr("data-span-panel", ""))
	}
	if got := doc.Find(`[data-span-panel]`).Length(); got != 9 {
		t.Errorf("%d span panels rendered, want 9", got)
	}
	// The llm panel: info and attributes, formatted, JSON hidden.
	panel := doc.Find(`[data-span-panel="s8"]`)
	info := words(panel.Find(`dl.info > *`))
	for _, want := range []string{"First token 300ms", "Model gpt-4o-mini-2024-07-18", "Tokens 1,200 → 340 (Σ 1,540)", "Start +410ms", "Duration 1.5s"} {
		if !strings.Contains(info, want) {
			t.Errorf("llm info %q lacks %q", info, want)
		}
	}
	if got := panel.Find(`[data-key="gen_ai.request.temperature"] .kv-val.num`).Text(); got != "0.2" {
		t.Errorf("temperature = %q", got)
	}
	if got := panel.Find(`[data-key="gen_ai.usage.input_tokens"] .kv-val`).Text(); got != "1200" {
		t.Errorf("input tokens = %q, want 1200 (no .0)", got)
	}
	if !panel.Find(`pre.json`).Is("[hidden]") || !strings.Contains(panel.Find(`pre.json`).Text(), `"llmops.ttft_ms": 300`) {
		t.Error("llm JSON view is not hidden pretty JSON")
	}
	// Retrieval hits are a table with numeric columns right-aligned.
	hits := doc.Find(`[data-span-panel="s3"] [data-key="llmops.hits"] table`)
	if got := words(hits.Find(`thead th`)); got != "rank chunk_id score" {
		t.Errorf("hits columns = %q", got)
	}
	if got := hits.Find(`tbody tr`).First().Find(`td.num`).Last().Text(); got != "12.482" {
		t.Errorf("first hit score = %q, want 12.482", got)
	}

	// Trace attributes: formatted, citations in their table, nested prompt.
	attrs := doc.Find(`[data-testid="trace-attributes"]`)
	if attrs.Find(`[data-testid="kv"] > [data-key="llmops.citations"]`).Length() != 0 {
		t.Error("citations repeated in the key/value view")
	}
	if got := attrs.Find(`[data-key="custom"] [data-key="version"] .kv-val`).Text(); got != "3" {
		t.Errorf("custom.version = %q", got)
	}
	if !strings.Contains(attrs.Find(`pre.json`).Text(), `"llmops.citations": [`) {
		t.Error("trace JSON view lacks the citations")
	}

	fb := doc.Find(`[data-testid="feedback"] li`)
	if fb.Length() != 2 || !strings.Contains(fb.First().Text(), "Exactly right") || !strings.Contains(fb.First().Text(), "Maya Chen") ||
		!strings.Contains(fb.Eq(1).Text(), "No comment") || !strings.Contains(fb.Eq(1).Text(), "30s") && !strings.Contains(fb.Eq(1).Text(), "just now") {
		t.Errorf("feedback list = %q", fb.Text())
	}
	if doc.Find(`script[src*="trace."]`).Length() != 1 {
		t.Error("trace.js not included")
	}
	golden(t, "trace-ask", html)
}

func TestTracePageIngestTree(t *testing.T) {
	doc, html := renderDoc(t, TracePage(ingestTrace()))
	type row struct {
		name   string
		depth  string
		guides string
	}
	var got []row
	rowsOf(doc).Each(func(_ int, s *goquery.Selection) {
		var g []string
		s.Find(`.guide:not(.slot)`).Each(func(_ int, x *goquery.Selection) {
			g = append(g, strings.TrimPrefix(x.AttrOr("class", ""), "guide "))
		})
		got = append(got, row{s.Find(`.span-link`).Text(), s.AttrOr("data-depth", ""), strings.Join(g, " ")})
	})
	want := []row{
		{"a.md", "0", ""}, {"parse", "1", "tee"}, {"chunk", "1", "elbow"},
		{"b.txt", "0", ""}, {"parse", "1", "elbow"},
		{"embed batch · 1 file", "0", ""}, {"store and index · 1 file", "0", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree =\n%v\nwant\n%v", got, want)
	}
	if got := rowsOf(doc).First().AttrOr("aria-expanded", ""); got != "true" {
		t.Errorf("parent row aria-expanded = %q", got)
	}
	if rowsOf(doc).Eq(1).AttrOr("aria-expanded", "none") != "none" {
		t.Error("leaf row has aria-expanded")
	}
	// A file's stages always split its own time, and a shared batch is no
	// file's time: neither is marked; b.txt, 60% of the whole upload, is.
	rowsOf(doc).Each(func(i int, r *goquery.Selection) {
		d := r.Find(`[data-testid="duration"]`)
		want := ""
		if i == 3 {
			want = "warn"
		}
		if got := strings.TrimSpace(strings.TrimPrefix(d.AttrOr("class", ""), "bar-label")); got != want || (want == "") != (d.Find(".heat-sign").Length() == 0) {
			t.Errorf("row %d (%s) duration class %q, want %q", i, r.Find(".span-link").Text(), got, want)
		}
	})
	if doc.Find(`[data-testid="feedback"], [data-testid="feedback-summary"]`).Length() != 0 {
		t.Error("an ingest trace shows a feedback counter")
	}
	if !rowsOf(doc).Eq(3).HasClass("is-error") || rowsOf(doc).Eq(3).Find(`.span-err`).Length() != 1 {
		t.Error("failed file span is not marked")
	}
	callout := doc.Find(`[data-testid="trace-error"]`)
	if !callout.HasClass("error") || !strings.Contains(callout.Text(), "1 of 2 files failed") {
		t.Errorf("error callout = %q", callout.Text())
	}
	if got := strings.TrimSpace(doc.Find(`[data-span-panel="f2"] .alert.error`).Text()); got != "✕ empty file" {
		t.Errorf("span error = %q", got)
	}
	golden(t, "trace-ingest", html)
}

func TestTracePageSelectedSpan(t *testing.T) {
	tr := ingestTrace()
	tr.Selected = "e1"
	doc, _ := renderDoc(t, TracePage(tr))
	if got := doc.Find(`[aria-selected="true"]`).AttrOr("data-span-row", ""); got != "e1" {
		t.Errorf("selected row = %q, want e1", got)
	}
	if got := doc.Find(`[data-span-panel]:not([hidden])`).AttrOr("data-span-panel", ""); got != "e1" {
		t.Errorf("shown panel = %q, want e1", got)
	}
	tr.Selected = "nope"
	doc, _ = renderDoc(t, TracePage(tr))
	if got := doc.Find(`[data-span-panel]:not([hidden])`).AttrOr("data-span-panel", ""); got != "f1" {
		t.Errorf("unknown ?span shows %q, want the first span", got)
	}
}

func TestTracePageRunningSpan(t *testing.T) {
	now := at(1000)
	tr := TraceDetail{Chrome: Chrome{Title: "Trace", Active: "traces", Viewer: admin}, ID: "01RUN", Kind: "ask", Name: "ask", Start: at(0),
		Status: schema.StatusRunning, Now: now,
		Spans: []SpanView{
			{ID: "r1", Name: "retrieve.bm25", Kind: "retriever", Start: at(0), End: at(200), Status: "ok"},
			{ID: "r2", Name: "llm", Kind: "llm", Start: at(400), Status: "running", Attributes: map[string]any{schema.AttrTTFTMS: 150.0}},
		}}
	doc, _ := renderDoc(t, TracePage(tr))
	llm := rowsOf(doc).Eq(1)
	bar := llm.Find(`[data-testid="bar"]`)
	if !bar.HasClass("running") || bar.AttrOr("style", "") != "left:40%;width:60%;" {
		t.Errorf("running bar class %q style %q, want running left:40%%;width:60%%", bar.AttrOr("class", ""), bar.AttrOr("style", ""))
	}
	if got := strings.TrimSpace(llm.Find(`[data-testid="duration"]`).Text()); got != "running" {
		t.Errorf("running label = %q", got)
	}
	if got := llm.Find(`[data-testid="ttft"]`).AttrOr("style", ""); got != "width:25%;" {
		t.Errorf("running llm TTFT split = %q, want width:25%% (150ms of 600ms so far)", got)
	}
	if bar := rowsOf(doc).Eq(0).Find(`.bar`); bar.HasClass("running") {
		t.Error("a finished span is dashed")
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="trace-latency"]`).Text()); got != "running" {
		t.Errorf("running trace latency = %q", got)
	}
	if doc.Find(`[data-testid="trace-head"] .badge.warn`).Length() != 1 {
		t.Error("running status badge missing")
	}
}

func TestTracePageEmpty(t *testing.T) {
	tr := TraceDetail{Chrome: Chrome{Title: "Trace", Active: "traces", Viewer: admin}, ID: "01EMPTY", Kind: "eval", Name: "case 3",
		Start: at(0), End: at(5), Status: schema.StatusOK, Now: testNow}
	doc, _ := renderDoc(t, TracePage(tr))
	if got := doc.Find(`[data-testid="spans-empty"] h3`).Text(); got != "This trace has no spans" {
		t.Errorf("empty spans state = %q", got)
	}
	if doc.Find(`[data-testid="span-tree"]`).Length() != 0 {
		t.Error("an empty tree is rendered")
	}
	for sel, want := range map[string]string{
		`[data-testid="trace-tokens"]`:       "--",
		`[data-testid="trace-cost"]`:         "$0",
		`[data-testid="trace-attributes"] p`: "No attributes.",
	} {
		if got := strings.TrimSpace(doc.Find(sel).Text()); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if doc.Find(`[data-testid="scores"]`).Length() != 0 {
		t.Error("score chips without scores")
	}
	if doc.Find(`[data-testid="feedback"]`).Length() != 0 {
		t.Error("an eval case's trace shows a feedback card (only answers take thumbs)")
	}
	tr.Kind = schema.KindAsk
	doc, _ = renderDoc(t, TracePage(tr))
	if got := strings.TrimSpace(doc.Find(`[data-testid="feedback"] p`).Text()); got != "No feedback on this trace yet." {
		t.Errorf("an answer's empty feedback card = %q", got)
	}
}

func TestWaterfallConnectors(t *testing.T) {
	// root ─┬─ a ── a1
	//       └─ b ── b1      plus an orphan (unknown parent) and a cycle.
	s := func(id, parent string, from, to int) SpanView {
		return SpanView{ID: id, ParentID: parent, Name: id, Kind: "chain", Start: at(from), End: at(to)}
	}
	tr := TraceDetail{Start: at(0), End: at(100), Spans: []SpanView{
		s("b1", "b", 60, 70), s("root", "", 0, 100), s("a", "root", 10, 50), s("a1", "a", 20, 30), s("b", "root", 55, 90),
		s("orphan", "gone", 5, 6), s("x", "y", 1, 2), s("y", "x", 3, 4),
	}}
	var got []string
	for _, r := range tr.Waterfall().Rows {
		got = append(got, fmt.Sprintf("%s/%d/%s", r.ID, r.Depth, strings.Join(r.Guides, ",")))
	}
	want := []string{"root/0/", "a/1/tee", "a1/2/line,elbow", "b/1/elbow", "b1/2/blank,elbow", "orphan/0/", "x/0/", "y/1/elbow"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
}

func TestWaterfallHeat(t *testing.T) {
	s := func(id, parent string, from, to int) SpanView {
		return SpanView{ID: id, ParentID: parent, Name: id, Start: at(from), End: at(to)}
	}
	tr := TraceDetail{Start: at(0), End: at(1000), Spans: []SpanView{
		s("lone", "", 0, 1000), s("half", "lone", 0, 500), s("most", "lone", 0, 750), s("some", "lone", 0, 499),
	}}
	heat := map[string]string{}
	for _, r := range tr.Waterfall().Rows {
		heat[r.ID] = r.Heat
	}
	want := map[string]string{"lone": "", "half": "warn", "most": "hot", "some": ""}
	if !reflect.DeepEqual(heat, want) {
		t.Errorf("heat = %v, want %v (a lone root is never coloured)", heat, want)
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {3, "3"}, {-42, "-42"}, {1200, "1200"}, {1e12, "1000000000000"},
		{0.5, "0.5"}, {0.84213, "0.842"}, {12.3456, "12.346"}, {2.0004, "2"}, {1.1, "1.1"},
		{0.05, "0.05"}, {0.000231, "0.000231"}, {0.00043219, "0.000432"}, {-0.25, "-0.25"}, {0.99999, "1"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAttrs(t *testing.T) {
	long := strings.Repeat("word ", 100)
	nodes := Attrs(map[string]any{
		"zeta":  "last",
		"alpha": 2.0,
		"nested": map[string]any{
			"b": []any{1.0, "two", nil, true},
			"a": map[string]any{},
		},
		"hits":    []any{map[string]any{"chunk_id": "c1", "score": 0.91234}, map[string]any{"chunk_id": "c2", "rank": 2.0}},
		"long":    long,
		"int":     7,                  // Go values set in memory look like decoded JSON
		"strings": []string{"x", "y"}, // lists of other types too
		"when":    time.Duration(1500) * time.Millisecond,
		"empty":   []any{},
	})
	var keys []string
	for _, n := range nodes {
		keys = append(keys, n.Key)
	}
	if want := []string{"alpha", "empty", "hits", "int", "long", "nested", "strings", "when", "zeta"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %v, want sorted %v", keys, want)
	}
	byKey := map[string]AttrNode{}
	for _, n := range nodes {
		byKey[n.Key] = n
	}
	if n := byKey["alpha"]; n.Type != "number" || n.Text != "2" {
		t.Errorf("alpha = %+v", n)
	}
	if n := byKey["int"]; n.Type != "number" || n.Text != "7" {
		t.Errorf("int = %+v", n)
	}
	if n := byKey["hits"]; n.Type != "table" || !reflect.DeepEqual(n.Columns, []string{"rank", "chunk_id", "score"}) ||
		n.Rows[0][0].Type != "missing" || n.Rows[0][2].Text != "0.912" {
		t.Errorf("hits = %+v", n)
	}
	if n := byKey["long"]; !n.Long || len([]rune(n.Preview)) > attrPreviewRunes+1 || !strings.HasSuffix(n.Preview, "…") || n.Text != long {
		t.Errorf("long string: Long=%v preview %d runes", n.Long, len([]rune(n.Preview)))
	}
	nested := byKey["nested"]
	if nested.Type != "object" || nested.Children[0].Key != "a" || nested.Children[0].Count() != 0 {
		t.Errorf("nested = %+v", nested)
	}
	var list []string
	for _, c := range nested.Children[1].Children {
		list = append(list, c.Key+"="+c.Type+":"+c.Text)
	}
	if want := []string{"[0]=number:1", "[1]=string:two", "[2]=null:null", "[3]=bool:true"}; !reflect.DeepEqual(list, want) {
		t.Errorf("nested.b = %v, want %v", list, want)
	}
	if n := byKey["strings"]; n.Type != "list" || len(n.Children) != 2 {
		t.Errorf("strings = %+v", n)
	}
	if n := byKey["when"]; n.Text != "1.5s" {
		t.Errorf("duration = %+v", n)
	}
	if n := byKey["empty"]; n.Type != "list" || n.Count() != 0 {
		t.Errorf("empty = %+v", n)
	}
	if got := PrettyJSON(map[string]any{"b": 1.0, "a": "<x>"}); got != "{\n  \"a\": \"<x>\",\n  \"b\": 1\n}" {
		t.Errorf("PrettyJSON = %q", got)
	}
}

func TestScoresAndCitations(t *testing.T) {
	chips := Scores(map[string]any{schema.AttrGroundedness: 0.65, schema.AttrFallback: true, schema.AttrEscalated: false, "relevance": 0.9}, 0.6)
	var got []string
	for _, c := range chips {
		got = append(got, c.Name+"="+c.Value+"/"+c.Class)
	}
	if want := []string{"groundedness=65%/warn", "fallback=yes/warn", "escalated=no/neutral"}; !reflect.DeepEqual(got, want) {
		t.Errorf("scores = %v, want %v", got, want)
	}
	if c := Scores(map[string]any{schema.AttrGroundedness: 0.4}, 0.6); c[0].Class != "error" || c[0].Sign != "✕" {
		t.Errorf("low groundedness = %+v", c[0])
	}
	// An extractive answer is quoted, not "100% grounded"; relevance is
	// its verdict.
	got = nil
	for _, c := range Scores(map[string]any{schema.AttrGroundedness: 1.0, schema.AttrRelevance: 0.3, schema.AttrResponseModel: ExtractiveModel}, 0.6) {
		got = append(got, c.Name+"="+c.Value+"/"+c.Class)
	}
	if want := []string{"groundedness=quoted/neutral", "relevance=30%/warn"}; !reflect.DeepEqual(got, want) {
		t.Errorf("extractive scores = %v, want %v", got, want)
	}
	for r, want := range map[float64]string{0.05: "error", 0.1: "warn", 0.49: "warn", 0.5: "ok", 1: "ok"} {
		if got := RelevanceBand(r); got != want {
			t.Errorf("RelevanceBand(%v) = %s, want %s", r, got, want)
		}
	}
	if Citations(map[string]any{schema.AttrCitations: 3.0}) != nil || Citations(map[string]any{schema.AttrCitations: []any{"a"}}) != nil {
		t.Error("a citations count or list of strings is read as citations")
	}
	segs := CiteSegments("A [1] b [9] c[2]", []CitationView{{N: 1}, {N: 2}})
	var parts []string
	for _, s := range segs {
		parts = append(parts, fmt.Sprintf("%q:%d", s.Text, s.N))
	}
	if want := []string{`"A ":0`, `"[1]":1`, `" b [9] c":0`, `"[2]":2`}; !reflect.DeepEqual(parts, want) {
		t.Errorf("segments = %v, want %v", parts, want)
	}
	parts = nil
	for _, s := range CiteSegments("A [1]. B [1]. C [2].", []CitationView{{N: 1}, {N: 2}}) {
		parts = append(parts, fmt.Sprintf("%q:%d", s.Text, s.N))
	}
	if want := []string{`"A. B ":0`, `"[1]":1`, `". C ":0`, `"[2]":2`, `".":0`}; !reflect.DeepEqual(parts, want) {
		t.Errorf("a run of one source: segments = %v, want %v", parts, want)
	}
}

func TestTracesListLinksToTrace(t *testing.T) {
	rows := []TraceRow{{ID: "01ABC", Time: testNow, Kind: schema.KindAsk, Name: "ask", Status: schema.StatusOK}}
	doc, _ := renderDoc(t, TracesPage(Traces{Chrome: Chrome{Title: "Traces", Active: "traces", Viewer: admin}, Now: testNow, Rows: rows}))
	if got := doc.Find(`[data-testid="trace-link"]`).AttrOr("href", ""); got != "/traces/01ABC" {
		t.Errorf("trace link = %q", got)
	}
	if got := doc.Find(`tbody tr`).AttrOr("data-href", ""); got != "/traces/01ABC" {
		t.Errorf("row data-href = %q", got)
	}
}

// Every status has its own colour and word; a fallback is amber, never a
// green ok.
func TestTraceStatusBadges(t *testing.T) {
	tests := []struct {
		status      schema.TraceStatus
		class, text string
	}{
		{schema.StatusOK, "ok", "✓ ok"},
		{schema.StatusFallback, "warn", "! fallback"},
		{schema.StatusError, "error", "✕ error"},
		{schema.StatusCancelled, "neutral", "■ cancelled"},
		{schema.StatusRunning, "warn", "● running"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			rows := []TraceRow{{ID: "01ABC", Time: testNow, Kind: schema.KindAsk, Name: "ask", Status: tt.status}}
			list, _ := renderDoc(t, TracesPage(Traces{Chrome: Chrome{Title: "Traces", Active: "traces", Viewer: admin}, Now: testNow, Rows: rows}))
			tr := askTrace()
			tr.Status = tt.status
			page, _ := renderDoc(t, TracePage(tr))
			for where, badge := range map[string]*goquery.Selection{
				"list":   list.Find(`tbody tr .badge`).Last(),
				"header": page.Find(`[data-testid="trace-head"] .trace-title .badge`).Eq(1),
			} {
				if !badge.HasClass(tt.class) || strings.TrimSpace(badge.Text()) != tt.text {
					t.Errorf("%s badge %q class %q, want %q class %s", where, badge.Text(), badge.AttrOr("class", ""), tt.text, tt.class)
				}
			}
		})
	}
}

func TestTracePageCancelled(t *testing.T) {
	tr := askTrace()
	tr.Status, tr.Error = schema.StatusCancelled, "cancelled: the client went away"
	doc, _ := renderDoc(t, TracePage(tr))
	note := doc.Find(`[data-testid="trace-error"]`)
	if !note.HasClass("neutral") || !strings.Contains(note.Text(), "cancelled") || !strings.Contains(note.Text(), "the client went away") {
		t.Errorf("cancelled note %q class %q", note.Text(), note.AttrOr("class", ""))
	}
}
