package store

import (
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

// TraceFilter selects traces for ListTraces.
type TraceFilter struct {
	Page
	Kind        schema.TraceKind
	ExcludeKind schema.TraceKind // e.g. schema.KindEval: everything but eval runs' cases
	Status      schema.TraceStatus
}

// ListTraces returns traces newest first and the cursor of the next page.
func (s *Store) ListTraces(ctx context.Context, f TraceFilter) ([]Trace, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var traces []Trace
	var next string
	err := s.db.View(func(tx *bolt.Tx) error {
		// Filters are applied while scanning; the page still returns up to
		// Limit matches, scanning further back as needed.
		c := tx.Bucket(bucketTraces).Cursor()
		var k, v []byte
		if f.Before == "" {
			k, v = c.Last()
		} else if k, _ = c.Seek([]byte(f.Before)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var t Trace
			if err := decode(v, &t); err != nil {
				return err
			}
			if (f.Kind != "" && t.Kind != f.Kind) || (f.ExcludeKind != "" && t.Kind == f.ExcludeKind) || (f.Status != "" && t.Status != f.Status) {
				continue
			}
			if len(traces) == f.limit() {
				next = traces[len(traces)-1].ID
				return nil
			}
			traces = append(traces, t)
		}
		return nil
	})
	return traces, next, err
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
