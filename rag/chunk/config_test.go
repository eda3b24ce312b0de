package chunk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" for valid
	}{
		{"default", DefaultConfig(), ""},
		{"empty strategy is heading", Config{MaxTokens: 100}, ""},
		{"fixed", Config{Strategy: StrategyFixed, MaxTokens: 200, Overlap: 199}, ""},
		{"sentence", Config{Strategy: StrategySentence, MaxTokens: 200, Overlap: 1}, ""},
		{"heading ignores overlap", Config{Strategy: StrategyHeading, MaxTokens: 100, Overlap: 500}, ""},
		{"unknown strategy", Config{Strategy: "semantic", MaxTokens: 100}, `unknown strategy "semantic"`},
		{"zero max", Config{}, "max_tokens is 0, want 8 to 8192"},
		{"huge max", Config{MaxTokens: 100000}, "max_tokens is 100000"},
		{"negative min", Config{MaxTokens: 100, MinTokens: -1}, "min_tokens is -1"},
		{"min not below max", Config{MaxTokens: 100, MinTokens: 100}, "min_tokens (100) must be less than max_tokens (100)"},
		{"negative overlap", Config{MaxTokens: 100, Overlap: -5}, "overlap is -5"},
		{"fixed overlap equals max", Config{Strategy: StrategyFixed, MaxTokens: 100, Overlap: 100}, "overlap (100 tokens) must be less than max_tokens (100)"},
		{"sentence overlap in tokens", Config{Strategy: StrategySentence, MaxTokens: 350, Overlap: 50}, "counts sentences on each side"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			case err != nil && !errors.Is(err, ErrInvalidConfig):
				t.Errorf("Validate() = %v, not an ErrInvalidConfig", err)
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"strategy":"heading","max_tokens":350,"min_tokens":40,"overlap":50}`
	if string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil || back != DefaultConfig() {
		t.Errorf("round trip: got %+v, %v", back, err)
	}
}
