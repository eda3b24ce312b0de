package assistant

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"llmops/rag/answer"
	"llmops/rag/judge"
	"llmops/rag/llm"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// PromptTemplate is a named, versioned prompt. Until the prompt registry
// versions them, the default template lives here as version 1.
type PromptTemplate struct {
	Name    string
	Version int
	System  string // text/template over PromptData
	User    string // text/template over PromptData
}

// Ref is the template's name@version, as traces record it.
func (p PromptTemplate) Ref() string { return fmt.Sprintf("%s@%d", p.Name, p.Version) }

// PromptData is what a prompt template renders.
type PromptData struct {
	Question string
	Context  []PromptPassage
}

// PromptPassage is one numbered context item.
type PromptPassage struct {
	N       int
	Title   string
	Heading string
	Source  string
	Text    string
}

// DefaultPrompt is the support answer prompt: answer only from the
// numbered context, cite every sentence, say so when the context does not
// cover the question.
var DefaultPrompt = PromptTemplate{
	Name:    "support-answer",
	Version: 1,
	System: `You are the support assistant of a help centre. Answer the customer's question using only the numbered context passages.

Rules:
- Every sentence of your answer ends with the number of the passage that supports it, like [1] or [2][3].
- Use only facts stated in the passages. Do not add steps, numbers, names, prices or promises they do not contain.
- For how-to questions, give the steps in order as a numbered list, each step cited.
- If the passages do not answer the question, reply exactly: I don't know based on the documentation.
- Be concise and friendly. No preamble, no closing offers of further help.`,
	User: `Context:
{{range .Context}}
[{{.N}}] {{.Title}}{{if .Heading}} › {{.Heading}}{{end}}
{{.Text}}
{{end}}
Question: {{.Question}}`,
}

// maxHistoryTurns bounds the earlier turns sent to the model.
const maxHistoryTurns = 3

// ChatAnswerer answers with an OpenAI-compatible chat model, streaming
// its tokens; citations come from the model's [n] markers and are checked
// by the assistant's groundedness stage.
type ChatAnswerer struct {
	Client *llm.Client
	Prompt PromptTemplate // zero: DefaultPrompt
	// Prices turns token counts into cost; nil costs nothing.
	Prices func() *llm.PriceTable
	// Temperature is sent when not nil (default 0.2: support answers
	// should not be creative).
	Temperature *float32
	MaxTokens   int // default 700
}

// Name implements Answerer.
func (c *ChatAnswerer) Name() string { return c.Client.Model() }

func (c *ChatAnswerer) prompt() PromptTemplate {
	if c.Prompt.Name == "" {
		return DefaultPrompt
	}
	return c.Prompt
}

// Messages renders the prompt for in: system, earlier turns, then the
// context and question.
func (c *ChatAnswerer) Messages(in Input) ([]llm.Message, error) {
	p := c.prompt()
	data := PromptData{Question: in.Question}
	for i, ref := range in.Context {
		pp := PromptPassage{N: i + 1, Heading: strings.Join(ref.Chunk.Headings, " › "), Text: strings.TrimSpace(ref.Chunk.Text)}
		if ref.Document != nil {
			pp.Title, pp.Source = ref.Document.Title, ref.Document.Source
		}
		data.Context = append(data.Context, pp)
	}
	system, err := render(p.Name+".system", p.System, data)
	if err != nil {
		return nil, err
	}
	user, err := render(p.Name+".user", p.User, data)
	if err != nil {
		return nil, err
	}
	msgs := []llm.Message{{Role: "system", Content: system}}
	hist := in.History
	if n := len(hist); n > 2*maxHistoryTurns {
		hist = hist[n-2*maxHistoryTurns:]
	}
	for _, t := range hist {
		role := "user"
		if t.Role == retrieve.RoleAssistant {
			role = "assistant"
		}
		msgs = append(msgs, llm.Message{Role: role, Content: t.Text})
	}
	return append(msgs, llm.Message{Role: "user", Content: user}), nil
}

func render(name, text string, data PromptData) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", store.Errorf(store.EINVALID, "prompt %s: %v", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", store.Errorf(store.EINVALID, "prompt %s: %v", name, err)
	}
	return b.String(), nil
}

// Generate implements Answerer: it streams the model's answer to token.
// Markers are parsed into sentences afterwards; the assistant grounds
// them and removes citations of passages that were not given.
func (c *ChatAnswerer) Generate(ctx context.Context, in Input, token func(string) error) (*Generation, error) {
	g := &Generation{Operation: schema.OperationChat, Provider: schema.ProviderOpenAI, RequestModel: c.Client.Model(), Model: c.Client.Model(),
		Prompt: c.prompt().Ref(), PromptStart: time.Now()}
	msgs, err := c.Messages(in)
	g.PromptEnd = time.Now()
	if err != nil {
		return g, err
	}
	var pb strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&pb, "[%s]\n%s\n\n", m.Role, m.Content)
	}
	g.PromptText = pb.String()
	g.TokensIn = llm.CountTokens(g.PromptText) // replaced by the upstream's count when it reports one

	temp := float32(0.2)
	if c.Temperature != nil {
		temp = *c.Temperature
	}
	maxTokens := c.MaxTokens
	if maxTokens == 0 {
		maxTokens = 700
	}
	g.Temperature, g.MaxTokens = &temp, maxTokens
	g.Start = time.Now()
	res, err := c.Client.Stream(ctx, llm.Request{Messages: msgs, Temperature: &temp, MaxTokens: maxTokens}, token)
	g.End = time.Now()
	if res != nil {
		g.Model = res.Model
		g.TTFT, g.Attempts, g.FinishReason = res.TTFT, res.Attempts, res.FinishReason
		g.TokensIn, g.TokensOut, g.UsageReported = res.Usage.PromptTokens, res.Usage.CompletionTokens, res.Usage.Reported
		if c.Prices != nil {
			if t := c.Prices(); t != nil {
				g.CostUSD = t.Cost(g.Model, g.TokensIn, g.TokensOut)
				if p, ok := t.Lookup(g.Model); ok {
					g.Priced = true
					g.CostInUSD = float64(g.TokensIn) * p.InputPerMTok / 1e6
					g.CostOutUSD = float64(g.TokensOut) * p.OutputPerMTok / 1e6
				}
			}
		}
		g.Answer = &answer.Answer{Text: strings.TrimSpace(res.Text)}
	}
	if err != nil {
		return g, err
	}
	return g, nil
}

// LLMJudge is a Judge asking c through judge.Support (the
// judge-support@1 template), without a cache: answers rarely repeat.
func LLMJudge(c *llm.Client) Judge {
	return judge.New(c, nil).Support
}
