package rag

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"llmops/rag/embed"
	"llmops/rag/index"
	"llmops/store"
	"llmops/store/schema"
)

// The embedding model lifecycle. With no API configured, vectors come from
// a model learned from the corpus itself (embed.Train); it is trained on
// the first documents ingested, and retrained in the background when the
// corpus has grown well past what it saw. With an API configured, vectors
// come from it. Either way, changing the model is a re-embed job: it builds
// the new model's vectors beside the active ones, retrieval keeps using the
// old ones meanwhile, and the swap is one bbolt transaction.

// loadModel restores the active model at start-up, and starts a re-embed
// job when the configured kind of model differs from the stored one.
func (kb *KnowledgeBase) loadModel(ctx context.Context) error {
	active, err := kb.st.ActiveEmbedModel(ctx)
	if err != nil {
		return err
	}
	if active == "" {
		return nil // the first ingest picks the model
	}
	m, blob, err := kb.st.LoadEmbedModel(ctx, active)
	if err != nil {
		return err
	}
	var emb embed.Embedder
	switch {
	case m.Kind == "local":
		emb, err = embed.LoadLocal(blob)
		if err != nil {
			return fmt.Errorf("load embedding model %s: %w", active, err)
		}
	case kb.opts.Remote != nil && kb.opts.Remote.Model == m.Name:
		emb, err = newRemote(*kb.opts.Remote)
		if err != nil {
			return err
		}
	default:
		// The stored vectors came from an API that is no longer
		// configured: queries cannot be embedded with it, so vector search
		// pauses until the re-embed job below has built local vectors.
		kb.log.Warn("active embedding model is not available; re-embedding", "model", active)
	}
	vecs, err := kb.loadVectors(ctx, active)
	if err != nil {
		return err
	}
	kb.emu.Lock()
	kb.model, kb.vectors = m, vecs
	if emb != nil {
		kb.embedder = emb
	}
	kb.emu.Unlock()

	wantRemote := kb.opts.Remote != nil
	switch {
	case wantRemote && (m.Kind != "remote" || m.Name != kb.opts.Remote.Model):
		kb.startJob("the configured embedding API changed")
	case !wantRemote && m.Kind != "local":
		kb.startJob("no embedding API is configured any more")
	}
	return nil
}

// ensureModel makes sure a model exists before the first vectors are
// made: a local model learned from texts (the first documents), or the
// configured API.
func (kb *KnowledgeBase) ensureModel(ctx context.Context, texts []string) (embed.Embedder, *store.EmbedModel, error) {
	kb.emu.RLock()
	emb, m := kb.embedder, kb.model
	kb.emu.RUnlock()
	if emb != nil && m != nil {
		return emb, m, nil
	}
	if m != nil {
		// A model is active but cannot embed here (see loadModel); the
		// re-embed job will replace it. New chunks wait for it.
		return nil, nil, store.Errorf(store.EUNAVAILABLE, "the embedding model is being rebuilt; try again when the re-embed job finishes")
	}
	emb, rec, blob, err := kb.newModel(ctx, texts)
	if err != nil {
		return nil, nil, err
	}
	if err := kb.st.PutEmbedModel(ctx, *rec, blob); err != nil {
		return nil, nil, err
	}
	if err := kb.st.SwapEmbedModel(ctx, store.Actor{Kind: store.ActorSystem, Name: "knowledge"}, rec.ID); err != nil {
		return nil, nil, err
	}
	vecs, err := kb.loadVectors(ctx, rec.ID)
	if err != nil {
		return nil, nil, err
	}
	kb.emu.Lock()
	kb.embedder, kb.model, kb.vectors = emb, rec, vecs
	kb.emu.Unlock()
	return emb, rec, nil
}

// newModel makes the configured kind of model: it connects to the API, or
// learns a local model from texts.
func (kb *KnowledgeBase) newModel(ctx context.Context, texts []string) (embed.Embedder, *store.EmbedModel, []byte, error) {
	if kb.opts.Remote != nil {
		r, err := newRemote(*kb.opts.Remote)
		if err != nil {
			return nil, nil, nil, err
		}
		// The dimension is part of the model ID: learn it now.
		if _, err := r.Dimension(ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("embedding API: %w", err)
		}
		mm := r.Model()
		return r, &store.EmbedModel{ID: mm.ID(), Name: mm.Name, Version: mm.Version, Dim: mm.Dim, Kind: "remote"}, nil, nil
	}
	start := time.Now()
	local, err := embed.Train(ctx, texts, embed.TrainOptions{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("learn embedding model: %w", err)
	}
	blob, err := local.MarshalBinary()
	if err != nil {
		return nil, nil, nil, err
	}
	mm := local.Model()
	kb.log.Info("embedding model learned from the corpus", "model", mm.ID(), "chunks", len(texts), "took", time.Since(start).Round(time.Millisecond))
	return local, &store.EmbedModel{ID: mm.ID(), Name: mm.Name, Version: mm.Version, Dim: mm.Dim, Kind: "local", Trained: len(texts)}, blob, nil
}

// maybeRetrain starts a re-embed job when the corpus has outgrown the
// local model. Called with kb.mu held, after a commit.
func (kb *KnowledgeBase) maybeRetrain(chunks int) {
	kb.emu.RLock()
	m := kb.model
	kb.emu.RUnlock()
	if m == nil || m.Kind != "local" || (kb.job != nil && kb.job.running()) {
		return
	}
	if float64(chunks) >= kb.opts.RetrainFactor*float64(m.Trained) && chunks-m.Trained >= 200 {
		kb.startJobLocked(fmt.Sprintf("the corpus grew from %d to %d chunks", m.Trained, chunks))
	}
}

// JobStatus is a re-embed job's progress, for the Knowledge page.
type JobStatus struct {
	Reason     string          `json:"reason"`
	State      schema.JobState `json:"state"`
	From       string          `json:"from"`
	To         string          `json:"to,omitempty"`
	Done       int             `json:"done"`
	Total      int             `json:"total"`
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
}

// Job is a cancellable background re-embed.
type Job struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	st     JobStatus
}

// Status returns a snapshot of the job's progress.
func (j *Job) Status() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st
}

// Cancel stops the job; the active model stays as it was.
func (j *Job) Cancel() { j.cancel() }

// Wait blocks until the job ends.
func (j *Job) Wait() { <-j.done }

func (j *Job) running() bool {
	select {
	case <-j.done:
		return false
	default:
		return true
	}
}

func (j *Job) update(f func(*JobStatus)) {
	j.mu.Lock()
	f(&j.st)
	j.mu.Unlock()
}

// CurrentJob returns the running or last re-embed job, or nil.
func (kb *KnowledgeBase) CurrentJob() *Job {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	return kb.job
}

// Reembed starts a re-embed job now (e.g. from the Knowledge page) and
// returns it; a job already running is returned instead.
func (kb *KnowledgeBase) Reembed(reason string) *Job {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	if kb.job != nil && kb.job.running() {
		return kb.job
	}
	return kb.startJobLocked(reason)
}

func (kb *KnowledgeBase) startJob(reason string) {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	kb.startJobLocked(reason)
}

func (kb *KnowledgeBase) startJobLocked(reason string) *Job {
	if kb.closed {
		// Closing: hand back a job that is already over.
		j := &Job{cancel: func() {}, done: make(chan struct{})}
		close(j.done)
		j.st = JobStatus{Reason: reason, State: schema.JobCancelled, StartedAt: time.Now().UTC(), FinishedAt: time.Now().UTC()}
		return j
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{cancel: cancel, done: make(chan struct{})}
	kb.emu.RLock()
	if kb.model != nil {
		j.st.From = kb.model.ID
	}
	kb.emu.RUnlock()
	j.st.Reason, j.st.State, j.st.StartedAt = reason, schema.JobRunning, time.Now().UTC()
	kb.job = j
	kb.log.Info("re-embed job started", "reason", reason, "from", j.st.From)
	go func() {
		defer close(j.done)
		defer cancel()
		err := kb.reembed(ctx, j)
		j.update(func(s *JobStatus) {
			s.FinishedAt = time.Now().UTC()
			switch {
			case err == nil:
				s.State = schema.JobDone
			case errors.Is(err, context.Canceled):
				s.State = schema.JobCancelled
			default:
				s.State, s.Error = schema.JobFailed, err.Error()
			}
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			kb.log.Error("re-embed job failed", "err", err)
		} else {
			kb.log.Info("re-embed job ended", "state", j.Status().State, "to", j.Status().To)
		}
	}()
	return j
}

// reembed builds a new model's vectors for every chunk beside the active
// ones, then swaps. Ingestion goes on meanwhile with the old model; the
// final catch-up, under the writer lock, embeds what arrived since.
func (kb *KnowledgeBase) reembed(ctx context.Context, j *Job) error {
	var texts []string
	err := kb.st.ForEachChunk(ctx, func(d *store.Document, c *store.Chunk) error {
		texts = append(texts, embedText(d, c))
		return nil
	})
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return errors.New("no chunks to learn from")
	}
	emb, rec, blob, err := kb.newModel(ctx, texts)
	if err != nil {
		return err
	}
	texts = nil
	j.update(func(s *JobStatus) { s.To = rec.ID })
	if err := kb.st.PutEmbedModel(ctx, *rec, blob); err != nil {
		return err
	}
	swapped := false
	defer func() {
		// A cancelled or failed job leaves no half-built vectors behind.
		if !swapped {
			if err := kb.st.DeleteVectorModel(context.WithoutCancel(ctx), rec.ID); err != nil && store.ErrorCode(err) != store.ECONFLICT {
				kb.log.Warn("could not drop an unfinished model's vectors", "model", rec.ID, "err", err)
			}
		}
	}()
	if err := kb.embedMissing(ctx, j, emb, rec.ID); err != nil {
		return err
	}

	kb.mu.Lock()
	defer kb.mu.Unlock()
	if err := kb.embedMissing(ctx, j, emb, rec.ID); err != nil {
		return err
	}
	// Build the new vector index before the swap: nothing can change while
	// kb.mu is held, and once the store has swapped, memory must follow
	// even if the job is cancelled that very moment.
	vecs, err := kb.loadVectors(ctx, rec.ID)
	if err != nil {
		return err
	}
	if err := kb.st.SwapEmbedModel(context.WithoutCancel(ctx), store.Actor{Kind: store.ActorSystem, Name: "re-embed job"}, rec.ID); err != nil {
		return err
	}
	swapped = true
	kb.emu.Lock()
	old := kb.model
	kb.embedder, kb.model, kb.vectors = emb, rec, vecs
	kb.emu.Unlock()
	if old != nil && old.ID != rec.ID {
		if err := kb.st.DeleteVectorModel(context.WithoutCancel(ctx), old.ID); err != nil {
			kb.log.Warn("could not drop the old model's vectors", "model", old.ID, "err", err)
		}
	}
	return nil
}

// embedMissing embeds every chunk that has no vector of model yet.
func (kb *KnowledgeBase) embedMissing(ctx context.Context, j *Job, emb embed.Embedder, model string) error {
	type todo struct {
		id      string
		updated time.Time
		text    string
	}
	var work []todo
	err := kb.st.ForEachChunkVector(ctx, model, func(d *store.Document, c *store.Chunk, vec []float32) error {
		if vec == nil {
			work = append(work, todo{c.ID, d.UpdatedAt, embedText(d, c)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	j.update(func(s *JobStatus) { s.Total = s.Done + len(work) })
	const batch = 512
	for lo := 0; lo < len(work); lo += batch {
		part := work[lo:min(lo+batch, len(work))]
		texts := make([]string, len(part))
		for i, w := range part {
			texts[i] = w.text
		}
		vecs, err := emb.EmbedDocuments(ctx, texts)
		if err != nil {
			return err
		}
		writes := make([]store.VectorWrite, len(part))
		for i, w := range part {
			writes[i] = store.VectorWrite{ChunkID: w.id, DocUpdated: w.updated, Vec: vecs[i]}
		}
		if _, err := kb.st.PutVectors(ctx, model, writes); err != nil {
			return err
		}
		j.update(func(s *JobStatus) { s.Done += len(part) })
	}
	return nil
}

// embedText is what a chunk's vector is made from: its heading path gives
// context a short chunk lacks.
func embedText(d *store.Document, c *store.Chunk) string {
	return index.EntryOf(d, c).Text
}
