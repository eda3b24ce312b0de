package ui

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The Prompts pages: the list, one prompt (versions, labels, history,
// gate), one version (template, config, the new-version editor), the diff
// between two versions and the playground.

// PromptsPage is /prompts.
type PromptsPage struct {
	Chrome
	Env     string // the label this server answers with (--env)
	Prompts []PromptRow
}

// PromptRow is one prompt of the list.
type PromptRow struct {
	Name        string
	Description string
	Kind        string
	Latest      int
	Labels      []LabelChip // standard labels first, then custom ones by name
}

// LabelChip is a label and what it points at.
type LabelChip struct {
	Label   string
	Version int        // 0 for a split
	Split   []SplitArm // a weighted split between versions
	Live    bool       // the label this server answers with
}

// SplitArm is one arm of a label's split.
type SplitArm struct {
	Version int
	Weight  int
}

// Target is what the chip points at: "v3", or "v3/v4 90/10" for a split.
func (l LabelChip) Target() string {
	if len(l.Split) == 0 {
		return "v" + strconv.Itoa(l.Version)
	}
	vs := make([]string, len(l.Split))
	ws := make([]string, len(l.Split))
	for i, p := range splitPercents(l.Split) {
		vs[i] = "v" + strconv.Itoa(l.Split[i].Version)
		ws[i] = strconv.Itoa(p)
	}
	return strings.Join(vs, "/") + " " + strings.Join(ws, "/")
}

// Points reports whether the label sends traffic to version v.
func (l LabelChip) Points(v int) bool {
	if len(l.Split) == 0 {
		return l.Version == v
	}
	for _, a := range l.Split {
		if a.Version == v && a.Weight > 0 {
			return true
		}
	}
	return false
}

// splitPercents turns weights into whole percentages that sum to 100
// (largest remainders get the rounding).
func splitPercents(arms []SplitArm) []int {
	total := 0
	for _, a := range arms {
		total += a.Weight
	}
	out := make([]int, len(arms))
	if total <= 0 {
		return out
	}
	sum := 0
	rem := make([]int, len(arms))
	for i, a := range arms {
		out[i] = a.Weight * 100 / total
		rem[i] = a.Weight * 100 % total
		sum += out[i]
	}
	for sum < 100 {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
		sum++
	}
	return out
}

// PromptPage is /prompts/{name}.
type PromptPage struct {
	Chrome
	Prompt     PromptRow
	Env        string
	Versions   []PromptVersionRow // newest first
	Labels     []PromptLabelRow
	History    []LabelMoveRow // newest first
	Gate       *GateView
	CanEdit    bool
	IsAdmin    bool
	Playground bool // the prompt can be tried in the playground
	Notice     string
	Error      string
	Now        time.Time
}

// PromptVersionRow is a version as lists show it.
type PromptVersionRow struct {
	Version   int
	Message   string
	Author    string
	CreatedAt time.Time
	Labels    []string // the labels that send it traffic
}

// PromptLabelRow is one label on a prompt's page.
type PromptLabelRow struct {
	LabelChip
	UpdatedAt time.Time
	UpdatedBy string
	Gated     bool // production with an eval gate
}

// LabelMoveRow is one entry of the label history.
type LabelMoveRow struct {
	Time   time.Time
	Label  string
	From   string // "3", "3:90,4:10", "" when the label was new
	To     string
	Actor  string
	Reason string // an admin's gate override
}

// GateView is a prompt's eval gate (On), the test sets its form offers,
// and the gate's verdict on the version an editor would promote next.
type GateView struct {
	On           bool
	SetID        string
	SetName      string
	Thresholds   []GateMin
	Spec         string // the thresholds as the form takes them
	NoRegression bool
	Verdict      *GateVerdict // nil when production points at the latest version
	Sets         []TestSetOption
}

// TestSetOption is a test set a form offers.
type TestSetOption struct {
	ID   string
	Name string
}

// GateMin is one threshold of a gate: at least Min, or at most for a
// metric where lower is better.
type GateMin struct {
	Metric        string
	Min           float64
	LowerIsBetter bool
}

// GateVerdict is whether production may move to Version, and why.
type GateVerdict struct {
	Version     int
	Pass        bool
	Reason      string
	RunID       string // the run it judged
	Baseline    string // production's name@version, with NoRegression
	BaselineRun string
	Checks      []GateCheckView
	Regressions []string // metrics significantly worse than the baseline
}

// GateCheckView is one threshold against the run's value.
type GateCheckView struct {
	Metric        string
	Threshold     float64
	Value         float64
	Measured      bool
	LowerIsBetter bool
	Pass          bool
}

func gateOp(lower bool) string {
	if lower {
		return "≤"
	}
	return "≥"
}

// PromptVersionPage is /prompts/{name}/versions/{version}.
type PromptVersionPage struct {
	Chrome
	Name        string
	Description string
	Version     PromptVersionRow
	Template    string
	Variables   []string
	Config      []ConfigKV
	Latest      int
	Provided    []string // the variables the product gives this prompt
	Required    []string // the ones every version must use
	CanEdit     bool
	Playground  bool
	Form        PromptForm
	Notice      string
	// FormError is why a save failed; ErrLine/ErrCol place a template
	// error; Conflict is the version someone saved first (409).
	FormError string
	ErrLine   int
	ErrCol    int
	Conflict  int
	Now       time.Time
}

// ConfigKV is one config key and its value ("" when unset: the server's
// setting applies).
type ConfigKV struct {
	Key   string
	Value string
}

// PromptForm is the new-version editor's fields, as typed.
type PromptForm struct {
	Template              string
	Variables             string // comma-separated
	Model                 string
	Temperature           string
	MaxTokens             string
	TopK                  string
	RetrievalMode         string // "", hybrid, keyword, vector
	Rerank                string // "", on, off
	GroundednessThreshold string
	Message               string
	BaseVersion           int
}

// PromptDiffPage is /prompts/{name}/diff?from=A&to=B.
type PromptDiffPage struct {
	Chrome
	Name        string
	From, To    int
	Versions    []PromptVersionRow
	Lines       []DiffLineView
	Config      []ConfigChangeView
	VarsChanged bool
	VarsFrom    []string
	VarsTo      []string
	Message     string // To's commit message
	Added       int
	Removed     int
	Playground  bool
}

// DiffLineView is one line of a template diff: Op " ", "+" or "-".
type DiffLineView struct {
	Op   string
	Old  int
	New  int
	Text string
}

// ConfigChangeView is one changed config key ("" = the server's setting).
type ConfigChangeView struct {
	Key  string
	From string
	To   string
}

// PlaygroundPage is /prompts/{name}/playground.
type PlaygroundPage struct {
	Chrome
	Name     string
	Versions []PromptVersionRow
	A        int // version of the left arm
	B        int // version of the right arm; 0 with Draft
	Draft    bool
	Form     PromptForm // the draft, when Draft
	Question string
	TraceID  string // the trace the question was replayed from
	Cases    []PlaygroundCase
	// Ran is set once the arms answered; Answers holds one per arm.
	Ran       bool
	Answers   []PlaygroundAnswer
	Threshold float64
	Error     string
	ErrLine   int
	ErrCol    int
	Offline   bool // the extractive answerer: no tokens, no cost
}

// PlaygroundCase is a test-set question the playground offers.
type PlaygroundCase struct {
	Set      string
	Question string
}

// PlaygroundAnswer is one arm's answer.
type PlaygroundAnswer struct {
	Title        string // "A", "B"
	Prompt       string // name@version, name@draft
	Answer       string
	Groundedness float64
	Fallback     bool
	Latency      time.Duration
	TokensIn     int
	TokensOut    int
	CostUSD      float64
	Model        string
	TraceID      string
	Rendered     string
	Context      []PlaygroundPassage
	Error        string
}

// PlaygroundPassage is one retrieved passage.
type PlaygroundPassage struct {
	N          int
	DocumentID string
	Title      string
	Heading    string
	Text       string
}

// URLs of the prompt pages.

func promptURL(name string) string { return "/prompts/" + url.PathEscape(name) }

func promptVersionURL(name string, v int) string {
	return promptURL(name) + "/versions/" + strconv.Itoa(v)
}

func promptDiffURL(name string, from, to int) string {
	return fmt.Sprintf("%s/diff?from=%d&to=%d", promptURL(name), from, to)
}

func promptLabelURL(name, label string) string {
	return promptURL(name) + "/labels/" + url.PathEscape(label)
}

func playgroundURL(name string, a, b int) string {
	return fmt.Sprintf("%s/playground?a=%d&b=%d", promptURL(name), a, b)
}

// ReplayURL opens the playground with the question of trace id.
func ReplayURL(id string) string {
	return "/prompts/support-answer/playground?trace=" + url.QueryEscape(id)
}

// labelTargetText is a stored label target ("3" or "3:90,4:10") as people
// read it: "v3", "v3/v4 90/10"; "--" when empty.
func labelTargetText(s string) string {
	if s == "" {
		return "--"
	}
	parts := strings.Split(s, ",")
	if len(parts) == 1 {
		return "v" + s
	}
	arms := make([]SplitArm, 0, len(parts))
	for _, p := range parts {
		v, w, _ := strings.Cut(p, ":")
		n, _ := strconv.Atoi(v)
		wt, _ := strconv.Atoi(w)
		arms = append(arms, SplitArm{Version: n, Weight: wt})
	}
	return LabelChip{Split: arms}.Target()
}

// labelClass colours the standard labels: production green, staging
// amber, dev grey, custom ones the accent.
func labelClass(label string) string {
	switch label {
	case "production":
		return "badge label-chip ok"
	case "staging":
		return "badge label-chip warn"
	case "dev":
		return "badge label-chip neutral"
	}
	return "badge label-chip accent"
}

// TplLine is one line of a template, cut into highlighted segments.
type TplLine struct {
	N    int
	Segs []TplSeg
}

// TplSeg is a run of template text: Kind "" (text), "action" ({{ … }}),
// "var" (a .Variable inside an action) or "role" (a [system]/[user]
// marker line).
type TplSeg struct {
	Kind string
	Text string
}

var tplVarRE = regexp.MustCompile(`\.[A-Za-z_][A-Za-z0-9_]*`)

// TemplateLines cuts a template into numbered lines with its actions and
// variables marked, for the read-only template view.
func TemplateLines(text string) []TplLine {
	lines := strings.Split(text, "\n")
	out := make([]TplLine, len(lines))
	inAction := false
	for i, l := range lines {
		out[i].N = i + 1
		if t := strings.TrimSpace(l); !inAction && (t == "[system]" || t == "[user]") {
			out[i].Segs = []TplSeg{{Kind: "role", Text: l}}
			continue
		}
		for l != "" {
			if !inAction {
				j := strings.Index(l, "{{")
				if j < 0 {
					out[i].Segs = append(out[i].Segs, TplSeg{Text: l})
					break
				}
				if j > 0 {
					out[i].Segs = append(out[i].Segs, TplSeg{Text: l[:j]})
				}
				l, inAction = l[j:], true
				continue
			}
			j := strings.Index(l, "}}")
			act := l
			if j >= 0 {
				act, l, inAction = l[:j+2], l[j+2:], false
			} else {
				l = ""
			}
			out[i].Segs = append(out[i].Segs, actionSegs(act)...)
		}
	}
	return out
}

// actionSegs marks the variables inside one action's text.
func actionSegs(act string) []TplSeg {
	var out []TplSeg
	last := 0
	for _, m := range tplVarRE.FindAllStringIndex(act, -1) {
		if m[0] > last {
			out = append(out, TplSeg{Kind: "action", Text: act[last:m[0]]})
		}
		out = append(out, TplSeg{Kind: "var", Text: act[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(act) {
		out = append(out, TplSeg{Kind: "action", Text: act[last:]})
	}
	return out
}

func tplSegClass(kind string) string {
	if kind == "" {
		return ""
	}
	return "tpl-" + kind
}

// errorLineText is the template line a save error points at.
func errorLineText(template string, line int) string {
	lines := strings.Split(template, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	return lines[line-1]
}

// caretPad is the spaces that put a caret under column col (1-based).
func caretPad(col int) string {
	return strings.Repeat(" ", max(col-1, 0)) + "^"
}

func diffClass(op string) string {
	switch op {
	case "+":
		return "diff-line add"
	case "-":
		return "diff-line del"
	}
	return "diff-line"
}

func lineNo(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func versionOption(v PromptVersionRow) string {
	s := "v" + strconv.Itoa(v.Version)
	if len(v.Labels) > 0 {
		s += " [" + strings.Join(v.Labels, ", ") + "]"
	}
	if v.Message != "" {
		m, _ := clip(v.Message, 60)
		s += " · " + m
	}
	return s
}

func metricMin(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func groundednessText(g float64) string { return strconv.FormatFloat(g, 'f', 2, 64) }

// headingAfterTitle is a passage's heading path without the document
// title it usually starts with.
func headingAfterTitle(heading, title string) string {
	if heading == title {
		return ""
	}
	return strings.TrimPrefix(heading, title+" › ")
}

func gateCheckClass(c GateCheckView) string {
	if c.Pass {
		return "ok"
	}
	return "error"
}

func gateCheckValue(c GateCheckView) string {
	if !c.Measured {
		return "--"
	}
	return metricMin(math.Round(c.Value*1000) / 1000)
}

// baselineNote says the gate also runs production's version when it
// compares with it.
func baselineNote(g *GateView) string {
	if g.NoRegression {
		return " (and of production's version, if it has no finished run there)"
	}
	return ""
}
