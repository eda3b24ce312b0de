package evals

import (
	"context"
	"strconv"
	"strings"

	"llmops/rag/assistant"
	"llmops/rag/prompt"
	"llmops/store"
)

// A run's prompt (RunSettings.Prompt) is "name@N" (a version: every case
// answers with it) or "name:label" (the label's version per case, splits
// included). A label that points at one version when the run is created
// is recorded as that version, so the run counts for the eval gate.

// parsePromptRef splits "support-answer@4" or "support-answer:staging".
func parsePromptRef(ref string) (name string, version int, label string, err error) {
	if n, v, ok := strings.Cut(ref, "@"); ok {
		version, err := strconv.Atoi(v)
		if err != nil || version < 1 {
			return "", 0, "", store.Errorf(store.EINVALID, "prompt %q: want name@version, such as support-answer@4", ref)
		}
		return n, version, "", nil
	}
	if n, l, ok := strings.Cut(ref, ":"); ok && l != "" {
		return n, 0, l, nil
	}
	return "", 0, "", store.Errorf(store.EINVALID, "prompt %q: want name@version or name:label, such as support-answer@4 or support-answer:staging", ref)
}

// settlePrompt fills and checks s.Prompt and returns the version it
// pins (nil for a split label, or without a registry).
func (r *Runner) settlePrompt(s *store.RunSettings) (*prompt.Compiled, error) {
	if s.Prompt == "" {
		s.Prompt = r.opts.Prompt
	}
	if s.Prompt == "" || r.opts.Prompts == nil {
		return nil, nil
	}
	ctx := context.Background()
	name, v, label, err := parsePromptRef(s.Prompt)
	if err != nil {
		return nil, err
	}
	if name != prompt.SupportAnswer {
		return nil, store.Errorf(store.EINVALID, "prompt %q: eval runs answer with %s", s.Prompt, prompt.SupportAnswer)
	}
	if label != "" {
		p, err := r.opts.Prompts.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		l, ok := p.LabelInfo[label]
		if !ok {
			return nil, store.Errorf(store.EINVALID, "prompt %s has no label %q", name, label)
		}
		if len(l.Split) > 0 {
			return nil, nil
		}
		v = l.Version
		s.Prompt = name + "@" + strconv.Itoa(v)
	}
	c, err := r.opts.Prompts.ResolveVersion(ctx, name, v)
	if err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			return nil, store.Errorf(store.EINVALID, "prompt %s: %s", s.Prompt, store.ErrorMessage(err))
		}
		return nil, err
	}
	return c, nil
}

// pinnedPrompt is the version a run's prompt names, nil for a label (or
// no registry).
func (r *Runner) pinnedPrompt(ctx context.Context, ref string) (*prompt.Compiled, error) {
	if r.opts.Prompts == nil || ref == "" {
		return nil, nil
	}
	name, v, _, err := parsePromptRef(ref)
	if err != nil || v == 0 {
		return nil, err
	}
	return r.opts.Prompts.ResolveVersion(ctx, name, v)
}

// promptRequest sets req to answer with the run's prompt.
func (r *Runner) promptRequest(ctx context.Context, ref string, req *assistant.Request) error {
	if r.opts.Prompts == nil || ref == "" {
		return nil
	}
	_, _, label, err := parsePromptRef(ref)
	if err != nil {
		return err
	}
	if label != "" {
		req.PromptLabel = label
		return nil
	}
	req.Prompt, err = r.pinnedPrompt(ctx, ref)
	return err
}
