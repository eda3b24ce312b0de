package prompt

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"llmops/store"
)

// Config is a version's tuning (store.PromptConfig): model, temperature,
// max tokens, top-k, retrieval mode, rerank and groundedness threshold.
// A key left unset takes the server's setting.
type Config = store.PromptConfig

// Retrieval modes a config may name (rag/retrieve's).
const (
	ModeHybrid  = "hybrid"
	ModeKeyword = "keyword"
	ModeVector  = "vector"
)

// Bounds on config values.
const (
	MaxTopK        = 20
	MaxTemperature = 2
	MaxMaxTokens   = 32_000
	maxModelName   = 200
)

// ValidateConfig checks c; each error names the key
// ("config.top_k: must be 1 to 20 (got 25)").
func ValidateConfig(c Config) error {
	bad := func(key, format string, args ...any) error {
		return store.Errorf(store.EINVALID, "config.%s: %s", key, fmt.Sprintf(format, args...))
	}
	if c.Model != strings.TrimSpace(c.Model) || utf8.RuneCountInString(c.Model) > maxModelName || strings.ContainsAny(c.Model, "\n\r\t") {
		return bad("model", "must be a model name of at most %d characters without surrounding spaces", maxModelName)
	}
	if t := c.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > MaxTemperature) {
		return bad("temperature", "must be 0 to %d (got %v)", MaxTemperature, *t)
	}
	if c.MaxTokens < 0 || c.MaxTokens > MaxMaxTokens {
		return bad("max_tokens", "must be 1 to %d, or left out (got %d)", MaxMaxTokens, c.MaxTokens)
	}
	if c.TopK < 0 || c.TopK > MaxTopK {
		return bad("top_k", "must be 1 to %d, or left out (got %d)", MaxTopK, c.TopK)
	}
	switch c.RetrievalMode {
	case "", ModeHybrid, ModeKeyword, ModeVector:
	default:
		return bad("retrieval_mode", "must be %s, %s or %s (got %q)", ModeHybrid, ModeKeyword, ModeVector, clip(c.RetrievalMode, 40))
	}
	if g := c.GroundednessThreshold; g != nil && !(*g >= 0 && *g <= 1) {
		return bad("groundedness_threshold", "must be between 0 and 1 (got %v)", *g)
	}
	return nil
}

// ConfigChange is one key of a config diff.
type ConfigChange struct {
	Key  string `json:"key"`
	From any    `json:"from"` // nil: unset (the server's setting)
	To   any    `json:"to"`
}

// configKeys lists a config's keys in the order people read them, with
// each key's value or nil when unset.
func configKeys(c Config) []ConfigChange {
	val := func(set bool, v any) any {
		if !set {
			return nil
		}
		return v
	}
	deref := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var rerank any
	if c.Rerank != nil {
		rerank = *c.Rerank
	}
	return []ConfigChange{
		{Key: "model", To: val(c.Model != "", c.Model)},
		{Key: "temperature", To: deref(c.Temperature)},
		{Key: "max_tokens", To: val(c.MaxTokens != 0, c.MaxTokens)},
		{Key: "top_k", To: val(c.TopK != 0, c.TopK)},
		{Key: "retrieval_mode", To: val(c.RetrievalMode != "", c.RetrievalMode)},
		{Key: "rerank", To: rerank},
		{Key: "groundedness_threshold", To: deref(c.GroundednessThreshold)},
	}
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
