package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"llmops/rag/text"
	"llmops/store/schema"
)

// TraceDetail is the trace page: one trace with its spans and feedback,
// copied out of the store by the server. Attribute maps hold decoded JSON
// (float64 numbers, []any, map[string]any); other Go values are shown too.
type TraceDetail struct {
	Chrome
	ID         string
	Kind       schema.TraceKind
	Name       string
	Start      time.Time
	End        time.Time // zero while running
	Status     schema.TraceStatus
	Error      string
	UserID     string
	UserName   string // the signed-in person UserID names, when known
	SessionID  string
	Input      string         // preview
	Output     string         // preview; answers carry [n] citation markers
	Attributes map[string]any // keyed by the schema.Attr* constants
	TokensIn   int
	TokensOut  int
	CostUSD    float64
	Spans      []SpanView // any order: the page builds the tree from ParentID
	Feedback   []FeedbackView
	Selected   string // span whose details show first (?span=ID); the first row when empty or unknown
	Now        time.Time
	// TestSets are offered by "Add to test set" on asks, when CanAddCase
	// (editors and admins).
	TestSets   []TestSetRow
	CanAddCase bool
	FormError  string // why adding the trace to a test set failed
	// Turn places an ask in its conversation: "Turn 2 of 3 · previous · next".
	Turn *TurnPosition
	// Threshold is the server's groundedness threshold, for traces that do
	// not record the one their answer was held to.
	Threshold float64
}

// SpanView is one span of a trace.
type SpanView struct {
	ID         string
	ParentID   string
	Name       string
	Kind       schema.SpanKind
	Start      time.Time
	End        time.Time // zero while running
	Status     schema.TraceStatus
	Error      string
	Attributes map[string]any // keyed by the schema.Attr* constants
}

// FeedbackView is one thumbs up or down on the trace.
type FeedbackView struct {
	Value   int // +1 or -1
	Comment string
	Actor   string // who gave it, as people read it
	Time    time.Time
}

// Latency is how long the trace ran, 0 while it runs.
func (t TraceDetail) Latency() time.Duration {
	if t.End.IsZero() || t.End.Before(t.Start) {
		return 0
	}
	return t.End.Sub(t.Start)
}

// TakesFeedback says whether the trace is an answer people rate: only
// those show a feedback counter (an ingest's would mean nothing), unless
// feedback arrived anyway.
func (t TraceDetail) TakesFeedback() bool {
	return t.Kind == schema.KindAsk || len(t.Feedback) > 0
}

// Thumbs counts thumbs up and down.
func (t TraceDetail) Thumbs() (up, down int) {
	for _, f := range t.Feedback {
		switch {
		case f.Value > 0:
			up++
		case f.Value < 0:
			down++
		}
	}
	return up, down
}

// ---------- span tree and waterfall ----------

// Waterfall is the span tree laid out on the trace's timeline.
type Waterfall struct {
	Rows  []SpanRow // depth-first, children in start order
	Total time.Duration
	Ticks []Tick
}

// Tick is one label of the time axis above the bars.
type Tick struct {
	Pct   float64
	Label string
}

// Connector pieces drawn left of a row's name, one per indent level.
const (
	GuideBlank = "blank" // an ancestor was its parent's last child: nothing continues here
	GuideLine  = "line"  // an ancestor has later siblings: the vertical line continues
	GuideTee   = "tee"   // this row, with siblings after it
	GuideElbow = "elbow" // this row, its parent's last child
)

// SpanRow is one span as the waterfall draws it.
type SpanRow struct {
	SpanView
	Depth       int
	Guides      []string // len == Depth
	HasChildren bool
	ParentName  string
	Running     bool          // no end yet: the bar runs to the timeline's end, dashed
	Duration    time.Duration // 0 while running
	Offset      time.Duration // start, from the timeline's origin
	Left, Width float64       // the bar, in % of the timeline
	TTFT        time.Duration // time to first token (LLM spans with schema.AttrTTFTMS)
	TTFTPct     float64       // the part of the bar before the first token, in % of the bar
	Share       float64       // duration / parent's duration (the trace's for sibling roots), 0 when not compared
	Heat        string        // "", "warn" (≥ 50% of the parent) or "hot" (≥ 75%)
	CostUSD     float64       // schema.AttrCostUSD
	HasCost     bool
}

// minBarPct keeps instant spans visible on long traces.
const minBarPct = 0.5

// Waterfall builds the span tree and places each span on the trace's
// timeline. Roots are spans without a parent or whose parent is not in the
// trace; spans caught in a parent cycle are shown as roots too, so no span
// ever disappears from the page.
func (t TraceDetail) Waterfall() Waterfall {
	if len(t.Spans) == 0 {
		return Waterfall{}
	}
	spans := slices.Clone(t.Spans)
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start.Before(spans[j].Start) })

	// The timeline runs from the earliest start to the latest end; a
	// trace still running extends to now so its open spans grow live.
	origin, end := t.Start, t.End
	for _, s := range spans {
		if origin.IsZero() || (!s.Start.IsZero() && s.Start.Before(origin)) {
			origin = s.Start
		}
		if s.End.After(end) {
			end = s.End
		}
	}
	running := t.End.IsZero()
	for _, s := range spans {
		if s.End.IsZero() {
			running = true
		}
	}
	if t.End.IsZero() && running && t.Now.After(end) {
		end = t.Now
	}
	for _, s := range spans {
		if s.Start.After(end) {
			end = s.Start
		}
	}
	total := end.Sub(origin)

	byID := make(map[string]*SpanView, len(spans))
	for i := range spans {
		byID[spans[i].ID] = &spans[i]
	}
	children := map[string][]*SpanView{}
	var roots []*SpanView
	for i := range spans {
		s := &spans[i]
		if p, ok := byID[s.ParentID]; ok && s.ParentID != s.ID {
			children[p.ID] = append(children[p.ID], s)
		} else {
			roots = append(roots, s)
		}
	}

	extent := func(s *SpanView) time.Duration {
		e := s.End
		if e.IsZero() {
			e = end
		}
		if e.Before(s.Start) {
			return 0
		}
		return e.Sub(s.Start)
	}
	pct := func(d time.Duration) float64 {
		if total <= 0 {
			return 0
		}
		return float64(d) / float64(total) * 100
	}

	w := Waterfall{Total: total}
	seen := map[string]bool{}
	var walk func(s *SpanView, parent *SpanView, siblings int, trail []string, last bool)
	walk = func(s *SpanView, parent *SpanView, siblings int, trail []string, last bool) {
		if seen[s.ID] {
			return
		}
		seen[s.ID] = true
		r := SpanRow{SpanView: *s, Depth: len(trail), HasChildren: len(children[s.ID]) > 0}
		r.Guides = slices.Clone(trail)
		r.Running = s.End.IsZero()
		if !r.Running && !s.End.Before(s.Start) {
			r.Duration = s.End.Sub(s.Start)
		}
		if !s.Start.IsZero() {
			r.Offset = s.Start.Sub(origin)
		}
		r.Left = clampPct(pct(r.Offset), 0, 100-minBarPct)
		r.Width = clampPct(pct(extent(s)), minBarPct, 100-r.Left)
		if ms, ok := number(s.Attributes[schema.AttrTTFTMS]); ok && ms > 0 && s.Kind == schema.SpanKindLLM {
			r.TTFT = time.Duration(ms * float64(time.Millisecond))
			if d := extent(s); d > 0 {
				r.TTFTPct = clampPct(float64(r.TTFT)/float64(d)*100, 0, 100)
			}
		}
		if c, ok := number(s.Attributes[schema.AttrCostUSD]); ok {
			r.CostUSD, r.HasCost = c, true
		}
		// Heat compares a span with what contains it: its parent span, or
		// the trace when it is one of several roots (a lone root always
		// fills the trace, which says nothing).
		var whole time.Duration
		switch {
		case parent != nil:
			r.ParentName = parent.Name
			whole = extent(parent)
		case siblings > 1:
			whole = total
		}
		// An ingest's shared batch is not any file's time, and a file's
		// stages always split its own time: there only a file that took
		// much of the whole upload is marked.
		if t.Kind == schema.KindIngest && (parent != nil || s.Attributes[schema.AttrOutcome] == nil) {
			whole = 0
		}
		if whole > 0 && !r.Running {
			r.Share = float64(r.Duration) / float64(whole)
			switch {
			case r.Share >= 0.75:
				r.Heat = "hot"
			case r.Share >= 0.5:
				r.Heat = "warn"
			}
		}
		w.Rows = append(w.Rows, r)
		kids := children[s.ID]
		for i, c := range kids {
			isLast := i == len(kids)-1
			next := slices.Clone(trail)
			if len(next) > 0 {
				// This row's own connector becomes a pass-through line for
				// its children when it has later siblings, blank otherwise.
				if last {
					next[len(next)-1] = GuideBlank
				} else {
					next[len(next)-1] = GuideLine
				}
			}
			if isLast {
				next = append(next, GuideElbow)
			} else {
				next = append(next, GuideTee)
			}
			walk(c, s, len(kids), next, isLast)
		}
	}
	for i, r := range roots {
		walk(r, nil, len(roots), nil, i == len(roots)-1)
	}
	// Spans in a parent cycle have no root above them: show them as roots.
	for i := range spans {
		if !seen[spans[i].ID] {
			walk(&spans[i], nil, 1, nil, true)
		}
	}
	w.Ticks = AxisTicks(total)
	return w
}

// AxisTicks labels a time axis of length total at a round step (1, 2 or 5
// times a power of ten, at most five steps), so every label is exact where
// it stands: 0/1/2/3/4/5ms for a 5 ms trace, 0/2/4/6/8ms for a 9 ms one.
// The last tick is at or before the end of the axis.
func AxisTicks(total time.Duration) []Tick {
	if total <= 0 {
		return nil
	}
	const maxSteps = 5
	raw := float64(total) / maxSteps
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	// Latency shows whole microseconds at best: finer steps would repeat labels.
	step = max(step, float64(time.Microsecond))
	var ticks []Tick
	for i := 0; ; i++ {
		at := step * float64(i)
		if at > float64(total)*(1+1e-9) {
			break
		}
		label := "0"
		if d := time.Duration(math.Round(at)); i > 0 && d >= time.Millisecond && d < time.Second {
			// Latency rounds to whole milliseconds; a 0.5 ms step needs "1.5ms".
			label = strconv.FormatFloat(float64(d.Round(time.Microsecond))/float64(time.Millisecond), 'f', -1, 64) + "ms"
		} else if i > 0 {
			label = Latency(d)
		}
		ticks = append(ticks, Tick{Pct: min(100, at/float64(total)*100), Label: label})
	}
	return ticks
}

// SelectedID is the span whose details show when the page loads.
func (t TraceDetail) SelectedID(rows []SpanRow) string {
	for _, r := range rows {
		if r.ID == t.Selected {
			return r.ID
		}
	}
	if len(rows) > 0 {
		return rows[0].ID
	}
	return ""
}

func clampPct(v, lo, hi float64) float64 {
	if hi < lo {
		hi = lo
	}
	return math.Max(lo, math.Min(hi, v))
}

// Pct formats a percentage for a style attribute: 12.5%, 0.5%, 100%.
func Pct(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + "%"
}

// barStyle places a waterfall bar.
func barStyle(r SpanRow) string {
	return "left:" + Pct(r.Left) + ";width:" + Pct(r.Width)
}

// labelStyle places the duration label right after the bar; the track
// keeps room on its right (trace.css) for the label of a bar that ends
// the trace.
func labelStyle(r SpanRow) string {
	return "left:" + Pct(r.Left+r.Width)
}

// ---------- attribute values ----------

// AttrNode is one attribute value laid out for the key/value view.
type AttrNode struct {
	Key      string
	Type     string // string, number, bool, null, object, list, table
	Text     string // a scalar, formatted
	Preview  string // the start of a long string (Long)
	Long     bool
	Children []AttrNode // object members (sorted by key) or list items ([0], [1], ...)
	Columns  []string   // table: a list of flat objects shown as rows
	Rows     [][]AttrNode
}

// Count of members or items, for a nested value's summary line.
func (n AttrNode) Count() int {
	if n.Type == "table" {
		return len(n.Rows)
	}
	return len(n.Children)
}

// Limits of the key/value view.
const (
	attrPreviewRunes = 240 // longer strings show this much, with an expand control
	attrPreviewLines = 6
	tableCellRunes   = 80 // lists of objects with longer strings stay nested, not tabular
	tableMaxColumns  = 8
)

// Attrs lays out an attribute map for the key/value view, keys sorted.
func Attrs(m map[string]any) []AttrNode {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]AttrNode, 0, len(keys))
	for _, k := range keys {
		out = append(out, attrNode(k, m[k]))
	}
	return out
}

func attrNode(key string, v any) AttrNode {
	v = normalize(v)
	n := AttrNode{Key: key}
	switch v := v.(type) {
	case nil:
		n.Type, n.Text = "null", "null"
	case bool:
		n.Type, n.Text = "bool", strconv.FormatBool(v)
	case float64:
		n.Type, n.Text = "number", FormatNumber(v)
	case string:
		n.Type, n.Text = "string", v
		if p, cut := previewText(v); cut {
			n.Preview, n.Long = p, true
		}
	case map[string]any:
		n.Type, n.Children = "object", Attrs(v)
	case []any:
		if cols, ok := tableColumns(v); ok {
			n.Type, n.Columns = "table", cols
			for _, item := range v {
				obj := item.(map[string]any)
				row := make([]AttrNode, len(cols))
				for i, c := range cols {
					if x, ok := obj[c]; ok {
						row[i] = attrNode(c, x)
					} else {
						row[i] = AttrNode{Key: c, Type: "missing", Text: "--"}
					}
				}
				n.Rows = append(n.Rows, row)
			}
			return n
		}
		n.Type = "list"
		for i, item := range v {
			n.Children = append(n.Children, attrNode("["+strconv.Itoa(i)+"]", item))
		}
	default:
		n.Type, n.Text = "string", fmt.Sprint(v)
	}
	return n
}

// normalize turns any Go value into the shapes JSON decoding produces, so
// attributes set in memory and read back from the store look the same.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string, float64, map[string]any, []any:
		return v
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

// tableColumns reports whether a list is a run of flat objects with short
// values (retrieval hits, citations) and, if so, their keys in first-seen
// order.
func tableColumns(list []any) ([]string, bool) {
	if len(list) == 0 {
		return nil, false
	}
	var cols []string
	seen := map[string]bool{}
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok || len(obj) == 0 {
			return nil, false
		}
		keys := make([]string, 0, len(obj))
		for k, v := range obj {
			switch v := normalize(v).(type) {
			case nil, bool, float64:
			case string:
				if utf8.RuneCountInString(v) > tableCellRunes || strings.Contains(v, "\n") {
					return nil, false
				}
			default:
				return nil, false
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	if len(cols) > tableMaxColumns {
		return nil, false
	}
	return orderColumns(cols), true
}

// orderColumns puts the identifying columns people scan first.
func orderColumns(cols []string) []string {
	first := []string{"n", "rank", "title", "name", "id", "chunk_id", "document_id", "source", "score"}
	rank := func(c string) int {
		if i := slices.Index(first, c); i >= 0 {
			return i
		}
		return len(first)
	}
	sort.SliceStable(cols, func(i, j int) bool { return rank(cols[i]) < rank(cols[j]) })
	return cols
}

// previewText cuts a long string to its first lines or runes.
func previewText(s string) (string, bool) {
	cut := false
	if lines := strings.SplitN(s, "\n", attrPreviewLines+1); len(lines) > attrPreviewLines {
		s, cut = strings.Join(lines[:attrPreviewLines], "\n"), true
	}
	if utf8.RuneCountInString(s) > attrPreviewRunes {
		s, cut = string([]rune(s)[:attrPreviewRunes]), true
	}
	if !cut {
		return "", false
	}
	return strings.TrimRight(s, " \n") + "…", true
}

// FormatNumber shows a JSON number: whole numbers without ".0", others to
// three decimals, and small ones (costs, probabilities) to three
// significant digits so 0.000231 does not become 0.
func FormatNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	prec := 3
	if a := math.Abs(f); a < 1 {
		prec = min(2-int(math.Floor(math.Log10(a))), 12)
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// PrettyJSON is the attribute map as indented JSON, keys sorted, for the
// JSON toggle.
func PrettyJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // templ escapes; \u003c would only confuse readers
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalize(v)); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// number reads a numeric attribute.
func number(v any) (float64, bool) {
	f, ok := normalize(v).(float64)
	return f, ok
}

// ---------- header facts from attributes ----------

// ScoreChip is one score in the trace header.
type ScoreChip struct {
	Name  string
	Value string
	Class string // ok, warn, error, neutral: the badge colour
	Sign  string // a mark that says the same as the colour
	Title string
}

// Scores reads the scores from trace attributes: groundedness as a
// percentage coloured against the threshold the answer was held to
// (GroundednessBand; the trace's own llmops.threshold, else threshold),
// or "quoted" for the extractive answerer, whose answers are grounded by
// construction; relevance (RelevanceBand); fallback and escalated as
// yes/no.
func Scores(attrs map[string]any, threshold float64) []ScoreChip {
	var out []ScoreChip
	if t, ok := number(attrs[schema.AttrThreshold]); ok {
		threshold = t
	}
	if v, ok := attrs[schema.AttrGroundedness]; ok {
		if g, ok := number(v); ok {
			c := ScoreChip{Name: "groundedness", Value: strconv.Itoa(int(math.Round(g*100))) + "%",
				Title: "groundedness " + FormatNumber(g) + " (threshold " + FormatNumber(threshold) + ")"}
			c.Class = GroundednessBand(g, threshold)
			c.Sign = map[string]string{"ok": "✓", "warn": "!", "error": "✕"}[c.Class]
			if attrs[schema.AttrResponseModel] == ExtractiveModel {
				// Quoting is grounded by construction: say what it is,
				// not a verdict; relevance is the quality signal.
				c.Value, c.Class, c.Sign = "quoted", "neutral", ""
				c.Title = "extractive answer: every sentence is quoted from the cited sources, so groundedness (" +
					FormatNumber(g) + ") says nothing about whether it answers; see relevance"
			}
			out = append(out, c)
		}
	}
	if r, ok := number(attrs[schema.AttrRelevance]); ok {
		c := ScoreChip{Name: "relevance", Value: strconv.Itoa(int(math.Round(r*100))) + "%", Class: RelevanceBand(r),
			Title: "relevance " + FormatNumber(r) + ": how directly the answer addresses the question (falls back below " + FormatNumber(RelevanceFloor) + ")"}
		c.Sign = map[string]string{"ok": "✓", "warn": "!", "error": "✕"}[c.Class]
		out = append(out, c)
	}
	for _, s := range []struct{ key, name string }{{schema.AttrFallback, "fallback"}, {schema.AttrEscalated, "escalated"}} {
		if b, ok := normalize(attrs[s.key]).(bool); ok {
			c := ScoreChip{Name: s.name, Value: "no", Class: "neutral"}
			if b {
				c.Value, c.Class, c.Sign = "yes", "warn", "!"
			}
			out = append(out, c)
		}
	}
	return out
}

// maxScoreChips shown before a "+N" overflow chip.
const maxScoreChips = 4

// CostSplit reads the prompt/completion cost split, when the trace has it.
func CostSplit(attrs map[string]any) (in, out float64, ok bool) {
	in, okIn := number(attrs[schema.AttrCostInputUSD])
	out, okOut := number(attrs[schema.AttrCostOutputUSD])
	return in, out, okIn && okOut
}

// CostExact formats a cost for tooltips, where <$0.01 hides too much:
// $0.00123, $1.20.
func CostExact(usd float64) string {
	if usd == 0 {
		return "$0"
	}
	if math.Abs(usd) >= 0.01 {
		return fmt.Sprintf("$%.2f", usd)
	}
	return "$" + FormatNumber(usd)
}

// costTitle is the header cost's hover text.
func costTitle(t TraceDetail) string {
	if in, out, ok := CostSplit(t.Attributes); ok {
		return "prompt " + CostExact(in) + " · completion " + CostExact(out) + " · total " + CostExact(t.CostUSD)
	}
	return CostExact(t.CostUSD)
}

// CitationView is one source of an answer.
type CitationView struct {
	N          int
	Title      string
	Source     string
	ChunkID    string
	DocumentID string
	Page       int
	Held       string // why rag/guard holds the chunk from widget answers, when it does
}

// Citations reads the citations attribute when it is a list of citation
// objects; anything else stays in the key/value view.
func Citations(attrs map[string]any) []CitationView {
	list, ok := normalize(attrs[schema.AttrCitations]).([]any)
	if !ok || len(list) == 0 {
		return nil
	}
	out := make([]CitationView, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		n, hasN := number(m["n"])
		c := CitationView{N: int(n), Title: str("title"), Source: str("source"), ChunkID: str("chunk_id"), DocumentID: str("document_id"), Held: str("held")}
		if p, ok := number(m["page"]); ok {
			c.Page = int(p)
		}
		if !hasN || (c.Title == "" && c.DocumentID == "") {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// Segment is a run of answer text, or one [n] citation marker.
type Segment struct {
	Text string
	N    int // > 0 for a marker
}

// CiteSegments splits answer text around its [n] markers, so the page can
// link each marker to its source; markers without a source stay text. A
// run of sentences or list items citing the same source shows one marker,
// at its end (text.MergeCitationRuns), however the model wrote it.
func CiteSegments(s string, cites []CitationView) []Segment {
	s = text.MergeCitationRuns(s)
	known := map[int]bool{}
	for _, c := range cites {
		known[c.N] = true
	}
	var out []Segment
	last := 0
	for _, m := range text.CitationMarker.FindAllStringIndex(s, -1) {
		n, ok := text.SingleCitation(s[m[0]:m[1]])
		if !ok || !known[n] {
			continue
		}
		if m[0] > last {
			out = append(out, Segment{Text: s[last:m[0]]})
		}
		out = append(out, Segment{Text: s[m[0]:m[1]], N: n})
		last = m[1]
	}
	if last < len(s) {
		out = append(out, Segment{Text: s[last:]})
	}
	return out
}

// ---------- small helpers for the template ----------

// kindClass names a span kind's colour class; unknown kinds are neutral.
func kindClass(kind schema.SpanKind) string {
	switch kind {
	case schema.SpanKindLLM, schema.SpanKindRetriever, schema.SpanKindReranker, schema.SpanKindTool,
		schema.SpanKindEmbedding, schema.SpanKindChain, schema.SpanKindGuard:
		return "kind-" + string(kind)
	}
	return "kind-other"
}

// spanOffset formats a span's start relative to the trace: +120ms.
func spanOffset(d time.Duration) string {
	if d <= 0 {
		return "+0ms"
	}
	return "+" + Latency(d)
}

// rowDuration is the text after a bar.
func rowDuration(r SpanRow) string {
	if r.Running {
		return "running"
	}
	if r.Duration <= 0 {
		return "0ms"
	}
	return Latency(r.Duration)
}

// heatTitle explains a coloured duration.
func heatTitle(r SpanRow) string {
	if r.Share == 0 {
		return ""
	}
	of := "its parent"
	if r.ParentName != "" {
		of = r.ParentName
	} else if r.Depth == 0 {
		of = "the trace"
	}
	return strconv.Itoa(int(math.Round(r.Share*100))) + "% of " + of
}

// spanModel is the model an llm span records: the one that answered, or
// the one asked for.
func spanModel(m map[string]any) string {
	if s, _ := m[schema.AttrResponseModel].(string); s != "" {
		return s
	}
	s, _ := m[schema.AttrRequestModel].(string)
	return s
}

// attrInt reads a whole-number attribute.
func attrInt(m map[string]any, k string) (int, bool) {
	f, ok := number(m[k])
	return int(f), ok
}

// withoutKey copies m without one key (citations get their own table).
func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// citeTitle is a citation marker's hover text.
func citeTitle(cites []CitationView, n int) string {
	for _, c := range cites {
		if c.N == n {
			if c.Source != "" {
				return c.Title + " · " + c.Source
			}
			return c.Title
		}
	}
	return ""
}

// moreScores lists the scores behind the "+N" chip.
func moreScores(chips []ScoreChip) string {
	parts := make([]string, len(chips))
	for i, c := range chips {
		parts[i] = c.Name + " " + c.Value
	}
	return strings.Join(parts, ", ")
}

// emptyValue shows an empty object or list.
func emptyValue(n AttrNode) string {
	if n.Type == "object" {
		return "{} empty"
	}
	return "[] empty"
}

// groupMeta summarises a nested value on its fold line.
func groupMeta(n AttrNode) string {
	if n.Type == "object" {
		return "{" + strconv.Itoa(n.Count()) + "}"
	}
	return Plural(n.Count(), "item", "items")
}

// numericColumn reports whether a table column holds only numbers, so it
// is right-aligned like every other numeric column.
func numericColumn(n AttrNode, col int) bool {
	seen := false
	for _, row := range n.Rows {
		switch row[col].Type {
		case "number":
			seen = true
		case "missing", "null":
		default:
			return false
		}
	}
	return seen
}

// TurnPosition is a trace's place among its conversation's answers.
type TurnPosition struct {
	N, Of      int
	Prev, Next string // trace IDs; "" at either end
}
