package llm

import (
	"context"
	"fmt"
	"strings"

	"llmops/store"
)

// maxJudgePassage bounds each passage in a judge prompt, in bytes: the
// support for one sentence is rarely further in than that.
const maxJudgePassage = 4000

const judgeSystem = `You check answers written from source passages. For each numbered sentence, decide whether the passages it cites support it:
- true: everything the sentence claims is stated in, or directly follows from, its cited passages;
- "partial": some of it is supported and some is not;
- false: its passages do not support it, or contradict it.
Judge only against the cited passages, not against what you know. Reply with only a JSON array, one object per sentence, in order, like:
[{"i":1,"supported":true},{"i":2,"supported":"partial"},{"i":3,"supported":false}]`

// JudgeSupport asks the model, for each answer sentence, whether its
// cited source passages support it. sources[i] are the passages cited by
// sentences[i]. It returns one score in [0, 1] per sentence: 1 supported,
// 0.5 partly, 0 not. A sentence that cites nothing scores 0 without
// asking. The model's output is read tolerantly (see parseVerdicts); if a
// verdict is still missing, the error is an EUNAVAILABLE *store.Error.
func JudgeSupport(ctx context.Context, c *Client, sentences []string, sources [][]string) ([]float64, error) {
	if c == nil {
		return nil, store.Errorf(store.EINVALID, "no judge model is configured")
	}
	if len(sources) != len(sentences) {
		return nil, store.Errorf(store.EINVALID, "%d sentences but %d source lists to judge them by", len(sentences), len(sources))
	}
	scores := make([]float64, len(sentences))
	var asked []int // indexes into sentences, in prompt order
	for i := range sentences {
		if len(nonBlank(sources[i])) > 0 {
			asked = append(asked, i)
		}
	}
	if len(asked) == 0 {
		return scores, nil
	}
	zero := float32(0)
	resp, err := c.Complete(ctx, Request{
		Messages: []Message{
			{Role: "system", Content: judgeSystem},
			{Role: "user", Content: judgePrompt(sentences, sources, asked)},
		},
		Temperature: &zero,
	})
	if err != nil {
		return nil, err
	}
	verdicts := parseVerdicts(resp.Text, len(asked))
	if len(verdicts) < len(asked) {
		return nil, fmt.Errorf("%w: output %q", store.Errorf(store.EUNAVAILABLE,
			"judge output could not be parsed: model %s gave no usable verdict for %d of %d sentences",
			c.Model(), len(asked)-len(verdicts), len(asked)), clip(resp.Text, 300))
	}
	for k, i := range asked {
		scores[i] = verdicts[k+1]
	}
	return scores, nil
}

// judgePrompt lists each cited passage once, as [P1], [P2]..., then the
// sentences to judge, numbered from 1, with the passages each one cites.
func judgePrompt(sentences []string, sources [][]string, asked []int) string {
	var passages strings.Builder
	var list strings.Builder
	ids := make(map[string]int)
	for k, i := range asked {
		var cites []string
		for _, p := range nonBlank(sources[i]) {
			id, ok := ids[p]
			if !ok {
				id = len(ids) + 1
				ids[p] = id
				fmt.Fprintf(&passages, "[P%d] %s\n\n", id, clip(p, maxJudgePassage))
			}
			cites = append(cites, fmt.Sprintf("P%d", id))
		}
		fmt.Fprintf(&list, "%d. %s\n   cites: %s\n", k+1, oneLine(sentences[i]), strings.Join(cites, ", "))
	}
	return fmt.Sprintf("Passages:\n\n%sSentences:\n\n%s\nReply with the JSON array for sentences 1 to %d.",
		passages.String(), list.String(), len(asked))
}

// nonBlank is ps without empty passages, trimmed.
func nonBlank(ps []string) []string {
	var out []string
	for _, p := range ps {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// oneLine keeps a sentence on its line of the list.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
