package server

import (
	"context"
	"log/slog"

	"llmops/rag"
	"llmops/rag/assistant"
	"llmops/rag/llm"
	"llmops/rag/retrieve"
	"llmops/store"
)

// ModelConfig reads the model settings (LLMOPS_LLM_*, LLMOPS_JUDGE_MODEL)
// from the environment, for commands that answer without a server.
func ModelConfig(getenv func(string) string) Config {
	cfg := DefaultConfig()
	readModelEnv(&cfg, getenv)
	return cfg
}

// readModelEnv fills the chat and judge model settings from the
// environment; serve and the offline commands read them the same way.
func readModelEnv(cfg *Config, getenv func(string) string) {
	cfg.LLMBaseURL, cfg.LLMAPIKey, cfg.LLMModel = getenv("LLMOPS_LLM_BASE_URL"), getenv("LLMOPS_LLM_API_KEY"), getenv("LLMOPS_LLM_MODEL")
	if cfg.LLMBaseURL != "" && cfg.LLMModel == "" {
		cfg.LLMModel = defaultLLMModel
	}
	cfg.JudgeModel = getenv("LLMOPS_JUDGE_MODEL")
}

// defaultLLMModel is used when LLMOPS_LLM_BASE_URL is set without a model.
const defaultLLMModel = "gpt-4o-mini"

// NewAssistant wires the answer path: hybrid retrieval over the knowledge
// base, the configured answerer (a chat model when LLMOPS_LLM_BASE_URL is
// set, else the extractive one), groundedness with the embedder and, when
// LLMOPS_JUDGE_MODEL is set, a model judge. prices gives the current
// price table (nil: the defaults).
func NewAssistant(cfg Config, st *store.Store, kb *rag.KnowledgeBase, traces *store.TraceWriter, log *slog.Logger, prices func() *llm.PriceTable) (*assistant.Assistant, error) {
	opts := assistant.Options{
		Retriever:     retrieve.New(kb, retrieve.Options{}),
		Embed:         kb.EmbedTexts,
		Threshold:     cfg.Threshold,
		Traces:        traces,
		Conversations: st,
		Logger:        log,
	}
	if prices == nil {
		table := llm.NewPriceTable(llm.DefaultPrices())
		prices = func() *llm.PriceTable { return table }
	}
	if cfg.LLMBaseURL != "" {
		c, err := llm.New(llm.Options{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, Model: cfg.LLMModel})
		if err != nil {
			return nil, err
		}
		opts.Answerer = &assistant.ChatAnswerer{Client: c, Prices: prices}
	}
	if cfg.JudgeModel != "" {
		j, err := judgeClient(cfg)
		if err != nil {
			return nil, err
		}
		opts.Judge = assistant.LLMJudge(j)
	}
	return assistant.New(opts)
}

// LoadPrices reads the price table: the defaults with the team's own
// prices (Settings → Models) laid over them.
func LoadPrices(ctx context.Context, st *store.Store) (*llm.PriceTable, []llm.Price, error) {
	var own []llm.Price
	if _, err := st.Setting(ctx, store.SettingPrices, &own); err != nil {
		return nil, nil, err
	}
	return llm.NewPriceTable(append(llm.DefaultPrices(), own...)), own, nil
}

// assistantRequest is a plain API ask of question, as benchmarks send it.
func assistantRequest(question string) assistant.Request {
	return assistant.Request{Question: question, Channel: "bench", Actor: store.Actor{Kind: store.ActorCLI, Name: "bench"}, NoConversation: true}
}
