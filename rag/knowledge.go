package rag

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"llmops/rag/chunk"
	"llmops/rag/embed"
	"llmops/rag/index"
	"llmops/store"
)

// Options configure a KnowledgeBase.
type Options struct {
	// IndexDir holds the on-disk keyword index (derived data).
	IndexDir string
	// Chunking is the chunking config for new documents.
	Chunking chunk.Config
	// Remote, when set, embeds with an OpenAI-compatible API instead of
	// the embedded model learned from the corpus.
	Remote *RemoteEmbedding
	// RetrainFactor starts a background re-embedding with a freshly
	// learned local model when the corpus has grown this many times past
	// what the active model was trained on. Default 2.
	RetrainFactor float64
	Logger        *slog.Logger
	// AfterCommit, if set, runs after each store commit and before the
	// indexes are updated: the crash test uses it to kill the process in
	// exactly that window.
	AfterCommit func()
	// RedactPII, when set and true, replaces personal data in new chunks
	// with placeholders before they are stored and indexed (the
	// Guardrails page's "redact documents"); PII is counted either way.
	RedactPII func() bool
}

// RemoteEmbedding names an OpenAI-compatible embeddings API.
type RemoteEmbedding struct {
	BaseURL string
	APIKey  string
	Model   string
}

// KnowledgeBase is the documents, their chunks and the two search indexes,
// kept in step: bbolt first (the source of truth), then the indexes.
type KnowledgeBase struct {
	st   *store.Store
	opts Options
	log  *slog.Logger
	tok  chunk.Tokenizer

	// mu serialises writers (ingest, delete, rebuild, model swaps) so the
	// indexes see store commits in order. Readers never take it.
	mu      sync.Mutex
	keyword *index.Keyword

	// embedding state, swapped atomically by the re-embed job.
	emu      sync.RWMutex
	embedder embed.Embedder
	model    *store.EmbedModel
	vectors  *index.Vectors

	job *Job // the running or last re-embed job

	closed     bool // set by Close, under mu: no new jobs start
	rebuilt    bool // whether Open had to rebuild the keyword index
	cfgVersion int  // version of opts.Chunking in the store
}

// Chunking returns the chunking config new documents are split with.
func (kb *KnowledgeBase) Chunking() chunk.Config { return kb.opts.Chunking }

// Open loads the knowledge base: it opens the keyword index and checks it
// against the store (rebuilding it when they disagree), loads the active
// embedding model, and loads the vector index from the store.
func Open(ctx context.Context, st *store.Store, opts Options) (*KnowledgeBase, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RetrainFactor == 0 {
		opts.RetrainFactor = 2
	}
	if opts.Chunking == (chunk.Config{}) {
		opts.Chunking = chunk.DefaultConfig()
	}
	if err := opts.Chunking.Validate(); err != nil {
		return nil, err
	}
	tok, err := chunk.NewTokenizer()
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	kb := &KnowledgeBase{st: st, opts: opts, log: opts.Logger, tok: tok}
	if kb.cfgVersion, err = kb.saveChunkConfig(ctx); err != nil {
		return nil, err
	}
	kb.keyword, err = index.OpenKeyword(filepath.Join(opts.IndexDir, "keyword.bleve"))
	if err != nil {
		return nil, err
	}
	if err := kb.checkKeyword(ctx); err != nil {
		kb.keyword.Close()
		return nil, err
	}
	if err := kb.loadModel(ctx); err != nil {
		kb.keyword.Close()
		return nil, err
	}
	if err := kb.recheckFlags(ctx, false); err != nil {
		kb.keyword.Close()
		return nil, err
	}
	// What opening read (the model, the checks) need not stay resident.
	if err := st.ReleaseMapped(); err != nil {
		kb.keyword.Close()
		return nil, err
	}
	return kb, nil
}

// Rebuilt reports whether Open found the keyword index out of step with
// the store and rebuilt it.
func (kb *KnowledgeBase) Rebuilt() bool { return kb.rebuilt }

// Close stops a running job and closes the keyword index.
func (kb *KnowledgeBase) Close() error {
	kb.mu.Lock()
	kb.closed = true
	job := kb.job
	kb.mu.Unlock()
	if job != nil {
		job.Cancel()
		<-job.done
	}
	kb.mu.Lock()
	defer kb.mu.Unlock()
	return kb.keyword.Close()
}

// checkKeyword compares the keyword index's fingerprint and count with the
// store's and rebuilds the index when they differ.
func (kb *KnowledgeBase) checkKeyword(ctx context.Context) error {
	want, n, err := kb.st.ChunkFingerprint(ctx)
	if err != nil {
		return err
	}
	got, count, err := kb.keyword.Fingerprint()
	if err == nil && got == want && count == uint64(n) {
		return nil
	}
	kb.log.Warn("keyword index out of step with the store: rebuilding", "store_chunks", n, "index_docs", count)
	kb.rebuilt = true
	return kb.rebuildKeyword(ctx)
}

// rebuildKeyword recreates the keyword index from the store. The store's
// fingerprint is written with the last batch only, so an interrupted
// rebuild is detected and redone at the next start.
func (kb *KnowledgeBase) rebuildKeyword(ctx context.Context) error {
	start := time.Now()
	if err := kb.keyword.Reset(); err != nil {
		return fmt.Errorf("reset keyword index: %w", err)
	}
	fp, _, err := kb.st.ChunkFingerprint(ctx)
	if err != nil {
		return err
	}
	const batchSize = 1000
	batch := make([]index.Entry, 0, batchSize)
	n := 0
	err = kb.st.ForEachChunk(ctx, func(d *store.Document, c *store.Chunk) error {
		batch = append(batch, index.EntryOf(d, c))
		if len(batch) == batchSize {
			n += len(batch)
			err := kb.keyword.Apply(ctx, nil, batch, store.Fingerprint{})
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild keyword index: %w", err)
	}
	n += len(batch)
	if err := kb.keyword.Apply(ctx, nil, batch, fp); err != nil {
		return fmt.Errorf("rebuild keyword index: %w", err)
	}
	kb.log.Info("keyword index rebuilt", "chunks", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Reindex rebuilds both indexes from the store and checks every chunk
// for text addressing the assistant again (llmops reindex).
func (kb *KnowledgeBase) Reindex(ctx context.Context) error {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	if err := kb.rebuildKeyword(ctx); err != nil {
		return err
	}
	if err := kb.recheckFlags(ctx, true); err != nil {
		return err
	}
	kb.emu.RLock()
	model := kb.model
	kb.emu.RUnlock()
	if model == nil {
		return nil
	}
	vecs, err := kb.loadVectors(ctx, model.ID)
	if err != nil {
		return err
	}
	kb.emu.Lock()
	kb.vectors = vecs
	kb.emu.Unlock()
	return nil
}

// loadVectors builds a vector index of model from the store.
func (kb *KnowledgeBase) loadVectors(ctx context.Context, model string) (*index.Vectors, error) {
	vecs, err := index.NewVectors(model)
	if err != nil {
		return nil, err
	}
	// Sized once from the chunk count (each chunk has at most one vector
	// of model), and vectors copied into batch buffers reused from batch
	// to batch: loading allocates the index and little else.
	_, chunks, err := kb.st.ChunkFingerprint(ctx)
	if err != nil {
		return nil, err
	}
	vecs.Reserve(chunks)
	const batchSize = 2000
	entries := make([]index.Entry, 0, batchSize)
	batch := make([][]float32, 0, batchSize)
	bufs := make([][]float32, batchSize)
	flush := func() error {
		err := vecs.Apply(ctx, nil, entries, batch)
		entries, batch = entries[:0], batch[:0]
		return err
	}
	var doc *store.Document
	var meta index.Entry // doc's filter fields, shared by its chunks
	err = kb.st.ForEachDocumentVector(ctx, model, func(d *store.Document, chunkID string, vec []float32) error {
		if d != doc {
			doc, meta = d, index.EntryOf(d, &store.Chunk{})
			meta.Text = "" // the vector index needs only ID and metadata
		}
		e := meta
		e.ID = chunkID
		buf := append(bufs[len(batch)][:0], vec...)
		bufs[len(batch)] = buf
		entries, batch = append(entries, e), append(batch, buf)
		if len(entries) == batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("load vectors of %s: %w", model, err)
	}
	if chunks != vecs.Count() {
		kb.log.Warn("chunks without a vector of the active model", "model", model, "chunks", chunks, "vectors", vecs.Count())
	}
	return vecs, nil
}

// Stats describes the knowledge base for pages and /readyz.
type Stats struct {
	Documents int
	Chunks    int
	Vectors   int
	Model     string
	Job       *JobStatus
}

// Stats returns counts and the embedding state.
func (kb *KnowledgeBase) Stats(ctx context.Context) (Stats, error) {
	ks, err := kb.st.KnowledgeStats(ctx)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Documents: ks.Documents, Chunks: ks.Chunks}
	kb.emu.RLock()
	if kb.model != nil {
		st.Model = kb.model.ID
	}
	if kb.vectors != nil {
		st.Vectors = kb.vectors.Count()
	}
	kb.emu.RUnlock()
	kb.mu.Lock()
	if kb.job != nil {
		js := kb.job.Status()
		st.Job = &js
	}
	kb.mu.Unlock()
	return st, nil
}

// SearchKeyword runs a BM25 query (the hybrid retriever builds on it).
// With f.ExcludeHeld, chunks held by a flag are left out.
func (kb *KnowledgeBase) SearchKeyword(ctx context.Context, q string, n int, f index.Filter) ([]index.Hit, error) {
	return kb.withoutHeld(ctx, n, f, func(m int, f index.Filter) ([]index.Hit, error) { return kb.keyword.Search(ctx, q, m, f) })
}

// KeywordTerms analyses text as the keyword index does (for BM25
// pseudo-relevance feedback).
func (kb *KnowledgeBase) KeywordTerms(text string) []string { return kb.keyword.Terms(text) }

// KeywordDocFreqs returns each index term's chunk count and the index's.
func (kb *KnowledgeBase) KeywordDocFreqs(ctx context.Context, terms []string) ([]uint64, uint64, error) {
	return kb.keyword.DocFreqs(ctx, terms)
}

// SearchKeywordTerms runs a weighted disjunction of index terms under BM25.
func (kb *KnowledgeBase) SearchKeywordTerms(ctx context.Context, terms []index.WeightedTerm, n int, f index.Filter) ([]index.Hit, error) {
	return kb.withoutHeld(ctx, n, f, func(m int, f index.Filter) ([]index.Hit, error) { return kb.keyword.SearchTerms(ctx, terms, m, f) })
}

// SearchVector embeds q with the active model and returns its nearest
// chunks.
func (kb *KnowledgeBase) SearchVector(ctx context.Context, q string, n int, f index.Filter) ([]index.Hit, error) {
	v, err := kb.EmbedQuery(ctx, q)
	if err != nil || v == nil {
		return nil, err
	}
	return kb.SearchEmbedding(ctx, v, n, f)
}

// EmbedQuery embeds a search query with the active model; nil (and no
// error) when no model exists yet or the active one cannot embed here.
func (kb *KnowledgeBase) EmbedQuery(ctx context.Context, q string) ([]float32, error) {
	kb.emu.RLock()
	emb := kb.embedder
	kb.emu.RUnlock()
	if emb == nil {
		return nil, nil
	}
	v, err := emb.EmbedQuery(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("embed query: %w", err)
	}
	return v, nil
}

// EmbedTexts embeds passages with the active model (groundedness compares
// answer sentences with their sources this way). It fails when no model
// exists yet.
func (kb *KnowledgeBase) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	kb.emu.RLock()
	emb := kb.embedder
	kb.emu.RUnlock()
	if emb == nil {
		return nil, errors.New("no embedding model yet")
	}
	return emb.EmbedDocuments(ctx, texts)
}

// SearchEmbedding returns the chunks nearest to an embedded query. The
// vector must come from EmbedQuery (the active model); a model swap in
// between yields no hits rather than wrong ones.
func (kb *KnowledgeBase) SearchEmbedding(ctx context.Context, vec []float32, n int, f index.Filter) ([]index.Hit, error) {
	kb.emu.RLock()
	vecs, model := kb.vectors, kb.model
	kb.emu.RUnlock()
	if vecs == nil || model == nil || len(vec) != model.Dim {
		return nil, nil
	}
	return kb.withoutHeld(ctx, n, f, func(m int, f index.Filter) ([]index.Hit, error) { return vecs.Search(ctx, vec, m, f) })
}

// Chunks reads chunks with their documents, in the order of ids.
func (kb *KnowledgeBase) Chunks(ctx context.Context, ids []string) ([]store.ChunkRef, error) {
	return kb.st.ChunksByID(ctx, ids)
}
