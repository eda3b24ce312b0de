package ui

import (
	"strings"
	"testing"
	"time"

	"llmops/store/schema"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// evalMetrics is the metric list the server sends, in display order.
var evalMetrics = []MetricInfo{
	{Key: "hit@5", Label: "Hit@5", Group: "retrieval", Help: "Share of questions with a relevant document in the top 5."},
	{Key: "recall@5", Label: "Recall@5", Group: "retrieval", Help: "Share of the relevant documents found in the top 5."},
	{Key: "mrr@10", Label: "MRR@10", Group: "retrieval", Help: "1 / rank of the first relevant document in the top 10."},
	{Key: "ndcg@10", Label: "nDCG@10", Group: "retrieval", Help: "Ranking quality of the top 10, graded by relevance."},
	{Key: "correctness_f1", Label: "Correctness F1", Group: "answer", Help: "Token overlap of the answer with the reference answer."},
	{Key: "refusal_accuracy", Label: "Refusal accuracy", Group: "answer", Help: "Unanswerable questions declined, answerable ones answered."},
	{Key: "latency_ms", Label: "Latency", Group: "answer", Help: "Mean time to answer a case.", LowerIsBetter: true},
	{Key: "faithfulness", Label: "Faithfulness", Group: "judge", Help: "Share of the answer's claims the retrieved passages support (LLM judge)."},
	{Key: "answer_relevance", Label: "Answer relevance", Group: "judge", Help: "Whether the answer addresses the question (LLM judge)."},
}

// flat is the text of a selection with its text nodes joined by single
// spaces, so adjacent cells and spans read apart.
func flat(sel *goquery.Selection) string {
	var parts []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			parts = append(parts, strings.Fields(n.Data)...)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range sel.Nodes {
		walk(n)
	}
	return strings.Join(parts, " ")
}

func metricInfo(key string) MetricInfo {
	for _, m := range evalMetrics {
		if m.Key == key {
			return m
		}
	}
	return MetricInfo{Key: key, Label: key}
}

var sampleSet = TestSetRow{ID: "set-sample", Name: "Sample help centre", Description: "Rosterly help-centre questions with reference answers and source documents.",
	Source: "sample", Version: 2, Cases: 5, UpdatedAt: testNow.Add(-26 * time.Hour), Runs: 3}

// doneRun is the sample set's finished run; baselineRun the one before it.
var doneRun = RunRow{ID: "01JEVRUN000000000000DONE02", Name: "prompt v4", SetID: "set-sample", SetName: "Sample help centre", SetVersion: 2,
	Status: schema.RunDone, Done: 5, Total: 5,
	Metrics: map[string]float64{"hit@5": 0.8, "recall@5": 0.75, "mrr@10": 0.7, "ndcg@10": 0.7124, "correctness_f1": 0.6021,
		"refusal_accuracy": 1, "latency_ms": 1240, "faithfulness": 0.912, "answer_relevance": 0.88},
	Counts:   map[string]int{"hit@5": 4, "ndcg@10": 4, "correctness_f1": 4, "faithfulness": 5},
	Settings: "hybrid + rerank · top 5 · gpt-4o-mini · answer@v4 · judge gpt-4o", CostUSD: 0.0421,
	CreatedAt: testNow.Add(-2 * time.Hour), Duration: 48 * time.Second, CreatedBy: "Maya Chen"}

var baselineRun = RunRow{ID: "01JEVRUN000000000000BASE01", Name: "baseline", SetID: "set-sample", SetName: "Sample help centre", SetVersion: 1,
	Status: schema.RunDone, Done: 4, Total: 4,
	Metrics: map[string]float64{"hit@5": 0.75, "recall@5": 0.75, "mrr@10": 0.625, "ndcg@10": 0.6731, "correctness_f1": 0.5412,
		"refusal_accuracy": 0.5, "latency_ms": 980, "faithfulness": 0.955, "answer_relevance": 0.86},
	Settings: "hybrid + rerank · top 5 · gpt-4o-mini · answer@v3 · judge gpt-4o", CostUSD: 0.0312,
	CreatedAt: testNow.Add(-26 * time.Hour), Duration: 41 * time.Second, CreatedBy: "Maya Chen"}

var runningRun = RunRow{ID: "01JEVRUN000000000000RUNN03", SetID: "set-sample", SetName: "Sample help centre", SetVersion: 2,
	Status: schema.RunRunning, Done: 3, Total: 5, Errors: 1,
	Metrics:  map[string]float64{"hit@5": 1, "ndcg@10": 0.81, "correctness_f1": 0.64},
	Settings: "keyword · no rerank · top 5 · extractive", CreatedAt: testNow.Add(-20 * time.Second), CreatedBy: "Maya Chen"}

var judgeFailedRun = RunRow{ID: "01JEVRUN000000000000JUDG04", Name: "judge check", SetID: "set-faq", SetName: "Billing FAQ", SetVersion: 1,
	Status: schema.RunJudgeFailed, Error: "judge gpt-4o: 429 Too Many Requests (5 retries)", Done: 12, Total: 40,
	Metrics:  map[string]float64{"hit@5": 0.917, "ndcg@10": 0.802, "correctness_f1": 0.55},
	Settings: "hybrid + rerank · top 5 · gpt-4o-mini · judge gpt-4o", CostUSD: 0.008, CreatedAt: testNow.Add(-5 * 24 * time.Hour),
	Duration: 3*time.Minute + 5*time.Second, CreatedBy: "ci"}

func sampleCases() []CaseResultRow {
	return []CaseResultRow{
		{Index: 0, CaseID: "q001", Question: "Can I change our integration settings from the phone app?", Tags: []string{"mobile"},
			Answer:    "No. Integrations, billing and data exports are only available in the web app [1].",
			Reference: "No. Settings, integrations, billing and data exports are only available in the web app.",
			Metrics:   map[string]float64{"hit@5": 1, "recall@5": 1, "mrr@10": 1, "ndcg@10": 1, "correctness_f1": 0.842, "faithfulness": 1, "answer_relevance": 1},
			LatencyMS: 910, CostUSD: 0.0061, TraceID: "tr-q001"},
		{Index: 1, CaseID: "q002", Question: "We closed one of our stores. If I archive that location, will its staff stop counting toward our bill?", Tags: []string{"admin", "billing"},
			Answer:    "Archiving a location deletes its future shifts and keeps its history [1]. Employees assigned only to it are not archived automatically, so archive them too or they still count as active users [1][2].",
			Reference: "No. Archiving a location deletes its future shifts and keeps its history, but employees assigned only to it are not archived automatically; archive them too, otherwise they still count as active users.",
			Metrics:   map[string]float64{"hit@5": 1, "recall@5": 0.5, "mrr@10": 0.5, "ndcg@10": 0.613, "correctness_f1": 0.731, "faithfulness": 0.86, "answer_relevance": 0.9},
			LatencyMS: 1420, CostUSD: 0.0094, TraceID: "tr-q002"},
		{Index: 2, CaseID: "q004", Question: "How do we check that a webhook request really came from Rosterly?", Tags: []string{"api"},
			Answer:    "The documentation does not cover this question. A teammate has been notified.",
			Fallback:  true,
			Reference: "Compute an HMAC-SHA256 of \"{t}.{raw body}\" with the endpoint's whsec_ signing secret and compare it with the v1 value in the Rosterly-Signature header.",
			Metrics:   map[string]float64{"hit@5": 0, "recall@5": 0, "mrr@10": 0, "ndcg@10": 0, "correctness_f1": 0.054, "faithfulness": 0.7, "answer_relevance": 0.2},
			LatencyMS: 1130, CostUSD: 0.0052, TraceID: "tr-q004"},
		{Index: 3, CaseID: "q010", Question: "Can I migrate our existing schedules from When I Work into Rosterly?", Tags: []string{"getting-started"},
			Answer: "The documentation does not cover this question.", Fallback: true, Unanswerable: true,
			Metrics:   map[string]float64{"refusal_accuracy": 1, "faithfulness": 1},
			LatencyMS: 640, CostUSD: 0.0031, TraceID: "tr-q010"},
		{Index: 4, CaseID: "q006", Question: "Sending hours to Gusto fails with \"Payroll already processed for this period\". How do I fix it?", Tags: []string{"integrations", "billing"},
			Error:      "answer: context deadline exceeded after 30s",
			JudgeError: "judge skipped: no answer",
			Reference:  "The Gusto payroll for that period has already been run and Rosterly cannot change it. Make the corrections in Gusto directly.",
			LatencyMS:  30000, TraceID: "tr-q006"},
	}
}

func summaries(r RunRow) []MetricSummary {
	var out []MetricSummary
	for _, m := range evalMetrics {
		v, ok := r.Metrics[m.Key]
		if !ok {
			continue
		}
		s := MetricSummary{MetricInfo: m, Mean: v, N: 4, Lo: max(0, v-0.12), Hi: min(1, v+0.09)}
		if m.Key == "latency_ms" {
			s.Lo, s.Hi = v-210, v+340
		}
		out = append(out, s)
	}
	return out
}

func evalsList() EvalsPage {
	return EvalsPage{
		Chrome: Chrome{Title: "Evals", Active: "evals", Viewer: admin},
		Sets: []TestSetRow{sampleSet,
			{ID: "set-faq", Name: "Billing FAQ", Description: "Questions support gets about invoices and plans.", Source: "csv", Version: 1, Cases: 40, UpdatedAt: testNow.Add(-6 * 24 * time.Hour), Runs: 1},
			{ID: "set-traces", Name: "From the widget", Source: "traces", Version: 7, Cases: 12, UpdatedAt: testNow.Add(-3 * time.Hour)}},
		Runs:        []RunRow{runningRun, doneRun, baselineRun, judgeFailedRun},
		Metrics:     []MetricInfo{metricInfo("hit@5"), metricInfo("ndcg@10"), metricInfo("correctness_f1"), metricInfo("faithfulness"), metricInfo("answer_relevance")},
		SampleSetID: "set-sample", CanRun: true, Judge: "gpt-4o", Answerer: "gpt-4o-mini",
		Notice: "Started a run of Sample help centre v2.",
		Now:    testNow,
	}
}

func TestEvalsPage(t *testing.T) {
	p := evalsList()
	doc, html := renderDoc(t, EvalsView(p))

	if got := doc.Find(`[data-testid="nav-evals"]`).AttrOr("aria-current", ""); got != "page" {
		t.Errorf("evals nav aria-current = %q, want page", got)
	}
	if n := doc.Find(`[data-testid="nav-evals"] .soon`).Length(); n != 0 {
		t.Errorf("evals nav has %d 'soon' chips, want none", n)
	}
	form := doc.Find(`[data-testid="run-sample"]`).Closest("form")
	if got := form.AttrOr("action", ""); got != "/evals/sample-run" || form.AttrOr("method", "") != "post" {
		t.Errorf("sample run form = %s %s, want post /evals/sample-run", form.AttrOr("method", ""), got)
	}
	if got := doc.Find(`[data-testid="sets-table"] tbody tr`).Length(); got != 3 {
		t.Errorf("%d set rows, want 3", got)
	}
	if got := doc.Find(`[data-testid="set-link"]`).First().AttrOr("href", ""); got != "/evals/sets/set-sample" {
		t.Errorf("set link = %q", got)
	}
	runSet := doc.Find(`[data-testid="run-set-Billing FAQ"]`).Closest("form")
	if runSet.AttrOr("action", "") != "/evals/runs" || runSet.Find(`input[name="set_id"]`).AttrOr("value", "") != "set-faq" {
		t.Errorf("run-set form: action %q set_id %q", runSet.AttrOr("action", ""), runSet.Find(`input[name="set_id"]`).AttrOr("value", ""))
	}
	imp := doc.Find(`[data-testid="import-form"]`)
	if imp.AttrOr("action", "") != "/evals/sets/import" || imp.AttrOr("enctype", "") != "multipart/form-data" {
		t.Errorf("import form action %q enctype %q", imp.AttrOr("action", ""), imp.AttrOr("enctype", ""))
	}
	for _, sel := range []string{`input[type="file"][name="file"][accept=".csv,.jsonl,.json"]`, `input[name="name"]`, `input[name="description"]`, `input[type="checkbox"][name="skip_invalid"]`} {
		if imp.Find(sel).Length() != 1 {
			t.Errorf("import form lacks %s", sel)
		}
	}
	if txt := flat(imp); !strings.Contains(txt, "llmops eval import --beir DIR") || !strings.Contains(txt, "Skip invalid lines (each is reported)") {
		t.Errorf("import form text %q lacks the BEIR hint or the skip label", txt)
	}

	rows := doc.Find(`[data-testid="runs-table"] tbody tr`)
	if rows.Length() != 4 {
		t.Fatalf("%d run rows, want 4", rows.Length())
	}
	running := rows.Eq(0)
	if running.AttrOr("data-running", "") != "true" || running.AttrOr("data-run-id", "") != runningRun.ID {
		t.Error("running row does not carry data-run-id / data-running for evals.js")
	}
	prog := doc.Find(`[data-testid="run-progress-` + runningRun.ID + `"]`)
	if got := flat(prog); got != "3 / 5" {
		t.Errorf("running progress = %q, want 3 / 5", got)
	}
	if prog.Find("progress").AttrOr("value", "") != "3" || prog.Find("progress").AttrOr("max", "") != "5" {
		t.Error("running progress bar value/max wrong")
	}
	if doc.Find(`[data-run-id="`+doneRun.ID+`"]`).Length() != 0 {
		t.Error("a finished run is polled")
	}
	done := flat(rows.Eq(1))
	for _, want := range []string{"prompt v4", "Sample help centre v2", "✓ done", "0.800", "0.712", "0.602", "0.912", "0.880", "$0.04", "2h ago", "48.0s"} {
		if !strings.Contains(done, want) {
			t.Errorf("done run row %q lacks %q", done, want)
		}
	}
	if got := rows.Eq(0).Find("td.metric").Eq(3).Text(); got != MissingMetric {
		t.Errorf("missing faithfulness shows %q, want %q", got, MissingMetric)
	}
	if got := rows.Eq(3).Find(`[data-run-status]`).Text(); !strings.Contains(got, "judge failed") {
		t.Errorf("judge_failed badge = %q", got)
	}
	if got := doc.Find(`[data-testid="runs-table"] thead th[title]`).First().AttrOr("title", ""); !strings.Contains(got, "relevant document in the top 5") {
		t.Errorf("metric header tooltip = %q, want the help text", got)
	}
	cmp := doc.Find(`[data-testid="compare-form"]`)
	if cmp.AttrOr("action", "") != "/evals/compare" || cmp.AttrOr("method", "") != "get" {
		t.Error("compare form is not GET /evals/compare")
	}
	if a, b := cmp.Find(`select[name="a"] option[selected]`).AttrOr("value", ""), cmp.Find(`select[name="b"] option[selected]`).AttrOr("value", ""); a != doneRun.ID || b != runningRun.ID {
		t.Errorf("compare defaults a=%s b=%s, want the newest against the one before", a, b)
	}
	if got := flat(doc.Find(`[data-testid="judge-status"]`)); got != "✓ LLM-judge metrics: gpt-4o" {
		t.Errorf("judge status = %q", got)
	}
	if got := doc.Find(`[data-testid="form-notice"]`).Text(); got != p.Notice {
		t.Errorf("notice = %q", got)
	}
	golden(t, "evals-list", html)
}

func TestEvalsPageEmptyAndReadOnly(t *testing.T) {
	p := EvalsPage{Chrome: Chrome{Title: "Evals", Active: "evals", Viewer: Viewer{Name: "Vic", Role: "viewer"}}, Answerer: "extractive (offline)",
		SampleSetID: "set-sample", Error: "No such test set.", Now: testNow}
	doc, _ := renderDoc(t, EvalsView(p))
	for sel, want := range map[string]int{
		`[data-testid="run-sample"]`:  0, // viewers cannot run
		`[data-testid="import-form"]`: 0,
		`[data-testid="sets-empty"]`:  1,
		`[data-testid="runs-empty"]`:  1,
		`[data-testid="form-error"]`:  1,
	} {
		if got := doc.Find(sel).Length(); got != want {
			t.Errorf("%s: %d, want %d", sel, got, want)
		}
	}
	if txt := flat(doc.Find(`[data-testid="runs-empty"]`)); !strings.Contains(txt, "llmops eval run --set NAME --min faithfulness=0.9") {
		t.Errorf("runs empty state %q does not teach the CI gate", txt)
	}
	if got := doc.Find(`[data-testid="judge-status"]`).Text(); got != "LLM-judge metrics off — set LLMOPS_JUDGE_MODEL" {
		t.Errorf("judge status = %q", got)
	}
}

func runPage(r RunRow) RunPage {
	return RunPage{
		Chrome:  Chrome{Title: "Run · " + RunLabel(r), Active: "evals", Viewer: admin},
		Run:     r,
		Metrics: summaries(r),
		Cases:   sampleCases(),
		Tags:    []string{"admin", "api", "billing", "getting-started", "integrations", "mobile"},
		Others:  []RunRow{baselineRun},
		Now:     testNow,
	}
}

func TestRunPage(t *testing.T) {
	doc, html := renderDoc(t, RunView(runPage(doneRun)))
	page := doc.Find(`[data-testid="run-page"]`)
	if page.AttrOr("data-run-id", "") != doneRun.ID || page.AttrOr("data-running", "") != "" {
		t.Errorf("finished run page: data-run-id %q data-running %q", page.AttrOr("data-run-id", ""), page.AttrOr("data-running", ""))
	}
	if doc.Find(`[data-testid="run-progress"], [data-testid="cancel-run"], [data-testid="run-alert"]`).Length() != 0 {
		t.Error("a finished run shows progress, cancel or an alert")
	}
	head := flat(doc.Find(`[data-testid="run-head"]`))
	for _, want := range []string{"prompt v4", "✓ done", "Sample help centre v2", doneRun.Settings, "48.0s", "5 / 5", "$0.04"} {
		if !strings.Contains(head, want) {
			t.Errorf("run head %q lacks %q", head, want)
		}
	}
	groups := doc.Find(`[data-testid="run-metrics"] .metric-group`)
	var labels []string
	groups.Each(func(_ int, g *goquery.Selection) { labels = append(labels, g.Find("h2").Text()) })
	if got := strings.Join(labels, ","); got != "Retrieval,Answer,LLM judge" {
		t.Errorf("metric groups = %s", got)
	}
	ndcg := doc.Find(`[data-testid="metric-card"][data-metric="ndcg@10"]`)
	if got := flat(ndcg); got != "nDCG@10 0.712 n = 4 95 % CI 0.592–0.802 Ranking quality of the top 10, graded by relevance." {
		t.Errorf("ndcg card = %q", got)
	}
	if got := doc.Find(`[data-testid="metric-card"][data-metric="latency_ms"] .metric-mean`).Text(); got != "1.2s" {
		t.Errorf("latency mean = %q, want 1.2s", got)
	}
	cmp := doc.Find(`[data-testid="compare-with"]`)
	if cmp.AttrOr("action", "") != "/evals/compare" || cmp.Find(`input[name="b"]`).AttrOr("value", "") != doneRun.ID ||
		cmp.Find(`select[name="a"] option`).AttrOr("value", "") != baselineRun.ID {
		t.Error("compare-with does not send a=other b=this to /evals/compare")
	}
	if got := doc.Find(`[data-testid="tag-filter"] a`).Eq(2).AttrOr("href", ""); got != "/evals/runs/"+doneRun.ID+"?tag=api" {
		t.Errorf("tag chip href = %q", got)
	}

	cases := doc.Find(`[data-testid="run-cases"] [data-testid="case-row"]`)
	if cases.Length() != 5 {
		t.Fatalf("%d case rows, want 5", cases.Length())
	}
	for i, want := range []string{
		"q001 #mobile No. Integrations, billing and data exports are only available in the web app [1]. 1.000 1.000 1.000 0.842 910ms",
		"↩ fallback",
		"✓ refused ⊘ unanswerable",
		"✕ error ! judge failed",
	} {
		if got := flat(cases.Eq([]int{0, 2, 3, 4}[i]).Find("summary")); !strings.Contains(got, want) {
			t.Errorf("case %d summary %q lacks %q", i, got, want)
		}
	}
	if got := doc.Find(`[data-testid="cases-list"] .case-header`).Text(); !strings.Contains(got, "Hit@5") || !strings.Contains(got, "Correctness F1") {
		t.Errorf("case columns = %q", got)
	}
	body := flat(cases.Eq(1).Find(".case-body"))
	for _, want := range []string{"they still count as active users [1][2]", "Reference answer No. Archiving a location", "Recall@5 0.500", "Faithfulness 0.860"} {
		if !strings.Contains(body, want) {
			t.Errorf("expanded case %q lacks %q", body, want)
		}
	}
	if got := cases.Eq(0).Find(`[data-testid="case-trace"]`).AttrOr("href", ""); got != "/traces/tr-q001" {
		t.Errorf("trace link = %q", got)
	}
	golden(t, "evals-run", html)
}

func TestRunPageRunning(t *testing.T) {
	p := runPage(runningRun)
	p.Cases = p.Cases[:3]
	p.CanCancel = true
	doc, html := renderDoc(t, RunView(p))
	page := doc.Find(`[data-testid="run-page"]`)
	if page.AttrOr("data-running", "") != "true" || page.AttrOr("data-run-id", "") != runningRun.ID {
		t.Error("running page lacks data-running / data-run-id for evals.js")
	}
	bar := doc.Find(`progress[data-testid="run-progress"]`)
	if bar.AttrOr("value", "") != "3" || bar.AttrOr("max", "") != "5" {
		t.Errorf("progress value %q max %q, want 3 / 5", bar.AttrOr("value", ""), bar.AttrOr("max", ""))
	}
	if got := flat(doc.Find(`[data-testid="run-count"]`)); got != "3 / 5 cases · 1 error" {
		t.Errorf("count = %q", got)
	}
	if doc.Find(`[data-testid="run-count"]`).AttrOr("aria-live", "") != "polite" {
		t.Error("progress text is not aria-live")
	}
	cancel := doc.Find(`[data-testid="cancel-run"]`).Closest("form")
	if got := cancel.AttrOr("action", ""); got != "/evals/runs/"+runningRun.ID+"/cancel" || cancel.AttrOr("method", "") != "post" {
		t.Errorf("cancel form = %q", got)
	}
	if !strings.Contains(flat(doc.Find(`[data-testid="run-head"]`)), "● running") {
		t.Error("no running badge")
	}
	golden(t, "evals-run-running", html)

	p.CanCancel = false
	doc, _ = renderDoc(t, RunView(p))
	if doc.Find(`[data-testid="cancel-run"]`).Length() != 0 {
		t.Error("cancel shown without CanCancel")
	}
}

func TestRunPageStoppedStates(t *testing.T) {
	tests := []struct {
		status      schema.RunStatus
		err         string
		class, want string
	}{
		{schema.RunJudgeFailed, "judge gpt-4o: 429 Too Many Requests", "warn", "The LLM judge kept failing"},
		{schema.RunFailed, "index closed", "error", "This run failed"},
		{schema.RunCancelled, "", "neutral", "Cancelled after 12 / 40 cases"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			r := judgeFailedRun
			r.Status, r.Error = tt.status, tt.err
			p := runPage(r)
			p.Cases, p.Tag = nil, "billing"
			doc, _ := renderDoc(t, RunView(p))
			alert := doc.Find(`[data-testid="run-alert"]`)
			if !alert.HasClass(tt.class) {
				t.Errorf("alert class = %q, want %s", alert.AttrOr("class", ""), tt.class)
			}
			if txt := flat(alert); !strings.Contains(txt, tt.want) || !strings.Contains(txt, tt.err) {
				t.Errorf("alert %q lacks %q or the error", txt, tt.want)
			}
			if doc.Find(`[data-testid="run-page"]`).AttrOr("data-running", "") != "" {
				t.Error("a stopped run is polled")
			}
			if got := flat(doc.Find(`[data-testid="cases-empty"]`)); !strings.Contains(got, "No cases tagged #billing") {
				t.Errorf("filtered empty state = %q", got)
			}
			if doc.Find(`[data-testid="resume-run"]`).Length() != 0 {
				t.Error("resume offered without CanCancel")
			}
			p.CanCancel = true
			doc, _ = renderDoc(t, RunView(p))
			if got := doc.Find(`[data-testid="resume-run"]`).Closest("form").AttrOr("action", ""); got != "/evals/runs/"+r.ID+"/resume" {
				t.Errorf("resume form action = %q", got)
			}
		})
	}
}

func comparePage() ComparePage {
	a, b := baselineRun, doneRun
	delta := func(key string, av, bv, lo, hi float64, w, l, ties int, sig, reg, imp bool) MetricDelta {
		return MetricDelta{MetricInfo: metricInfo(key), A: av, B: bv, NA: 4, NB: 5, Delta: bv - av, Lo: lo, Hi: hi, N: 4,
			Wins: w, Losses: l, Ties: ties, Significant: sig, Regressed: reg, Improved: imp}
	}
	cases := sampleCases()
	baseCases := sampleCases()
	baseCases[1].Metrics = map[string]float64{"hit@5": 1, "recall@5": 0.5, "mrr@10": 0.5, "ndcg@10": 0.613, "correctness_f1": 0.412, "faithfulness": 1, "answer_relevance": 0.8}
	baseCases[1].Answer = "Archived locations keep their history [1]."
	baseCases[0].Metrics = map[string]float64{"hit@5": 1, "correctness_f1": 0.842, "faithfulness": 1}
	baseCases[3].Fallback = false
	baseCases[3].Answer = "Yes, use the import wizard under Settings → Import [1]."
	baseCases[3].Metrics = map[string]float64{"refusal_accuracy": 0, "faithfulness": 0.4}
	return ComparePage{
		Chrome: Chrome{Title: "Compare runs", Active: "evals", Viewer: admin},
		A:      a, B: b,
		Deltas: []MetricDelta{
			delta("hit@5", 0.75, 0.8, 0, 0.25, 1, 0, 3, false, false, false),
			delta("ndcg@10", 0.6731, 0.7124, -0.05, 0.12, 1, 1, 2, false, false, false),
			delta("correctness_f1", 0.5412, 0.6021, 0.021, 0.118, 3, 0, 1, true, false, true),
			delta("refusal_accuracy", 0.5, 1, 0, 1, 1, 0, 0, false, false, false),
			delta("latency_ms", 980, 1240, 120, 410, 0, 4, 0, true, true, false),
			delta("faithfulness", 0.955, 0.912, -0.081, 0.004, 0, 2, 2, false, false, false),
		},
		Metric: "correctness_f1",
		Cases: []CaseDelta{
			{CaseID: "q002", Question: cases[1].Question, Tags: cases[1].Tags, A: baseCases[1], B: cases[1], Delta: 0.319, HasDelta: true, Verdict: "win"},
			{CaseID: "q004", Question: cases[2].Question, Tags: cases[2].Tags, A: baseCases[2], B: cases[2], Delta: 0, HasDelta: true, Verdict: "tie"},
			{CaseID: "q001", Question: cases[0].Question, Tags: cases[0].Tags, A: baseCases[0], B: cases[0], Delta: 0, HasDelta: true, Verdict: "tie"},
			{CaseID: "q010", Question: cases[3].Question, Tags: cases[3].Tags, A: baseCases[3], B: cases[3], Verdict: "tie"},
		},
		Tags:    []string{"admin", "api", "billing", "mobile"},
		Matched: 4, OnlyB: 1,
		Runs: []RunRow{runningRun, doneRun, baselineRun},
		Now:  testNow,
	}
}

func TestComparePage(t *testing.T) {
	p := comparePage()
	doc, html := renderDoc(t, CompareView(p))
	if got := flat(doc.Find(`[data-testid="compare-title"]`)); got != "prompt v4 vs baseline" {
		t.Errorf("title = %q", got)
	}
	sum := doc.Find(`[data-testid="compare-summary"]`)
	if got := flat(sum.Find(`[data-testid="regressed"]`)); !strings.Contains(got, "✕ Regressed Latency +260ms 980ms → 1.2s") {
		t.Errorf("regressed = %q", got)
	}
	if got := flat(sum.Find(`[data-testid="improved"]`)); !strings.Contains(got, "✓ Improved Correctness F1 +0.061 0.541 → 0.602") {
		t.Errorf("improved = %q", got)
	}
	if strings.Contains(flat(sum), "Faithfulness") {
		t.Error("a non-significant change is in the summary")
	}
	rows := doc.Find(`[data-testid="compare-metrics"] tbody tr`)
	if rows.Length() != 6 {
		t.Fatalf("%d metric rows, want 6", rows.Length())
	}
	for key, want := range map[string]struct{ delta, class, text string }{
		"correctness_f1": {"+0.061", "better", "Correctness F1 ↑ better 0.541 0.602 +0.061 [+0.021, +0.118] ✓ improved 3 / 0 / 1 4"},
		"latency_ms":     {"+260ms", "worse", "Latency ↓ better 980ms 1.2s +260ms [+120ms, +410ms] ✕ regressed 0 / 4 / 0 4"},
		"faithfulness":   {"−0.043", "flat", "Faithfulness ↑ better 0.955 0.912 −0.043 [−0.081, +0.004] not significant 0 / 2 / 2 4"},
	} {
		row := rows.Filter(`[data-metric="` + key + `"]`)
		d := row.Find(`[data-testid="delta"]`)
		if d.Text() != want.delta || !d.HasClass(want.class) {
			t.Errorf("%s delta = %q class %q, want %q %s", key, d.Text(), d.AttrOr("class", ""), want.delta, want.class)
		}
		if got := flat(row); got != want.text {
			t.Errorf("%s row = %q, want %q", key, got, want.text)
		}
	}
	if got := flat(doc.Find(`[data-testid="compare-coverage"]`)); !strings.Contains(got, "4 cases are in both runs and compared; 1 only in B (Sample help centre v2) are left out.") {
		t.Errorf("coverage note = %q", got)
	}
	cases := doc.Find(`[data-testid="compare-cases"] [data-testid="compare-case"]`)
	if cases.Length() != 4 {
		t.Fatalf("%d compare cases, want 4", cases.Length())
	}
	if got := flat(cases.Eq(0).Find("summary")); !strings.Contains(got, "0.412 0.731 +0.319 ✓ win") {
		t.Errorf("first case = %q", got)
	}
	if got := flat(cases.Eq(3).Find("summary")); !strings.Contains(got, "-- -- -- n/a") {
		t.Errorf("case without the metric = %q", got)
	}
	first := cases.Eq(0)
	if first.Find(`[data-testid="trace-a"]`).AttrOr("href", "") != "/traces/tr-q002" || first.Find(`.side-b .answer-text`).Length() != 1 {
		t.Error("expanded case lacks the side-by-side answers with trace links")
	}
	picker := doc.Find(`[data-testid="metric-picker"]`)
	if picker.Find(`select[name="metric"] option[selected]`).AttrOr("value", "") != "correctness_f1" || picker.Find(`input[name="a"]`).AttrOr("value", "") != baselineRun.ID {
		t.Error("metric picker does not keep a, b and the current metric")
	}
	pick := doc.Find(`[data-testid="compare-pickers"]`)
	if pick.Find(`select[name="a"] option[selected]`).AttrOr("value", "") != baselineRun.ID || pick.Find(`select[name="b"] option[selected]`).AttrOr("value", "") != doneRun.ID {
		t.Error("run pickers do not show the compared runs")
	}
	if got := doc.Find(`[data-testid="compare-cases"] .tag-filter a`).Eq(1).AttrOr("href", ""); got != "/evals/compare?a="+baselineRun.ID+"&b="+doneRun.ID+"&metric=correctness_f1&tag=admin" {
		t.Errorf("tag link = %q", got)
	}
	golden(t, "evals-compare", html)

	p.Deltas = p.Deltas[:2]
	doc, _ = renderDoc(t, CompareView(p))
	if got := flat(doc.Find(`[data-testid="compare-summary"]`)); !strings.Contains(got, "No significant change") {
		t.Errorf("summary without significant changes = %q", got)
	}
}

func setPage() TestSetPage {
	cases := sampleCases()
	var rows []CaseRow
	docs := [][]string{{"mobile/mobile-apps-overview"}, {"admin/locations-and-departments", "billing/plans-and-pricing", "billing/active-users", "admin/archiving-employees"}, {"api-reference/webhooks"}, nil, {"integrations/gusto", "troubleshooting/payroll-export-errors"}}
	for i, c := range cases {
		rows = append(rows, CaseRow{ID: c.CaseID, Question: c.Question, ReferenceAnswer: c.Reference, DocumentIDs: docs[i], Tags: c.Tags, Unanswerable: c.Unanswerable})
	}
	rows[2].TraceID = "tr-from-widget"
	return TestSetPage{
		Chrome:  Chrome{Title: "Sample help centre", Active: "evals", Viewer: admin},
		Set:     sampleSet,
		Version: 2,
		TopK:    5,
		Versions: []SetVersionRow{
			{Version: 2, Note: "added 1 case from trace tr-from-widget", Cases: 5, CreatedAt: testNow.Add(-26 * time.Hour), CreatedBy: "user:maya"},
			{Version: 1, Note: "sample help centre", Cases: 4, CreatedAt: testNow.Add(-9 * 24 * time.Hour), CreatedBy: "system"},
		},
		Cases:   rows,
		Runs:    []RunRow{runningRun, doneRun, baselineRun},
		CanEdit: true,
		Now:     testNow,
	}
}

func TestTestSetPage(t *testing.T) {
	p := setPage()
	doc, html := renderDoc(t, TestSetView(p))
	if got := doc.Find(`[data-testid="export-set"]`).AttrOr("href", ""); got != "/api/v1/evals/sets/set-sample/export?version=2" {
		t.Errorf("export href = %q", got)
	}
	run := doc.Find(`[data-testid="run-this-set"]`).Closest("form")
	if run.AttrOr("action", "") != "/evals/runs" || run.Find(`input[name="set_id"]`).AttrOr("value", "") != "set-sample" {
		t.Error("run-this-set form is not POST /evals/runs with set_id")
	}
	opts := doc.Find(`[data-testid="run-options"] form`)
	if opts.AttrOr("action", "") != "/evals/runs" || opts.Find(`input[name="set_id"]`).AttrOr("value", "") != "set-sample" {
		t.Error("run-options form is not POST /evals/runs with set_id")
	}
	for _, sel := range []string{`input[name="name"]`, `select[name="mode"]`, `input[name="top_k"]`, `input[type="checkbox"][name="no_rerank"]`} {
		if opts.Find(sel).Length() != 1 {
			t.Errorf("run-options form lacks %s", sel)
		}
	}
	versions := doc.Find(`[data-testid="version-link"]`)
	if versions.Length() != 2 || versions.Eq(1).AttrOr("href", "") != "/evals/sets/set-sample?version=1" {
		t.Errorf("versions: %d, second href %q", versions.Length(), versions.Eq(1).AttrOr("href", ""))
	}
	if versions.Eq(0).AttrOr("aria-current", "") != "page" {
		t.Error("the shown version is not marked current")
	}
	rows := doc.Find(`[data-testid="cases-table"] [data-testid="case-row"]`)
	if rows.Length() != 5 {
		t.Fatalf("%d case rows, want 5", rows.Length())
	}
	if got := flat(rows.Eq(1).Find(".chips").First()); got != "admin/locations-and-departments billing/plans-and-pricing billing/active-users +1" {
		t.Errorf("document chips = %q", got)
	}
	if rows.Eq(1).Find("details.clip").Length() != 1 {
		t.Error("a long reference answer is not cut with an expander")
	}
	if !strings.Contains(flat(rows.Eq(3)), "⊘ unanswerable") {
		t.Error("unanswerable case lacks its badge")
	}
	if got := rows.Eq(2).Find(`a[href^="/traces/"]`).AttrOr("href", ""); got != "/traces/tr-from-widget" {
		t.Errorf("case trace link = %q", got)
	}
	add := doc.Find(`[data-testid="add-case"]`)
	if add.AttrOr("action", "") != "/evals/sets/set-sample/cases" || add.AttrOr("method", "") != "post" {
		t.Errorf("add-case form action %q", add.AttrOr("action", ""))
	}
	for _, sel := range []string{`textarea[name="question"][required]`, `textarea[name="reference_answer"]`, `input[name="document_ids"]`, `input[name="tags"]`, `input[type="checkbox"][name="unanswerable"]`} {
		if add.Find(sel).Length() != 1 {
			t.Errorf("add-case form lacks %s", sel)
		}
	}
	if got := doc.Find(`[data-testid="set-runs-table"] tbody tr`).Length(); got != 3 {
		t.Errorf("%d recent runs, want 3", got)
	}
	golden(t, "evals-set", html)

	p.CanEdit, p.Version = false, 1
	doc, _ = renderDoc(t, TestSetView(p))
	if doc.Find(`[data-testid="add-case"], [data-testid="run-this-set"], [data-testid="run-options"]`).Length() != 0 {
		t.Error("read-only viewer sees edit controls")
	}
	if got := doc.Find(`[data-testid="export-set"]`).AttrOr("href", ""); !strings.HasSuffix(got, "?version=1") {
		t.Errorf("export of an old version = %q", got)
	}
}

func TestTracePageAddToTestSet(t *testing.T) {
	tr := askTrace()
	doc, _ := renderDoc(t, TracePage(tr))
	if doc.Find(`[data-testid="add-to-set"]`).Length() != 0 {
		t.Error("add-to-set shown without CanAddCase")
	}
	tr.CanAddCase = true
	tr.TestSets = []TestSetRow{sampleSet, {ID: "set-faq", Name: "Billing FAQ", Cases: 40}}
	doc, _ = renderDoc(t, TracePage(tr))
	form := doc.Find(`[data-testid="trace-head"] [data-testid="add-to-set"] form`)
	if form.AttrOr("action", "") != "/evals/cases/from-trace" || form.AttrOr("method", "") != "post" {
		t.Fatalf("add-to-set form = %q", form.AttrOr("action", ""))
	}
	if got := form.Find(`input[name="trace_id"]`).AttrOr("value", ""); got != tr.ID {
		t.Errorf("trace_id = %q", got)
	}
	if got := form.Find(`select[name="set_id"] option`).Eq(1).AttrOr("value", ""); got != "set-faq" {
		t.Errorf("second set option = %q", got)
	}
	if form.Find(`textarea[name="reference_answer"]`).Length() != 1 {
		t.Error("no reference answer field")
	}

	ing := ingestTrace()
	ing.CanAddCase, ing.TestSets = true, tr.TestSets
	doc, _ = renderDoc(t, TracePage(ing))
	if doc.Find(`[data-testid="add-to-set"]`).Length() != 0 {
		t.Error("add-to-set offered on an ingest trace")
	}
}

func TestEvalsFormats(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, got, want string }{
		{"metric", FormatMetric("ndcg@10", 0.71249), "0.712"},
		{"metric one", FormatMetric("hit@5", 1), "1.000"},
		{"metric ms", FormatMetric("latency_ms", 850), "850ms"},
		{"metric usd", FormatMetric("cost_usd", 0.0042), "$0.0042"},
		{"metric missing", MetricIn(map[string]float64{}, "faithfulness"), "--"},
		{"delta up", FormatDelta("faithfulness", 0.0342), "+0.034"},
		{"delta down", FormatDelta("faithfulness", -0.0214), "−0.021"},
		{"delta zero", FormatDelta("faithfulness", 0.0001), "0.000"},
		{"delta ms", FormatDelta("latency_ms", -260), "−260ms"},
		{"mean ci", MeanCI("ndcg@10", 0.5921, 0.8024), "95 % CI 0.592–0.802"},
		{"delta ci", DeltaCI("ndcg@10", -0.012, 0.08), "[−0.012, +0.080]"},
		{"status", RunStatusLabel(schema.RunJudgeFailed), "Judge failed"},
		{"run label", RunLabel(RunRow{ID: "01JEVRUN0000000000ABCDEF12"}), "Run CDEF12"},
		{"run label named", RunLabel(RunRow{ID: "x", Name: "baseline"}), "baseline"},
		{"meta", RunMeta(doneRun, testNow), doneRun.Settings + " · by Maya Chen · started 2h ago"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestRunPageCaseFilter: a run page offers its failures and its
// regressions against the baseline, with counts, keeping the tag; a
// regressed case says so; a filter that matches nothing says how to clear it.
func TestRunPageCaseFilter(t *testing.T) {
	p := runPage(doneRun)
	base := baselineRun
	p.Baseline, p.Failures, p.Regressions, p.Tag, p.Show = &base, 3, 1, "api", "regressions"
	p.Cases = p.Cases[:1]
	p.Cases[0].Regressed = true
	doc, _ := renderDoc(t, RunView(p))
	f := doc.Find(`[data-testid="case-filter"]`)
	if got := flat(f.Find(`[data-testid="show-failures"]`)); got != "✕ Failures (3)" {
		t.Errorf("failures chip = %q", got)
	}
	reg := f.Find(`[data-testid="show-regressions"]`)
	if got := flat(reg); got != "▼ Regressions vs baseline (1)" {
		t.Errorf("regressions chip = %q", got)
	}
	if reg.AttrOr("aria-current", "") != "page" {
		t.Error("the regressions chip is not marked current")
	}
	if got := reg.AttrOr("href", ""); got != "/evals/runs/"+doneRun.ID+"?baseline="+baselineRun.ID+"&show=regressions&tag=api" {
		t.Errorf("regressions href = %q", got)
	}
	if doc.Find(`[data-testid="case-row"] [data-testid="regressed"]`).Length() != 1 {
		t.Error("the regressed case has no badge")
	}
	p.Cases, p.Show = nil, "failures"
	doc, _ = renderDoc(t, RunView(p))
	if got := flat(doc.Find(`[data-testid="cases-empty"] h3`)); got != "No failures tagged #api" {
		t.Errorf("empty filter = %q", got)
	}
	p.Baseline = nil
	doc, _ = renderDoc(t, RunView(p))
	if doc.Find(`[data-testid="show-regressions"]`).Length() != 0 {
		t.Error("regressions offered without a baseline run")
	}
}

func TestCompareDepthNote(t *testing.T) {
	for _, tt := range []struct {
		a, b int
		want string
	}{
		{5, 3, "10 deep in both runs; the answerer was given the top 5 in A and 3 in B."},
		{5, 5, "10 deep in both runs; the answerer was given the top 5 in each."},
		{0, 3, "10 deep in both runs."},
	} {
		if got := compareDepthNote(tt.a, tt.b); !strings.HasSuffix(got, tt.want) {
			t.Errorf("compareDepthNote(%d, %d) = %q, want it to end %q", tt.a, tt.b, got, tt.want)
		}
	}
}
