package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything llmops serve is told at start-up: flags first, then
// LLMOPS_* environment variables, then defaults. It is validated once and
// passed to constructors; no package reads the environment by itself.
type Config struct {
	Addr     string // listen address, LLMOPS_ADDR
	DataDir  string // data directory, LLMOPS_DATA
	NoSample bool   // do not load sample-data/ into an empty data dir

	// Model endpoints; empty means the embedded offline defaults.
	LLMBaseURL   string
	LLMAPIKey    string
	LLMModel     string
	JudgeModel   string // groundedness judge on the LLM endpoint; empty: offline scoring only
	EmbedBaseURL string
	EmbedAPIKey  string
	EmbedModel   string

	MaxBodyBytes    int64         // largest JSON/form request body; LLMOPS_MAX_BODY
	MaxUploadBytes  int64         // largest document upload request; LLMOPS_MAX_UPLOAD
	WatchDir        string        // folder re-ingested when its files change; LLMOPS_WATCH
	WatchInterval   time.Duration // how often the watched folder is scanned
	StaleAfter      time.Duration // documents not updated for this long are flagged stale
	RequestTimeout  time.Duration // per-request deadline for non-streaming handlers
	ShutdownTimeout time.Duration // drain time on stop
	SessionTTL      time.Duration
	// KeepAlive is the longest a streamed answer stays silent: a comment
	// line goes out when nothing else has (proxies drop idle streams).
	KeepAlive time.Duration
	// Threshold is the groundedness below which answers fall back.
	Threshold float64
	// SecureCookies forces the Secure flag on session cookies; it is also
	// set per request when the request arrived over TLS.
	SecureCookies bool
	LogLevel      string
}

// DefaultConfig returns the defaults llmops serve uses.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./llmops-data",
		MaxBodyBytes:    1 << 20,
		MaxUploadBytes:  100 << 20,
		WatchInterval:   5 * time.Second,
		StaleAfter:      180 * 24 * time.Hour,
		RequestTimeout:  60 * time.Second,
		ShutdownTimeout: 10 * time.Second,
		SessionTTL:      14 * 24 * time.Hour,
		KeepAlive:       10 * time.Second,
		Threshold:       0.6,
		LogLevel:        "info",
	}
}

// ErrHelp is returned by ParseServeFlags for -h/--help after printing usage.
var ErrHelp = flag.ErrHelp

// ParseServeFlags fills a Config from llmops serve's arguments and the
// environment (getenv), and validates it. Errors are one line, fit to print
// before exiting with status 2.
func ParseServeFlags(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := DefaultConfig()
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var envErr error
	envBool := func(name string, def bool) bool {
		v := getenv(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil && envErr == nil {
			envErr = fmt.Errorf("%s=%q: want true or false", name, v)
		}
		return b
	}
	fs := flag.NewFlagSet("llmops serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by the caller
	fs.StringVar(&cfg.Addr, "addr", env("LLMOPS_ADDR", cfg.Addr), "listen address (LLMOPS_ADDR)")
	fs.StringVar(&cfg.DataDir, "data", env("LLMOPS_DATA", cfg.DataDir), "data directory (LLMOPS_DATA)")
	fs.BoolVar(&cfg.NoSample, "no-sample", envBool("LLMOPS_NO_SAMPLE", false), "do not load sample data into an empty data dir")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", envBool("LLMOPS_SECURE_COOKIES", false), "always mark session cookies Secure (behind a TLS proxy)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("LLMOPS_LOG_LEVEL", cfg.LogLevel), "debug, info, warn or error")
	maxBody := fs.String("max-body", env("LLMOPS_MAX_BODY", "1MiB"), "largest JSON or form request body (LLMOPS_MAX_BODY)")
	maxUpload := fs.String("max-upload", env("LLMOPS_MAX_UPLOAD", "100MiB"), "largest document upload request (LLMOPS_MAX_UPLOAD)")
	fs.StringVar(&cfg.WatchDir, "watch", env("LLMOPS_WATCH", ""), "folder whose files are ingested and kept fresh (LLMOPS_WATCH)")
	fs.DurationVar(&cfg.WatchInterval, "watch-interval", cfg.WatchInterval, "how often --watch scans the folder")
	staleDays := fs.Int("stale-after-days", 180, "flag documents not updated for this many days as stale")
	fs.Float64Var(&cfg.Threshold, "groundedness-threshold", cfg.Threshold, "answers less grounded than this (0..1) fall back and are escalated")
	readModelEnv(&cfg, getenv)
	cfg.EmbedBaseURL = getenv("LLMOPS_EMBED_BASE_URL")
	cfg.EmbedAPIKey = getenv("LLMOPS_EMBED_API_KEY")
	cfg.EmbedModel = getenv("LLMOPS_EMBED_MODEL")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "Usage: llmops serve [flags]")
			fs.SetOutput(usage)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	if envErr != nil {
		return cfg, envErr
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	n, err := ParseSize(*maxBody)
	if err != nil {
		return cfg, fmt.Errorf("--max-body: %w", err)
	}
	cfg.MaxBodyBytes = n
	if cfg.MaxUploadBytes, err = ParseSize(*maxUpload); err != nil {
		return cfg, fmt.Errorf("--max-upload: %w", err)
	}
	cfg.StaleAfter = time.Duration(*staleDays) * 24 * time.Hour
	return cfg, cfg.Validate()
}

// Validate checks the whole config and reports the first problem.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("--data: the data directory must not be empty")
	}
	for name, u := range map[string]string{"LLMOPS_LLM_BASE_URL": c.LLMBaseURL, "LLMOPS_EMBED_BASE_URL": c.EmbedBaseURL} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s=%q: want an http(s) URL such as http://localhost:11434", name, u)
		}
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("--max-body %d: must be at least 1KiB", c.MaxBodyBytes)
	}
	if c.MaxUploadBytes < c.MaxBodyBytes {
		return fmt.Errorf("--max-upload %d: must be at least --max-body (%d)", c.MaxUploadBytes, c.MaxBodyBytes)
	}
	if c.WatchDir != "" {
		if fi, err := os.Stat(c.WatchDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("--watch %q: not a readable folder", c.WatchDir)
		}
		if c.WatchInterval < 100*time.Millisecond {
			return fmt.Errorf("--watch-interval %s: must be at least 100ms", c.WatchInterval)
		}
	}
	if c.Threshold < 0 || c.Threshold > 1 {
		return fmt.Errorf("--groundedness-threshold %v: must be between 0 and 1", c.Threshold)
	}
	if c.JudgeModel != "" && c.LLMBaseURL == "" {
		return errors.New("LLMOPS_JUDGE_MODEL needs LLMOPS_LLM_BASE_URL: the judge runs on the same endpoint")
	}
	if c.StaleAfter <= 0 {
		return fmt.Errorf("--stale-after-days must be positive")
	}
	if (c.EmbedBaseURL == "") != (c.EmbedModel == "") {
		return errors.New("LLMOPS_EMBED_BASE_URL and LLMOPS_EMBED_MODEL go together: set both or neither")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// ParseSize reads sizes like "512", "64KiB", "1MiB", "200MB".
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 1MiB", s)
	}
	return n * mult, nil
}
