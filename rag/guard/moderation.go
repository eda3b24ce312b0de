package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// OpenAIModerator checks text with an OpenAI-compatible /v1/moderations
// endpoint (LLMOPS_MODERATION_BASE_URL): one more input and output guard
// when a team has one.
type OpenAIModerator struct {
	client *openai.Client
	model  string
}

var _ Moderator = (*OpenAIModerator)(nil)

// NewOpenAIModerator returns a moderator for baseURL (".../v1" is added
// when missing) with model ("" lets the server choose; go-openai accepts
// only OpenAI's moderation model names).
func NewOpenAIModerator(baseURL, apiKey, model string) (*OpenAIModerator, error) {
	cfg := openai.DefaultConfig(apiKey)
	baseURL = strings.TrimSuffix(baseURL, "/")
	if !strings.HasSuffix(baseURL, "/v1") {
		baseURL += "/v1"
	}
	cfg.BaseURL = baseURL
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	m := &OpenAIModerator{client: openai.NewClientWithConfig(cfg), model: model}
	if model != "" {
		if _, err := m.client.Moderations(canceled(), openai.ModerationRequest{Model: model}); err == openai.ErrModerationInvalidModel {
			return nil, fmt.Errorf("moderation model %q: %w", model, err)
		}
	}
	return m, nil
}

// canceled is a context that is already done: NewOpenAIModerator uses it
// to let go-openai validate the model name without a request.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// Moderate implements Moderator: flagged when any result is, with the
// names of the categories that were.
func (m *OpenAIModerator) Moderate(ctx context.Context, text string) (bool, []string, error) {
	resp, err := m.client.Moderations(ctx, openai.ModerationRequest{Input: text, Model: m.model})
	if err != nil {
		return false, nil, fmt.Errorf("moderation: %w", err)
	}
	if len(resp.Results) == 0 {
		return false, nil, fmt.Errorf("moderation: no results")
	}
	flagged := false
	var cats []string
	for _, r := range resp.Results {
		flagged = flagged || r.Flagged
		b, _ := json.Marshal(r.Categories)
		var set map[string]bool
		_ = json.Unmarshal(b, &set)
		for name, on := range set {
			if on && !slices.Contains(cats, name) {
				cats = append(cats, name)
			}
		}
	}
	slices.Sort(cats)
	return flagged, cats, nil
}
