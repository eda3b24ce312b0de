// Package assistant is the support assistant's answer path: guard the
// input, rewrite a follow-up into a standalone question, retrieve (BM25 and
// vectors, fused, reranked), answer from the retrieved context (the
// offline extractive answerer or an OpenAI-compatible chat model),
// score the answer's groundedness and fall back — flagging the
// conversation for a human — when the context does not support it. Every
// ask is one trace with a span per stage. The HTTP API, the chat page,
// the widget, `llmops ask` and the eval runner all answer through Ask.
package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"llmops/rag/answer"
	"llmops/rag/guard"
	"llmops/rag/guard/pii"
	"llmops/rag/index"
	"llmops/rag/prompt"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// Request is one question to the assistant.
type Request struct {
	Question string `json:"question"`
	// ConversationID continues a conversation; empty starts a new one.
	ConversationID string       `json:"conversation_id,omitempty"`
	Filters        index.Filter `json:"filters"`
	TopK           int          `json:"top_k,omitempty"` // chunks given to the answerer (0: the assistant's Options.TopK)

	// Set by the caller, not by the client.
	Channel   string      `json:"-"` // a schema.Channel* value
	Actor     store.Actor `json:"-"`
	UserID    string      `json:"-"`
	SessionID string      `json:"-"`
	// NoConversation answers without reading or recording a conversation
	// (evals: every case stands alone).
	NoConversation bool `json:"-"`
	// Evals vary retrieval per run and score a deeper ranking than the
	// answerer sees: Mode and NoRerank override the retriever's options,
	// and RankDepth > TopK retrieves that many chunks, gives the answerer
	// the first TopK and returns them all in Result.Ranked.
	Mode      string `json:"-"`
	NoRerank  bool   `json:"-"`
	RankDepth int    `json:"-"`
	// Prompt answers with this support-answer version (an eval run at a
	// version, the playground's draft) instead of resolving the
	// assistant's label.
	Prompt *prompt.Compiled `json:"-"`
	// PromptLabel resolves this label instead of Options.Label (an eval
	// run with --label staging).
	PromptLabel string `json:"-"`
	// StickyKey picks a label split's arm (a widget visitor); empty: the
	// conversation, else the trace.
	StickyKey string `json:"-"`
	// Visitor is a widget visitor's pseudonymous ID, recorded on the
	// trace (schema.AttrVisitor) for the users page.
	Visitor string `json:"-"`
}

// Limits on a request.
const (
	MaxQuestionRunes = 4000
	MaxTopK          = 20
	DefaultTopK      = retrieve.DefaultTopK
)

// Citation is one cited chunk as clients show it.
type Citation struct {
	answer.Citation
	Heading string  `json:"heading,omitempty"` // the chunk's heading path, "Billing › Cancel"
	Score   float64 `json:"score"`             // the retriever's final score
}

// Source is a document a fallback answer points to.
type Source struct {
	DocumentID string `json:"document_id"`
	Title      string `json:"title"`
	Source     string `json:"source"`
	SourceURL  string `json:"source_url,omitempty"` // its public address, when it has one
}

// Result is the answer object of POST /api/v1/ask and the SSE done event.
type Result struct {
	Answer       string     `json:"answer"`
	Citations    []Citation `json:"citations"`
	Groundedness float64    `json:"groundedness"`
	// Relevance is how directly the answer addresses the question, 0..1
	// (answer.Relevance); below answer.DefaultMinRelevance it falls back.
	Relevance      float64 `json:"relevance"`
	Fallback       bool    `json:"fallback"`
	Escalated      bool    `json:"escalated"`
	TraceID        string  `json:"trace_id"`
	ConversationID string  `json:"conversation_id,omitempty"`
	// Standalone is the question as retrieval saw it, when a follow-up
	// was rewritten.
	Standalone string   `json:"standalone_question,omitempty"`
	Closest    []Source `json:"closest,omitempty"` // on fallback: where to look instead
	LatencyMS  int64    `json:"latency_ms"`
	TTFTMS     int64    `json:"ttft_ms"`
	TokensIn   int      `json:"tokens_in"`
	TokensOut  int      `json:"tokens_out"`
	CostUSD    float64  `json:"cost_usd"`
	Model      string   `json:"model"`
	Prompt     string   `json:"prompt,omitempty"` // name@version of the prompt template
	// RemovedCitations counts markers that pointed outside the context.
	RemovedCitations int `json:"removed_citations,omitempty"`
	// Retrieved lists the chunk IDs given to the answerer, best first
	// (evals score retrieval from it).
	Retrieved []string `json:"retrieved,omitempty"`
	// Ranked is the whole ranking when Request.RankDepth asked for one.
	Ranked []string `json:"-"`
	// Guard is what the guardrails decided, when any guard did not pass.
	Guard *GuardSummary `json:"guard,omitempty"`
	// Context is what the answerer was given, and PromptText the prompt
	// it rendered ("" for the extractive answerer): the playground shows
	// them.
	Context    []store.ChunkRef `json:"-"`
	PromptText string           `json:"-"`
}

// GuardSummary is what the guardrails did to an ask.
type GuardSummary struct {
	Blocked bool     `json:"blocked"`
	Flagged bool     `json:"flagged"`
	Reasons []string `json:"reasons"`
}

// Event types sent while answering.
const (
	EventMeta      = "meta"      // TraceID and ConversationID, first
	EventToken     = "token"     // Text: the next piece of the answer
	EventCitations = "citations" // Citations of the final answer
	EventDone      = "done"      // Result
)

// Event is one step of a streamed answer.
type Event struct {
	Type           string
	Text           string
	Citations      []Citation
	Result         *Result
	TraceID        string
	ConversationID string
}

// TraceSink takes finished traces; *store.TraceWriter is one.
type TraceSink interface {
	Write(ctx context.Context, t *store.Trace, spans ...store.Span) error
}

// Conversations keeps multi-turn context; *store.Store is one.
type Conversations interface {
	StartConversation(ctx context.Context, id, channel, owner string) error
	Conversation(ctx context.Context, id, owner string) (*store.Conversation, error)
	AppendTurn(ctx context.Context, id, channel, owner string, t store.Turn, escalate bool) error
}

// Options wire an Assistant. Retriever and Traces are required.
type Options struct {
	Retriever *retrieve.Retriever
	// Answerer writes the answer; nil is the offline extractive answerer.
	Answerer Answerer
	// Embed scores generated answers' groundedness with embeddings as
	// well as words; nil scores words only.
	Embed answer.Embedder
	// Judge, when set, scores each sentence of a generated answer against
	// its cited passages with a model; its score is averaged with the
	// offline one. A judge that fails leaves the offline score alone.
	Judge Judge
	// Threshold is the groundedness below which the answer is replaced by
	// the fallback: nil means answer.DefaultThreshold, and 0 means never.
	Threshold *float64
	// TopK is how many chunks the answerer sees when a request does not
	// say (default DefaultTopK).
	TopK          int
	Traces        TraceSink
	Conversations Conversations // nil: no multi-turn context
	// Prompts resolves the support-answer and fallback-message versions
	// per ask through Label (server --env: production, staging or dev);
	// nil answers with version 1 of each.
	Prompts *prompt.Registry
	Label   string // default prompt.LabelProduction
	// Guardrails run input guards before anything is spent on a question
	// and output guards on the answer, each a span on the trace; nil runs
	// none.
	Guardrails *guard.Guardrails
	Logger     *slog.Logger
	Now        func() time.Time
}

// Judge scores sentences against the passages each cites, 0..1 each.
type Judge func(ctx context.Context, sentences []string, sources [][]string) ([]float64, error)

// Assistant answers questions. It is safe for concurrent use.
type Assistant struct {
	opts Options
	// canary is planted in the system prompt of chat answers; an answer
	// holding it reveals the prompt, and the output policy withholds it.
	canary string
}

// New returns an assistant.
func New(opts Options) (*Assistant, error) {
	if opts.Retriever == nil || opts.Traces == nil {
		return nil, errors.New("assistant: Retriever and Traces are required")
	}
	if opts.Answerer == nil {
		opts.Answerer = Extractive{answer.Extractive{Embed: opts.Embed}}
	}
	threshold := answer.DefaultThreshold
	if opts.Threshold != nil {
		threshold = *opts.Threshold // copied: the caller's variable may change
	}
	if !(threshold >= 0 && threshold <= 1) { // NaN too
		return nil, fmt.Errorf("assistant: threshold %v is not between 0 and 1", threshold)
	}
	opts.Threshold = &threshold
	if opts.TopK == 0 {
		opts.TopK = DefaultTopK
	}
	if opts.TopK < 1 || opts.TopK > MaxTopK {
		return nil, fmt.Errorf("assistant: top-k %d is not between 1 and %d", opts.TopK, MaxTopK)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Label == "" {
		opts.Label = prompt.LabelProduction
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Assistant{opts: opts, canary: "llmops-canary-" + store.NewID()}, nil
}

// Guardrails returns the guardrails in use, nil when none.
func (a *Assistant) Guardrails() *guard.Guardrails { return a.opts.Guardrails }

// Answerer returns the answerer in use.
func (a *Assistant) Answerer() Answerer { return a.opts.Answerer }

// Threshold is the groundedness below which answers fall back.
func (a *Assistant) Threshold() float64 { return *a.opts.Threshold }

// TopK is how many chunks the answerer sees when a request does not say.
func (a *Assistant) TopK() int { return a.opts.TopK }

// Label is the prompt label the assistant answers with (--env).
func (a *Assistant) Label() string { return a.opts.Label }

// Prompts is the prompt registry in use, nil when none.
func (a *Assistant) Prompts() *prompt.Registry { return a.opts.Prompts }

// resolve picks the versions of support-answer and fallback-message an
// ask answers with. The ask keeps them to the end, so a label moved
// meanwhile changes only later asks.
func (a *Assistant) resolve(ctx context.Context, req *Request, sticky string) (answerP, fallbackP *prompt.Compiled, err error) {
	label := cmp.Or(req.PromptLabel, a.opts.Label)
	answerP, fallbackP = req.Prompt, defaultFallback
	if a.opts.Prompts == nil {
		return cmp.Or(answerP, defaultPrompt), fallbackP, nil
	}
	if answerP == nil {
		if answerP, err = a.resolveOne(ctx, prompt.SupportAnswer, label, sticky); err != nil {
			return nil, nil, err
		}
	}
	if fallbackP, err = a.resolveOne(ctx, prompt.FallbackMessage, label, sticky); err != nil {
		return nil, nil, err
	}
	return answerP, fallbackP, nil
}

// resolveOne resolves label of name; a prompt without that label (a
// custom label set on support-answer only) answers with production's.
func (a *Assistant) resolveOne(ctx context.Context, name, label, sticky string) (*prompt.Compiled, error) {
	p, err := a.opts.Prompts.Resolve(ctx, name, label, sticky)
	if err != nil && store.ErrorCode(err) == store.ENOTFOUND && label != prompt.LabelProduction {
		p, err = a.opts.Prompts.Resolve(ctx, name, prompt.LabelProduction, sticky)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s:%s: %w", name, label, err)
	}
	return p, nil
}

// defaultFallback is version 1 of fallback-message.
var defaultFallback = prompt.Builtin(prompt.FallbackMessage)

// fallbackText renders the fallback message with the closest documents'
// titles (distinct, best first, at most three).
func fallbackText(p *prompt.Compiled, refs []store.ChunkRef) (string, error) {
	return p.Text(prompt.FallbackData{Closest: answer.ClosestTitles(refs)})
}

// Validate checks a request and fills its defaults.
func (r *Request) Validate() error {
	r.Question = strings.TrimSpace(r.Question)
	switch n := utf8.RuneCountInString(r.Question); {
	case n == 0:
		return store.Errorf(store.EINVALID, "question is required")
	case n > MaxQuestionRunes:
		return store.Errorf(store.EINVALID, "question is longer than %d characters (%d)", MaxQuestionRunes, n)
	case !utf8.ValidString(r.Question):
		return store.Errorf(store.EINVALID, "question is not valid UTF-8")
	}
	// No conversation has a longer ID; the client gets no echo of it.
	if len(r.ConversationID) > store.MaxIDLen {
		return store.Errorf(store.EINVALID, "invalid conversation_id")
	}
	// TopK 0 is the assistant's default (Options.TopK), filled in by Ask.
	if r.TopK < 0 || r.TopK > MaxTopK {
		return store.Errorf(store.EINVALID, "top_k must be 1 to %d (got %d)", MaxTopK, r.TopK)
	}
	if r.RankDepth < 0 || r.RankDepth > 100 {
		return store.Errorf(store.EINVALID, "rank depth must be 0 to 100 (got %d)", r.RankDepth)
	}
	if len(r.Filters.Tags) > 20 {
		return store.Errorf(store.EINVALID, "filters.tags: at most 20 tags")
	}
	return nil
}

// owner identifies who may continue a conversation.
func owner(a store.Actor) string { return string(a.Kind) + ":" + cmp.Or(a.ID, a.Name) }

// Owner is the owner a conversation started by a records: only the same
// actor may continue it (or, for a widget visitor, leave contact details
// on it).
func Owner(a store.Actor) string { return owner(a) }

// Ask answers req. emit, when not nil, receives the events of a streamed
// answer in order (meta, tokens, citations, done); an error from emit
// (the client went away) stops the answer. The trace is written whether
// the ask succeeds or not. Errors are *store.Error for bad requests and
// upstream faults, or ctx's error when the caller gave up.
func (a *Assistant) Ask(ctx context.Context, req Request, emit func(Event) error) (*Result, error) {
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	start := a.opts.Now()
	// Input guards run first, so that a redacted question is all the
	// model, the trace and the conversation ever see.
	var in *guard.Result
	if g := a.opts.Guardrails; g != nil {
		if err := req.Validate(); err == nil {
			r := g.Input(ctx, req.Question)
			in = &r
			req.Question = r.Text
		} else if g.Config().Mode(guard.InputPII) == guard.ModeRedact {
			req.Question, _ = pii.RedactText(req.Question)
		}
	}
	t := newTracer(start, req)
	t.threshold = *a.opts.Threshold
	// Time to first token is measured here, the same way for every
	// answerer: from the request to the first piece of answer sent.
	var first time.Time
	counted := func(ev Event) error {
		if ev.Type == EventToken && first.IsZero() {
			first = a.opts.Now()
		}
		return emit(ev)
	}
	res, err := a.ask(ctx, &req, t, in, counted)
	if res != nil {
		if !first.IsZero() {
			res.TTFTMS = first.Sub(t.trace.Start).Milliseconds()
		}
		res.LatencyMS = a.opts.Now().Sub(t.trace.Start).Milliseconds()
	}
	t.finish(a.opts.Now(), res, err)
	// The trace is queued before done goes out, so feedback sent the
	// moment the answer ends finds it; and it outlives a cancelled
	// request, which is when it matters most.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if werr := a.opts.Traces.Write(wctx, t.trace, t.spans...); werr != nil {
		a.opts.Logger.Warn("ask: trace not written", "trace", t.trace.ID, "err", werr)
	}
	if err != nil {
		return nil, err
	}
	if err := emit(Event{Type: EventDone, Result: res}); err != nil {
		return nil, err
	}
	return res, nil
}

func (a *Assistant) ask(ctx context.Context, req *Request, t *tracer, in *guard.Result, emit func(Event) error) (*Result, error) {
	// Guard: input checks before anything is spent on the question.
	sp := t.start(schema.SpanGuard, schema.SpanKindGuard, "")
	err := req.Validate()
	sp.attrs[schema.AttrQuestionChars] = utf8.RuneCountInString(req.Question)
	t.end(sp, err)
	if err != nil {
		return nil, err
	}
	if in != nil {
		for _, v := range in.Verdicts {
			t.verdict(v)
		}
	}

	// Conversation context.
	var history []retrieve.Turn
	convID := req.ConversationID
	if !req.NoConversation && a.opts.Conversations != nil {
		if convID != "" {
			c, err := a.opts.Conversations.Conversation(ctx, convID, owner(req.Actor))
			if err != nil {
				return nil, err
			}
			for _, turn := range c.Turns {
				history = append(history, retrieve.Turn{Role: retrieve.RoleUser, Text: turn.Question},
					retrieve.Turn{Role: retrieve.RoleAssistant, Text: turn.Answer})
			}
		} else {
			// Stored before the client learns the ID, so a first answer
			// that fails or is stopped leaves a conversation to go on with.
			convID = store.NewID()
			if err := a.opts.Conversations.StartConversation(ctx, convID, req.Channel, owner(req.Actor)); err != nil {
				return nil, err
			}
		}
	} else {
		convID = ""
	}
	if convID != "" {
		t.trace.Attributes[schema.AttrConversationID] = convID
	}
	if err := emit(Event{Type: EventMeta, TraceID: t.trace.ID, ConversationID: convID}); err != nil {
		return nil, err
	}

	if in != nil && in.Blocked {
		return a.blocked(ctx, req, t, convID, in.Reasons, blockedMessage, true, emit)
	}

	// The prompt versions this ask answers with, and their config.
	answerP, fallbackP, err := a.resolve(ctx, req, cmp.Or(req.StickyKey, convID, t.trace.ID))
	if err != nil {
		return nil, err
	}
	t.trace.Attributes[schema.AttrPrompt] = answerP.Ref()
	cfg := answerP.Config()
	if req.TopK == 0 {
		req.TopK = cmp.Or(cfg.TopK, a.opts.TopK)
	}
	threshold := *a.opts.Threshold
	if cfg.GroundednessThreshold != nil {
		threshold = *cfg.GroundednessThreshold
	}
	t.threshold = threshold

	// Rewrite a follow-up into a standalone question.
	sp = t.start(schema.SpanRewrite, schema.SpanKindChain, "")
	query := retrieve.Standalone(history, req.Question)
	sp.attrs[schema.AttrTurns] = len(history) / 2
	sp.attrs[schema.AttrQuery] = query
	sp.attrs[schema.AttrRewritten] = query != req.Question
	t.end(sp, nil)
	standalone := ""
	if query != req.Question {
		standalone = query
		t.trace.Attributes[schema.AttrStandaloneQuestion] = query
	}

	// Retrieve.
	opts := a.opts.Retriever.Options()
	opts.TopK, opts.Filter = max(req.TopK, req.RankDepth), req.Filters
	if cfg.RetrievalMode != "" {
		opts.Mode = cfg.RetrievalMode
	}
	if cfg.Rerank != nil {
		opts.NoRerank = !*cfg.Rerank
	}
	if req.Mode != "" {
		opts.Mode = req.Mode
	}
	opts.NoRerank = opts.NoRerank || req.NoRerank
	rstart := a.opts.Now()
	rr, err := a.opts.Retriever.Retrieve(ctx, query, &opts)
	t.retrieval(rstart, a.opts.Now(), rr, err)
	if err != nil {
		return nil, err
	}
	var ranked []string
	if req.RankDepth > 0 {
		ranked = make([]string, len(rr.Hits))
		for i, h := range rr.Hits {
			ranked[i] = h.ID
		}
	}
	hits := rr.Hits[:min(len(rr.Hits), req.TopK)]
	refs := make([]store.ChunkRef, len(hits))
	retrieved := make([]string, len(hits))
	for i, h := range hits {
		refs[i] = store.ChunkRef{Chunk: h.Chunk, Document: h.Document}
		retrieved[i] = h.ID
	}

	// Scope: a question the knowledge base has nothing about gets the
	// honest fallback before any model is asked. It escalates like any
	// fallback: what it catches may be an in-domain question the documents
	// do not cover, which is what the inbox is for.
	if g := a.opts.Guardrails; g != nil {
		passages := make([]string, len(refs))
		for i, r := range refs {
			passages[i] = r.Chunk.Text
			if r.Document != nil {
				passages[i] = r.Document.Title + "\n" + strings.Join(r.Chunk.Headings, " ") + "\n" + r.Chunk.Text
			}
		}
		if v, ok := g.Scope(query, passages); ok {
			t.verdict(v)
			if v.Outcome == guard.OutcomeBlock {
				msg := strings.TrimSpace(g.Config().ScopeSentence + " " + outOfScopeMessage)
				return a.blocked(ctx, req, t, convID, v.Reasons, msg, true, emit)
			}
		}
	}

	// Answer.
	input := Input{Question: req.Question, Query: query, History: history, Context: refs, Prompt: answerP, Canary: a.canary}
	streamed := false
	token := func(s string) error {
		streamed = true
		return emit(Event{Type: EventToken, Text: s})
	}
	gen, err := a.opts.Answerer.Generate(ctx, input, token)
	t.generation(gen, err)
	if err != nil {
		return nil, err
	}
	ans := gen.Answer

	// Groundedness: the extractive answerer scores its own answers; a
	// generated one is checked here, then held to the threshold.
	sp = t.start(schema.SpanGroundedness, schema.SpanKindGuard, "")
	if !gen.Grounded {
		orig := *ans
		if err := answer.Ground(ctx, ans, refs, a.opts.Embed); err != nil {
			if ctx.Err() != nil {
				t.end(sp, err)
				return nil, ctx.Err()
			}
			// Embeddings only refine the score: without them, words decide.
			sp.attrs[schema.AttrEmbedError] = err.Error()
			*ans = orig
			if err := answer.Ground(ctx, ans, refs, nil); err != nil {
				t.end(sp, err)
				return nil, err
			}
		}
		if a.opts.Judge != nil && !ans.Fallback && len(ans.Sentences) > 0 {
			a.judge(ctx, ans, refs, sp)
		}
	}
	answer.ScoreRelevance(ans, query, refs) // the extractive answerer scored its own
	score := ans.Groundedness
	fellBack := answer.ApplyThreshold(ans, refs, threshold)
	if fellBack {
		text, err := fallbackText(fallbackP, refs)
		if err != nil {
			t.end(sp, err)
			return nil, err
		}
		ans.Text = text
	}
	sp.attrs[schema.AttrGroundedness] = score
	sp.attrs[schema.AttrRelevance] = ans.Relevance
	sp.attrs[schema.AttrThreshold] = threshold
	sp.attrs[schema.AttrFallback] = fellBack
	sp.attrs[schema.AttrRemovedCitations] = ans.Removed
	var supports []float64
	for _, s := range ans.Sentences {
		supports = append(supports, s.Support)
	}
	if supports != nil {
		sp.attrs[schema.AttrSentenceSupport] = supports
	}
	t.end(sp, nil)

	askedPerson := AsksForPerson(req.Question)
	// Output guards: the policy, PII and moderation, on the answer as the
	// client will get it (the fallback text is ours and is not checked).
	var out *guard.Result
	if g := a.opts.Guardrails; g != nil && !ans.Fallback {
		r := g.Output(ctx, ans.Text, a.canary)
		out = &r
		for _, v := range r.Verdicts {
			t.verdict(v)
		}
		switch {
		case r.Blocked:
			return a.blocked(ctx, req, t, convID, r.Reasons, blockedMessage, true, emit)
		case r.Text != ans.Text:
			ans.Text = r.Text
			if g.Config().Mode(guard.OutputPII) == guard.ModeRedact {
				t.redactOutput()
			}
		}
	}

	res := &Result{
		Answer: ans.Text, Groundedness: ans.Groundedness, Relevance: ans.Relevance, Fallback: ans.Fallback, Escalated: ans.Fallback || askedPerson,
		TraceID: t.trace.ID, ConversationID: convID, Standalone: standalone,
		TokensIn: gen.TokensIn, TokensOut: gen.TokensOut, CostUSD: gen.CostUSD, Model: gen.Model, Prompt: answerP.Ref(),
		RemovedCitations: ans.Removed, Retrieved: retrieved, Ranked: ranked, Context: refs, PromptText: gen.PromptText,
	}
	res.Citations = make([]Citation, 0, len(ans.Citations))
	for _, c := range ans.Citations {
		h := rr.Hits[c.N-1]
		res.Citations = append(res.Citations, Citation{Citation: c, Heading: strings.Join(h.Chunk.Headings, " › "), Score: h.Score})
	}
	if ans.Fallback {
		res.Closest = closest(refs, 3)
	}
	res.Guard = summary(in, out)

	// Stream what was not streamed live (the extractive answer, or the
	// fallback that replaced a generated one; clients replace the text
	// with done's answer).
	if !streamed {
		for _, piece := range pieces(res.Answer) {
			if err := emit(Event{Type: EventToken, Text: piece}); err != nil {
				return nil, err
			}
		}
	}
	if err := emit(Event{Type: EventCitations, Citations: res.Citations}); err != nil {
		return nil, err
	}

	if convID != "" {
		turn := store.Turn{Question: req.Question, Standalone: standalone, Answer: res.Answer, TraceID: t.trace.ID, Fallback: res.Fallback, AskedPerson: askedPerson}
		if err := a.opts.Conversations.AppendTurn(context.WithoutCancel(ctx), convID, req.Channel, owner(req.Actor), turn, res.Escalated); err != nil {
			a.opts.Logger.Warn("ask: conversation not saved", "conversation", convID, "err", err)
		}
	}
	return res, nil
}

// judge blends a model's verdicts into the sentences' support.
func (a *Assistant) judge(ctx context.Context, ans *answer.Answer, refs []store.ChunkRef, sp *span) {
	sentences := make([]string, len(ans.Sentences))
	sources := make([][]string, len(ans.Sentences))
	for i, s := range ans.Sentences {
		sentences[i] = s.Text
		for _, n := range s.Cites {
			if n >= 1 && n <= len(refs) {
				sources[i] = append(sources[i], refs[n-1].Chunk.Text)
			}
		}
	}
	scores, err := a.opts.Judge(ctx, sentences, sources)
	if err != nil || len(scores) != len(sentences) {
		sp.attrs[schema.AttrJudgeError] = fmt.Sprint(cmp.Or(err, fmt.Errorf("judge returned %d scores for %d sentences", len(scores), len(sentences))))
		return
	}
	sum := 0.0
	for i := range ans.Sentences {
		s := &ans.Sentences[i]
		s.Support = (s.Support + scores[i]) / 2
		sum += s.Support
	}
	ans.Groundedness = sum / float64(len(ans.Sentences))
	sp.attrs[schema.AttrJudgeScores] = scores
}

// closest lists up to n distinct documents of the context, best first.
func closest(refs []store.ChunkRef, n int) []Source {
	var out []Source
	seen := map[string]bool{}
	for _, r := range refs {
		if r.Document == nil || seen[r.Document.ID] || len(out) == n {
			continue
		}
		seen[r.Document.ID] = true
		out = append(out, Source{DocumentID: r.Document.ID, Title: r.Document.Title, Source: r.Document.Source, SourceURL: r.Document.SourceURL})
	}
	return out
}

// pieces splits text into word-sized tokens (each keeps its trailing
// space) for streaming an answer that was written all at once.
func pieces(text string) []string {
	var out []string
	for len(text) > 0 {
		i := strings.IndexAny(text, " \n")
		if i < 0 {
			out = append(out, text)
			break
		}
		j := i + 1
		for j < len(text) && (text[j] == ' ' || text[j] == '\n') {
			j++
		}
		out = append(out, text[:j])
		text = text[j:]
	}
	return out
}
