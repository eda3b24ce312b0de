package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"llmops/rag/guard/pii"
	"llmops/store"
	"llmops/store/schema"
)

// Mode is what a guard does when it finds something.
type Mode string

// Guard modes. Redact applies to the PII guards and the output policy
// (which removes disallowed links and blocked terms); block answers with
// the fallback, flags the trace and escalates the conversation.
const (
	ModeOff    Mode = "off"
	ModeFlag   Mode = "flag"
	ModeRedact Mode = "redact"
	ModeBlock  Mode = "block"
)

// Guard names: the Guardrails page, the trace spans and the config keys.
const (
	InputPII         = "input.pii"
	InputInjection   = "input.injection"
	InputScope       = schema.GuardInputScope
	InputModeration  = "input.moderation"
	OutputPII        = "output.pii"
	OutputPolicy     = "output.policy"
	OutputModeration = "output.moderation"
)

// Names lists the guards in the order they run.
var Names = []string{InputPII, InputInjection, InputModeration, InputScope, OutputPolicy, OutputPII, OutputModeration}

// Setting is one guard's configuration.
type Setting struct {
	Mode Mode `json:"mode"`
	// FailClosed blocks when the guard itself fails (a moderation
	// endpoint down); false lets the text through. Either way the span
	// says so.
	FailClosed bool `json:"fail_closed,omitempty"`
}

// Config is the guardrails configuration, stored as the "guardrails"
// setting (GET/PUT /api/v1/guardrails, audited).
type Config struct {
	Guards map[string]Setting `json:"guards"`
	// ScopeSentence is what the out-of-scope fallback says the assistant
	// is for: "We answer questions about Rosterly."
	ScopeSentence string `json:"scope_sentence"`
	// MinScope is the retrieval confidence (ScopeScore) below which a
	// question is out of scope.
	MinScope float64 `json:"min_scope"`
	// AllowedDomains are the hosts (and their subdomains) answers may
	// link to or show images from; none: no links at all.
	AllowedDomains []string `json:"allowed_domains"`
	// BlockedTerms may not appear in an answer (whole words, any case).
	BlockedTerms []string `json:"blocked_terms"`
	// RedactDocuments replaces PII in uploaded documents with placeholders
	// before they are chunked and indexed.
	RedactDocuments bool `json:"redact_documents"`
}

// DefaultMinScope: questions whose content words mostly appear nowhere in
// the retrieved passages. Chosen so that no sample eval question falls
// under it (TestScopeSampleQuestions).
const DefaultMinScope = 0.25

// DefaultConfig is a new install's: PII redacted before any model call
// and in stored traces; injection, moderation and out-of-scope questions
// answered with the fallback and flagged; the output policy on.
func DefaultConfig() Config {
	return Config{
		Guards: map[string]Setting{
			InputPII:         {Mode: ModeRedact},
			InputInjection:   {Mode: ModeBlock},
			InputModeration:  {Mode: ModeBlock},
			InputScope:       {Mode: ModeBlock},
			OutputPolicy:     {Mode: ModeRedact},
			OutputPII:        {Mode: ModeFlag},
			OutputModeration: {Mode: ModeBlock},
		},
		ScopeSentence: "I answer questions about our product and its documentation.",
		MinScope:      DefaultMinScope,
	}
}

// Modes a guard accepts.
func Modes(name string) []Mode {
	switch name {
	case InputPII, OutputPII, OutputPolicy:
		return []Mode{ModeOff, ModeFlag, ModeRedact, ModeBlock}
	}
	return []Mode{ModeOff, ModeFlag, ModeBlock}
}

// Validate checks c and fills guards it leaves out with their defaults.
func (c *Config) Validate() error {
	def := DefaultConfig()
	if c.Guards == nil {
		c.Guards = map[string]Setting{}
	}
	for name, s := range c.Guards {
		if !slices.Contains(Names, name) {
			return store.Errorf(store.EINVALID, "unknown guard %q", name)
		}
		if !slices.Contains(Modes(name), s.Mode) {
			return store.Errorf(store.EINVALID, "guard %s: mode %q is not one of %v", name, s.Mode, Modes(name))
		}
	}
	for _, name := range Names {
		if _, ok := c.Guards[name]; !ok {
			c.Guards[name] = def.Guards[name]
		}
	}
	c.ScopeSentence = strings.TrimSpace(c.ScopeSentence)
	if len([]rune(c.ScopeSentence)) > 300 {
		return store.Errorf(store.EINVALID, "scope_sentence: at most 300 characters")
	}
	if !(c.MinScope >= 0 && c.MinScope <= 1) {
		return store.Errorf(store.EINVALID, "min_scope must be between 0 and 1")
	}
	clean := func(field string, in []string, lower bool) ([]string, error) {
		var out []string
		for _, s := range in {
			s = strings.TrimSpace(s)
			if lower {
				s = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://"))
				s = strings.TrimSuffix(s, "/")
			}
			if s == "" || slices.Contains(out, s) {
				continue
			}
			if len(s) > 200 {
				return nil, store.Errorf(store.EINVALID, "%s: %q is longer than 200 characters", field, s[:20])
			}
			out = append(out, s)
		}
		if len(out) > 200 {
			return nil, store.Errorf(store.EINVALID, "%s: at most 200 entries", field)
		}
		return out, nil
	}
	var err error
	if c.AllowedDomains, err = clean("allowed_domains", c.AllowedDomains, true); err != nil {
		return err
	}
	if c.BlockedTerms, err = clean("blocked_terms", c.BlockedTerms, false); err != nil {
		return err
	}
	return nil
}

// Mode returns guard name's mode (off when unknown).
func (c Config) Mode(name string) Mode {
	if s, ok := c.Guards[name]; ok {
		return s.Mode
	}
	return ModeOff
}

// InjectionScorer scores how likely a text is a prompt injection, 0..1.
// The heuristic rules of this package are one (Heuristic); the trained
// classifier of rag/guard/injection is another.
type InjectionScorer interface {
	Score(text string) float64
	Flagged(score float64) bool
}

// Heuristic scores text by Check's rules: 0 when none matches, 0.6 for
// one rule and 0.2 more per further rule.
type Heuristic struct{}

var _ InjectionScorer = Heuristic{}

// Score implements InjectionScorer.
func (Heuristic) Score(text string) float64 {
	n := len(Check(text))
	if n == 0 {
		return 0
	}
	return min(1, 0.4+0.2*float64(n))
}

// Flagged implements InjectionScorer.
func (Heuristic) Flagged(score float64) bool { return score >= 0.5 }

// Moderator checks text against a moderation model.
type Moderator interface {
	Moderate(ctx context.Context, text string) (flagged bool, categories []string, err error)
}

// Verdict is what one guard decided about one text: a span on the trace.
type Verdict struct {
	Guard   string
	Mode    Mode
	Outcome Outcome
	Reasons []string
	PII     []pii.Span // PII guards: what was found (rune offsets)
	Score   float64    // injection and scope guards
	Err     error      // the guard failed; Outcome says whether that blocked
	Start   time.Time
	End     time.Time
}

// Outcome is a verdict's result.
type Outcome string

// Outcomes.
const (
	OutcomePass    Outcome = schema.GuardPass
	OutcomeFlag    Outcome = schema.GuardFlagged
	OutcomeRedact  Outcome = schema.GuardRedacted
	OutcomeBlock   Outcome = schema.GuardBlocked
	OutcomeSkipped Outcome = schema.GuardSkipped // the guard is not configured (no moderation endpoint)
)

// Guardrails runs the configured guards. It is safe for concurrent use;
// SetConfig swaps the configuration for later checks.
type Guardrails struct {
	cfg       atomic.Pointer[Config]
	injection InjectionScorer
	moderator Moderator
	now       func() time.Time
}

// New returns guardrails with cfg; a nil injection scorer is Heuristic,
// a nil moderator skips the moderation guards.
func New(cfg Config, injection InjectionScorer, moderator Moderator) *Guardrails {
	if injection == nil {
		injection = Heuristic{}
	}
	g := &Guardrails{injection: injection, moderator: moderator, now: time.Now}
	if err := cfg.Validate(); err != nil {
		cfg = DefaultConfig()
	}
	g.cfg.Store(&cfg)
	return g
}

// Config returns the configuration in use.
func (g *Guardrails) Config() Config { return *g.cfg.Load() }

// SetConfig starts using c (validated by the caller).
func (g *Guardrails) SetConfig(c Config) { g.cfg.Store(&c) }

// Moderation reports whether a moderation endpoint is configured.
func (g *Guardrails) Moderation() bool { return g.moderator != nil }

// Injection is the injection scorer the input guard uses.
func (g *Guardrails) Injection() InjectionScorer { return g.injection }

// Result is what a direction's guards decided about a text.
type Result struct {
	Text     string // the text to go on with: redacted or cleaned when a guard did so
	Verdicts []Verdict
	Blocked  bool
	Flagged  bool
	Reasons  []string
	PII      []pii.Span // found in the original text
	// Injection is the injection guard's score (input only).
	Injection        float64
	InjectionFlagged bool
}

func (r *Result) add(v Verdict) {
	r.Verdicts = append(r.Verdicts, v)
	switch v.Outcome {
	case OutcomeBlock:
		r.Blocked = true
		r.Flagged = true
	case OutcomeFlag, OutcomeRedact:
		r.Flagged = true
	}
	if v.Outcome != OutcomePass && v.Outcome != OutcomeSkipped {
		r.Reasons = append(r.Reasons, v.Reasons...)
	}
}

// outcome maps a mode onto the verdict for a finding.
func outcome(m Mode) Outcome {
	switch m {
	case ModeFlag:
		return OutcomeFlag
	case ModeRedact:
		return OutcomeRedact
	case ModeBlock:
		return OutcomeBlock
	}
	return OutcomePass
}

// Input runs the input guards on a question: PII, injection, moderation.
// Scope runs later, once retrieval has scored the question (Scope).
func (g *Guardrails) Input(ctx context.Context, text string) Result {
	cfg := g.Config()
	r := Result{Text: text}
	// Injection is scored on what the user typed, before redaction.
	if m := cfg.Mode(InputInjection); m != ModeOff {
		v := Verdict{Guard: InputInjection, Mode: m, Start: g.now(), Outcome: OutcomePass}
		v.Score = g.injection.Score(text)
		r.Injection, r.InjectionFlagged = v.Score, g.injection.Flagged(v.Score)
		if r.InjectionFlagged {
			v.Outcome = outcome(m)
			v.Reasons = []string{"prompt injection"}
			if fs := Check(text); len(fs) > 0 {
				v.Reasons = []string{"prompt injection: " + Reason(fs)}
			}
		}
		v.End = g.now()
		r.add(v)
	}
	r.Text, r.PII = g.piiGuard(&r, InputPII, cfg.Mode(InputPII), text)
	if m := cfg.Mode(InputModeration); m != ModeOff {
		r.add(g.moderate(ctx, InputModeration, cfg.Guards[InputModeration], r.Text))
	}
	return r
}

// piiGuard runs a PII guard on text and returns the text to go on with.
func (g *Guardrails) piiGuard(r *Result, name string, m Mode, text string) (string, []pii.Span) {
	if m == ModeOff {
		return text, nil
	}
	v := Verdict{Guard: name, Mode: m, Start: g.now(), Outcome: OutcomePass}
	spans := pii.Detect(text)
	v.PII = spans
	out := text
	if len(spans) > 0 {
		v.Outcome = outcome(m)
		v.Reasons = []string{"personal data: " + piiSummary(spans)}
		if m == ModeRedact {
			out = pii.Redact(text, spans)
		}
	}
	v.End = g.now()
	r.add(v)
	return out, spans
}

// piiSummary: "EMAIL ×2, PHONE".
func piiSummary(spans []pii.Span) string {
	counts := pii.Counts(spans)
	var parts []string
	for _, t := range pii.Types {
		switch n := counts[t]; {
		case n == 1:
			parts = append(parts, string(t))
		case n > 1:
			parts = append(parts, fmt.Sprintf("%s ×%d", t, n))
		}
	}
	return strings.Join(parts, ", ")
}

// moderate asks the moderation endpoint about text.
func (g *Guardrails) moderate(ctx context.Context, name string, s Setting, text string) Verdict {
	v := Verdict{Guard: name, Mode: s.Mode, Start: g.now(), Outcome: OutcomePass}
	defer func() { v.End = g.now() }()
	if g.moderator == nil {
		v.Outcome = OutcomeSkipped
		v.End = g.now()
		return v
	}
	flagged, cats, err := g.moderator.Moderate(ctx, text)
	v.End = g.now()
	switch {
	case err != nil:
		v.Err = err
		if s.FailClosed {
			v.Outcome = OutcomeBlock
			v.Reasons = []string{"moderation unavailable (fails closed)"}
		}
	case flagged:
		v.Outcome = outcome(s.Mode)
		v.Reasons = []string{"moderation: " + strings.Join(cats, ", ")}
	}
	return v
}

// Scope decides whether a question is within the knowledge base, from the
// retrieved passages' coverage of its content words (ScopeScore).
func (g *Guardrails) Scope(question string, passages []string) (Verdict, bool) {
	cfg := g.Config()
	m := cfg.Mode(InputScope)
	if m == ModeOff {
		return Verdict{}, false
	}
	v := Verdict{Guard: InputScope, Mode: m, Start: g.now(), Outcome: OutcomePass}
	v.Score = ScopeScore(question, passages)
	if v.Score < cfg.MinScope {
		v.Outcome = outcome(m)
		v.Reasons = []string{fmt.Sprintf("out of scope: retrieval confidence %.2f < %.2f", v.Score, cfg.MinScope)}
	}
	v.End = g.now()
	return v, true
}

// Output runs the output guards on an answer: the output policy (links,
// images, blocked terms, the system prompt's canary, raw HTML), PII and
// moderation. canary is the marker planted in the system prompt ("" when
// the answer had no prompt).
func (g *Guardrails) Output(ctx context.Context, text, canary string) Result {
	cfg := g.Config()
	r := Result{Text: text}
	if m := cfg.Mode(OutputPolicy); m != ModeOff {
		v := Verdict{Guard: OutputPolicy, Mode: m, Start: g.now(), Outcome: OutcomePass}
		cleaned, reasons, leak := Policy{AllowedDomains: cfg.AllowedDomains, BlockedTerms: cfg.BlockedTerms, Canary: canary}.Apply(text)
		if len(reasons) > 0 {
			v.Outcome, v.Reasons = outcome(m), reasons
			switch {
			case leak:
				// A leaked prompt cannot be partly removed.
				v.Outcome = OutcomeBlock
			case m == ModeRedact:
				r.Text = cleaned
			}
		}
		v.End = g.now()
		r.add(v)
	}
	r.Text, r.PII = g.piiGuard(&r, OutputPII, cfg.Mode(OutputPII), r.Text)
	if m := cfg.Mode(OutputModeration); m != ModeOff {
		r.add(g.moderate(ctx, OutputModeration, cfg.Guards[OutputModeration], r.Text))
	}
	return r
}
