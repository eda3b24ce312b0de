package assistant

import (
	"context"
	"time"

	"llmops/rag/answer"
	"llmops/rag/prompt"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// Answerer writes an answer from retrieved context: the embedded
// extractive answerer, or a chat model (ChatAnswerer).
type Answerer interface {
	// Name is the model name recorded on traces ("extractive" for the
	// embedded answerer).
	Name() string
	// Generate answers in.Question from in.Context. A streaming answerer
	// passes each piece of text to token as it arrives; an error from
	// token stops it. On error the Generation may still be returned with
	// what is known (partial text, timings) for the trace.
	Generate(ctx context.Context, in Input, token func(string) error) (*Generation, error)
}

// Input is what an answerer answers from.
type Input struct {
	Question string           // as asked
	Query    string           // standalone, as retrieval saw it
	History  []retrieve.Turn  // earlier turns, oldest first
	Context  []store.ChunkRef // retrieved chunks, cited [1]..[n]
	// Prompt is the support-answer version the ask resolved (nil:
	// version 1). An answerer renders it and honours its config.
	Prompt *prompt.Compiled
	// Canary is a marker a chat answerer plants in its system prompt; the
	// output policy withholds an answer that repeats it ("" plants none).
	Canary string
}

// Generation is an answerer's answer with what the trace records of it.
type Generation struct {
	Answer *answer.Answer
	// Grounded is set when the answerer scored groundedness itself.
	Grounded bool
	// Operation and Provider are what the call was and who answered, as
	// OpenTelemetry names them (schema.OperationChat, schema.ProviderOpenAI).
	Operation, Provider string
	// RequestModel is the model asked for; Model the one that answered
	// (the same when RequestModel is "").
	RequestModel string
	Model        string
	Temperature  *float32 // sent to the model; nil when none was
	MaxTokens    int      // completion limit sent; 0 when none was
	Prompt       string   // template name@version; "" when no prompt was used
	// PromptText is the rendered prompt, kept (shortened) on the trace.
	PromptText          string
	PromptStart         time.Time
	PromptEnd           time.Time
	Start, End          time.Time // the model call
	TTFT                time.Duration
	TokensIn, TokensOut int
	UsageReported       bool // token counts came from the upstream
	CostUSD             float64
	// CostInUSD and CostOutUSD split CostUSD into prompt and completion
	// when Priced (the model has a price).
	CostInUSD, CostOutUSD float64
	Priced                bool
	Attempts              int
	FinishReason          string
}

// Extractive is the embedded offline answerer: it stitches the answer
// from the retrieved sentences that best answer the question, each cited.
// It costs nothing and uses no tokens.
type Extractive struct {
	answer.Extractive
}

// ExtractiveName is the model name traces record for Extractive.
const ExtractiveName = "extractive"

// Name implements Answerer.
func (Extractive) Name() string { return ExtractiveName }

// Generate implements Answerer. It does not stream: the answer is ready
// in about a millisecond, and the fallback decision must come first.
func (e Extractive) Generate(ctx context.Context, in Input, _ func(string) error) (*Generation, error) {
	start := time.Now()
	a, err := e.Answer(ctx, in.Question, in.Context)
	end := time.Now()
	g := &Generation{Answer: a, Grounded: true, Operation: schema.OperationExtract, Provider: schema.ProviderLLMOps, Model: ExtractiveName,
		Start: start, End: end, TTFT: end.Sub(start)}
	if err != nil {
		return g, err
	}
	return g, nil
}
