// Package server is llmops's HTTP layer and composition root: it opens the
// store, wires rag and evals, and serves the UI and the /api/v1 JSON API
// from one route table. Nothing imports server except main.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"llmops/evals"
	"llmops/rag"
	"llmops/rag/assistant"
	"llmops/rag/llm"
	"llmops/store"
)

// Server is a running llmops instance: store, trace writer and HTTP server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *store.Store
	traces *store.TraceWriter
	kb     *rag.KnowledgeBase
	echo   *echo.Echo
	http   *http.Server
	ln     net.Listener
	mets   *metrics
	now    func() time.Time

	// setupToken guards first-run setup; it is cleared once an admin exists.
	setupMu    sync.Mutex
	setupToken string
	setupDone  atomic.Bool

	loginLimiter *limiter
	widgetLimits widgetLimits
	asst         *assistant.Assistant
	runner       *evals.Runner
	prices       atomic.Pointer[llm.PriceTable]
	ready        atomic.Bool
	served       chan error
}

// New opens the data dir and builds the server. It does not listen yet.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DataDir, store.Options{})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: log, store: st, now: time.Now,
		loginLimiter: newLimiter(5, 20*time.Second),
		served:       make(chan error, 1),
	}
	s.traces = st.NewTraceWriter(store.TraceWriterOptions{Logger: log})
	kbOpts := rag.Options{IndexDir: filepath.Join(cfg.DataDir, "index"), Logger: log}
	if cfg.EmbedBaseURL != "" {
		kbOpts.Remote = &rag.RemoteEmbedding{BaseURL: cfg.EmbedBaseURL, APIKey: cfg.EmbedAPIKey, Model: cfg.EmbedModel}
	}
	if s.kb, err = rag.Open(ctx, st, kbOpts); err != nil {
		s.closeStore(ctx)
		return nil, fmt.Errorf("open knowledge base: %w", err)
	}
	table, _, err := LoadPrices(ctx, st)
	if err != nil {
		s.closeStore(ctx)
		return nil, fmt.Errorf("load prices: %w", err)
	}
	s.prices.Store(table)
	if s.asst, err = NewAssistant(cfg, st, s.kb, s.traces, log, s.prices.Load); err != nil {
		s.closeStore(ctx)
		return nil, err
	}
	if s.runner, err = NewRunner(cfg, st, s.kb, s.asst, log, nil); err != nil {
		s.closeStore(ctx)
		return nil, err
	}
	if err := s.runner.MarkInterrupted(ctx); err != nil {
		s.closeStore(ctx)
		return nil, fmt.Errorf("eval runs: %w", err)
	}
	n, err := st.CountUsers(ctx)
	if err != nil {
		s.closeStore(ctx)
		return nil, fmt.Errorf("count users: %w", err)
	}
	if n == 0 {
		s.setupToken = newToken()
	} else {
		s.setupDone.Store(true)
	}
	if _, err := st.DeleteExpiredSessions(ctx); err != nil {
		log.Warn("could not prune expired sessions", "err", err)
	}
	s.mets = newMetrics(s.traces)
	s.echo = s.newEcho()
	s.http = &http.Server{
		Handler:           s.csrfProtect(s.echo),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // uploads; handlers bound their own work
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: streamed answers may run long; RequestTimeout
		// bounds non-streaming handlers through their context instead.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if !cfg.NoSample {
		loaded, err := s.loadSampleData(ctx)
		if err != nil {
			s.closeStore(ctx)
			return nil, fmt.Errorf("load sample data: %w", err)
		}
		if err := s.startSampleEval(ctx, loaded); err != nil {
			s.closeStore(ctx)
			return nil, fmt.Errorf("sample eval run: %w", err)
		}
	}
	s.ready.Store(true)
	return s, nil
}

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Client addresses (login limits, sessions, audit) come from the TCP
	// connection: X-Forwarded-For is not trusted, it is anyone's to set.
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.RequestID())
	e.Use(s.accessLog)
	e.Use(s.mets.middleware)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic", "request_id", requestID(c), "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(s.limitBody)
	e.Use(s.timeout)
	e.Use(s.authenticate)
	s.registerRoutes(e)
	return e
}

// Listen binds the configured address; use addr 127.0.0.1:0 for a free port.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	go func() { s.served <- s.http.Serve(ln) }()
	return nil
}

// URL is the base URL the server answers on (after Listen).
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// SetupURL is the one-time first-run link, or "" once an admin exists.
func (s *Server) SetupURL() string {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.setupToken == "" {
		return ""
	}
	return s.URL() + "/setup?token=" + s.setupToken
}

// Traces is the group-commit trace writer every feature records through.
func (s *Server) Traces() *store.TraceWriter { return s.traces }

// Run serves until ctx ends, then shuts down gracefully: stop accepting,
// drain in-flight requests, flush queued traces, close the store.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			s.closeStore(context.Background())
			return err
		}
	}
	watchDone := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() {
		defer close(watchDone)
		if s.cfg.WatchDir != "" {
			s.watchFolder(watchCtx)
		}
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.served:
	}
	stopWatch()
	<-watchDone // an ingest in progress finishes before the store closes
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, s.Shutdown(shutdownCtx))
}

// Shutdown stops the server; Run calls it when its context ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain requests: %w", err))
	}
	errs = append(errs, s.closeStore(ctx))
	return errors.Join(errs...)
}

func (s *Server) closeStore(ctx context.Context) error {
	var errs []error
	if s.runner != nil {
		s.runner.Close() // running evals save their progress as cancelled
	}
	if s.kb != nil {
		if err := s.kb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close knowledge base: %w", err))
		}
	}
	if s.traces != nil {
		if err := s.traces.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}
