package server

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"llmops/rag/answer"
	"llmops/rag/assistant"
	"llmops/rag/prompt"
	"llmops/store"
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
	// An OpenAI-compatible /v1/moderations endpoint, one more input and
	// output guard when set (LLMOPS_MODERATION_BASE_URL, _API_KEY, _MODEL).
	ModerationBaseURL string
	ModerationAPIKey  string
	ModerationModel   string

	MaxBodyBytes    int64         // largest JSON/form request body; LLMOPS_MAX_BODY
	MaxUploadBytes  int64         // largest document upload request; LLMOPS_MAX_UPLOAD
	WatchDir        string        // folder re-ingested when its files change; LLMOPS_WATCH
	WatchInterval   time.Duration // how often the watched folder is scanned
	StaleAfter      time.Duration // documents not updated for this long are flagged stale
	RequestTimeout  time.Duration // per-request deadline for non-streaming handlers
	ShutdownTimeout time.Duration // drain time on stop

	// BodyTimeout bounds reading a request body: JSON, forms, and uploads
	// from anyone below editor (LLMOPS_BODY_TIMEOUT). UploadTimeout bounds
	// an editor's upload (LLMOPS_UPLOAD_TIMEOUT).
	BodyTimeout   time.Duration
	UploadTimeout time.Duration
	// AskRate is how many asks a minute each API key and each signed-in
	// user may send to /api/v1/ask(/stream), in bursts of up to
	// min(AskRate, 20); 0 means unlimited (LLMOPS_ASK_RATE).
	AskRate    int
	SessionTTL time.Duration // absolute lifetime of a browser session
	// SessionIdle signs a browser session out after this long without a
	// request (0: only SessionTTL ends it); LLMOPS_SESSION_IDLE.
	SessionIdle time.Duration
	// KeepAlive is the longest a streamed answer stays silent: a comment
	// line goes out when nothing else has (proxies drop idle streams).
	KeepAlive time.Duration
	// Threshold is the groundedness below which answers fall back; 0
	// means never (an answerer with no context still falls back).
	Threshold float64
	// TopK is how many chunks the answerer sees when a request does not say.
	TopK int
	// Env is the prompt label this process answers with: production,
	// staging, dev or a custom label (--env, LLMOPS_ENV).
	Env string
	// SecureCookies forces the Secure flag on session cookies; it is also
	// set per request when the request arrived over TLS.
	SecureCookies bool
	LogLevel      string

	// OutboundAllow lists the prefixes alert webhooks may reach although
	// they are loopback, private or link-local (LLMOPS_OUTBOUND_ALLOW,
	// comma-separated CIDRs); everything else internal is refused when
	// connecting.
	OutboundAllow []netip.Prefix
	// OTLPTracesURL, when set, exports every trace over OTLP/HTTP
	// protobuf (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or
	// OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"), with OTLPHeaders
	// (OTEL_EXPORTER_OTLP_HEADERS, "k=v,k2=v2") on each request.
	OTLPTracesURL string
	OTLPHeaders   map[string]string
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
		BodyTimeout:     15 * time.Second,
		UploadTimeout:   5 * time.Minute,
		AskRate:         60,
		ShutdownTimeout: 10 * time.Second,
		SessionTTL:      14 * 24 * time.Hour,
		SessionIdle:     7 * 24 * time.Hour,
		KeepAlive:       10 * time.Second,
		Threshold:       answer.DefaultThreshold,
		TopK:            assistant.DefaultTopK,
		Env:             prompt.LabelProduction,
		LogLevel:        "info",
	}
}

// Flags binds a command's flags to a Config, each with its LLMOPS_*
// fallback, so that serve, ask, eval run, ingest and the benches read a
// setting the same way. The model endpoints (LLMOPS_LLM_*, LLMOPS_EMBED_*,
// LLMOPS_JUDGE_MODEL) have no flags: they are read here and only here.
type Flags struct {
	cfg    *Config
	fs     *flag.FlagSet
	getenv func(string) string
	envErr error
	after  []func() error
}

// NewFlags starts binding fs to cfg (normally DefaultConfig()) and reads
// the model settings from the environment.
func NewFlags(fs *flag.FlagSet, cfg *Config, getenv func(string) string) *Flags {
	f := &Flags{cfg: cfg, fs: fs, getenv: getenv}
	cfg.LLMBaseURL, cfg.LLMAPIKey, cfg.LLMModel = getenv("LLMOPS_LLM_BASE_URL"), getenv("LLMOPS_LLM_API_KEY"), getenv("LLMOPS_LLM_MODEL")
	if cfg.LLMBaseURL != "" && cfg.LLMModel == "" {
		cfg.LLMModel = defaultLLMModel
	}
	cfg.JudgeModel = getenv("LLMOPS_JUDGE_MODEL")
	cfg.EmbedBaseURL = getenv("LLMOPS_EMBED_BASE_URL")
	cfg.EmbedAPIKey = getenv("LLMOPS_EMBED_API_KEY")
	cfg.EmbedModel = getenv("LLMOPS_EMBED_MODEL")
	cfg.ModerationBaseURL = getenv("LLMOPS_MODERATION_BASE_URL")
	cfg.ModerationAPIKey = getenv("LLMOPS_MODERATION_API_KEY")
	cfg.ModerationModel = getenv("LLMOPS_MODERATION_MODEL")
	f.monitoringEnv()
	return f
}

// monitoringEnv reads the outbound allow-list and the standard
// OpenTelemetry exporter variables.
func (f *Flags) monitoringEnv() {
	cfg := f.cfg
	for _, s := range strings.Split(f.getenv("LLMOPS_OUTBOUND_ALLOW"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p, err = netip.PrefixFrom(a, a.BitLen()), nil
			}
		}
		if err != nil && f.envErr == nil {
			f.envErr = fmt.Errorf("LLMOPS_OUTBOUND_ALLOW: %q is not a CIDR such as 10.0.0.0/8", s)
		}
		cfg.OutboundAllow = append(cfg.OutboundAllow, p.Masked())
	}
	cfg.OTLPTracesURL = f.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if base := f.getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); cfg.OTLPTracesURL == "" && base != "" {
		cfg.OTLPTracesURL = strings.TrimRight(base, "/") + "/v1/traces"
	}
	for _, kv := range strings.Split(f.getenv("OTEL_EXPORTER_OTLP_HEADERS"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			continue
		}
		if dv, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
			v = dv
		}
		if cfg.OTLPHeaders == nil {
			cfg.OTLPHeaders = map[string]string{}
		}
		cfg.OTLPHeaders[k] = v
	}
}

// defaultLLMModel is used when LLMOPS_LLM_BASE_URL is set without a model.
const defaultLLMModel = "gpt-4o-mini"

func (f *Flags) env(name, def string) string {
	if v := f.getenv(name); v != "" {
		return v
	}
	return def
}

func (f *Flags) envBool(name string, def bool) bool {
	v := f.getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil && f.envErr == nil {
		f.envErr = fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b
}

func (f *Flags) envFloat(name string, def float64) float64 {
	v := f.getenv(name)
	if v == "" {
		return def
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil && f.envErr == nil {
		f.envErr = fmt.Errorf("%s=%q: want a number", name, v)
	}
	return x
}

func (f *Flags) envInt(name string, def int) int {
	v := f.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil && f.envErr == nil {
		f.envErr = fmt.Errorf("%s=%q: want a whole number", name, v)
	}
	return n
}

func (f *Flags) envDuration(name string, def time.Duration) time.Duration {
	v := f.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil && f.envErr == nil {
		f.envErr = fmt.Errorf("%s=%q: want a duration such as 15s or 5m", name, v)
	}
	return d
}

// Data binds --data (LLMOPS_DATA).
func (f *Flags) Data() *Flags {
	f.fs.StringVar(&f.cfg.DataDir, "data", f.env("LLMOPS_DATA", f.cfg.DataDir), "data directory (LLMOPS_DATA)")
	return f
}

// Answer binds the flags that change answers. Every command that answers
// (serve, ask, eval run) takes exactly these, so the CI gate measures the
// pipeline serve runs.
func (f *Flags) Answer() *Flags {
	f.fs.Float64Var(&f.cfg.Threshold, "groundedness-threshold", f.envFloat("LLMOPS_GROUNDEDNESS_THRESHOLD", f.cfg.Threshold),
		"answers less grounded than this (0..1) fall back and are escalated; 0 never falls back (LLMOPS_GROUNDEDNESS_THRESHOLD)")
	f.fs.IntVar(&f.cfg.TopK, "top-k", f.envInt("LLMOPS_TOP_K", f.cfg.TopK),
		"chunks given to the answerer when a request does not say; 0 is the default (LLMOPS_TOP_K)")
	f.fs.StringVar(&f.cfg.Env, "env", f.env("LLMOPS_ENV", f.cfg.Env),
		"the prompt label answers use: production, staging, dev or a custom label (LLMOPS_ENV)")
	f.after = append(f.after, func() error {
		if f.cfg.TopK == 0 {
			f.cfg.TopK = assistant.DefaultTopK
		}
		return f.cfg.validateAnswer()
	})
	return f
}

// Serve binds the flags only serve takes: listening, limits, the watched
// folder, cookies and logging.
func (f *Flags) Serve() *Flags {
	cfg, fs := f.cfg, f.fs
	fs.StringVar(&cfg.Addr, "addr", f.env("LLMOPS_ADDR", cfg.Addr), "listen address (LLMOPS_ADDR)")
	fs.BoolVar(&cfg.NoSample, "no-sample", f.envBool("LLMOPS_NO_SAMPLE", false), "do not load sample data into an empty data dir")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", f.envBool("LLMOPS_SECURE_COOKIES", false), "always mark session cookies Secure (behind a TLS proxy)")
	fs.StringVar(&cfg.LogLevel, "log-level", f.env("LLMOPS_LOG_LEVEL", cfg.LogLevel), "debug, info, warn or error")
	maxBody := fs.String("max-body", f.env("LLMOPS_MAX_BODY", "1MiB"), "largest JSON or form request body (LLMOPS_MAX_BODY)")
	maxUpload := fs.String("max-upload", f.env("LLMOPS_MAX_UPLOAD", "100MiB"), "largest document upload request (LLMOPS_MAX_UPLOAD)")
	fs.StringVar(&cfg.WatchDir, "watch", f.env("LLMOPS_WATCH", ""), "folder whose files are ingested and kept fresh (LLMOPS_WATCH)")
	fs.DurationVar(&cfg.WatchInterval, "watch-interval", cfg.WatchInterval, "how often --watch scans the folder")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", f.envDuration("LLMOPS_BODY_TIMEOUT", cfg.BodyTimeout),
		"longest a client may take to send a request body; uploads by editors get --upload-timeout (LLMOPS_BODY_TIMEOUT)")
	fs.DurationVar(&cfg.UploadTimeout, "upload-timeout", f.envDuration("LLMOPS_UPLOAD_TIMEOUT", cfg.UploadTimeout),
		"longest an editor's document or test-set upload may take to arrive (LLMOPS_UPLOAD_TIMEOUT)")
	fs.IntVar(&cfg.AskRate, "ask-rate", f.envInt("LLMOPS_ASK_RATE", cfg.AskRate),
		"asks a minute per API key and per signed-in user on /api/v1/ask, in bursts of up to 20; 0 is unlimited (LLMOPS_ASK_RATE)")
	staleDays := fs.Int("stale-after-days", int(cfg.StaleAfter/(24*time.Hour)), "flag documents not updated for this many days as stale")
	idle := fs.String("session-idle", f.env("LLMOPS_SESSION_IDLE", durationText(cfg.SessionIdle)),
		"sign a browser out after this long without a request, e.g. 7d, 12h or 30m; 0 leaves only the 14-day limit (LLMOPS_SESSION_IDLE)")
	f.after = append(f.after, func() error {
		d, err := ParseDuration(*idle)
		if err != nil {
			return fmt.Errorf("--session-idle: %w", err)
		}
		cfg.SessionIdle = d
		n, err := ParseSize(*maxBody)
		if err != nil {
			return fmt.Errorf("--max-body: %w", err)
		}
		cfg.MaxBodyBytes = n
		if cfg.MaxUploadBytes, err = ParseSize(*maxUpload); err != nil {
			return fmt.Errorf("--max-upload: %w", err)
		}
		cfg.StaleAfter = time.Duration(*staleDays) * 24 * time.Hour
		return nil
	})
	return f
}

// Done finishes after the flag set was parsed: environment errors, values
// that need converting, then Validate.
func (f *Flags) Done() error {
	if err := f.DoneFlags(); err != nil {
		return err
	}
	return f.cfg.Validate()
}

// DoneFlags is Done for the bound flags only, without validating the
// model endpoints: for commands that may not use them (a --server call,
// a bench on the offline models). OpenApp validates the whole Config.
func (f *Flags) DoneFlags() error {
	if f.envErr != nil {
		return f.envErr
	}
	for _, fn := range f.after {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
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
	if c.BodyTimeout <= 0 {
		return fmt.Errorf("--body-timeout %s: must be positive", c.BodyTimeout)
	}
	if c.UploadTimeout < c.BodyTimeout {
		return fmt.Errorf("--upload-timeout %s: must be at least --body-timeout (%s)", c.UploadTimeout, c.BodyTimeout)
	}
	if c.AskRate < 0 {
		return fmt.Errorf("--ask-rate %d: must be 0 (unlimited) or more", c.AskRate)
	}
	if c.WatchDir != "" {
		if fi, err := os.Stat(c.WatchDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("--watch %q: not a readable folder", c.WatchDir)
		}
		if c.WatchInterval < 100*time.Millisecond {
			return fmt.Errorf("--watch-interval %s: must be at least 100ms", c.WatchInterval)
		}
	}
	if err := c.validateAnswer(); err != nil {
		return err
	}
	if c.JudgeModel != "" && c.LLMBaseURL == "" {
		return errors.New("LLMOPS_JUDGE_MODEL needs LLMOPS_LLM_BASE_URL: the judge runs on the same endpoint")
	}
	if c.SessionIdle != 0 && c.SessionIdle < minSessionIdle {
		return fmt.Errorf("--session-idle %s: must be 0 (off) or at least %s; last use is recorded once a minute", durationText(c.SessionIdle), durationText(minSessionIdle))
	}
	if c.StaleAfter <= 0 {
		return fmt.Errorf("--stale-after-days must be positive")
	}
	if (c.EmbedBaseURL == "") != (c.EmbedModel == "") {
		return errors.New("LLMOPS_EMBED_BASE_URL and LLMOPS_EMBED_MODEL go together: set both or neither")
	}
	if c.OTLPTracesURL != "" {
		p, err := url.Parse(c.OTLPTracesURL)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT %q: want an http(s) URL such as http://localhost:4318", c.OTLPTracesURL)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// validateAnswer checks the settings that change answers.
func (c Config) validateAnswer() error {
	if !(c.Threshold >= 0 && c.Threshold <= 1) { // NaN too
		return fmt.Errorf("--groundedness-threshold %v: must be between 0 and 1", c.Threshold)
	}
	if c.TopK < 1 || c.TopK > assistant.MaxTopK {
		return fmt.Errorf("--top-k %d: must be 1 to %d", c.TopK, assistant.MaxTopK)
	}
	if !store.ValidLabelName(c.Env) {
		return fmt.Errorf("--env %q: want production, staging, dev or another prompt label (lower-case letters, digits, '_' or '-')", c.Env)
	}
	return nil
}

// minSessionIdle is the shortest idle limit: a session's last use is
// recorded at most once a minute, so shorter limits would be inexact.
const minSessionIdle = 5 * time.Minute

// ParseDuration reads durations like "7d", "36h", "90m" or "1h30m": Go's
// units plus d for days.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not a duration like 7d or 12h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 7d or 12h", s)
	}
	return d, nil
}

// durationText writes d the way ParseDuration reads it: whole days as
// "7d", anything else in Go's notation.
func durationText(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
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
