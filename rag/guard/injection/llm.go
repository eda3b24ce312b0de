package injection

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"llmops/rag/llm"
	"llmops/rag/prompt"
	"llmops/store"
)

// LLMVerdict is what the judge model said about a text.
type LLMVerdict struct {
	Injection bool      `json:"injection"`
	Reason    string    `json:"reason"`
	Prompt    string    `json:"prompt"` // the judge prompt's ref, e.g. "judge-injection@1"
	Model     string    `json:"model"`
	Usage     llm.Usage `json:"usage"`
}

// CheckLLM asks the chat model behind client whether text is a prompt
// injection, with judgePrompt: a version of the judge-injection prompt
// (prompt.Builtin(prompt.JudgeInjection), or the one the registry
// resolves). Every "<" of text is replaced by a look-alike, so the text
// cannot close the prompt's <text> fence. An answer that is not a
// verdict is an EINVALID error naming it; upstream failures are
// returned as the client reports them, so the caller can fail open or
// closed as its setting says.
func CheckLLM(ctx context.Context, client *llm.Client, judgePrompt *prompt.Compiled, text string) (LLMVerdict, error) {
	if client == nil || judgePrompt == nil {
		return LLMVerdict{}, store.Errorf(store.EINVALID, "injection check: no judge model or prompt configured")
	}
	msgs, err := judgePrompt.Messages(prompt.InjectionData{Text: strings.ReplaceAll(text, "<", "‹")})
	if err != nil {
		return LLMVerdict{}, err
	}
	req := llm.Request{MaxTokens: 120}
	cfg := judgePrompt.Config()
	if cfg.Temperature != nil {
		t := float32(*cfg.Temperature)
		req.Temperature = &t
	}
	if cfg.MaxTokens > 0 {
		req.MaxTokens = cfg.MaxTokens
	}
	if cfg.Model != "" {
		client = client.WithModel(cfg.Model)
	}
	for _, m := range msgs {
		req.Messages = append(req.Messages, llm.Message{Role: m.Role, Content: m.Content})
	}
	res, err := client.Complete(ctx, req)
	if err != nil {
		return LLMVerdict{}, fmt.Errorf("injection check with %s: %w", judgePrompt.Ref(), err)
	}
	v, ok := readVerdict(res.Text)
	if !ok {
		return LLMVerdict{}, store.Errorf(store.EINVALID, "injection check with %s: the model's answer is not a verdict: %q", judgePrompt.Ref(), shorten(res.Text, 120))
	}
	v.Prompt, v.Model, v.Usage = judgePrompt.Ref(), res.Model, res.Usage
	return v, nil
}

// readVerdict reads {"injection": bool, "reason": "…"} from a model's
// answer (inside code fences or prose too), or a bare yes/no/true/false.
func readVerdict(out string) (LLMVerdict, bool) {
	if i, j := strings.Index(out, "{"), strings.LastIndex(out, "}"); i >= 0 && j > i {
		var v struct {
			Injection *bool  `json:"injection"`
			Reason    string `json:"reason"`
		}
		if json.Unmarshal([]byte(out[i:j+1]), &v) == nil && v.Injection != nil {
			return LLMVerdict{Injection: *v.Injection, Reason: v.Reason}, true
		}
	}
	word := strings.ToLower(strings.Trim(strings.TrimSpace(out), ".!\"'`"))
	switch word {
	case "yes", "true", "injection":
		return LLMVerdict{Injection: true}, true
	case "no", "false", "benign", "not an injection":
		return LLMVerdict{Injection: false}, true
	}
	return LLMVerdict{}, false
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
