// Package judge scores answers with a chat model: the per-sentence
// support verdicts behind the answer path's groundedness, and the
// LLM-judge variants of the eval answer metrics (faithfulness, citation
// precision, relevancy, correctness, refusal).
//
// Each judgement renders a named, versioned prompt template (Template),
// asks the model at temperature 0 through rag/llm (which retries rate
// limits and server errors), and reads a score in [0, 1] from whatever
// the model wrote (see parse.go for the rules). With a cache, judgements
// are kept by model, template and input, so a rerun of an eval asks only
// about what changed.
package judge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"llmops/rag/llm"
	"llmops/store"
)

// Cache keeps judgements between runs (bbolt-backed in production). It
// must be safe for concurrent use. Its errors are counted, never fatal.
type Cache interface {
	GetJudgement(ctx context.Context, key string) (value []byte, ok bool, err error)
	PutJudgement(ctx context.Context, key string, value []byte) error
}

// Judge scores answers with one model. It is safe for concurrent use.
type Judge struct {
	client *llm.Client
	cache  Cache
	render Renderer

	calls, cacheHits, cacheErrors, failures, retries atomic.Int64
	promptTokens, completionTokens                   atomic.Int64
}

// New returns a Judge asking c, with cache (nil for none).
func New(c *llm.Client, cache Cache) *Judge {
	return &Judge{client: c, cache: cache}
}

// Renderer renders the judge template name ("judge-support@1") with
// input from elsewhere (the prompt registry's version of it) and returns
// the prompt and the name@version it rendered, which keys the cache.
type Renderer func(ctx context.Context, name string, input any) (prompt, ref string, err error)

// WithRenderer returns a copy of j that renders its prompts with r (nil:
// the built-in templates); counters start at zero.
func (j *Judge) WithRenderer(r Renderer) *Judge {
	return &Judge{client: j.client, cache: j.cache, render: r}
}

// Model is the judge model's name, "" without one.
func (j *Judge) Model() string {
	if j == nil || j.client == nil {
		return ""
	}
	return j.client.Model()
}

// Stats counts what a Judge did since New.
type Stats struct {
	// Calls are the judgements that asked the model (retries aside).
	Calls int64 `json:"calls"`
	// CacheHits are the judgements answered from the cache.
	CacheHits int64 `json:"cache_hits"`
	// CacheErrors are cache reads and writes that failed, and cached
	// values that could not be read; each was passed over.
	CacheErrors int64 `json:"cache_errors"`
	// Failures are the calls that ended in an error: the model's (after
	// its retries) or unusable output (ErrJudgeFailed).
	Failures int64 `json:"failures"`
	// Retries are the extra attempts rag/llm made for calls that
	// succeeded; a failed call's attempts are not visible here.
	Retries int64 `json:"retries"`
	// PromptTokens and CompletionTokens are the successful calls' usage.
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Stats returns the counts so far.
func (j *Judge) Stats() Stats {
	return Stats{
		Calls: j.calls.Load(), CacheHits: j.cacheHits.Load(), CacheErrors: j.cacheErrors.Load(),
		Failures: j.failures.Load(), Retries: j.retries.Load(),
		PromptTokens: j.promptTokens.Load(), CompletionTokens: j.completionTokens.Load(),
	}
}

// The inputs of each template. Marshalled to JSON they are the canonical
// input of the cache key, so their fields only ever grow.
type (
	faithfulnessInput struct {
		Question  string   `json:"question"`
		Sentences []string `json:"sentences"`
		Contexts  []string `json:"contexts"`
	}
	supportInput struct {
		Passages  []string        `json:"passages"`
		Sentences []citedSentence `json:"sentences"`
	}
	citedSentence struct {
		Text  string `json:"text"`
		Cites []int  `json:"cites"` // into Passages, from 1
	}
	answerInput struct {
		Question  string `json:"question"`
		Answer    string `json:"answer"`
		Reference string `json:"reference,omitempty"`
	}
)

// Faithfulness (judge-faithfulness@1) is the mean verdict on the answer's
// sentences against all the retrieved contexts: 1 supported, 0.5 partly,
// 0 not. Blank sentences and contexts are left out. Without sentences it
// returns ErrNotApplicable; without contexts nothing supports the answer,
// so it scores 0 without asking.
func (j *Judge) Faithfulness(ctx context.Context, question string, sentences []string, contexts []string) (float64, error) {
	in := faithfulnessInput{Question: strings.TrimSpace(question), Sentences: trimmed(sentences), Contexts: trimmed(contexts)}
	switch {
	case len(in.Sentences) == 0:
		return 0, fmt.Errorf("faithfulness: no answer sentences: %w", ErrNotApplicable)
	case len(in.Contexts) == 0:
		return 0, nil
	}
	got, err := j.judgeVerdicts(ctx, TemplateFaithfulness, in, len(in.Sentences))
	return got.Score, err
}

// Support (judge-support@1) scores each sentence against only the
// passages it cites (cited[i] for sentences[i]): 1 supported, 0.5 partly,
// 0 not, one score in [0, 1] per sentence. A sentence that cites nothing
// scores 0 without asking. When the model's output holds no verdict on
// some sentence, the error is ErrJudgeFailed (EUNAVAILABLE).
func (j *Judge) Support(ctx context.Context, sentences []string, cited [][]string) ([]float64, error) {
	in, asked, err := supportInputOf(sentences, cited)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, len(sentences))
	if len(asked) == 0 {
		return scores, nil
	}
	got, err := j.judgeVerdicts(ctx, TemplateSupport, in, len(asked))
	if err != nil {
		return nil, err
	}
	for k, i := range asked {
		scores[i] = got.Verdicts[k]
	}
	return scores, nil
}

// CitationPrecision (judge-support@1) is the mean of Support's verdicts
// on the sentences that cite something. When no sentence cites anything
// it returns ErrNotApplicable.
func (j *Judge) CitationPrecision(ctx context.Context, sentences []string, cited [][]string) (float64, error) {
	in, asked, err := supportInputOf(sentences, cited)
	if err != nil {
		return 0, err
	}
	if len(asked) == 0 {
		return 0, fmt.Errorf("citation precision: no sentence cites a source: %w", ErrNotApplicable)
	}
	got, err := j.judgeVerdicts(ctx, TemplateSupport, in, len(asked))
	return got.Score, err
}

// supportInputOf numbers the distinct passages sentences cite and lists
// the sentences that cite any, with asked their indexes in sentences.
func supportInputOf(sentences []string, cited [][]string) (in supportInput, asked []int, err error) {
	if len(cited) != len(sentences) {
		return in, nil, store.Errorf(store.EINVALID, "%d sentences but %d citation lists to judge them by", len(sentences), len(cited))
	}
	ids := make(map[string]int)
	for i, s := range sentences {
		cs := citedSentence{Text: strings.TrimSpace(s)}
		for _, p := range trimmed(cited[i]) {
			id, ok := ids[p]
			if !ok {
				in.Passages = append(in.Passages, p)
				id = len(in.Passages)
				ids[p] = id
			}
			if !slices.Contains(cs.Cites, id) {
				cs.Cites = append(cs.Cites, id)
			}
		}
		if len(cs.Cites) > 0 {
			in.Sentences = append(in.Sentences, cs)
			asked = append(asked, i)
		}
	}
	return in, asked, nil
}

// Relevancy (judge-relevancy@1) is how directly answer addresses
// question, from 0 to 1; a refusal scores low. A blank answer scores 0
// without asking; a blank question returns ErrNotApplicable.
func (j *Judge) Relevancy(ctx context.Context, question, answer string) (float64, error) {
	in := answerInput{Question: strings.TrimSpace(question), Answer: strings.TrimSpace(answer)}
	switch {
	case in.Question == "":
		return 0, fmt.Errorf("relevancy: no question: %w", ErrNotApplicable)
	case in.Answer == "":
		return 0, nil
	}
	got, err := j.judge(ctx, TemplateRelevancy, in, 0, readScore)
	return got.Score, err
}

// Correctness (judge-correctness@1) is how far answer agrees with
// reference, from 0 to 1: the reference's facts present, none
// contradicted. A blank reference returns ErrNotApplicable; a blank
// answer scores 0 without asking.
func (j *Judge) Correctness(ctx context.Context, question, answer, reference string) (float64, error) {
	in := answerInput{Question: strings.TrimSpace(question), Answer: strings.TrimSpace(answer), Reference: strings.TrimSpace(reference)}
	switch {
	case in.Reference == "":
		return 0, fmt.Errorf("correctness: no reference answer: %w", ErrNotApplicable)
	case in.Answer == "":
		return 0, nil
	}
	got, err := j.judge(ctx, TemplateCorrectness, in, 0, readScore)
	return got.Score, err
}

// Refusal (judge-refusal@1) reports whether answer declines to answer
// question or says the documents do not cover it. A blank answer
// returns ErrNotApplicable.
func (j *Judge) Refusal(ctx context.Context, question, answer string) (bool, error) {
	in := answerInput{Question: strings.TrimSpace(question), Answer: strings.TrimSpace(answer)}
	if in.Answer == "" {
		return false, fmt.Errorf("refusal: no answer: %w", ErrNotApplicable)
	}
	got, err := j.judge(ctx, TemplateRefusal, in, 0, readRefusal)
	return got.Score > 0.5, err
}

// judgement is a judge's answer as read, and as cached.
type judgement struct {
	Score    float64   `json:"score"`              // in [0, 1]; 1 for a refusal
	Verdicts []float64 `json:"verdicts,omitempty"` // per sentence
	Reason   string    `json:"reason,omitempty"`
}

// maxShownOutput bounds the copy of unusable output in an error, in bytes.
const maxShownOutput = 300

// judgeVerdicts judges n sentences with the per-sentence template name.
func (j *Judge) judgeVerdicts(ctx context.Context, name string, input any, n int) (judgement, error) {
	return j.judge(ctx, name, input, n, func(out string) (judgement, bool) { return readVerdicts(out, n) })
}

// judge answers the template name for input from the cache or else by
// asking the model and reading its output with read. verdicts is how
// many per-sentence verdicts the judgement holds (0 for a template that
// scores the whole answer). Only judgements read successfully are cached.
func (j *Judge) judge(ctx context.Context, name string, input any, verdicts int, read func(out string) (judgement, bool)) (judgement, error) {
	if j == nil || j.client == nil {
		return judgement{}, store.Errorf(store.EINVALID, "no judge model is configured")
	}
	canonical, err := json.Marshal(input)
	if err != nil {
		return judgement{}, fmt.Errorf("%s: %w", name, err)
	}
	var prompt string
	ref := name
	if j.render != nil {
		// The version decides the text, so it keys the cache.
		if prompt, ref, err = j.render(ctx, name, input); err != nil {
			return judgement{}, err
		}
	}
	key := cacheKey(j.client.Model(), ref, canonical)
	if got, ok := j.cached(ctx, key, verdicts); ok {
		return got, nil
	}
	if j.render == nil {
		if prompt, err = render(name, input); err != nil {
			return judgement{}, err
		}
	}
	zero := float32(0)
	j.calls.Add(1)
	resp, err := j.client.Complete(ctx, llm.Request{
		Messages:    []llm.Message{{Role: "user", Content: prompt}},
		Temperature: &zero,
	})
	if err != nil {
		j.failures.Add(1)
		return judgement{}, fmt.Errorf("%s: %w", name, err)
	}
	j.retries.Add(int64(resp.Attempts - 1))
	j.promptTokens.Add(int64(resp.Usage.PromptTokens))
	j.completionTokens.Add(int64(resp.Usage.CompletionTokens))
	got, ok := read(resp.Text)
	if !ok {
		j.failures.Add(1)
		return judgement{}, fmt.Errorf("%w: %s: model %s wrote %q", ErrJudgeFailed, name, j.client.Model(), clip(resp.Text, maxShownOutput))
	}
	j.remember(ctx, key, got)
	return got, nil
}

// cacheKey is the hex SHA-256 of the model, the template and the input.
func cacheKey(model, template string, canonical []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(model), []byte(template), canonical} {
		fmt.Fprintf(h, "%d:", len(part)) // no two triples hash alike by shifting bytes
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cached is the judgement under key, if the cache has a readable one
// with the verdicts expected.
func (j *Judge) cached(ctx context.Context, key string, verdicts int) (judgement, bool) {
	if j.cache == nil {
		return judgement{}, false
	}
	value, ok, err := j.cache.GetJudgement(ctx, key)
	if err != nil {
		j.cacheErrors.Add(1)
		return judgement{}, false
	}
	if !ok {
		return judgement{}, false
	}
	var got judgement
	if err := json.Unmarshal(value, &got); err != nil || got.Score < 0 || got.Score > 1 || len(got.Verdicts) != verdicts {
		j.cacheErrors.Add(1)
		return judgement{}, false
	}
	j.cacheHits.Add(1)
	return got, true
}

// remember caches got under key, if there is a cache.
func (j *Judge) remember(ctx context.Context, key string, got judgement) {
	if j.cache == nil {
		return
	}
	value, err := json.Marshal(got)
	if err == nil {
		err = j.cache.PutJudgement(ctx, key, value)
	}
	if err != nil {
		j.cacheErrors.Add(1)
	}
}

// trimmed is ss trimmed, without the blank ones.
func trimmed(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}
