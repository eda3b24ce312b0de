// Package server is llmops's HTTP layer and composition root: it opens the
// store, wires rag and evals, and serves the UI and the /api/v1 JSON API
// from one route table. Only the CLI (server/cli) and the load tests
// (server/loadtest) import it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"llmops/evals"
	"llmops/rag"
	"llmops/rag/assistant"
	"llmops/store"
)

// Server is a running llmops instance: the App behind an HTTP server.
type Server struct {
	cfg Config
	log *slog.Logger
	app *App
	// Shorthands for the App's parts, which every handler uses.
	store  *store.Store
	traces *store.TraceWriter
	kb     *rag.KnowledgeBase
	asst   *assistant.Assistant
	runner *evals.Runner

	echo       *echo.Echo
	http       *http.Server
	ln         net.Listener
	mets       *metrics
	now        func() time.Time
	monitoring // budgets, alerts, OTLP export (alerts.go)

	// setupToken guards first-run setup; it is cleared once an admin exists.
	setupMu    sync.Mutex
	setupToken string
	setupDone  atomic.Bool

	props        map[string]routeProps // "METHOD /path" → the route's limits
	public       map[string]bool       // "METHOD /path" of routes that need no role
	loginLimiter *limiter
	askLimiter   *limiter // nil: asks are unlimited
	widgetLimits widgetLimits
	ready        atomic.Bool
	served       chan error

	// base is every request's parent context (http.Server.BaseContext);
	// stopBase cancels it once the drain is over. streams ends streamed
	// answers when shutdown begins: they would otherwise hold the drain
	// until its deadline. inflight counts running handlers, so the store
	// closes only after the last one returned.
	base        context.Context
	stopBase    context.CancelCauseFunc
	streams     context.Context
	stopStreams context.CancelCauseFunc
	inflight    sync.WaitGroup
	stopMu      sync.Mutex // guards stopping and inflight.Add against Wait
	stopping    bool

	shutdownOnce sync.Once
	shutdownErr  error
}

// errStopping is the cause of the contexts shutdown cancels.
var errStopping = errors.New("the server is stopping")

// New opens the data dir and builds the server. It does not listen yet.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	return newServer(ctx, cfg, log, AppOptions{})
}

// newServer is New with App options (tests give a clock).
func newServer(ctx context.Context, cfg Config, log *slog.Logger, opts AppOptions) (*Server, error) {
	app, err := OpenApp(ctx, cfg, log, opts)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	s := &Server{
		cfg: cfg, log: log, app: app, now: now,
		store: app.Store, traces: app.Traces, kb: app.Knowledge, asst: app.Assistant, runner: app.Runner,
		loginLimiter: newLimiter(5, 20*time.Second),
		askLimiter:   newAskLimiter(cfg.AskRate),
		served:       make(chan error, 1),
	}
	s.base, s.stopBase = context.WithCancelCause(context.Background())
	s.streams, s.stopStreams = context.WithCancelCause(context.Background())
	if err := s.init(ctx); err != nil {
		s.stopBase(errStopping)
		s.stopStreams(errStopping)
		return nil, errors.Join(err, app.Close(context.WithoutCancel(ctx)))
	}
	s.ready.Store(true)
	return s, nil
}

func (s *Server) init(ctx context.Context) error {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n == 0 {
		s.setupToken = newToken()
	} else {
		s.setupDone.Store(true)
	}
	if _, err := s.store.DeleteExpiredSessions(ctx, s.cfg.SessionIdle); err != nil {
		s.log.Warn("could not prune expired sessions", "err", err)
	}
	s.mets = newMetrics(s.traces)
	s.echo = s.newEcho()
	s.http = &http.Server{
		Handler:           s.csrfProtect(s.echo),
		ReadHeaderTimeout: readHeaderTimeout,
		// Bodies get their own deadline per route (bodyDeadline); this
		// one covers requests answered before it runs.
		ReadTimeout: readHeaderTimeout + s.cfg.BodyTimeout,
		IdleTimeout: 2 * time.Minute,
		// No WriteTimeout: streamed answers may run long; a route's
		// deadline bounds non-streaming handlers through their context.
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return s.base },
	}
	if !s.cfg.NoSample {
		loaded, err := s.loadSampleData(ctx)
		if err != nil {
			return fmt.Errorf("load sample data: %w", err)
		}
		if err := s.startSampleEval(ctx, loaded); err != nil {
			return fmt.Errorf("sample eval run: %w", err)
		}
	}
	return s.startMonitoring(ctx)
}

// readHeaderTimeout is how long a client may take to send a request's
// headers.
const readHeaderTimeout = 10 * time.Second

// App is the application the server serves (tests and load tests reach
// the store and the trace writer through it).
func (s *Server) App() *App { return s.app }

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(securityHeaders)
	e.Use(s.track)
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
	e.Use(s.bodyDeadline) // after authenticate: only editors get the long upload deadline
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

// Run serves until ctx ends, then shuts down gracefully (see Shutdown).
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return errors.Join(err, s.Shutdown(context.Background()))
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
	retainDone := make(chan struct{})
	go func() { defer close(retainDone); s.retain(watchCtx) }()
	releaseDone := make(chan struct{})
	go func() { defer close(releaseDone); s.releaseMapped(watchCtx) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.served:
	}
	stopWatch()
	<-watchDone // an ingest in progress finishes before the store closes
	<-retainDone
	<-releaseDone
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, s.Shutdown(shutdownCtx))
}

// Shutdown stops the server in order: /readyz fails, streamed answers end
// with an error event saying the server is stopping, the listener closes
// and in-flight requests drain (until ctx ends), whatever still runs is
// cancelled and waited for, then the App closes: eval runs, indexes, the
// trace writer's flush, bbolt.
// Calls after the first return its result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.ready.Store(false)
	s.http.SetKeepAlivesEnabled(false)
	s.stopStreams(errStopping)
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain requests: %w", err))
	}
	s.stopBase(errStopping)
	// From here no handler starts (track answers 503), so Wait cannot race
	// with Add.
	s.stopMu.Lock()
	s.stopping = true
	s.stopMu.Unlock()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(handlerGrace):
		errs = append(errs, errors.New("handlers still running after shutdown; closing the store under them"))
	}
	s.stopMonitoring(ctx)
	errs = append(errs, s.app.Close(ctx))
	return errors.Join(errs...)
}

// handlerGrace is how long Shutdown waits for cancelled handlers to return.
const handlerGrace = 5 * time.Second

// track counts the handler as in flight until it returns; once shutdown
// waits for the last one, a request that still arrives (on a connection
// the drain gave up on) gets 503 and never reaches the closing store.
func (s *Server) track(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.stopMu.Lock()
		if s.stopping {
			s.stopMu.Unlock()
			return store.Errorf(store.EUNAVAILABLE, "the server is stopping")
		}
		s.inflight.Add(1)
		s.stopMu.Unlock()
		defer s.inflight.Done()
		return next(c)
	}
}
