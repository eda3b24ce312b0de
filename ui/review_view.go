package ui

// ReviewPage is the Review page: a week's queue, progress per reviewer and
// (for admins) the sampling policy.
type ReviewPage struct {
	Chrome
	Week, PrevWeek, NextWeek string
	Items                    []ReviewRow
	Done, Total              int
	Progress                 []ReviewProgress
	// Start is the first open item assigned to the viewer ("" when none).
	Start         string
	CanReview     bool
	CanEditPolicy bool
	Policy        ReviewPolicyForm
	Notice, Error string
}

// ReviewRow is one queued item in the list.
type ReviewRow struct {
	ID, Question string
	Reasons      []string
	Assignees    string
	State        string
	Verdict      string // the first label's, "" while open
	Double, Mine bool
}

// ReviewProgress is one reviewer's week.
type ReviewProgress struct {
	Name           string
	Assigned, Done int
}

// Percent is Done as a share of Assigned, 0..100.
func (p ReviewProgress) Percent() int {
	if p.Assigned == 0 {
		return 0
	}
	return p.Done * 100 / p.Assigned
}

// ReviewPolicyForm is the sampling policy as the form shows it
// (percentages as text).
type ReviewPolicyForm struct {
	SampleRate, WeeklyTarget, DoubleShare, FindingsSet string
	ThumbsDown, Escalated, LowGroundedness, Alerts     bool
}

// ReviewOption is one choice of a labelled field (verdict, cause).
type ReviewOption struct {
	Value, Label, Key string // Key: its keyboard shortcut, if any
}

// ReviewChunk is a chunk the answer cited or retrieval found.
type ReviewChunk struct {
	N                                  int // citation number; 0 for uncited
	DocumentID, ChunkID, Title, Source string
	Text                               string
}

// ReviewItemPage is the reviewing view of one item.
type ReviewItemPage struct {
	Chrome
	ID, TraceID, Week string
	Pos, Total        int
	PrevID, NextID    string
	Reasons           []string
	State             string
	Question, Answer  string
	Groundedness      string // "0.82" or "" when not recorded
	Threshold         string
	Fallback          bool
	Citations         []ReviewChunk
	Uncited           []ReviewChunk
	Feedback          []FeedbackView
	Verdicts, Causes  []ReviewOption
	// Label is the viewer's own label (or the form as sent back).
	Label  ReviewLabelView
	Others []ReviewLabelView
	// Locked: the item has all its labels and the viewer gave none.
	Locked     bool
	CanReview  bool
	CanAddCase bool
	TestCase   string
	SetName    string
	Notice     string
	Error      string
}

// ReviewLabelView is one reviewer's label.
type ReviewLabelView struct {
	Reviewer, Verdict, VerdictLabel, Cause, CauseLabel string
	Grounded                                           string // "yes", "no" or ""
	CorrectedAnswer, Documents, Notes                  string
}

// ReviewReportPage is the weekly report.
type ReviewReportPage struct {
	Chrome
	Week, PrevWeek, NextWeek string
	Items, Labelled, Failing int
	Verdicts                 []ReviewCount
	Causes                   []ReviewCount
	Clusters, Gaps           []ReviewCluster
	Documents                []ReviewCount
	ByPrompt                 []ReviewPromptRow
	Trend                    []ReviewTrendRow
	PreviousWeek             ReviewTrendRow
	AgreementItems           int
	Kappa, Observed          string
	Progress                 []ReviewProgress
}

// ReviewCount is a labelled count with its share.
type ReviewCount struct {
	Label string
	Href  string
	N     int
	Share float64 // 0..1 of the whole
}

// ReviewCluster is one group of paraphrased failing questions.
type ReviewCluster struct {
	Question  string
	Size      int
	Questions []string
	Items     []string
	Verdicts  string
	Gap       bool
}

// ReviewPromptRow is the verdict mix and causes of a prompt version.
type ReviewPromptRow struct {
	Prompt   string
	Labelled int
	Verdicts []ReviewCount
	Causes   []ReviewCount
}

// ReviewTrendRow is a day's thumbs and escalations.
type ReviewTrendRow struct {
	Day                             string
	Requests, Up, Down, Escalations int64
	ThumbsRatio, EscalationRate     string
}

// reasonLabel names a queue reason as people read it.
func reasonLabel(r string) string {
	switch r {
	case "thumbs_down":
		return "▼ thumbs down"
	case "escalated":
		return "⚑ escalated"
	case "low_groundedness":
		return "low groundedness"
	case "alert":
		return "alert"
	case "sampled":
		return "sampled"
	}
	return r
}

func reasonClass(r string) string {
	switch r {
	case "thumbs_down", "alert":
		return "error"
	case "escalated", "low_groundedness":
		return "warn"
	}
	return "neutral"
}

// VerdictLabel names a verdict as people read it.
func VerdictLabel(v string) string { return verdictLabel(v) }

func verdictLabel(v string) string {
	switch v {
	case "correct":
		return "correct"
	case "partially_correct":
		return "partially correct"
	case "incorrect":
		return "incorrect"
	case "should_have_refused":
		return "should have refused"
	}
	return v
}

func verdictClass(v string) string {
	switch v {
	case "correct":
		return "ok"
	case "partially_correct":
		return "warn"
	case "incorrect", "should_have_refused":
		return "error"
	}
	return "neutral"
}

// CauseLabel names a failure cause as people read it.
func CauseLabel(c string) string {
	switch c {
	case "retrieval_miss":
		return "retrieval miss"
	case "wrong_chunk_first":
		return "wrong chunk ranked first"
	case "generation_error":
		return "generation error"
	case "knowledge_gap":
		return "knowledge gap"
	case "off_topic":
		return "off-topic"
	case "policy":
		return "policy"
	}
	return c
}
