package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"llmops/evals/beir"
	"llmops/evals/cases"
	"llmops/rag"
	sampledata "llmops/sample-data"
	"llmops/store"
	"llmops/store/schema"
)

// SampleSetName names the sample help centre's test set.
const SampleSetName = "Sample help centre"

// Import is the outcome of importing a file or folder into a test set.
type Import struct {
	Set     *store.TestSet    `json:"set"`
	Added   int               `json:"added"`
	Skipped []cases.LineError `json:"skipped,omitempty"`
	Notes   []string          `json:"notes,omitempty"` // e.g. qrels pointing to missing documents
}

// ImportFile parses a CSV, JSONL or JSON file of cases into set name: a
// new set, or a new version of an existing one holding exactly these
// cases.
func ImportFile(ctx context.Context, st *store.Store, actor store.Actor, name, description, fileName string, data []byte, opts cases.Options) (*Import, error) {
	parsed, err := cases.Parse(fileName, data, opts)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "%s", err.Error())
	}
	if strings.TrimSpace(name) == "" {
		name = strings.TrimSuffix(filepath.Base(fileName), filepath.Ext(fileName))
	}
	note := fmt.Sprintf("imported %s (%d cases", filepath.Base(fileName), len(parsed.Cases))
	if n := len(parsed.Skipped); n > 0 {
		var lines []string
		for _, l := range parsed.Skipped[:min(n, 20)] {
			lines = append(lines, l.Error())
		}
		note += fmt.Sprintf("; %d invalid lines skipped: %s", n, strings.Join(lines, "; "))
		if n > 20 {
			note += fmt.Sprintf("; and %d more", n-20)
		}
	}
	note += ")"
	set, err := saveCases(ctx, st, actor, name, description, parsed.Format, note, parsed.Cases)
	if err != nil {
		return nil, err
	}
	return &Import{Set: set, Added: len(parsed.Cases), Skipped: parsed.Skipped}, nil
}

// ImportBEIR reads a BEIR folder's queries and judgements (qrels/<split>)
// into set name; the corpus documents are referred to by their BEIR IDs.
func ImportBEIR(ctx context.Context, st *store.Store, actor store.Actor, name, dir, split string) (*Import, error) {
	ds, err := beir.LoadQueries(dir, beir.LoadOptions{Split: split})
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "%s", err.Error())
	}
	if name == "" {
		name = ds.Name
	}
	out := make([]store.EvalCase, 0, len(ds.Queries))
	for _, q := range ds.Queries {
		c := store.EvalCase{ID: q.ID, Question: q.Text, Relevance: q.Rels, Tags: []string{"beir", ds.Name}}
		for id, g := range q.Rels {
			if g > 0 {
				c.DocumentIDs = append(c.DocumentIDs, id)
			}
		}
		slices.Sort(c.DocumentIDs)
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, store.Errorf(store.EINVALID, "%s: no judged queries", dir)
	}
	imp := &Import{Added: len(out)}
	if ds.MissingDocs > 0 {
		imp.Notes = append(imp.Notes, fmt.Sprintf("%d judgements point to documents missing from the corpus; the rest are evaluated", ds.MissingDocs))
	}
	if ds.MissingQueries > 0 {
		imp.Notes = append(imp.Notes, fmt.Sprintf("%d judged queries are missing from the queries file and were left out", ds.MissingQueries))
	}
	note := fmt.Sprintf("imported BEIR %s (%d queries)", ds.Name, len(out))
	imp.Set, err = saveCases(ctx, st, actor, name, "BEIR "+ds.Name+" ("+orDefault(split, beir.DefaultSplit)+" split)", "beir", note, out)
	if err != nil {
		return nil, err
	}
	return imp, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// saveCases creates set name or writes a new version of it.
func saveCases(ctx context.Context, st *store.Store, actor store.Actor, name, description, source, note string, cs []store.EvalCase) (*store.TestSet, error) {
	existing, err := st.TestSet(ctx, name)
	switch {
	case err == nil:
		// Importing the same cases again (a CI job on every commit) keeps
		// the version, so runs stay comparable by version.
		if latest, err := st.TestSetVersion(ctx, existing.ID, 0); err != nil {
			return nil, err
		} else if sameCases(latest.Cases, cs) {
			return existing, nil
		}
		return st.AddTestCases(ctx, actor, existing.ID, cs, note, true)
	case store.ErrorCode(err) != store.ENOTFOUND:
		return nil, err
	}
	return st.CreateTestSet(ctx, actor, store.TestSet{Name: name, Description: description, Source: source}, note, cs)
}

// EnsureSampleSet creates the sample help centre's test set from the
// embedded questions unless a set of that name exists; it reports the
// set and whether it was created now.
func EnsureSampleSet(ctx context.Context, st *store.Store) (*store.TestSet, bool, error) {
	if set, err := st.TestSet(ctx, SampleSetName); err == nil {
		return set, false, nil
	} else if store.ErrorCode(err) != store.ENOTFOUND {
		return nil, false, err
	}
	data, err := fs.ReadFile(sampledata.FS(), "evals/questions.jsonl")
	if err != nil {
		return nil, false, err
	}
	parsed, err := cases.Parse("questions.jsonl", data, cases.Options{})
	if err != nil {
		return nil, false, err
	}
	set, err := st.CreateTestSet(ctx, store.Actor{Kind: store.ActorSystem, Name: "sample data"},
		store.TestSet{Name: SampleSetName, Description: "90 questions about the Rosterly sample help centre, 13 of them unanswerable", Source: "sample"},
		"sample data", parsed.Cases)
	if err != nil {
		return nil, false, err
	}
	return set, true, nil
}

// CaseFromTrace turns an answered question into a case: its question, the
// given reference answer, and (when useCitations) the documents it cited
// as the relevant ones.
func CaseFromTrace(ctx context.Context, st *store.Store, traceID, reference string, useCitations bool) (store.EvalCase, error) {
	t, _, err := st.Trace(ctx, traceID)
	if err != nil {
		return store.EvalCase{}, err
	}
	if t.Kind != schema.KindAsk {
		return store.EvalCase{}, store.Errorf(store.EINVALID, "trace %s is a %s trace, not a question", traceID, t.Kind)
	}
	// A follow-up ("and on mobile?") means nothing alone: the question as
	// retrieval saw it, rewritten with the conversation, stands alone.
	q, _ := t.Attributes[schema.AttrStandaloneQuestion].(string)
	if q == "" {
		q, _ = t.Attributes[schema.AttrQuestion].(string)
	}
	if q == "" {
		q = t.Input
	}
	c := store.EvalCase{Question: q, ReferenceAnswer: strings.TrimSpace(reference), TraceID: traceID, Tags: []string{"from-trace"}}
	if ch, _ := t.Attributes[schema.AttrChannel].(string); ch != "" {
		c.Tags = append(c.Tags, ch)
	}
	if useCitations {
		cits, _ := t.Attributes[schema.AttrCitations].([]any)
		for _, x := range cits {
			if m, ok := x.(map[string]any); ok {
				if id, _ := m["document_id"].(string); id != "" && !slices.Contains(c.DocumentIDs, id) {
					c.DocumentIDs = append(c.DocumentIDs, id)
				}
			}
		}
	}
	return c, nil
}

// sameCases reports whether a (stored) and b (parsed, not yet normalised)
// hold the same cases.
func sameCases(a, b []store.EvalCase) bool {
	if len(a) != len(b) {
		return false
	}
	b = slices.Clone(b)
	for i := range b {
		b[i].Tags = slices.Clone(b[i].Tags)
	}
	if store.NormalizeEvalCases(b, nil) != nil {
		return false
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// BEIRFiles turns a BEIR corpus into knowledge-base uploads named
// beir/DATASET/ID.txt, so the IDs its test set refers to resolve to the
// documents. An untitled document is titled by its first words, never by
// its ID (BEIR IDs can name the answer: ArguAna's name the debate).
func BEIRFiles(ds *beir.Dataset) []rag.File {
	files := make([]rag.File, 0, len(ds.Docs))
	for _, d := range ds.Docs {
		title := strings.TrimSpace(d.Title)
		if title == "" {
			words := strings.Fields(d.Text)
			title = strings.Join(words[:min(len(words), 8)], " ")
		}
		if strings.TrimSpace(d.Text) == "" || strings.ContainsAny(d.ID, "/\\") {
			continue
		}
		files = append(files, rag.File{Name: "beir/" + ds.Name + "/" + d.ID + ".txt", Data: []byte(d.Text), Meta: rag.Meta{Title: rag.ClipTitle(title), Tags: []string{"beir"}}})
	}
	return files
}
