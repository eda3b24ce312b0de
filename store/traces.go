package store

import (
	"bytes"
	"context"
	"time"
	"unicode/utf8"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// Trace is one request through llmops (an ask, an ingest, an eval case):
// the unit the Traces page lists and the dashboards aggregate.
type Trace struct {
	ID        string             `json:"id"`
	Kind      schema.TraceKind   `json:"kind"`
	Name      string             `json:"name"`
	Start     time.Time          `json:"start"`
	End       time.Time          `json:"end,omitzero"`
	Status    schema.TraceStatus `json:"status"`
	Error     string             `json:"error,omitempty"`
	UserID    string             `json:"user_id,omitempty"`
	SessionID string             `json:"session_id,omitempty"`
	Input     string             `json:"input,omitempty"`  // preview, see PreviewLen
	Output    string             `json:"output,omitempty"` // preview, see PreviewLen
	// Attributes are keyed by the schema.Attr* constants.
	Attributes map[string]any `json:"attributes,omitempty"`
	TokensIn   int            `json:"tokens_in"`
	TokensOut  int            `json:"tokens_out"`
	CostUSD    float64        `json:"cost_usd"`
}

// Duration is how long the trace ran (0 while running).
func (t *Trace) Duration() time.Duration {
	if t.End.IsZero() {
		return 0
	}
	return t.End.Sub(t.Start)
}

// Span is one step inside a trace (retrieve, rerank, llm, ...).
type Span struct {
	TraceID  string             `json:"trace_id"`
	ID       string             `json:"id"`
	ParentID string             `json:"parent_id,omitempty"`
	Name     string             `json:"name"`
	Kind     schema.SpanKind    `json:"kind"`
	Start    time.Time          `json:"start"`
	End      time.Time          `json:"end,omitzero"`
	Status   schema.TraceStatus `json:"status"`
	// Attributes are keyed by the schema.Attr* constants.
	Attributes map[string]any `json:"attributes,omitempty"`
	Error      string         `json:"error,omitempty"`
}

// PreviewLen is how many runes of input and output a trace keeps inline.
const PreviewLen = 2000

// Preview cuts s to at most n runes, marking the cut with an ellipsis.
func Preview(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// spanKey orders spans under their trace: trace ID then span ID, both
// fixed-width time-sorted IDs, so one prefix scan reads a trace's spans.
func spanKey(traceID, spanID string) []byte {
	return append([]byte(traceID), spanID...)
}

// TraceFilter selects traces for ListTraces. Empty fields match
// everything.
type TraceFilter struct {
	Page
	Kind        schema.TraceKind
	ExcludeKind schema.TraceKind // e.g. schema.KindEval: everything but eval runs' cases
	Status      schema.TraceStatus
	// Equality filters, answered from the secondary indexes.
	Channel, Model, Prompt, User, Key, Conversation string
	Feedback                                        string // "up", "down" (any such thumb) or "none"
	Escalated                                       bool   // only escalated asks
	// Range filters, checked on each candidate.
	MinLatency      time.Duration
	MaxGroundedness *float64 // asks with a groundedness score at most this
	MinCostUSD      float64
	From, To        time.Time // start time: From ≤ start < To
	// Match, when set, yields the candidate IDs (a full-text search):
	// every other filter is checked against them.
	Match TraceMatcher
}

// TraceMatcher yields IDs of matching traces newest first, strictly older
// than before ("" for the newest), at most n; fewer than n means there are
// no more.
type TraceMatcher func(ctx context.Context, before string, n int) ([]string, error)

// Feedback filter values.
const (
	FeedbackUp   = "up"
	FeedbackDown = "down"
	FeedbackNone = "none"
)

// maxTraceScan bounds the traces one ListTraces call examines: a filter
// that matches little of a long history returns a short (or empty) page
// with a cursor to continue from, instead of reading everything.
const maxTraceScan = 20000

// traceIDSource yields candidate IDs newest first.
type traceIDSource interface {
	// next returns the next candidate, or "" at the end.
	next() (string, error)
}

// ListTraces returns traces newest first and the cursor of the next page.
// The candidates come from the most selective source available: a full-text
// match, an index of one equality filter, or the traces themselves; the
// other filters are checked on each. The next cursor is set when there may
// be more, including when maxTraceScan candidates were examined without
// filling the page.
func (s *Store) ListTraces(ctx context.Context, f TraceFilter) ([]Trace, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if f.Feedback != "" && f.Feedback != FeedbackUp && f.Feedback != FeedbackDown && f.Feedback != FeedbackNone {
		return nil, "", Errorf(EINVALID, "feedback must be up, down or none")
	}
	var traces []Trace
	var next string
	err := s.db.View(func(tx *bolt.Tx) error {
		before := f.Before
		if !f.To.IsZero() {
			if id, ok := idFloor(f.To); ok && (before == "" || id < before) {
				before = id
			}
		}
		var floor string // candidates below it are older than From
		if !f.From.IsZero() {
			floor, _ = idFloor(f.From)
		}
		eq := f.equalities()
		src, eq := f.source(ctx, tx, before, eq)
		tb, idx := tx.Bucket(bucketTraces), tx.Bucket(bucketTraceIndex)
		last := ""
		for scanned := 0; ; scanned++ {
			id, err := src.next()
			if err != nil {
				return err
			}
			if id == "" || id < floor {
				return nil
			}
			if scanned == maxTraceScan {
				next = last
				return nil
			}
			last = id
			if !f.indexed(idx, eq, id) {
				continue
			}
			v := tb.Get([]byte(id))
			if v == nil {
				continue
			}
			var t Trace
			if err := decode(v, &t); err != nil {
				return err
			}
			if !f.matches(&t) {
				continue
			}
			if len(traces) == f.limit() {
				next = traces[len(traces)-1].ID
				return nil
			}
			traces = append(traces, t)
		}
	})
	return traces, next, err
}

// equalities lists the filter's index prefixes, most selective first (by
// what a field usually narrows to).
func (f *TraceFilter) equalities() [][]byte {
	var eq [][]byte
	add := func(field byte, v string) {
		if v != "" {
			eq = append(eq, indexPrefix(field, v))
		}
	}
	add(idxConversation, f.Conversation)
	add(idxUser, f.User)
	add(idxKey, f.Key)
	if f.Feedback == FeedbackUp || f.Feedback == FeedbackDown {
		add(idxFeedback, f.Feedback)
	}
	if f.Escalated {
		add(idxEscalated, "1")
	}
	add(idxPrompt, f.Prompt)
	add(idxModel, f.Model)
	add(idxStatus, string(f.Status))
	add(idxChannel, f.Channel)
	add(idxKind, string(f.Kind))
	return eq
}

// source picks where candidates come from, and returns the equality
// filters still to check on each.
func (f *TraceFilter) source(ctx context.Context, tx *bolt.Tx, before string, eq [][]byte) (traceIDSource, [][]byte) {
	if f.Match != nil {
		return &matchSource{ctx: ctx, match: f.Match, before: before}, eq
	}
	if len(eq) > 0 {
		return &indexSource{c: tx.Bucket(bucketTraceIndex).Cursor(), prefix: eq[0], before: before}, eq[1:]
	}
	return &indexSource{c: tx.Bucket(bucketTraces).Cursor(), before: before}, nil
}

// indexed reports whether id is in every index run of eq.
func (f *TraceFilter) indexed(idx *bolt.Bucket, eq [][]byte, id string) bool {
	for _, p := range eq {
		if idx.Get(append(bytes.Clone(p), id...)) == nil {
			return false
		}
	}
	if f.Feedback == FeedbackNone {
		if idx.Get(indexKey(idxFeedback, FeedbackUp, id)) != nil || idx.Get(indexKey(idxFeedback, FeedbackDown, id)) != nil {
			return false
		}
	}
	return true
}

// matches checks what no index answers.
func (f *TraceFilter) matches(t *Trace) bool {
	if f.ExcludeKind != "" && t.Kind == f.ExcludeKind {
		return false
	}
	if f.MinLatency > 0 && t.Duration() < f.MinLatency {
		return false
	}
	if f.MinCostUSD > 0 && t.CostUSD < f.MinCostUSD {
		return false
	}
	if f.MaxGroundedness != nil {
		g, ok := attrFloat(t.Attributes, schema.AttrGroundedness)
		if !ok || g > *f.MaxGroundedness {
			return false
		}
	}
	return true
}

// indexSource walks an index run (prefix set) or the traces bucket (no
// prefix) backwards from before.
type indexSource struct {
	c       *bolt.Cursor
	prefix  []byte
	before  string
	started bool
}

func (s *indexSource) next() (string, error) {
	var k []byte
	if !s.started {
		s.started = true
		end := append(bytes.Clone(s.prefix), s.before...)
		if s.before == "" {
			// Past the run: the prefix with its last byte (0) raised.
			end = append(bytes.Clone(s.prefix[:max(len(s.prefix)-1, 0)]), 1)
			if len(s.prefix) == 0 {
				end = nil
			}
		}
		if end == nil {
			k, _ = s.c.Last()
		} else if k, _ = s.c.Seek(end); k == nil {
			k, _ = s.c.Last()
		} else {
			k, _ = s.c.Prev()
		}
	} else {
		k, _ = s.c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, s.prefix) {
		return "", nil
	}
	return string(k[len(s.prefix):]), nil
}

// matchSource pages through a TraceMatcher.
type matchSource struct {
	ctx    context.Context
	match  TraceMatcher
	before string
	buf    []string
	done   bool
}

func (s *matchSource) next() (string, error) {
	if len(s.buf) == 0 {
		if s.done {
			return "", nil
		}
		const page = 500
		ids, err := s.match(s.ctx, s.before, page)
		if err != nil {
			return "", err
		}
		s.buf, s.done = ids, len(ids) < page
		if len(ids) == 0 {
			return "", nil
		}
		s.before = ids[len(ids)-1]
	}
	id := s.buf[0]
	s.buf = s.buf[1:]
	return id, nil
}

// Trace returns one trace with its spans in start order.
func (s *Store) Trace(ctx context.Context, id string) (*Trace, []Span, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var t Trace
	var spans []Span
	err := s.db.View(func(tx *bolt.Tx) error {
		if ok, err := getJSON(tx.Bucket(bucketTraces), []byte(id), &t); err != nil {
			return err
		} else if !ok {
			return Errorf(ENOTFOUND, "trace %s not found", id)
		}
		c := tx.Bucket(bucketSpans).Cursor()
		prefix := []byte(id)
		for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == id; k, v = c.Next() {
			var sp Span
			if err := decode(v, &sp); err != nil {
				return err
			}
			spans = append(spans, sp)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return &t, spans, nil
}

// CountTraces returns how many traces are stored.
func (s *Store) CountTraces(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketTraces).Stats().KeyN
		return nil
	})
	return n, err
}

// CountTracesSince counts traces that started at or after t. Trace IDs
// begin with their start time, so the scan stops at the first older one.
func (s *Store) CountTracesSince(ctx context.Context, t time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTraces).Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if start, ok := IDTime(string(k)); ok && start.Before(t) {
				break
			}
			n++
		}
		return nil
	})
	return n, err
}

// TracesSince returns up to n traces that started at or after since and
// whose ID sorts after after (""), oldest first: for catching up and
// rebuilding indexes kept outside bbolt.
func (s *Store) TracesSince(ctx context.Context, since time.Time, after string, n int) ([]Trace, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := after
	if id, ok := idFloor(since); ok && id > start {
		start = id
	}
	var out []Trace
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTraces).Cursor()
		k, v := c.Seek([]byte(start))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
		for ; k != nil && len(out) < n; k, v = c.Next() {
			var t Trace
			if err := decode(v, &t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}
