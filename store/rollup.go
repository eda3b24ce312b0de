package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// Rollup aggregates the asks of one minute, hour or day for one channel,
// model and prompt version: what the dashboard reads instead of traces.
// Every field adds and subtracts, so rollups merge exactly (an hour is the
// sum of its minutes) and a replaced trace is taken back out; only
// knowledge gaps are trimmed (see maxRollupGaps).
type Rollup struct {
	Requests     int64   `json:"n,omitempty"`
	Errors       int64   `json:"err,omitempty"`
	Cancelled    int64   `json:"cancel,omitempty"`
	Fallbacks    int64   `json:"fb,omitempty"`
	Escalations  int64   `json:"esc,omitempty"`
	Answered     int64   `json:"ok,omitempty"`   // status ok: an answer was served
	Hallucinated int64   `json:"hall,omitempty"` // served with groundedness below the trace's threshold
	TokensIn     int64   `json:"tin,omitempty"`
	TokensOut    int64   `json:"tout,omitempty"`
	CostUSD      float64 `json:"cost,omitempty"`
	// Grounded counts asks with a groundedness score; GroundednessSum
	// adds the scores, for the mean.
	Grounded        int64   `json:"gn,omitempty"`
	GroundednessSum float64 `json:"gsum,omitempty"`
	Up              int64   `json:"up,omitempty"`
	Down            int64   `json:"down,omitempty"`
	// EmptyRetrievals counts asks that retrieved nothing; WeakRetrievals
	// those whose best chunk scored below RetrievalScoreFloor.
	EmptyRetrievals int64  `json:"empty,omitempty"`
	WeakRetrievals  int64  `json:"weak,omitempty"`
	Latency         Sketch `json:"lat"` // milliseconds
	TTFT            Sketch `json:"ttft"`
	// Gaps counts the questions that fell back, normalised (see
	// GapQuestion).
	Gaps map[string]int64 `json:"gaps,omitempty"`
	// GuardBlocks counts asks a guard blocked (answered with the
	// fallback, so they are Fallbacks too); Guards counts each guard's
	// verdicts other than pass, by guard name ("input.pii"). One ask
	// blocked by two guards is one GuardBlock and a Blocked for each.
	GuardBlocks int64                  `json:"gblk,omitempty"`
	Guards      map[string]GuardCounts `json:"guards,omitempty"`
}

// GuardCounts are one guard's verdicts: how many asks it flagged,
// redacted and blocked.
type GuardCounts struct {
	Flagged  int64 `json:"flagged"`
	Redacted int64 `json:"redacted"`
	Blocked  int64 `json:"blocked"`
}

func (g GuardCounts) zero() bool { return g == GuardCounts{} }

// RetrievalScoreFloor is the best-chunk score (the retriever's final,
// reranked score) below which an ask counts as a weak retrieval.
const RetrievalScoreFloor = 0.2

// maxRollupGaps bounds the fallen-back questions an hour or day rollup
// keeps (the most frequent); minute rollups keep them all. Knowledge gaps
// over long windows are therefore the heaviest hitters, not exact counts
// of rare questions.
const maxRollupGaps = 100

// Rollup levels: the first byte of a rollup key.
const (
	levelMinute = 'm'
	levelHour   = 'h'
	levelDay    = 'd'
)

// RollupDims are what rollups are broken down by.
type RollupDims struct {
	Channel, Model, Prompt string
}

// TrafficChannels are the channels of real traffic: what the dashboard
// counts unless asked for another channel.
var TrafficChannels = []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelAPI}

func (r *Rollup) merge(o *Rollup, sign int64) {
	r.Requests += sign * o.Requests
	r.Errors += sign * o.Errors
	r.Cancelled += sign * o.Cancelled
	r.Fallbacks += sign * o.Fallbacks
	r.Escalations += sign * o.Escalations
	r.Answered += sign * o.Answered
	r.Hallucinated += sign * o.Hallucinated
	r.TokensIn += sign * o.TokensIn
	r.TokensOut += sign * o.TokensOut
	r.CostUSD += float64(sign) * o.CostUSD
	r.Grounded += sign * o.Grounded
	r.GroundednessSum += float64(sign) * o.GroundednessSum
	r.Up += sign * o.Up
	r.Down += sign * o.Down
	r.EmptyRetrievals += sign * o.EmptyRetrievals
	r.WeakRetrievals += sign * o.WeakRetrievals
	r.Latency.Merge(&o.Latency, sign)
	r.TTFT.Merge(&o.TTFT, sign)
	for q, n := range o.Gaps {
		if r.Gaps == nil {
			r.Gaps = map[string]int64{}
		}
		if r.Gaps[q] += sign * n; r.Gaps[q] == 0 {
			delete(r.Gaps, q)
		}
	}
	r.GuardBlocks += sign * o.GuardBlocks
	for name, c := range o.Guards {
		r.addGuard(name, GuardCounts{sign * c.Flagged, sign * c.Redacted, sign * c.Blocked})
	}
}

// addGuard adds c to the counts of guard name, dropping it at zero.
func (r *Rollup) addGuard(name string, c GuardCounts) {
	if r.Guards == nil {
		r.Guards = map[string]GuardCounts{}
	}
	acc := r.Guards[name]
	acc.Flagged += c.Flagged
	acc.Redacted += c.Redacted
	acc.Blocked += c.Blocked
	if acc.zero() {
		delete(r.Guards, name)
	} else {
		r.Guards[name] = acc
	}
}

// Add merges o into r.
func (r *Rollup) Add(o *Rollup) { r.merge(o, 1) }

// trimGaps keeps the n most frequent gaps.
func (r *Rollup) trimGaps(n int) {
	if len(r.Gaps) <= n {
		return
	}
	for _, g := range r.TopGaps(len(r.Gaps))[n:] {
		delete(r.Gaps, g.Question)
	}
}

// Gap is a question that fell back, and how often.
type Gap struct {
	Question string `json:"question"`
	Count    int64  `json:"count"`
}

// TopGaps returns the n most frequent fallen-back questions.
func (r *Rollup) TopGaps(n int) []Gap {
	out := make([]Gap, 0, len(r.Gaps))
	for q, c := range r.Gaps {
		out = append(out, Gap{q, c})
	}
	slices.SortFunc(out, func(a, b Gap) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Question, b.Question))
	})
	return out[:min(n, len(out))]
}

// GapQuestion normalises a question for counting knowledge gaps: lower
// case, spaces collapsed, trailing punctuation dropped, at most 200 runes.
func GapQuestion(q string) string {
	q = strings.Join(strings.Fields(strings.ToLower(q)), " ")
	q = strings.TrimRightFunc(q, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	if utf8.RuneCountInString(q) > 200 {
		q = string([]rune(q)[:200])
	}
	return q
}

// rollupOf is what a trace adds to its minute's rollup, and under which
// dimensions. Only finished asks count (kind ask or eval: the channel
// tells traffic from tests); ingests, other and unknown kinds are not
// rolled up. spans, when given, supply the retrieval scores.
func rollupOf(t *Trace, spans []Span) (RollupDims, *Rollup, bool) {
	if (t.Kind != schema.KindAsk && t.Kind != schema.KindEval) || t.Status == schema.StatusRunning || t.Status == "" {
		return RollupDims{}, nil, false
	}
	d := RollupDims{
		Channel: cmp.Or(attrString(t.Attributes, schema.AttrChannel), schema.ChannelAPI),
		Model:   attrString(t.Attributes, schema.AttrResponseModel),
		Prompt:  attrString(t.Attributes, schema.AttrPrompt),
	}
	r := &Rollup{Requests: 1, TokensIn: int64(t.TokensIn), TokensOut: int64(t.TokensOut), CostUSD: t.CostUSD}
	verdicts := guardVerdicts(t.Attributes[schema.AttrGuards])
	switch t.Status {
	case schema.StatusError:
		r.Errors = 1
	case schema.StatusCancelled:
		r.Cancelled = 1
	case schema.StatusFallback:
		r.Fallbacks = 1
		// A question a guard blocked as an attack or a policy breach is
		// no knowledge gap; one the scope guard blocked is.
		gap := true
		for name, v := range verdicts {
			if v == schema.GuardBlocked && name != schema.GuardInputScope {
				gap = false
			}
		}
		if q := GapQuestion(cmp.Or(attrString(t.Attributes, schema.AttrQuestion), t.Input)); q != "" && gap {
			r.Gaps = map[string]int64{q: 1}
		}
	case schema.StatusOK:
		r.Answered = 1
	}
	if attrBool(t.Attributes, schema.AttrEscalated) {
		r.Escalations = 1
	}
	if g, ok := attrFloat(t.Attributes, schema.AttrGroundedness); ok {
		r.Grounded, r.GroundednessSum = 1, g
		if th, ok := attrFloat(t.Attributes, schema.AttrThreshold); ok && t.Status == schema.StatusOK && g < th {
			r.Hallucinated = 1
		}
	}
	if !t.End.IsZero() {
		r.Latency.Add(float64(t.End.Sub(t.Start).Microseconds())/1000, 1)
	}
	if ttft, ok := attrFloat(t.Attributes, schema.AttrTTFTMS); ok && ttft > 0 {
		r.TTFT.Add(ttft, 1)
	}
	if n, ok := attrLen(t.Attributes[schema.AttrRetrieved]); ok && n == 0 && t.Status != schema.StatusError {
		r.EmptyRetrievals = 1
	} else if best, ok := bestRetrievalScore(spans); ok && best < RetrievalScoreFloor {
		r.WeakRetrievals = 1
	}
	blocked := attrBool(t.Attributes, schema.AttrGuardBlocked)
	for _, name := range slices.Sorted(maps.Keys(verdicts)) { // sorted: a rewrite takes out exactly what was added
		verdict := verdicts[name]
		if len(name) > maxGuardName || len(r.Guards) >= maxTraceGuards {
			continue
		}
		var c GuardCounts
		switch verdict {
		case schema.GuardFlagged:
			c.Flagged = 1
		case schema.GuardRedacted:
			c.Redacted = 1
		case schema.GuardBlocked:
			c.Blocked = 1
			blocked = true
		default:
			continue
		}
		r.addGuard(name, c)
	}
	if blocked {
		r.GuardBlocks = 1
	}
	return d, r, true
}

// A trace's guards are llmops's own few (rag/guard.Names), but an OTLP
// trace may carry any attributes: these bound what one trace adds.
const (
	maxGuardName   = 64
	maxTraceGuards = 16
)

// guardVerdicts reads AttrGuards as written (map[string]string) or as
// decoded from JSON (map[string]any).
func guardVerdicts(v any) map[string]string {
	switch m := v.(type) {
	case map[string]string:
		return m
	case map[string]any:
		out := make(map[string]string, len(m))
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	return nil
}

// bestRetrievalScore is the score of the retrieve span's first hit.
func bestRetrievalScore(spans []Span) (float64, bool) {
	for i := range spans {
		if spans[i].Name != schema.SpanRetrieve {
			continue
		}
		hits := reflect.ValueOf(spans[i].Attributes[schema.AttrHits])
		if hits.Kind() != reflect.Slice || hits.Len() == 0 {
			return 0, false
		}
		first := hits.Index(0)
		for first.Kind() == reflect.Interface {
			first = first.Elem()
		}
		if first.Kind() != reflect.Map {
			return 0, false
		}
		score := first.MapIndex(reflect.ValueOf("score"))
		if !score.IsValid() {
			return 0, false
		}
		return toFloat(score.Interface())
	}
	return 0, false
}

func attrString(a map[string]any, k string) string {
	s, _ := a[k].(string)
	return strings.ReplaceAll(s, "\x00", "")
}

func attrBool(a map[string]any, k string) bool {
	b, _ := a[k].(bool)
	return b
}

func attrFloat(a map[string]any, k string) (float64, bool) { return toFloat(a[k]) }

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}

// attrLen is the length of a list attribute (any slice type, as written
// or as decoded from JSON).
func attrLen(v any) (int, bool) {
	if v == nil {
		return 0, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return 0, false
	}
	return rv.Len(), true
}

// rollupKey is level, the period's start (Unix seconds, big endian) and
// the dimensions, so one period's rollups are adjacent and periods sort
// by time.
func rollupKey(level byte, at time.Time, d RollupDims) []byte {
	k := make([]byte, 0, 9+len(d.Channel)+len(d.Model)+len(d.Prompt)+2)
	k = append(k, level)
	k = binary.BigEndian.AppendUint64(k, uint64(at.Unix()))
	k = append(k, d.Channel...)
	k = append(k, 0)
	k = append(k, d.Model...)
	k = append(k, 0)
	return append(k, d.Prompt...)
}

func rollupKeyDims(k []byte) RollupDims {
	parts := bytes.SplitN(k[9:], []byte{0}, 3)
	for len(parts) < 3 {
		parts = append(parts, nil)
	}
	return RollupDims{string(parts[0]), string(parts[1]), string(parts[2])}
}

func periodStart(level byte, t time.Time) time.Time {
	t = t.UTC()
	switch level {
	case levelDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case levelHour:
		return t.Truncate(time.Hour)
	}
	return t.Truncate(time.Minute)
}

// rollupDelta collects rollup changes of one transaction, so each key is
// read and written once however many traces touch it.
type rollupDelta map[string]*Rollup

func (d rollupDelta) add(at time.Time, dims RollupDims, r *Rollup, sign int64) {
	for _, level := range []byte{levelMinute, levelHour, levelDay} {
		k := string(rollupKey(level, periodStart(level, at), dims))
		acc := d[k]
		if acc == nil {
			acc = &Rollup{}
			d[k] = acc
		}
		acc.merge(r, sign)
	}
}

// apply merges the changes into the stored rollups.
func (d rollupDelta) apply(tx *bolt.Tx) error {
	b := tx.Bucket(bucketRollups)
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var r Rollup
		if v := b.Get([]byte(k)); v != nil {
			if err := r.addEncoded(v); err != nil {
				return err
			}
		}
		r.merge(d[k], 1)
		for q, n := range r.Gaps {
			if n <= 0 { // a trace written before this version of the gaps
				delete(r.Gaps, q)
			}
		}
		if k[0] != levelMinute {
			r.trimGaps(maxRollupGaps)
		}
		if err := b.Put([]byte(k), r.encode()); err != nil {
			return err
		}
	}
	return nil
}

// RollupFilter selects the rollups a dashboard merges. An empty Channels
// means TrafficChannels; empty Model or Prompt match all.
type RollupFilter struct {
	Channels      []string
	Model, Prompt string
}

func (f *RollupFilter) match(d RollupDims) bool {
	chans := f.Channels
	if len(chans) == 0 {
		chans = TrafficChannels
	}
	return slices.Contains(chans, d.Channel) && (f.Model == "" || f.Model == d.Model) && (f.Prompt == "" || f.Prompt == d.Prompt)
}

// RollupBreakdown is one combination of dimensions with its rollup.
type RollupBreakdown struct {
	RollupDims
	Rollup
}

// Rollups merges the rollups of [from, to) (both rounded down to the
// minute) that match f: whole days from day rollups, whole hours from hour
// rollups, the rest from minutes. It never reads a trace. With steps > 0
// it also returns the window cut into that many equal periods (the last
// may be shorter), and the breakdown by dimensions.
func (s *Store) Rollups(ctx context.Context, from, to time.Time, f RollupFilter, step time.Duration) (total Rollup, series []Rollup, by []RollupBreakdown, err error) {
	if err := ctx.Err(); err != nil {
		return total, nil, nil, err
	}
	from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
	dims := map[RollupDims]*Rollup{}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRollups)
		if step <= 0 {
			return mergeRollups(ctx, b, from, to, &f, &total, dims)
		}
		for at := from; at.Before(to); at = at.Add(step) {
			var r Rollup
			if err := mergeRollups(ctx, b, at, minTime(at.Add(step), to), &f, &r, dims); err != nil {
				return err
			}
			total.merge(&r, 1)
			series = append(series, r)
		}
		return nil
	})
	for d, r := range dims {
		by = append(by, RollupBreakdown{d, *r})
	}
	slices.SortFunc(by, func(a, b RollupBreakdown) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Channel, b.Channel),
			strings.Compare(a.Model, b.Model), strings.Compare(a.Prompt, b.Prompt))
	})
	return total, series, by, err
}

// RollupTotal merges the rollups of [from, to) that match f, as Rollups
// does with no steps, without the breakdown by dimensions (half the
// decoding).
func (s *Store) RollupTotal(ctx context.Context, from, to time.Time, f RollupFilter) (Rollup, error) {
	var total Rollup
	if err := ctx.Err(); err != nil {
		return total, err
	}
	from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
	err := s.db.View(func(tx *bolt.Tx) error {
		return mergeRollups(ctx, tx.Bucket(bucketRollups), from, to, &f, &total, nil)
	})
	return total, err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// mergeRollups adds [from, to) into r, largest periods first.
func mergeRollups(ctx context.Context, b *bolt.Bucket, from, to time.Time, f *RollupFilter, r *Rollup, dims map[RollupDims]*Rollup) error {
	// pick is the largest period that starts at t and ends by to.
	pick := func(t time.Time) (byte, time.Duration) {
		switch {
		case periodStart(levelDay, t).Equal(t) && !t.Add(24*time.Hour).After(to):
			return levelDay, 24 * time.Hour
		case periodStart(levelHour, t).Equal(t) && !t.Add(time.Hour).After(to):
			return levelHour, time.Hour
		}
		return levelMinute, time.Minute
	}
	for at := from; at.Before(to); {
		level, span := pick(at)
		// Run as far as this level is the one to use, in one range scan.
		end := at.Add(span)
		for end.Before(to) {
			if l, _ := pick(end); l != level {
				break
			}
			end = end.Add(span)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		lo, hi := rollupKey(level, at, RollupDims{}), rollupKey(level, end, RollupDims{})
		c := b.Cursor()
		for k, v := c.Seek(lo[:9]); k != nil && bytes.Compare(k[:9], hi[:9]) < 0; k, v = c.Next() {
			d := rollupKeyDims(k)
			if !f.match(d) {
				continue
			}
			if err := r.addEncoded(v); err != nil {
				return err
			}
			if dims != nil {
				acc := dims[d]
				if acc == nil {
					acc = &Rollup{}
					dims[d] = acc
				}
				if err := acc.addEncoded(v); err != nil {
					return err
				}
			}
		}
		at = end
	}
	return nil
}
