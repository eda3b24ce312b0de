package ui

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"llmops/store/schema"
)

// MissingMetric stands for a metric that does not apply to a case or run
// (no relevant documents, no judge).
const MissingMetric = "--"

// minus is the typographic minus sign, so signed numbers line up with "+".
const minus = "−"

// FormatMetric shows a metric value: three decimals for the 0..1 scores,
// durations for *_ms metrics and dollars for *_usd ones.
func FormatMetric(key string, v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return MissingMetric
	case strings.HasSuffix(key, "_ms"):
		return Latency(time.Duration(v * float64(time.Millisecond)))
	case strings.HasSuffix(key, "_usd"):
		return CostExact(v)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// MetricIn formats m[key], or MissingMetric when the map lacks it.
func MetricIn(m map[string]float64, key string) string {
	v, ok := m[key]
	if !ok {
		return MissingMetric
	}
	return FormatMetric(key, v)
}

// FormatDelta shows a signed difference: +0.034, −0.021, 0.000; +120ms
// for *_ms metrics.
func FormatDelta(key string, d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return MissingMetric
	}
	var abs string
	switch {
	case strings.HasSuffix(key, "_ms"):
		ms := math.Round(math.Abs(d))
		if ms == 0 {
			return "0ms"
		}
		abs = Latency(time.Duration(ms) * time.Millisecond)
	case strings.HasSuffix(key, "_usd"):
		if math.Abs(d) < 1e-9 {
			return "$0"
		}
		abs = CostExact(math.Abs(d))
	default:
		abs = strconv.FormatFloat(math.Abs(d), 'f', 3, 64)
		if abs == "0.000" {
			return abs
		}
	}
	if d < 0 {
		return minus + abs
	}
	return "+" + abs
}

// MeanCI is a run metric's interval: "95 % CI 0.712–0.845".
func MeanCI(key string, lo, hi float64) string {
	return "95 % CI " + FormatMetric(key, lo) + "–" + FormatMetric(key, hi)
}

// DeltaCI is a difference's interval: "[−0.012, +0.080]".
func DeltaCI(key string, lo, hi float64) string {
	return "[" + FormatDelta(key, lo) + ", " + FormatDelta(key, hi) + "]"
}

// RunStatusLabel names a run's status as people read it.
func RunStatusLabel(status schema.RunStatus) string {
	switch status {
	case schema.RunQueued:
		return "Queued"
	case schema.RunRunning:
		return "Running"
	case schema.RunDone:
		return "Done"
	case schema.RunCancelled:
		return "Cancelled"
	case schema.RunFailed:
		return "Failed"
	case schema.RunJudgeFailed:
		return "Judge failed"
	}
	return Or(string(status))
}

// runStatusStyle is a status's badge colour and the sign that says the
// same without colour.
func runStatusStyle(status schema.RunStatus) (class, sign string) {
	switch status {
	case schema.RunDone:
		return "ok", "✓"
	case schema.RunRunning:
		return "warn", "●"
	case schema.RunQueued:
		return "neutral", "◌"
	case schema.RunFailed:
		return "error", "✕"
	case schema.RunJudgeFailed:
		return "warn", "!"
	}
	return "neutral", "■"
}

// RunLabel names a run: its label, or "Run" and the end of its ID (the
// start of a time-ordered ID is the same for runs started together;
// shortID is the settings pages').
func RunLabel(r RunRow) string {
	if strings.TrimSpace(r.Name) != "" {
		return r.Name
	}
	return "Run " + shortID(r.ID)
}

// SetAt is a run's test set and version: "Help centre v3".
func SetAt(r RunRow) string {
	return Or(r.SetName) + " v" + strconv.Itoa(r.SetVersion)
}

// RunMeta is a run's one-line description under its title: settings,
// who started it, when.
func RunMeta(r RunRow, now time.Time) string {
	parts := []string{}
	if r.Settings != "" {
		parts = append(parts, r.Settings)
	}
	if r.CreatedBy != "" {
		parts = append(parts, "by "+r.CreatedBy)
	}
	if !r.CreatedAt.IsZero() {
		parts = append(parts, "started "+Ago(r.CreatedAt, now))
	}
	return strings.Join(parts, " · ")
}

// runDuration is how long a run took, or "running" while it runs.
func runDuration(r RunRow) string {
	if r.Running() {
		if r.Status == schema.RunQueued {
			return "queued"
		}
		return "running"
	}
	return Latency(r.Duration)
}

// runOption is a run as a picker lists it.
// runOption names a run in a picker among runs of one set: short enough
// that a select box shows it whole instead of cutting it mid-word.
func runOption(r RunRow, now time.Time) string {
	return RunLabel(r) + " · " + Ago(r.CreatedAt, now)
}

// runPickLabel names a run in the Evals page's pickers, with its test set
// when there are several.
func runPickLabel(r RunRow, now time.Time, sets bool) string {
	if !sets {
		return runOption(r, now)
	}
	return RunLabel(r) + " · " + SetAt(r) + " · " + Ago(r.CreatedAt, now)
}

// MetricGroupLabel names a metric group.
func MetricGroupLabel(group string) string {
	switch group {
	case "retrieval":
		return "Retrieval"
	case "answer":
		return "Answer"
	case "judge":
		return "LLM judge"
	}
	if group == "" {
		return "Other"
	}
	return strings.ToUpper(group[:1]) + group[1:]
}

// metricGroup is the metric cards under one heading.
type metricGroup struct {
	Key     string
	Label   string
	Metrics []MetricSummary
}

// groupMetrics splits summaries by group, groups in order of first
// appearance (the server sends them in MetricInfo order).
func groupMetrics(ms []MetricSummary) []metricGroup {
	var out []metricGroup
	for _, m := range ms {
		i := slices.IndexFunc(out, func(g metricGroup) bool { return g.Key == m.Group })
		if i < 0 {
			out = append(out, metricGroup{Key: m.Group, Label: MetricGroupLabel(m.Group)})
			i = len(out) - 1
		}
		out[i].Metrics = append(out[i].Metrics, m)
	}
	return out
}

// unitMetric reports whether a metric is a 0..1 score (drawn on a bar).
func unitMetric(key string) bool {
	return !strings.HasSuffix(key, "_ms") && !strings.HasSuffix(key, "_usd")
}

// ciBarStyle places a mean and its interval on a 0..1 track.
func ciBarStyle(m MetricSummary) string {
	c := func(v float64) float64 { return clampPct(v*100, 0, 100) }
	lo, hi := c(m.Lo), c(m.Hi)
	return "--mean:" + Pct(c(m.Mean)) + ";--lo:" + Pct(lo) + ";--hi:" + Pct(hi)
}

// keyCaseMetrics are the per-case columns of a run's case list, those the
// run has.
var keyCaseMetrics = []string{"hit@5", "ndcg@10", "faithfulness", "correctness_f1"}

// keyMetricLabels name the key metrics where no MetricInfo is at hand.
var keyMetricLabels = map[string]string{"hit@5": "Hit@5", "ndcg@10": "nDCG@10", "faithfulness": "Faithfulness", "correctness_f1": "Correctness F1"}

// caseColumns picks the key metrics a run's cases have, labelled from the
// run's metric list when it names them.
func caseColumns(summaries []MetricSummary, cases []CaseResultRow) []MetricInfo {
	var out []MetricInfo
	for _, k := range keyCaseMetrics {
		info := MetricInfo{Key: k, Label: keyMetricLabels[k]}
		found := false
		for _, m := range summaries {
			if m.Key == k {
				info, found = m.MetricInfo, true
				break
			}
		}
		for _, c := range cases {
			if _, ok := c.Metrics[k]; ok {
				found = true
				break
			}
		}
		if found {
			out = append(out, info)
		}
	}
	return out
}

// runColumns picks the key metrics any of these runs has, for the short
// runs table on a test set's page.
func runColumns(runs []RunRow) []MetricInfo {
	var out []MetricInfo
	for _, k := range keyCaseMetrics {
		for _, r := range runs {
			if _, ok := r.Metrics[k]; ok {
				out = append(out, MetricInfo{Key: k, Label: keyMetricLabels[k]})
				break
			}
		}
	}
	return out
}

// metricKV is one metric of a case, labelled, for the expanded row.
type metricKV struct {
	Key, Label, Help, Value string
}

// caseMetrics lists every metric of a case: those the run names first, in
// its order, then any others by key.
func caseMetrics(m map[string]float64, known []MetricSummary) []metricKV {
	var out []metricKV
	seen := map[string]bool{}
	for _, s := range known {
		if v, ok := m[s.Key]; ok {
			out = append(out, metricKV{Key: s.Key, Label: s.Label, Help: s.Help, Value: FormatMetric(s.Key, v)})
			seen[s.Key] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, metricKV{Key: k, Label: k, Value: FormatMetric(k, m[k])})
	}
	return out
}

// deltaClass colours a difference only when it is significant.
func deltaClass(d MetricDelta) string {
	switch {
	case d.Regressed:
		return "worse"
	case d.Improved:
		return "better"
	}
	return "flat"
}

// verdictStyle is a case verdict's badge colour and text.
func verdictStyle(v string) (class, text string) {
	switch v {
	case "win":
		return "ok", "✓ win"
	case "loss":
		return "error", "✕ loss"
	case "tie":
		return "neutral", "= tie"
	}
	return "neutral", Or(v)
}

// caseDelta is B − A of one metric for one case, raw (not direction-aware),
// to show next to the two values.
func caseDelta(c CaseDelta, key string) (float64, bool) {
	a, okA := c.A.Metrics[key]
	b, okB := c.B.Metrics[key]
	if !okA || !okB {
		return 0, false
	}
	return b - a, true
}

// regressed and improved list the metrics that moved significantly.
func regressed(ds []MetricDelta) []MetricDelta {
	var out []MetricDelta
	for _, d := range ds {
		if d.Regressed {
			out = append(out, d)
		}
	}
	return out
}

func improved(ds []MetricDelta) []MetricDelta {
	var out []MetricDelta
	for _, d := range ds {
		if d.Improved {
			out = append(out, d)
		}
	}
	return out
}

// metricLabel finds a metric's label among the compared ones.
func metricLabel(ds []MetricDelta, key string) string {
	for _, d := range ds {
		if d.Key == key {
			return d.Label
		}
	}
	return key
}

// betterWord says which direction is better, for tooltips.
func betterWord(info MetricInfo) string {
	if info.LowerIsBetter {
		return "lower is better"
	}
	return "higher is better"
}

// helpTitle is a metric header's tooltip.
func helpTitle(info MetricInfo) string {
	if info.Help == "" {
		return betterWord(info)
	}
	return info.Help + " (" + betterWord(info) + ")"
}

// compareURL links the compare page with its filters.
func compareURL(a, b, metric, tag string) string {
	q := url.Values{}
	q.Set("a", a)
	q.Set("b", b)
	if metric != "" {
		q.Set("metric", metric)
	}
	if tag != "" {
		q.Set("tag", tag)
	}
	return "/evals/compare?" + q.Encode()
}

// runURL, setURL and traceURL are the evals pages' links.
func runURL(id string) string { return "/evals/runs/" + url.PathEscape(id) }

// runCasesURL is a run page filtered by tag and show ("", "failures",
// "regressions"), against baseline when one was chosen.
func runCasesURL(id, tag, show, baseline string) string {
	q := url.Values{}
	if tag != "" {
		q.Set("tag", tag)
	}
	if show != "" {
		q.Set("show", show)
	}
	if baseline != "" {
		q.Set("baseline", baseline)
	}
	if len(q) == 0 {
		return runURL(id)
	}
	return runURL(id) + "?" + q.Encode()
}

func setURL(id string) string { return "/evals/sets/" + url.PathEscape(id) }

func setVersionURL(id string, version int) string {
	return setURL(id) + "?version=" + strconv.Itoa(version)
}

func traceURL(id string) string { return "/traces/" + url.PathEscape(id) }

func exportURL(id string, version int) string {
	return "/api/v1/evals/sets/" + url.PathEscape(id) + "/export?version=" + strconv.Itoa(version)
}

// sourceLabel names where a test set came from.
func sourceLabel(source string) string {
	switch source {
	case "csv", "jsonl", "beir", "api":
		return strings.ToUpper(source)
	case "":
		return "--"
	}
	return source
}

// clip cuts long text for a table cell; the full text goes in a title or
// an expanding row.
func clip(s string, n int) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n]), " ") + "…", true
}

func clipped(s string, n int) string {
	out, _ := clip(s, n)
	return out
}

// judgeLine says whether the LLM-judge metrics run.
func judgeLine(judge string) string {
	if judge == "" {
		return "LLM-judge metrics off — set LLMOPS_JUDGE_MODEL"
	}
	return "LLM-judge metrics: " + judge
}

// defaultCompare picks the pair the runs list offers to compare: the
// newest run against the one before it.
func defaultCompare(runs []RunRow) (a, b string) {
	if len(runs) > 1 {
		return runs[1].ID, runs[0].ID
	}
	if len(runs) == 1 {
		return runs[0].ID, runs[0].ID
	}
	return "", ""
}

// progressMax keeps a progress element valid before the total is known.
func progressMax(total int) string { return strconv.Itoa(max(total, 1)) }

// doneOf is "3 / 5".
func doneOf(r RunRow) string { return Count(r.Done) + " / " + Count(r.Total) }

// caseCount is "5 cases" for a set version.
func caseCount(n int) string { return Plural(n, "case", "cases") }

// onlyNote explains cases that are not in both compared runs.
func onlyNote(p ComparePage) string {
	s := Plural(p.Matched, "case is", "cases are") + " in both runs and compared"
	var parts []string
	if p.OnlyA > 0 {
		parts = append(parts, Count(p.OnlyA)+" only in A ("+SetAt(p.A)+")")
	}
	if p.OnlyB > 0 {
		parts = append(parts, Count(p.OnlyB)+" only in B ("+SetAt(p.B)+")")
	}
	if len(parts) > 0 {
		s += "; " + strings.Join(parts, " and ") + " are left out"
	}
	return s + "."
}

// msDuration turns a case's latency in milliseconds into a duration.
func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// verdictDeltaClass colours a case's change by its verdict.
func verdictDeltaClass(v string) string {
	switch v {
	case "win":
		return "better"
	case "loss":
		return "worse"
	}
	return "flat"
}

// caseGridStyle lays out a run's case rows: index, question, answer,
// flags, one column per key metric, latency, trace link.
func caseGridStyle(metricCols int) string {
	// Every row is its own grid, so only the text columns may flex.
	cols := "28px minmax(200px, 2fr) minmax(200px, 3fr)"
	for range metricCols {
		cols += " 76px"
	}
	return "--case-cols:" + cols + " 60px"
}

// depthNote says how deep the ranking metrics look, next to them: a run
// with top-k 3 still reports Recall@5 and @10, from the retriever's list.
func depthNote(topK int) string {
	const depth = "Recall, MRR and nDCG score the retriever's ranked list 10 deep (@5 and @10 count its first 5 and 10 documents)"
	if topK > 0 {
		return depth + "; the answerer was given the top " + strconv.Itoa(topK) + "."
	}
	return depth + "."
}

// RegressionDrop is how far a case's headline metric must fall against
// the baseline to count as a regression on the run page (smaller changes
// are noise on one case); RegressionDropText says it in the page.
const (
	RegressionDrop     = 0.1
	RegressionDropText = "0.1"
)

// tagSuffix is " tagged #t", or nothing without a tag.
func tagSuffix(tag string) string {
	if tag == "" {
		return ""
	}
	return " tagged #" + tag
}

// compareDepthNote is depthNote for two runs: the ranking metrics of both
// look 10 deep whatever each run's top-k was.
func compareDepthNote(a, b int) string {
	const depth = "Recall, MRR and nDCG score the retriever's ranked list 10 deep in both runs"
	switch {
	case a > 0 && b > 0 && a != b:
		return depth + "; the answerer was given the top " + strconv.Itoa(a) + " in A and " + strconv.Itoa(b) + " in B."
	case a > 0 && a == b:
		return depth + "; the answerer was given the top " + strconv.Itoa(a) + " in each."
	}
	return depth + "."
}
