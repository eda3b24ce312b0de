package store

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// EvalCase is one case of a test set: a question and what a good answer
// and retrieval look like. Only Question is required.
type EvalCase struct {
	// ID names the case within its set ("q001"); stable across versions,
	// so runs of different versions compare case by case.
	ID              string `json:"id"`
	Question        string `json:"question"`
	ReferenceAnswer string `json:"reference_answer,omitempty"`
	// DocumentIDs are the relevant documents. Each may be a stored
	// document ID, its source name ("billing/cancel.md", with or without
	// the "sample-data/" prefix or the extension) or an external ID the
	// document was imported under (a BEIR corpus ID).
	DocumentIDs []string `json:"document_ids,omitempty"`
	// ChunkIDs are the relevant chunks, when known exactly.
	ChunkIDs []string `json:"chunk_ids,omitempty"`
	// Relevance grades DocumentIDs (BEIR qrels); nil grades each 1.
	Relevance map[string]float64 `json:"relevance,omitempty"`
	// Unanswerable: the documents do not cover the question, so the right
	// answer is the fallback.
	Unanswerable bool     `json:"unanswerable,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	// TraceID is the trace the case was made from, if any.
	TraceID string `json:"trace_id,omitempty"`
}

// TestSet is a named, versioned list of eval cases. Every change writes a
// new version; old versions stay readable, so a run records exactly the
// cases it used.
type TestSet struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"` // unique
	Description string    `json:"description,omitempty"`
	Source      string    `json:"source,omitempty"` // sample, csv, jsonl, beir, traces, api
	Version     int       `json:"version"`          // latest, from 1
	Cases       int       `json:"cases"`            // in the latest version
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	CreatedBy   string    `json:"created_by"`
}

// TestSetVersion is one immutable version of a test set.
type TestSetVersion struct {
	SetID     string     `json:"set_id"`
	Version   int        `json:"version"`
	Note      string     `json:"note,omitempty"` // what changed: "imported questions.csv", "added 1 case from trace …"
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	Cases     []EvalCase `json:"cases"`
}

// RunSettings are what an eval run varies: retrieval and answering.
type RunSettings struct {
	Mode     string `json:"mode,omitempty"` // hybrid (default), keyword, vector
	NoRerank bool   `json:"no_rerank,omitempty"`
	TopK     int    `json:"top_k,omitempty"`    // chunks given to the answerer (default 5)
	Answerer string `json:"answerer,omitempty"` // extractive or model (default: what serve uses)
	Model    string `json:"model,omitempty"`    // the answer model, as used
	Prompt   string `json:"prompt,omitempty"`   // name@version of the answer prompt, as used
	Judge    string `json:"judge,omitempty"`    // judge model; empty: non-LLM metrics only
	// Threshold is the groundedness threshold the answers were held to
	// (nil in runs stored before it was recorded).
	Threshold   *float64 `json:"threshold,omitempty"`
	Concurrency int      `json:"concurrency,omitempty"` // cases in flight (default 4)
}

// EvalRun is one execution of a test set version.
type EvalRun struct {
	ID         string           `json:"id"`
	Name       string           `json:"name,omitempty"` // a label: "baseline", "prompt v2"
	SetID      string           `json:"set_id"`
	SetName    string           `json:"set_name"`
	SetVersion int              `json:"set_version"`
	Settings   RunSettings      `json:"settings"`
	Status     schema.RunStatus `json:"status"`
	Error      string           `json:"error,omitempty"`
	// Warnings are problems that did not stop the run, e.g. reference
	// documents missing from the knowledge base.
	Warnings []string `json:"warnings,omitempty"`
	Total    int      `json:"total"`
	Done     int      `json:"done"`   // cases with a result, errors included
	Errors   int      `json:"errors"` // cases whose pipeline call failed
	// Metrics are the means over the cases each metric applies to;
	// Counts says how many that was.
	Metrics   map[string]float64 `json:"metrics"`
	Counts    map[string]int     `json:"counts"`
	CostUSD   float64            `json:"cost_usd"`
	LatencyMS int64              `json:"latency_ms"` // summed case latencies
	CreatedAt time.Time          `json:"created_at"`
	StartedAt time.Time          `json:"started_at,omitzero"`
	EndedAt   time.Time          `json:"ended_at,omitzero"`
	CreatedBy string             `json:"created_by"`
}

// Finished reports whether the run has stopped for good.
func (r *EvalRun) Finished() bool {
	switch r.Status {
	case schema.RunDone, schema.RunCancelled, schema.RunFailed, schema.RunJudgeFailed:
		return true
	}
	return false
}

// CaseResult is what one case of a run produced.
type CaseResult struct {
	Index     int      `json:"index"` // position in the set version
	CaseID    string   `json:"case_id"`
	Question  string   `json:"question"`
	Tags      []string `json:"tags,omitempty"`
	Answer    string   `json:"answer"`
	Fallback  bool     `json:"fallback"`
	Citations []string `json:"citations,omitempty"` // cited chunk IDs, in order
	// Retrieved are the chunk IDs ranked by retrieval, best first (deeper
	// than the answerer's context, for @10 metrics); Context is how many
	// of them the answerer saw.
	Retrieved []string `json:"retrieved,omitempty"`
	Context   int      `json:"context"`
	// RetrievedDocs are the documents of Retrieved, deduplicated, in the
	// IDs the case's references resolved to.
	RetrievedDocs []string           `json:"retrieved_docs,omitempty"`
	LatencyMS     int64              `json:"latency_ms"`
	TokensIn      int                `json:"tokens_in"`
	TokensOut     int                `json:"tokens_out"`
	CostUSD       float64            `json:"cost_usd"`
	TraceID       string             `json:"trace_id,omitempty"`
	Metrics       map[string]float64 `json:"metrics"` // only metrics that apply
	Error         string             `json:"error,omitempty"`
	JudgeError    string             `json:"judge_error,omitempty"` // "judge failed": LLM metrics missing
}

// Limits on test sets.
const (
	MaxEvalCases      = 100_000
	MaxQuestionRunes  = 4000
	maxSetNameRunes   = 100
	maxReferenceRunes = 20_000
	// A case's tags, after trimming, lower-casing and de-duplicating: the
	// same bounds as a document's (rag.MaxTags, rag.MaxTagRunes).
	MaxCaseTags     = 20
	MaxCaseTagRunes = 64
)

// NormalizeEvalCases checks cases and fills what can be derived: trimmed
// text, normalised tags, IDs for cases without one ("c0001", continuing
// after existing). existing are the IDs already in the set.
func NormalizeEvalCases(cases []EvalCase, existing map[string]bool) error {
	if len(cases)+len(existing) > MaxEvalCases {
		return Errorf(EINVALID, "a test set holds at most %d cases", MaxEvalCases)
	}
	seen := make(map[string]bool, len(existing)+len(cases))
	for id := range existing {
		seen[id] = true
	}
	for i := range cases {
		c := &cases[i]
		c.ID = strings.TrimSpace(c.ID)
		c.Question = strings.TrimSpace(c.Question)
		c.ReferenceAnswer = strings.TrimSpace(c.ReferenceAnswer)
		switch n := utf8.RuneCountInString(c.Question); {
		case n == 0:
			return Errorf(EINVALID, "case %d: question is required", i+1)
		case n > MaxQuestionRunes:
			return Errorf(EINVALID, "case %d: question is %d characters, at most %d", i+1, n, MaxQuestionRunes)
		}
		if utf8.RuneCountInString(c.ReferenceAnswer) > maxReferenceRunes {
			return Errorf(EINVALID, "case %d: reference answer is longer than %d characters", i+1, maxReferenceRunes)
		}
		if c.ID != "" {
			if seen[c.ID] {
				return Errorf(EINVALID, "case %d: ID %q is used twice", i+1, c.ID)
			}
			seen[c.ID] = true
		}
		// Relevance grades its documents: a document graded 0 or less is
		// judged not relevant and leaves DocumentIDs; one graded above 0
		// joins it.
		docs := c.DocumentIDs
		rel := map[string]float64{}
		for id, g := range c.Relevance {
			id = strings.TrimSpace(id)
			switch {
			case math.IsNaN(g) || math.IsInf(g, 0):
				return Errorf(EINVALID, "case %d: relevance of %q is not a number", i+1, id)
			case g > 0:
				rel[id] = g
				docs = append(docs, id)
			default:
				docs = slices.DeleteFunc(docs, func(d string) bool { return strings.TrimSpace(d) == id })
			}
		}
		c.Relevance = nil
		if len(rel) > 0 {
			c.Relevance = rel
		}
		c.DocumentIDs = trimmedSet(docs)
		slices.Sort(c.DocumentIDs)
		c.ChunkIDs = trimmedSet(c.ChunkIDs)
		c.Tags = NormalizeTags(c.Tags)
		if err := CheckCaseTags(c.Tags); err != nil {
			return Errorf(EINVALID, "case %d: %s", i+1, ErrorMessage(err))
		}
		slices.Sort(c.Tags)
	}
	next := 1
	for i := range cases {
		if cases[i].ID != "" {
			continue
		}
		for seen[fmt.Sprintf("c%04d", next)] {
			next++
		}
		cases[i].ID = fmt.Sprintf("c%04d", next)
		seen[cases[i].ID] = true
	}
	return nil
}

// CheckCaseTags holds a case's normalised tags to MaxCaseTags and
// MaxCaseTagRunes.
func CheckCaseTags(tags []string) error {
	if len(tags) > MaxCaseTags {
		return Errorf(EINVALID, "tags: at most %d distinct tags (got %d)", MaxCaseTags, len(tags))
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > MaxCaseTagRunes {
			return Errorf(EINVALID, "tags: each tag at most %d characters", MaxCaseTagRunes)
		}
	}
	return nil
}

// trimmedSet trims, drops empties and duplicates, keeping order.
func trimmedSet(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func versionKey(setID string, v int) []byte {
	return append([]byte(setID+"\x00"), encodeVersion(v)...)
}

// CreateTestSet stores a new test set with cases as its version 1.
func (s *Store) CreateTestSet(ctx context.Context, actor Actor, set TestSet, note string, cases []EvalCase) (*TestSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	set.Name = strings.TrimSpace(set.Name)
	set.Description = strings.TrimSpace(set.Description)
	switch n := utf8.RuneCountInString(set.Name); {
	case n == 0:
		return nil, Errorf(EINVALID, "a test set needs a name")
	case n > maxSetNameRunes:
		return nil, Errorf(EINVALID, "test set name is longer than %d characters", maxSetNameRunes)
	}
	if err := NormalizeEvalCases(cases, nil); err != nil {
		return nil, err
	}
	if cases == nil {
		cases = []EvalCase{} // an empty set, filled later from traces
	}
	now := s.now().UTC()
	set.ID = NewIDAt(now)
	set.Version, set.Cases = 1, len(cases)
	set.CreatedAt, set.UpdatedAt, set.CreatedBy = now, now, actor.String()
	err := s.db.Update(func(tx *bolt.Tx) error {
		names := tx.Bucket(bucketEvalSetNames)
		key := []byte(strings.ToLower(set.Name))
		if names.Get(key) != nil {
			return Errorf(ECONFLICT, "a test set named %q exists", set.Name)
		}
		if err := names.Put(key, []byte(set.ID)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketEvalSets), []byte(set.ID), &set); err != nil {
			return err
		}
		v := TestSetVersion{SetID: set.ID, Version: 1, Note: note, CreatedAt: now, CreatedBy: set.CreatedBy, Cases: cases}
		if err := putJSON(tx.Bucket(bucketEvalSetVersions), versionKey(set.ID, 1), &v); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "test_set", ResourceID: set.ID,
			After: fmt.Sprintf("%s (%d cases)", set.Name, len(cases))})
	})
	if err != nil {
		return nil, err
	}
	return &set, nil
}

// AddTestCases writes a new version of set id: the latest cases plus
// cases (replace: cases alone).
func (s *Store) AddTestCases(ctx context.Context, actor Actor, id string, cases []EvalCase, note string, replace bool) (*TestSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(cases) == 0 && !replace {
		return nil, Errorf(EINVALID, "no cases to add")
	}
	var set TestSet
	err := s.db.Update(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketEvalSets), []byte(id), &set)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "test set %s not found", id)
		}
		var latest TestSetVersion
		if _, err := getJSON(tx.Bucket(bucketEvalSetVersions), versionKey(id, set.Version), &latest); err != nil {
			return err
		}
		all := cases
		if !replace {
			existing := make(map[string]bool, len(latest.Cases))
			for _, c := range latest.Cases {
				existing[c.ID] = true
			}
			if err := NormalizeEvalCases(cases, existing); err != nil {
				return err
			}
			all = append(slices.Clip(latest.Cases), cases...)
		} else if err := NormalizeEvalCases(cases, nil); err != nil {
			return err
		}
		now := s.now().UTC()
		set.Version++
		set.Cases = len(all)
		set.UpdatedAt = now
		v := TestSetVersion{SetID: id, Version: set.Version, Note: note, CreatedAt: now, CreatedBy: actor.String(), Cases: all}
		if err := putJSON(tx.Bucket(bucketEvalSetVersions), versionKey(id, set.Version), &v); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketEvalSets), []byte(id), &set); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "test_set", ResourceID: id,
			After: fmt.Sprintf("v%d: %s", set.Version, note)})
	})
	if err != nil {
		return nil, err
	}
	return &set, nil
}

// TestSets lists the test sets by name.
func (s *Store) TestSets(ctx context.Context) ([]TestSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []TestSet
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvalSets).ForEach(func(_, v []byte) error {
			var t TestSet
			if err := decode(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b TestSet) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, err
}

// TestSet returns a test set by ID or, failing that, by name.
func (s *Store) TestSet(ctx context.Context, idOrName string) (*TestSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var t TestSet
	err := s.db.View(func(tx *bolt.Tx) error {
		sets := tx.Bucket(bucketEvalSets)
		ok, err := getJSON(sets, []byte(idOrName), &t)
		if err != nil || ok {
			return err
		}
		if id := tx.Bucket(bucketEvalSetNames).Get([]byte(strings.ToLower(strings.TrimSpace(idOrName)))); id != nil {
			if ok, err = getJSON(sets, id, &t); err != nil || ok {
				return err
			}
		}
		return Errorf(ENOTFOUND, "test set %q not found", idOrName)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// TestSetVersion returns version v of set id with its cases (0: latest).
func (s *Store) TestSetVersion(ctx context.Context, id string, v int) (*TestSetVersion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out TestSetVersion
	err := s.db.View(func(tx *bolt.Tx) error {
		if v == 0 {
			var t TestSet
			ok, err := getJSON(tx.Bucket(bucketEvalSets), []byte(id), &t)
			if err != nil {
				return err
			}
			if !ok {
				return Errorf(ENOTFOUND, "test set %s not found", id)
			}
			v = t.Version
		}
		ok, err := getJSON(tx.Bucket(bucketEvalSetVersions), versionKey(id, v), &out)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "test set %s has no version %d", id, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// TestSetVersions lists a set's versions, newest first, without their
// cases.
func (s *Store) TestSetVersions(ctx context.Context, id string) ([]TestSetVersionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []TestSetVersionInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvalSetVersions).Cursor()
		prefix := []byte(id + "\x00")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var tv TestSetVersion
			if err := decode(v, &tv); err != nil {
				return err
			}
			out = append(out, TestSetVersionInfo{Version: tv.Version, Note: tv.Note, CreatedAt: tv.CreatedAt, CreatedBy: tv.CreatedBy, Cases: len(tv.Cases)})
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// TestSetVersionInfo describes a version without its cases.
type TestSetVersionInfo struct {
	Version   int       `json:"version"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Cases     int       `json:"cases"`
}

// CreateRun stores a new run (its ID, CreatedAt and Status are set here).
func (s *Store) CreateRun(ctx context.Context, actor Actor, r *EvalRun) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now().UTC()
	r.ID = NewIDAt(now)
	r.CreatedAt, r.CreatedBy = now, actor.String()
	if r.Status == "" {
		r.Status = schema.RunQueued
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketEvalRuns), []byte(r.ID), r); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "eval_run", ResourceID: r.ID,
			After: fmt.Sprintf("%s v%d (%d cases)", r.SetName, r.SetVersion, r.Total)})
	})
}

func resultKey(runID string, i int) []byte {
	return append([]byte(runID+"\x00"), encodeVersion(i)...)
}

// SaveRunProgress writes results and the run's new state in one
// transaction, so a run's counters always match its stored results.
func (s *Store) SaveRunProgress(ctx context.Context, r *EvalRun, results []CaseResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvalResults)
		b.FillPercent = appendFill
		for i := range results {
			if err := putJSON(b, resultKey(r.ID, results[i].Index), &results[i]); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bucketEvalRuns), []byte(r.ID), r)
	})
}

// Run returns an eval run.
func (s *Store) Run(ctx context.Context, id string) (*EvalRun, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r EvalRun
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketEvalRuns), []byte(id), &r)
		if err == nil && !ok {
			err = Errorf(ENOTFOUND, "eval run %s not found", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Runs lists eval runs newest first; setID "" lists all.
func (s *Store) Runs(ctx context.Context, setID string, limit int) ([]EvalRun, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []EvalRun
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvalRuns).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r EvalRun
			if err := decode(v, &r); err != nil {
				return err
			}
			if setID != "" && r.SetID != setID {
				continue
			}
			out = append(out, r)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// CaseResults returns a run's results by case index.
func (s *Store) CaseResults(ctx context.Context, runID string) ([]CaseResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []CaseResult
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvalResults).Cursor()
		prefix := []byte(runID + "\x00")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r CaseResult
			if err := decode(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// GetJudgement reads a cached judge verdict.
func (s *Store) GetJudgement(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketJudgeCache).Get([]byte(key)); v != nil {
			out = bytes.Clone(v)
		}
		return nil
	})
	return out, out != nil, err
}

// PutJudgement caches a judge verdict under the hash of its input.
func (s *Store) PutJudgement(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJudgeCache).Put([]byte(key), value)
	})
}

// DeleteTestSet removes a test set and its versions. Its runs stay, with
// their results (they name the set and hold each case's question), but
// can no longer be resumed.
func (s *Store) DeleteTestSet(ctx context.Context, actor Actor, id string) (*TestSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var set TestSet
	err := s.db.Update(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketEvalSets), []byte(id), &set)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "test set %s not found", id)
		}
		if err := deletePrefix(tx.Bucket(bucketEvalSetVersions), []byte(id+"\x00")); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEvalSetNames).Delete([]byte(strings.ToLower(set.Name))); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEvalSets).Delete([]byte(id)); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "test_set", ResourceID: id,
			Before: fmt.Sprintf("%s (v%d, %d cases)", set.Name, set.Version, set.Cases)})
	})
	if err != nil {
		return nil, err
	}
	return &set, nil
}

// DeleteRun removes a finished run and its results.
func (s *Store) DeleteRun(ctx context.Context, actor Actor, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		var r EvalRun
		ok, err := getJSON(tx.Bucket(bucketEvalRuns), []byte(id), &r)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "eval run %s not found", id)
		}
		if r.Status.Active() {
			return Errorf(ECONFLICT, "eval run %s is %s: cancel it first", id, r.Status)
		}
		if err := deletePrefix(tx.Bucket(bucketEvalResults), []byte(id+"\x00")); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEvalRuns).Delete([]byte(id)); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "delete", Resource: "eval_run", ResourceID: id,
			Before: fmt.Sprintf("%s v%d (%d/%d cases)", r.SetName, r.SetVersion, r.Done, r.Total)})
	})
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
