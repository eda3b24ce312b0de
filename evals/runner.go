package evals

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"llmops/rag/assistant"
	"llmops/rag/judge"
	"llmops/rag/prompt"
	"llmops/store"
	"llmops/store/schema"
)

// Asker answers one question through the real pipeline;
// *assistant.Assistant is one.
type Asker interface {
	Ask(ctx context.Context, req assistant.Request, emit func(assistant.Event) error) (*assistant.Result, error)
	// Threshold and TopK are the answer path's groundedness threshold
	// (recorded on every run) and its default chunks per answer.
	Threshold() float64
	TopK() int
}

// Options wire a Runner. Store and Assistant are required.
type Options struct {
	Store     *store.Store
	Assistant Asker
	// Embed embeds texts with the knowledge base's embedder, for answer
	// relevancy and answer similarity; nil leaves those out.
	Embed func(ctx context.Context, texts []string) ([][]float32, error)
	// Judge scores the LLM-judge metrics; nil leaves them out.
	Judge *judge.Judge
	// Answerer, Model and Prompt describe what answers, for the run record;
	// Prompt is the default of RunSettings.Prompt ("support-answer:production").
	Answerer, Model, Prompt string
	// Prompts resolves RunSettings.Prompt: a run at support-answer@4
	// answers every case with that version, one at support-answer:staging
	// with the label's. Nil: runs answer as the assistant does.
	Prompts *prompt.Registry
	Logger  *slog.Logger
	// Progress, when set, sees the run after every save (the CLI prints
	// it); it must not block.
	Progress func(run store.EvalRun)
}

// Runner executes eval runs: every case of a test set version through
// Assistant.Ask with bounded concurrency, metrics per case, results saved
// in batches with the run's progress. Runs can be cancelled and resumed.
type Runner struct {
	opts   Options
	mu     sync.Mutex
	active map[string]context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

// Defaults.
const (
	DefaultConcurrency = 4
	MaxConcurrency     = 32
	// rankDepth is how deep retrieval is ranked for @10 metrics; the
	// answerer still sees only TopK.
	rankDepth = 10
	// saveEvery bounds how many results wait for a commit, and saveAfter
	// how long; a run's progress is at most that stale.
	saveEvery = 100
	saveAfter = 250 * time.Millisecond
	// judgeFailFloor is how many judged cases it takes before a judge
	// that fails on more than half of them stops the run.
	judgeFailFloor = 10
)

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{opts: opts, active: map[string]context.CancelFunc{}}
}

// HasJudge reports whether runs score the LLM-judge metrics.
func (r *Runner) HasJudge() bool { return r.opts.Judge != nil }

// JudgeModel is the judge model, "" without one.
func (r *Runner) JudgeModel() string {
	if r.opts.Judge == nil {
		return ""
	}
	return r.opts.Judge.Model()
}

// Answerer describes what answers in runs.
func (r *Runner) Answerer() string { return r.opts.Answerer }

// Create stores a queued run of version (0: latest) of set (ID or name).
func (r *Runner) Create(ctx context.Context, actor store.Actor, set string, version int, name string, s store.RunSettings) (*store.EvalRun, error) {
	ts, err := r.opts.Store.TestSet(ctx, set)
	if err != nil {
		return nil, err
	}
	v, err := r.opts.Store.TestSetVersion(ctx, ts.ID, version)
	if err != nil {
		return nil, err
	}
	if err := r.settle(&s); err != nil {
		return nil, err
	}
	run := &store.EvalRun{Name: name, SetID: ts.ID, SetName: ts.Name, SetVersion: v.Version, Settings: s, Total: len(v.Cases),
		Metrics: map[string]float64{}, Counts: map[string]int{}}
	if err := r.opts.Store.CreateRun(ctx, actor, run); err != nil {
		return nil, err
	}
	return run, nil
}

// settle validates settings and fills defaults and what answers.
func (r *Runner) settle(s *store.RunSettings) error {
	// A pinned prompt version's config is the run's default retrieval.
	pinned, err := r.settlePrompt(s)
	if err != nil {
		return err
	}
	if pinned != nil {
		cfg := pinned.Config()
		s.Mode = cmp.Or(s.Mode, cfg.RetrievalMode)
		s.TopK = cmp.Or(s.TopK, cfg.TopK)
		if cfg.Rerank != nil && !*cfg.Rerank {
			s.NoRerank = true
		}
	}
	switch s.Mode {
	case "":
		s.Mode = "hybrid"
	case "hybrid", "keyword", "vector":
	default:
		return store.Errorf(store.EINVALID, "mode must be hybrid, keyword or vector (got %q)", s.Mode)
	}
	if s.TopK == 0 {
		s.TopK = cmp.Or(r.opts.Assistant.TopK(), assistant.DefaultTopK)
	}
	if s.TopK < 1 || s.TopK > assistant.MaxTopK {
		return store.Errorf(store.EINVALID, "top_k must be 1 to %d (got %d)", assistant.MaxTopK, s.TopK)
	}
	if s.Concurrency == 0 {
		s.Concurrency = min(MaxConcurrency, max(DefaultConcurrency, runtime.NumCPU()))
	}
	if s.Concurrency < 1 || s.Concurrency > MaxConcurrency {
		return store.Errorf(store.EINVALID, "concurrency must be 1 to %d (got %d)", MaxConcurrency, s.Concurrency)
	}
	s.Answerer, s.Model = r.opts.Answerer, r.opts.Model
	threshold := r.opts.Assistant.Threshold()
	if pinned != nil && pinned.Config().GroundednessThreshold != nil {
		threshold = *pinned.Config().GroundednessThreshold
	}
	s.Threshold = &threshold
	s.Judge = r.JudgeModel()
	return nil
}

// Start runs run in the background; Cancel stops it. The run is saved
// as running before Start returns, so a page shown next says so.
func (r *Runner) Start(run *store.EvalRun) error {
	ctx, err := r.register(run.ID)
	if err != nil {
		return err
	}
	run.Status, run.Error = schema.RunRunning, ""
	if run.StartedAt.IsZero() {
		run.StartedAt = time.Now().UTC()
	}
	if err := r.opts.Store.SaveRunProgress(context.Background(), run, nil); err != nil {
		r.unregister(run.ID)
		r.wg.Done()
		return err
	}
	// The goroutine owns a copy: the caller may still read (encode) run.
	own := *run
	go func() {
		defer r.wg.Done()
		defer r.unregister(own.ID)
		if err := r.execute(ctx, &own); err != nil {
			r.opts.Logger.Warn("eval run ended with an error", "run", own.ID, "err", err)
		}
	}()
	return nil
}

// Execute runs run in the caller's goroutine until it finishes, fails or
// ctx ends (then the run is saved as cancelled).
func (r *Runner) Execute(ctx context.Context, run *store.EvalRun) error {
	rctx, err := r.register(run.ID)
	if err != nil {
		return err
	}
	defer r.wg.Done()
	defer r.unregister(run.ID)
	stop := context.AfterFunc(ctx, func() { r.Cancel(run.ID) })
	defer stop()
	return r.execute(rctx, run)
}

func (r *Runner) register(id string) (context.Context, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, store.Errorf(store.EUNAVAILABLE, "the eval runner is shutting down")
	}
	if _, ok := r.active[id]; ok {
		return nil, store.Errorf(store.ECONFLICT, "eval run %s is already running", id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.active[id] = cancel
	r.wg.Add(1)
	return ctx, nil
}

func (r *Runner) unregister(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cancel, ok := r.active[id]; ok {
		cancel()
		delete(r.active, id)
	}
}

// Cancel stops a running run; its finished cases are kept. It reports
// whether the run was running here.
func (r *Runner) Cancel(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	cancel, ok := r.active[id]
	if ok {
		cancel()
	}
	return ok
}

// Running reports whether run id is executing in this process.
func (r *Runner) Running(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.active[id]
	return ok
}

// Resume restarts a stopped run from its first case without a result.
func (r *Runner) Resume(ctx context.Context, id string) (*store.EvalRun, error) {
	run, err := r.opts.Store.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Running(id) {
		return nil, store.Errorf(store.ECONFLICT, "eval run %s is already running", id)
	}
	if run.Status == schema.RunDone && run.Errors == 0 {
		return nil, store.Errorf(store.ECONFLICT, "eval run %s is finished", id)
	}
	// The rest of the cases must be answered and judged as the first were.
	s := run.Settings
	if s.Answerer != r.opts.Answerer || s.Model != r.opts.Model || s.Judge != r.JudgeModel() {
		return nil, store.Errorf(store.ECONFLICT, "eval run %s was answered by %s and judged by %s; this server uses %s and %s: start a new run instead",
			id, describe(s.Answerer, s.Model), orNone(s.Judge), describe(r.opts.Answerer, r.opts.Model), orNone(r.JudgeModel()))
	}
	t := r.opts.Assistant.Threshold()
	if v, err := r.pinnedPrompt(ctx, s.Prompt); err == nil && v != nil && v.Config().GroundednessThreshold != nil {
		t = *v.Config().GroundednessThreshold
	}
	if s.Threshold != nil && *s.Threshold != t {
		return nil, store.Errorf(store.ECONFLICT, "eval run %s ran with groundedness threshold %v; this server uses %v: start a new run instead",
			id, *s.Threshold, t)
	}
	if err := r.Start(run); err != nil {
		return nil, err
	}
	return run, nil
}

func describe(answerer, model string) string {
	if model != "" {
		return model
	}
	return answerer
}

func orNone(s string) string {
	if s == "" {
		return "no judge"
	}
	return s
}

// Close cancels every active run and waits for them to save.
func (r *Runner) Close() {
	r.mu.Lock()
	r.closed = true
	for _, cancel := range r.active {
		cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// MarkInterrupted marks runs a stopped process left "running" or
// "queued" as cancelled, so they can be resumed.
func (r *Runner) MarkInterrupted(ctx context.Context) error {
	runs, err := r.opts.Store.Runs(ctx, "", 0)
	if err != nil {
		return err
	}
	for i := range runs {
		run := &runs[i]
		if run.Finished() || r.Running(run.ID) {
			continue
		}
		run.Status = schema.RunCancelled
		run.Error = "interrupted when llmops stopped; resume it to finish the remaining cases"
		run.EndedAt = time.Now().UTC()
		if err := r.opts.Store.SaveRunProgress(ctx, run, nil); err != nil {
			return err
		}
	}
	return nil
}

// execute runs the cases of run that have no result yet.
func (r *Runner) execute(ctx context.Context, run *store.EvalRun) error {
	st := r.opts.Store
	bg := context.WithoutCancel(ctx)
	version, err := st.TestSetVersion(bg, run.SetID, run.SetVersion)
	if err != nil {
		return r.fail(bg, run, err)
	}
	done, err := st.CaseResults(bg, run.ID)
	if err != nil {
		return r.fail(bg, run, err)
	}
	refs, err := newResolver(bg, st)
	if err != nil {
		return r.fail(bg, run, err)
	}
	// Cases that failed are run again (a resumed run after an outage);
	// their new result replaces the old one.
	var kept []store.CaseResult
	finished := make(map[int]bool, len(done))
	for _, d := range done {
		if d.Error == "" {
			kept = append(kept, d)
			finished[d.Index] = true
		}
	}
	agg := newAggregate(kept)
	run.Total = len(version.Cases)
	run.Status, run.Error = schema.RunRunning, ""
	if run.StartedAt.IsZero() {
		run.StartedAt = time.Now().UTC()
	}
	run.EndedAt = time.Time{}
	agg.fill(run)
	run.Warnings = refs.warnings(version.Cases)
	if err := st.SaveRunProgress(bg, run, nil); err != nil {
		return r.fail(bg, run, err)
	}

	// Workers take case indexes and send results to the saver below.
	jobs := make(chan int)
	results := make(chan store.CaseResult, saveEvery)
	var judgeStop error
	var judgeMu sync.Mutex
	var judged, judgeFailed int
	ctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var wg sync.WaitGroup
	for range run.Settings.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res := r.runCase(ctx, run, i, version.Cases[i], refs)
				if res.cancelled || ctx.Err() != nil {
					return // cancelled mid-case: no result, resume redoes it
				}
				if r.opts.Judge != nil && res.judged {
					judgeMu.Lock()
					judged++
					if res.JudgeError != "" {
						judgeFailed++
						if judged >= judgeFailFloor && judgeFailed*2 > judged && judgeStop == nil {
							judgeStop = fmt.Errorf("the judge model %s failed on %d of %d judged cases (last: %s)", r.JudgeModel(), judgeFailed, judged, res.JudgeError)
							stopAll()
						}
					}
					judgeMu.Unlock()
				}
				results <- res.CaseResult
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range version.Cases {
			if finished[i] {
				continue
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	var batch []store.CaseResult
	var saveErr error
	flush := func() {
		if len(batch) == 0 || saveErr != nil {
			return
		}
		agg.fill(run)
		if err := st.SaveRunProgress(bg, run, batch); err != nil {
			saveErr = err
			stopAll()
		}
		batch = batch[:0]
		if r.opts.Progress != nil {
			r.opts.Progress(*run)
		}
	}
	tick := time.NewTicker(saveAfter)
	defer tick.Stop()
loop:
	for {
		select {
		case res, ok := <-results:
			if !ok {
				break loop
			}
			agg.add(res)
			batch = append(batch, res)
			if len(batch) >= saveEvery {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
	flush()
	if saveErr != nil {
		// The counters already hold the batch that was not stored: count
		// what was.
		if stored, err := st.CaseResults(bg, run.ID); err == nil {
			newAggregate(stored).fill(run)
		}
		return r.fail(bg, run, saveErr)
	}

	run.EndedAt = time.Now().UTC()
	agg.fill(run)
	switch {
	case judgeStop != nil:
		run.Status, run.Error = schema.RunJudgeFailed, judgeStop.Error()+"; finished cases are kept"
	case ctx.Err() != nil && run.Done < run.Total:
		run.Status, run.Error = schema.RunCancelled, fmt.Sprintf("cancelled after %d of %d cases; resume it to finish the rest", run.Done, run.Total)
	case run.Total > 0 && run.Errors == run.Total:
		run.Status, run.Error = schema.RunFailed, "every case failed: "+agg.lastError
	default:
		run.Status = schema.RunDone
	}
	return st.SaveRunProgress(bg, run, nil)
}

// fail records that run stopped on err.
func (r *Runner) fail(ctx context.Context, run *store.EvalRun, err error) error {
	run.Status, run.Error, run.EndedAt = schema.RunFailed, err.Error(), time.Now().UTC()
	if serr := r.opts.Store.SaveRunProgress(ctx, run, nil); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// aggregate keeps the running sums of a run's metrics.
type aggregate struct {
	sums      map[string]float64
	counts    map[string]int
	done      int
	errors    int
	cost      float64
	latency   int64
	lastError string
}

func newAggregate(done []store.CaseResult) *aggregate {
	a := &aggregate{sums: map[string]float64{}, counts: map[string]int{}}
	for _, d := range done {
		a.add(d)
	}
	return a
}

func (a *aggregate) add(r store.CaseResult) {
	a.done++
	if r.Error != "" {
		a.errors++
		a.lastError = r.Error
	}
	a.cost += r.CostUSD
	a.latency += r.LatencyMS
	for k, v := range r.Metrics {
		a.sums[k] += v
		a.counts[k]++
	}
}

func (a *aggregate) fill(run *store.EvalRun) {
	run.Done, run.Errors, run.CostUSD, run.LatencyMS = a.done, a.errors, a.cost, a.latency
	run.Metrics = make(map[string]float64, len(a.sums))
	run.Counts = make(map[string]int, len(a.counts))
	for k, s := range a.sums {
		run.Metrics[k] = s / float64(a.counts[k])
		run.Counts[k] = a.counts[k]
	}
}
