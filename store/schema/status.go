package schema

// TraceStatus is how a trace or a span ended.
type TraceStatus string

// Trace and span statuses.
const (
	StatusRunning TraceStatus = "running"
	StatusOK      TraceStatus = "ok"
	// StatusFallback is an ask answered with the fallback: the context did
	// not support an answer, so the customer was pointed elsewhere (and
	// the conversation escalated). It is not an error, and not an ok.
	StatusFallback  TraceStatus = "fallback"
	StatusError     TraceStatus = "error"
	StatusCancelled TraceStatus = "cancelled" // the caller went away
)

// TraceStatuses lists every trace status.
var TraceStatuses = []TraceStatus{StatusRunning, StatusOK, StatusFallback, StatusError, StatusCancelled}

// Valid reports whether s is one of TraceStatuses.
func (s TraceStatus) Valid() bool {
	for _, v := range TraceStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// IngestOutcome is what ingesting one file did.
type IngestOutcome string

// Ingest outcomes.
const (
	IngestCreated   IngestOutcome = "created"
	IngestUpdated   IngestOutcome = "updated"   // same source, new bytes
	IngestUnchanged IngestOutcome = "unchanged" // same source, same bytes
	IngestDuplicate IngestOutcome = "duplicate" // same bytes already ingested under another source
	IngestFailed    IngestOutcome = "failed"
)

// IngestOutcomes lists the outcomes in the order summaries count them.
var IngestOutcomes = []IngestOutcome{IngestCreated, IngestUpdated, IngestUnchanged, IngestDuplicate, IngestFailed}

// JobState is where a re-embed job is.
type JobState string

// Re-embed job states.
const (
	JobRunning   JobState = "running"
	JobDone      JobState = "done" // the new model is active
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// RunStatus is where an eval run is.
type RunStatus string

// Eval run statuses.
const (
	RunQueued      RunStatus = "queued"
	RunRunning     RunStatus = "running"
	RunDone        RunStatus = "done"
	RunCancelled   RunStatus = "cancelled"
	RunFailed      RunStatus = "failed"       // stopped by an error; finished cases are kept
	RunJudgeFailed RunStatus = "judge_failed" // the judge model kept failing; finished cases are kept
)

// Active reports whether the run is queued or running.
func (s RunStatus) Active() bool { return s == RunQueued || s == RunRunning }
