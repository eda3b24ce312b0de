package chunk

import (
	"errors"
	"fmt"
)

// Strategies, the values of Config.Strategy.
const (
	// StrategyHeading keeps each section whole when it fits, splits larger
	// ones at the gentlest boundary that works (paragraph, line, sentence,
	// word, token) and merges tiny neighbours under one parent heading.
	StrategyHeading = "heading"
	// StrategyFixed cuts the whole document into windows of MaxTokens
	// tokens that overlap by Overlap tokens, at whitespace.
	StrategyFixed = "fixed"
	// StrategySentence makes one chunk per sentence (the Core) with Overlap
	// sentences of context on each side.
	StrategySentence = "sentence"
)

// Version identifies the chunking algorithm. It changes whenever the same
// document and Config would produce different chunks, so a caller that
// stores chunks can tell which documents to re-chunk after an upgrade.
const Version = 1

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid chunking config")

// Bounds for Config values. Below 8 tokens a chunk cannot hold a sentence;
// above 8192 it no longer fits the context of common embedding models.
const (
	minMaxTokens   = 8
	maxMaxTokens   = 8192
	maxWindowWidth = 10 // sentences on each side, for StrategySentence
)

// Config is a chunking configuration. Callers persist it as JSON next to
// the chunks it produced, together with Version.
type Config struct {
	// Strategy is StrategyHeading (also used when empty), StrategyFixed or
	// StrategySentence.
	Strategy string `json:"strategy"`
	// MaxTokens is the largest chunk, in tokens; Split never exceeds it.
	MaxTokens int `json:"max_tokens"`
	// MinTokens is the size under which a section is merged with a
	// neighbour under the same parent heading (heading strategy), and twice
	// the size under which Flags calls a chunk short.
	MinTokens int `json:"min_tokens"`
	// Overlap is, for StrategyFixed, the tokens each window repeats from
	// the previous one (at most, in whole words); for StrategySentence, the
	// sentences of context on each side of the core. StrategyHeading
	// ignores it.
	Overlap int `json:"overlap"`
}

// DefaultConfig returns the heading strategy with 350-token chunks, a
// 40-token merge threshold and the fixed strategy's 50-token overlap.
// Switching to StrategySentence needs an Overlap in sentences (1 is usual).
func DefaultConfig() Config {
	return Config{Strategy: StrategyHeading, MaxTokens: 350, MinTokens: 40, Overlap: 50}
}

// Validate reports the first problem with c, in words a person editing
// the configuration can act on.
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, err)
	}
	return nil
}

func (c Config) validate() error {
	switch c.Strategy {
	case "", StrategyHeading, StrategyFixed, StrategySentence:
	default:
		return fmt.Errorf("unknown strategy %q (want %q, %q or %q)", c.Strategy, StrategyHeading, StrategyFixed, StrategySentence)
	}
	switch {
	case c.MaxTokens < minMaxTokens || c.MaxTokens > maxMaxTokens:
		return fmt.Errorf("max_tokens is %d, want %d to %d", c.MaxTokens, minMaxTokens, maxMaxTokens)
	case c.MinTokens < 0:
		return fmt.Errorf("min_tokens is %d, want 0 or more", c.MinTokens)
	case c.MinTokens >= c.MaxTokens:
		return fmt.Errorf("min_tokens (%d) must be less than max_tokens (%d)", c.MinTokens, c.MaxTokens)
	case c.Overlap < 0:
		return fmt.Errorf("overlap is %d, want 0 or more", c.Overlap)
	}
	switch c.strategy() {
	case StrategyFixed:
		if c.Overlap >= c.MaxTokens {
			return fmt.Errorf("overlap (%d tokens) must be less than max_tokens (%d), or windows would not advance", c.Overlap, c.MaxTokens)
		}
	case StrategySentence:
		if c.Overlap > maxWindowWidth {
			return fmt.Errorf("overlap is %d; for the sentence strategy it counts sentences on each side, want 0 to %d (1 is usual)", c.Overlap, maxWindowWidth)
		}
	}
	return nil
}

// strategy resolves the empty strategy to the default.
func (c Config) strategy() string {
	if c.Strategy == "" {
		return StrategyHeading
	}
	return c.Strategy
}
