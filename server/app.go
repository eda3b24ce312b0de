package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"llmops/evals"
	"llmops/rag"
	"llmops/rag/assistant"
	"llmops/rag/guard"
	"llmops/rag/guard/injection"
	"llmops/rag/judge"
	"llmops/rag/llm"
	"llmops/rag/prompt"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/tracesearch"
)

// App is llmops without its HTTP server: the store, the knowledge base,
// the trace writer, the price table, the assistant and the eval runner,
// built in that order from one validated Config. It is the one
// composition root: serve, ask, eval run, ingest, reindex and every bench
// open an App, so a setting means the same thing in each of them.
type App struct {
	Config    Config
	Log       *slog.Logger
	Store     *store.Store
	Knowledge *rag.KnowledgeBase
	Traces    *store.TraceWriter
	// TraceSearch is the full-text index of traces (question and
	// answer), fed by the trace writer's commits.
	TraceSearch *tracesearch.Index
	Assistant   *assistant.Assistant
	Runner      *evals.Runner
	Prompts     *prompt.Registry
	// Guardrails are the assistant's input and output guards, configured
	// on the Guardrails page (the "guardrails" setting).
	Guardrails *guard.Guardrails

	prices atomic.Pointer[llm.PriceTable]

	closeOnce sync.Once
	closeErr  error
}

// AppOptions are what differs between the commands that open an App.
type AppOptions struct {
	// RunProgress sees every saved step of an eval run (the CLI prints
	// it); it must not block.
	RunProgress func(store.EvalRun)
	// AfterCommit runs after each knowledge-base store commit, before the
	// indexes see it (rag.Options.AfterCommit); the crash test stalls
	// there. Nil in the shipped commands.
	AfterCommit func()
	// Now is the clock of the store and the server (time.Now when nil);
	// tests move it to expire sessions and links.
	Now func() time.Time
}

// OpenApp opens cfg.DataDir and wires everything on it. Close releases it.
func OpenApp(ctx context.Context, cfg Config, log *slog.Logger, opts AppOptions) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DataDir, store.Options{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Store: st}
	if a.TraceSearch, err = tracesearch.Open(ctx, filepath.Join(cfg.DataDir, "tracesearch"), st, log); err != nil {
		return nil, errors.Join(fmt.Errorf("open trace search index: %w", err), st.Close())
	}
	a.Traces = st.NewTraceWriter(store.TraceWriterOptions{Logger: log, Committed: a.TraceSearch.Add})
	if err := a.wire(ctx, opts); err != nil {
		return nil, errors.Join(err, a.Close(context.WithoutCancel(ctx)))
	}
	return a, nil
}

func (a *App) wire(ctx context.Context, opts AppOptions) error {
	cfg := a.Config
	// Guardrails first: ingestion asks them whether to redact documents.
	guards, err := a.newGuardrails(ctx)
	if err != nil {
		return err
	}
	a.Guardrails = guards
	kbOpts := rag.Options{IndexDir: filepath.Join(cfg.DataDir, "index"), Logger: a.Log, AfterCommit: opts.AfterCommit,
		RedactPII: func() bool { return guards.Config().RedactDocuments }}
	if cfg.EmbedBaseURL != "" {
		kbOpts.Remote = &rag.RemoteEmbedding{BaseURL: cfg.EmbedBaseURL, APIKey: cfg.EmbedAPIKey, Model: cfg.EmbedModel}
	}
	if a.Knowledge, err = rag.Open(ctx, a.Store, kbOpts); err != nil {
		return fmt.Errorf("open knowledge base: %w", err)
	}
	table, _, err := loadPrices(ctx, a.Store)
	if err != nil {
		return fmt.Errorf("load prices: %w", err)
	}
	a.prices.Store(table)
	a.Prompts = prompt.New(a.Store, a.gateCheck)
	if err := a.Prompts.Seed(ctx); err != nil {
		return err
	}
	if a.Assistant, err = a.newAssistant(); err != nil {
		return err
	}
	if a.Runner, err = a.newRunner(opts.RunProgress); err != nil {
		return err
	}
	// No other process holds the data dir, so a run saved as running was
	// left by one that stopped.
	if err := a.Runner.MarkInterrupted(ctx); err != nil {
		return fmt.Errorf("eval runs: %w", err)
	}
	return nil
}

// gateCheck is the prompt registry's eval gate (evals.CheckGate).
func (a *App) gateCheck(ctx context.Context, p *store.Prompt, version int) error {
	return evals.GateError(ctx, a.Store, p, version)
}

// Prices is the price table in use.
func (a *App) Prices() *llm.PriceTable { return a.prices.Load() }

// setPrices starts using a new price table (Settings → Models & prices).
func (a *App) setPrices(t *llm.PriceTable) { a.prices.Store(t) }

// newAssistant wires the answer path: hybrid retrieval over the knowledge
// base, the configured answerer (a chat model when LLMOPS_LLM_BASE_URL is
// set, else the extractive one), groundedness with the embedder and, when
// LLMOPS_JUDGE_MODEL is set, a model judge.
func (a *App) newAssistant() (*assistant.Assistant, error) {
	cfg := a.Config
	threshold := cfg.Threshold
	opts := assistant.Options{
		Retriever:     retrieve.New(a.Knowledge, retrieve.Options{}),
		Embed:         a.Knowledge.EmbedTexts,
		Threshold:     &threshold,
		TopK:          cfg.TopK,
		Traces:        a.Traces,
		Conversations: a.Store,
		Logger:        a.Log,
		Prompts:       a.Prompts,
		Label:         cfg.Env,
		Guardrails:    a.Guardrails,
	}
	if cfg.LLMBaseURL != "" {
		c, err := llm.New(llm.Options{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, Model: cfg.LLMModel})
		if err != nil {
			return nil, err
		}
		opts.Answerer = &assistant.ChatAnswerer{Client: c, Prices: a.Prices}
	}
	if cfg.JudgeModel != "" {
		j, err := judgeClient(cfg)
		if err != nil {
			return nil, err
		}
		opts.Judge = judge.New(j, nil).WithRenderer(a.Prompts.JudgeRenderer(cfg.Env)).Support
	}
	return assistant.New(opts)
}

// newGuardrails loads the stored guardrails configuration (the defaults
// on a new install) with the trained injection classifier
// (rag/guard/injection, whose features include guard.Check's rules) and,
// when LLMOPS_MODERATION_BASE_URL is set, the moderation endpoint.
func (a *App) newGuardrails(ctx context.Context) (*guard.Guardrails, error) {
	cfg := guard.DefaultConfig()
	if _, err := a.Store.Setting(ctx, store.SettingGuardrails, &cfg); err != nil {
		return nil, fmt.Errorf("load guardrails: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("stored guardrails: %w", err)
	}
	var mod guard.Moderator
	if c := a.Config; c.ModerationBaseURL != "" {
		m, err := guard.NewOpenAIModerator(c.ModerationBaseURL, c.ModerationAPIKey, c.ModerationModel)
		if err != nil {
			return nil, err
		}
		mod = m
	}
	return guard.New(cfg, injection.Default(), mod), nil
}

// newRunner wires the eval runner to the same answer path, the knowledge
// base's embedder and, with LLMOPS_JUDGE_MODEL, a judge whose verdicts are
// cached in the store. progress (may be nil) sees each saved step of a run.
func (a *App) newRunner(progress func(store.EvalRun)) (*evals.Runner, error) {
	cfg := a.Config
	opts := evals.Options{Store: a.Store, Assistant: a.Assistant, Embed: a.Knowledge.EmbedTexts, Answerer: "extractive",
		Logger: a.Log, Progress: progress, Prompt: prompt.SupportAnswer + ":" + cfg.Env, Prompts: a.Prompts}
	if cfg.LLMBaseURL != "" {
		opts.Answerer, opts.Model = "model", cfg.LLMModel
	}
	if cfg.JudgeModel != "" {
		c, err := judgeClient(cfg)
		if err != nil {
			return nil, err
		}
		opts.Judge = judge.New(c, a.Store).WithRenderer(a.Prompts.JudgeRenderer(cfg.Env))
	}
	return evals.New(opts), nil
}

// flushGrace is the least time Close gives queued traces to reach the
// store, even when the caller's own deadline has passed.
const flushGrace = 5 * time.Second

// judgeClient is the client of the judge model (LLMOPS_JUDGE_MODEL) on
// the chat model's server.
func judgeClient(cfg Config) (*llm.Client, error) {
	return llm.New(llm.Options{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, Model: cfg.JudgeModel})
}

// loadPrices reads the price table: the defaults with the team's own
// prices (Settings → Models) laid over them.
func loadPrices(ctx context.Context, st *store.Store) (*llm.PriceTable, []llm.Price, error) {
	var own []llm.Price
	if _, err := st.Setting(ctx, store.SettingPrices, &own); err != nil {
		return nil, nil, err
	}
	return llm.NewPriceTable(append(llm.DefaultPrices(), own...)), own, nil
}

// Close stops what runs in the background and closes in order: eval runs
// save their progress as cancelled (their last case traces are queued),
// queued traces are flushed, the knowledge base stops its re-embed job and
// closes its indexes, then the store closes. The flush waits at most
// flushGrace past ctx's end; what it could not write is counted as
// dropped on /metrics and reported here.
// Calls after the first return its result.
func (a *App) Close(ctx context.Context) error {
	a.closeOnce.Do(func() { a.closeErr = a.close(ctx) })
	return a.closeErr
}

func (a *App) close(ctx context.Context) error {
	var errs []error
	if a.Runner != nil {
		a.Runner.Close()
	}
	if a.Traces != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushGrace)
		if d, ok := ctx.Deadline(); ok && time.Until(d) > flushGrace {
			fctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), d)
		}
		err := a.Traces.Close(fctx)
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	if a.TraceSearch != nil {
		if err := a.TraceSearch.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close trace search index: %w", err))
		}
	}
	if a.Knowledge != nil {
		if err := a.Knowledge.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close knowledge base: %w", err))
		}
	}
	if err := a.Store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}
