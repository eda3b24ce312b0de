package rag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"llmops/rag/chunk"
	"llmops/rag/guard/pii"
	"llmops/rag/index"
	"llmops/rag/parse"
	"llmops/store"
	"llmops/store/schema"
)

// File is one upload: its name (the document's source), its bytes, and
// metadata given with it, which wins over metadata found in the file.
type File struct {
	Name string
	Data []byte
	Meta Meta
}

// Ingest stages reported through Progress.
const (
	StageQueued = "queued"
	StageParse  = "parse"
	StageChunk  = "chunk"
	StageEmbed  = "embed"
	StageIndex  = "index"
	StageDone   = "done"
	StageFailed = "failed"
)

// FileResult is what happened to one file.
type FileResult struct {
	Name       string               `json:"name"`
	Outcome    schema.IngestOutcome `json:"outcome"`
	DocumentID string               `json:"document_id,omitempty"`
	Title      string               `json:"title,omitempty"`
	Format     string               `json:"format,omitempty"`
	Chunks     int                  `json:"chunks"`
	Flagged    int                  `json:"flagged,omitempty"` // chunks held from public answers until an editor approves them
	Error      string               `json:"error,omitempty"`
	Millis     int64                `json:"ms"`
}

// Progress is one step of one file, streamed to the UI and the CLI.
type Progress struct {
	File   string      `json:"file"`
	Stage  string      `json:"stage"`
	Result *FileResult `json:"result,omitempty"`
	// On StageEmbed, for the ingest trace (clients do not need them):
	// when the file's own work (parse, chunk) ended, and the number of the
	// embed-and-commit batch it shares with the other files of its group.
	Prepared time.Time `json:"-"`
	Batch    int       `json:"-"`
}

// prepared is a file parsed and chunked, waiting for vectors and commit.
type prepared struct {
	i      int // position in the upload
	doc    *store.Document
	chunks []store.Chunk
	texts  []string // what each chunk's vector is made from
	start  time.Time
	ready  time.Time // parse and chunk done
}

// fileTimeout bounds the parsing of one file.
const fileTimeout = 2 * time.Minute

// commitGroup bounds one bbolt transaction + bleve batch: big enough that
// fsync cost is shared by many documents, small enough to keep memory flat.
const commitGroup = 2000 // chunks

// Ingest parses, chunks, embeds and indexes files. Every file gets a
// result; a file that fails does not stop the others. progress (may be
// nil) is called from one goroutine at a time.
func (kb *KnowledgeBase) Ingest(ctx context.Context, actor store.Actor, files []File, progress func(Progress)) []FileResult {
	var pmu sync.Mutex
	report := func(p Progress) {
		if progress != nil {
			pmu.Lock()
			progress(p)
			pmu.Unlock()
		}
	}
	results := make([]FileResult, len(files))
	preps := make([]*prepared, len(files))
	cfgVersion := kb.cfgVersion

	// Two files with one name in one upload would be one document written
	// twice in a transaction: the first keeps the name, the others fail.
	seen := make(map[string]bool, len(files))
	dup := make([]bool, len(files))
	for i, f := range files {
		dup[i] = seen[f.Name]
		seen[f.Name] = true
	}

	// Parse and chunk in parallel: it is CPU work with no shared state.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range files {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f := files[i]
			start := time.Now()
			if dup[i] {
				results[i] = FileResult{Name: f.Name, Outcome: schema.IngestFailed, Error: "another file in this upload has the same name"}
				report(Progress{File: f.Name, Stage: StageFailed, Result: &results[i]})
				return
			}
			p, res := kb.prepare(ctx, f, cfgVersion, report)
			if p == nil {
				res.Millis = time.Since(start).Milliseconds()
				results[i] = res
				report(Progress{File: f.Name, Stage: stageOf(res), Result: &results[i]})
				return
			}
			p.i, p.start = i, start
			preps[i] = p
		})
	}
	wg.Wait()

	// Embed and commit in groups, one writer at a time.
	var group []*prepared
	size, batch := 0, 0
	flush := func() {
		if len(group) == 0 {
			return
		}
		batch++
		kb.commit(ctx, actor, batch, group, results, report)
		group, size = group[:0], 0
	}
	for _, p := range preps {
		if p == nil {
			continue
		}
		if size+len(p.chunks) > commitGroup {
			flush()
		}
		group = append(group, p)
		size += len(p.chunks)
	}
	flush()
	return results
}

func stageOf(r FileResult) string {
	if r.Outcome == schema.IngestFailed {
		return StageFailed
	}
	return StageDone
}

// prepare parses and chunks one file. It returns nil and a final result
// when the file fails or is unchanged.
func (kb *KnowledgeBase) prepare(ctx context.Context, f File, cfgVersion int, report func(Progress)) (*prepared, FileResult) {
	fail := func(err error) (*prepared, FileResult) {
		msg := store.ErrorMessage(err)
		if store.ErrorCode(err) == store.EINTERNAL {
			kb.log.Error("ingest failed", "file", f.Name, "err", err)
			msg = "internal error while reading the file"
		}
		return nil, FileResult{Name: f.Name, Outcome: schema.IngestFailed, Error: msg}
	}
	if err := ctx.Err(); err != nil {
		return fail(store.Errorf(store.EUNAVAILABLE, "cancelled"))
	}
	if err := f.Validate(); err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(f.Data)
	hash := hex.EncodeToString(sum[:])
	// Skip the work for a re-upload of the same bytes with no metadata of
	// its own (new metadata on the same bytes is an update). The commit
	// checks again inside its transaction, so racing uploads stay correct.
	if old, err := kb.st.DocumentBySource(ctx, f.Name); err == nil && old.Hash == hash && f.Meta.empty() {
		return nil, FileResult{Name: f.Name, Outcome: schema.IngestUnchanged, DocumentID: old.ID, Title: old.Title, Format: old.Format, Chunks: old.Chunks}
	}
	report(Progress{File: f.Name, Stage: StageParse})
	// Each file gets its own deadline: a pathological file fails alone
	// instead of holding the upload (the parsers' read budgets are only a
	// backstop).
	pctx, cancel := context.WithTimeout(ctx, fileTimeout)
	defer cancel()
	pd, err := parse.Parse(pctx, f.Name, f.Data, parse.DefaultLimits())
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = store.Errorf(store.EINVALID, "%s took longer than %s to read; it may be damaged", f.Name, fileTimeout)
	}
	if err != nil {
		return fail(err)
	}
	if err := checkFileMeta(pd); err != nil {
		return fail(err)
	}
	report(Progress{File: f.Name, Stage: StageChunk})
	chunks, err := chunk.Split(pd, kb.opts.Chunking, kb.tok)
	if err != nil {
		return fail(fmt.Errorf("chunk %s: %w", f.Name, err))
	}
	if len(chunks) == 0 {
		return fail(store.Errorf(store.EINVALID, "no text found in %s", f.Name))
	}
	doc := documentOf(f, pd, hash, cfgVersion)
	p := &prepared{doc: doc, chunks: make([]store.Chunk, len(chunks)), texts: make([]string, len(chunks))}
	now := time.Now().UTC()
	redact := kb.opts.RedactPII != nil && kb.opts.RedactPII()
	for i, c := range chunks {
		c.Text, c.Core = kb.scanPII(doc, c.Text, c.Core, redact)
		p.chunks[i] = store.Chunk{Index: i, Text: c.Text, Headings: c.Headings, Page: c.Page, Kind: c.Kind, Tokens: c.Tokens, Core: c.Core}
		p.chunks[i].Flag = flagOf(&p.chunks[i], now) // held from public answers until approved
		p.texts[i] = index.EntryOf(doc, &p.chunks[i]).Text
	}
	p.ready = time.Now()
	return p, FileResult{}
}

// scanPII counts the personal data in a chunk's text on doc and, when
// redact is set, returns the text (and its sentence-window core) with
// placeholders instead.
func (kb *KnowledgeBase) scanPII(doc *store.Document, text, core string, redact bool) (string, string) {
	spans := pii.Detect(text)
	if len(spans) == 0 {
		return text, core
	}
	if doc.PII == nil {
		doc.PII = map[string]int{}
	}
	for t, n := range pii.Counts(spans) {
		doc.PII[string(t)] += n
	}
	if !redact {
		return text, core
	}
	doc.PIIRedacted = true
	if core != "" {
		core, _ = pii.RedactText(core)
	}
	return pii.Redact(text, spans), core
}

// documentOf merges given metadata over the file's own.
func documentOf(f File, pd *parse.Document, hash string, cfgVersion int) *store.Document {
	pick := func(given, key string) string {
		if given != "" {
			return given
		}
		return strings.TrimSpace(pd.Meta[key])
	}
	d := &store.Document{
		Source: f.Name, Title: pick(f.Meta.Title, "title"), Format: string(pd.Format),
		Category: strings.ToLower(pick(f.Meta.Category, "category")), ProductVersion: pick(f.Meta.ProductVersion, "product_version"),
		SourceURL: pick(f.Meta.SourceURL, "source_url"), LastUpdated: pick(f.Meta.LastUpdated, "last_updated"),
		Meta: pd.Meta, Hash: hash, Size: int64(len(f.Data)), ChunkConfig: cfgVersion,
	}
	if f.Meta.Title == "" && pd.Title != "" {
		d.Title = pd.Title
	}
	if d.Title == "" {
		d.Title = strings.TrimSuffix(filepath.Base(f.Name), filepath.Ext(f.Name))
	}
	tags := f.Meta.Tags
	if len(tags) == 0 && pd.Meta["tags"] != "" {
		tags = strings.Split(pd.Meta["tags"], ",")
	}
	d.Tags = store.NormalizeTags(tags)
	return d
}

// commit embeds a group of prepared documents, commits them in one
// transaction, then brings both indexes up to date.
func (kb *KnowledgeBase) commit(ctx context.Context, actor store.Actor, batch int, group []*prepared, results []FileResult, report func(Progress)) {
	failAll := func(err error) {
		msg := store.ErrorMessage(err)
		if store.ErrorCode(err) == store.EINTERNAL {
			kb.log.Error("ingest commit failed", "err", err)
			msg = "could not save the document (the server log has the cause)"
		}
		for _, p := range group {
			results[p.i] = FileResult{Name: p.doc.Source, Outcome: schema.IngestFailed, Error: msg, Millis: time.Since(p.start).Milliseconds()}
			report(Progress{File: p.doc.Source, Stage: StageFailed, Result: &results[p.i]})
		}
	}
	kb.mu.Lock()
	defer kb.mu.Unlock()

	var texts []string
	for _, p := range group {
		texts = append(texts, p.texts...)
		report(Progress{File: p.doc.Source, Stage: StageEmbed, Prepared: p.ready, Batch: batch})
	}
	emb, model, err := kb.ensureModel(ctx, texts)
	if err != nil {
		failAll(err)
		return
	}
	vecs, err := emb.EmbedDocuments(ctx, texts)
	if err != nil {
		failAll(fmt.Errorf("embed: %w", err))
		return
	}
	writes := make([]store.DocumentWrite, len(group))
	off := 0
	for i, p := range group {
		writes[i] = store.DocumentWrite{Doc: p.doc, Chunks: p.chunks, Vectors: vecs[off : off+len(p.chunks)], Model: model.ID}
		off += len(p.chunks)
		report(Progress{File: p.doc.Source, Stage: StageIndex})
	}
	// The store commit is what makes documents real; it must not be
	// abandoned half-way by a client that went away.
	commitCtx := context.WithoutCancel(ctx)
	res, err := kb.st.CommitDocuments(commitCtx, actor, writes)
	if err != nil {
		failAll(err)
		return
	}
	if kb.opts.AfterCommit != nil {
		kb.opts.AfterCommit()
	}
	var remove []string
	var add []index.Entry
	var addVecs [][]float32
	for i, r := range res {
		remove = append(remove, r.RemovedChunks...)
		if r.Outcome == schema.IngestCreated || r.Outcome == schema.IngestUpdated {
			for j := range writes[i].Chunks {
				add = append(add, index.EntryOf(r.Doc, &writes[i].Chunks[j]))
				addVecs = append(addVecs, writes[i].Vectors[j])
			}
		}
	}
	if err := kb.applyIndexes(commitCtx, remove, add, addVecs); err != nil {
		kb.repairIndexes(commitCtx, err)
	}
	for i, p := range group {
		r := res[i]
		results[p.i] = FileResult{Name: p.doc.Source, Outcome: r.Outcome, DocumentID: r.Doc.ID, Title: r.Doc.Title, Format: r.Doc.Format,
			Chunks: r.Doc.Chunks, Millis: time.Since(p.start).Milliseconds()}
		if r.Outcome == schema.IngestCreated || r.Outcome == schema.IngestUpdated {
			for _, c := range writes[i].Chunks {
				if c.Flag != nil {
					results[p.i].Flagged++
				}
			}
		}
		report(Progress{File: p.doc.Source, Stage: StageDone, Result: &results[p.i]})
	}
	if ks, err := kb.st.KnowledgeStats(commitCtx); err == nil {
		kb.maybeRetrain(ks.Chunks)
	}
}

// applyIndexes brings both indexes in step with a store commit. Called
// with kb.mu held, so the fingerprint read is the one of that commit.
func (kb *KnowledgeBase) applyIndexes(ctx context.Context, remove []string, add []index.Entry, vecs [][]float32) error {
	fp, _, err := kb.st.ChunkFingerprint(ctx)
	if err != nil {
		return err
	}
	if err := kb.keyword.Apply(ctx, remove, add, fp); err != nil {
		return fmt.Errorf("keyword index: %w", err)
	}
	kb.emu.RLock()
	vi := kb.vectors
	kb.emu.RUnlock()
	if vi == nil {
		return nil
	}
	vecAdd := make([]index.Entry, len(add))
	for i, e := range add {
		e.Text = ""
		vecAdd[i] = e
	}
	if err := vi.Apply(ctx, remove, vecAdd, vecs); err != nil {
		return fmt.Errorf("vector index: %w", err)
	}
	return nil
}

// Delete removes a document from the store and both indexes.
func (kb *KnowledgeBase) Delete(ctx context.Context, actor store.Actor, id string) (*store.Document, error) {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	doc, removed, err := kb.st.DeleteDocument(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := kb.applyIndexes(context.WithoutCancel(ctx), removed, nil, nil); err != nil {
		kb.repairIndexes(context.WithoutCancel(ctx), err)
	}
	return doc, nil
}

// repairIndexes rebuilds both indexes from the store after an update of
// them failed: the store has the change, so nothing is lost. Called with
// kb.mu held.
func (kb *KnowledgeBase) repairIndexes(ctx context.Context, cause error) {
	kb.log.Error("index update failed; rebuilding from the store", "err", cause)
	if err := kb.rebuildKeyword(ctx); err != nil {
		kb.log.Error("keyword index rebuild failed; it is rebuilt at the next start", "err", err)
	}
	kb.emu.RLock()
	model := kb.model
	kb.emu.RUnlock()
	if model == nil {
		return
	}
	vecs, err := kb.loadVectors(ctx, model.ID)
	if err != nil {
		kb.log.Error("vector index reload failed", "err", err)
		return
	}
	kb.emu.Lock()
	kb.vectors = vecs
	kb.emu.Unlock()
}

// saveChunkConfig records the chunking config in force (a new version
// only when it changed) and returns its version.
func (kb *KnowledgeBase) saveChunkConfig(ctx context.Context) (int, error) {
	raw, err := json.Marshal(kb.opts.Chunking)
	if err != nil {
		return 0, err
	}
	return kb.st.SaveChunkConfig(ctx, store.Actor{Kind: store.ActorSystem, Name: "knowledge"}, raw)
}
