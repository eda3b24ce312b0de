package schema

// OpenTelemetry GenAI semantic-convention attributes
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/), written on the
// llm span unless a comment says otherwise.
const (
	// AttrOperationName is what the model call did: OperationChat, or
	// OperationExtract for the offline extractive answerer.
	AttrOperationName = "gen_ai.operation.name"
	// AttrProviderName is who answered: ProviderOpenAI for any
	// OpenAI-compatible endpoint (the wire protocol llmops speaks),
	// ProviderLLMOps for the embedded extractive answerer.
	AttrProviderName = "gen_ai.provider.name"
	// AttrRequestModel is the model asked for.
	AttrRequestModel = "gen_ai.request.model"
	// AttrResponseModel is the model that answered, as the upstream named
	// it (also on the ask trace: the model of its answer).
	AttrResponseModel = "gen_ai.response.model"
	// AttrRequestTemperature is the sampling temperature sent.
	AttrRequestTemperature = "gen_ai.request.temperature"
	// AttrRequestMaxTokens is the completion token limit sent.
	AttrRequestMaxTokens = "gen_ai.request.max_tokens"
	// AttrResponseFinishReasons lists why generation stopped ([]string,
	// one per choice: "stop", "length").
	AttrResponseFinishReasons = "gen_ai.response.finish_reasons"
	// AttrUsageInputTokens and AttrUsageOutputTokens are the call's
	// prompt and completion tokens (reported by the upstream, or counted
	// locally when AttrUsageReported is false).
	AttrUsageInputTokens  = "gen_ai.usage.input_tokens"
	AttrUsageOutputTokens = "gen_ai.usage.output_tokens"
	// AttrConversationID is the conversation an ask continues or starts
	// ("" when it stands alone); on the ask trace.
	AttrConversationID = "gen_ai.conversation.id"
)

// Values of AttrOperationName and AttrProviderName.
const (
	OperationChat    = "chat"    // a chat completion
	OperationExtract = "extract" // the offline extractive answerer (not a semconv value)
	ProviderOpenAI   = "openai"
	ProviderLLMOps   = "llmops"
)

// llmops attributes of the ask trace (kind ask or eval).
const (
	AttrQuestion           = "llmops.question"            // the question as asked (preview)
	AttrStandaloneQuestion = "llmops.standalone_question" // a follow-up rewritten to stand alone, when it was
	AttrChannel            = "llmops.channel"             // where the ask came from: a Channel* value
	AttrActor              = "llmops.actor"               // who asked or ingested (also on ingest traces)
	AttrVisitor            = "llmops.visitor"             // widget asks: a pseudonymous visitor ID (a hash of key and address, never the address)
	// AttrFilterCategory, AttrFilterProductVersion and AttrFilterTags are
	// the retrieval filters of the ask, when it had any.
	AttrFilterCategory       = "llmops.filter.category"
	AttrFilterProductVersion = "llmops.filter.product_version"
	AttrFilterTags           = "llmops.filter.tags"
	AttrAnswer               = "llmops.answer"    // the final answer (preview): the fallback text on a fallback
	AttrCitations            = "llmops.citations" // the answer's citations: [{n, chunk_id, document_id, title, source, page, ...}]
	AttrRetrieved            = "llmops.retrieved" // chunk IDs given to the answerer, best first
	AttrEscalated            = "llmops.escalated" // the conversation was flagged for a human
	// AttrCostInputUSD and AttrCostOutputUSD split the trace's cost into
	// prompt and completion, when the model has a price.
	AttrCostInputUSD  = "llmops.cost_input_usd"
	AttrCostOutputUSD = "llmops.cost_output_usd"
	// AttrScopeCategories and AttrScopeTags are the scope of the
	// publishable key a widget ask came with: documents in one of the
	// categories, carrying one of the tags.
	AttrScopeCategories = "llmops.scope.categories"
	AttrScopeTags       = "llmops.scope.tags"
)

// Values of AttrChannel.
const (
	ChannelChat   = "chat"   // the staff chat page (a session)
	ChannelWidget = "widget" // the embeddable widget (a publishable key)
	ChannelAPI    = "api"    // the JSON API with a secret key; also when no channel was given
	ChannelCLI    = "cli"    // llmops ask
	ChannelEval   = "eval"   // an eval run's case: its trace is of kind eval
	ChannelBench  = "bench"  // the load test
	// ChannelPlayground is the prompt playground: its trace is of kind playground.
	ChannelPlayground = "playground"
	ChannelOTLP       = "otlp" // spans another application sent to POST /v1/traces
)

// Attributes of traces that arrived over OTLP (POST /v1/traces).
const (
	// AttrServiceName is the sending application's service.name resource
	// attribute.
	AttrServiceName = "llmops.service_name"
	// AttrOTLPTraceID is the sender's trace ID (32 hex digits); the stored
	// trace has an ID of its own.
	AttrOTLPTraceID = "llmops.otlp.trace_id"
)

// llmops attributes written on the ask trace and on a span.
const (
	// AttrPrompt is the prompt template's name@version (trace and prompt
	// span).
	AttrPrompt = "llmops.prompt"
	// AttrGroundedness is the share of the answer the context supports,
	// 0..1: on the groundedness span before the threshold, on the trace
	// for the final answer.
	AttrGroundedness = "llmops.groundedness"
	// AttrRelevance is how directly the answer addresses the question,
	// 0..1 (offline: weighted question terms it states, the direction of
	// the action asked about, the kind of answer asked for); below the
	// minimum the answer falls back however grounded it is. Written where
	// AttrGroundedness is.
	AttrRelevance = "llmops.relevance"
	// AttrFallback says the answer was replaced by the fallback
	// (groundedness span and trace; the trace's status says it too).
	AttrFallback = "llmops.fallback"
	// AttrRemovedCitations counts citation markers that pointed outside
	// the context (groundedness span and trace).
	AttrRemovedCitations = "llmops.removed_citations"
	// AttrTTFTMS is the time to the first token in milliseconds: of the
	// model call on the llm span, of the answer on the trace.
	AttrTTFTMS = "llmops.ttft_ms"
)

// llmops attributes of the ask's spans, by span.
const (
	AttrQuestionChars = "llmops.question_chars" // guard: the question's length in characters

	AttrTurns     = "llmops.turns"     // rewrite: earlier turns of the conversation
	AttrRewritten = "llmops.rewritten" // rewrite: the query differs from the question
	AttrQuery     = "llmops.query"     // rewrite, retrieve: the query retrieval ran

	AttrHits          = "llmops.hits"           // retrieve and its stages: [{chunk_id, rank, score}]
	AttrCandidates    = "llmops.candidates"     // retrieve.bm25, retrieve.vector, fuse: how many results the stage had
	AttrEmbedMS       = "llmops.embed_ms"       // retrieve.vector: embedding the query, milliseconds
	AttrKeywordWeight = "llmops.keyword_weight" // fuse: BM25's weight in the fusion
	AttrVectorWeight  = "llmops.vector_weight"  // fuse: the vector search's weight

	AttrPromptTokens = "llmops.prompt_tokens" // prompt: tokens of the rendered prompt (counted locally)
	AttrPromptText   = "llmops.prompt_text"   // prompt: the rendered prompt (preview)

	AttrUsageReported = "llmops.usage_reported" // llm: token counts came from the upstream
	AttrCostUSD       = "llmops.cost_usd"       // llm: the call's cost in USD
	AttrAttempts      = "llmops.attempts"       // llm: tries it took (retries before the first token)
	AttrOutput        = "llmops.output"         // llm: the model's text (preview), before any fallback

	AttrThreshold       = "llmops.threshold"        // groundedness: below it the answer falls back
	AttrSentenceSupport = "llmops.sentence_support" // groundedness: each sentence's support, 0..1
	AttrJudgeScores     = "llmops.judge_scores"     // groundedness: the LLM judge's score per sentence
	AttrJudgeError      = "llmops.judge_error"      // groundedness: why the judge gave no scores
	AttrEmbedError      = "llmops.embed_error"      // groundedness: why embeddings were not used
)

// llmops attributes of ingest traces.
const (
	AttrFiles      = "llmops.files"       // trace: files in the upload
	AttrOutcome    = "llmops.outcome"     // file span: an IngestOutcome
	AttrChunks     = "llmops.chunks"      // file span: chunks of the document
	AttrFormat     = "llmops.format"      // file span: the detected format (markdown, pdf, ...)
	AttrDocumentID = "llmops.document_id" // file span: the stored document
	// AttrBatchFiles marks a span that several files share (the embed and
	// commit of one batch): drawn once, never as a file's own time.
	AttrBatchFiles = "llmops.batch.files"  // batch span: the files it serves
	AttrBatch      = "llmops.batch.number" // file span and batch span: the batch number
)

// llmops attributes of the guardrails' spans (one span per guard, named
// SpanGuardPrefix + the guard: "guard.input.pii") and of the ask's trace.
const (
	AttrGuardMode    = "llmops.guard.mode"    // guard span: off, flag, redact or block
	AttrGuardVerdict = "llmops.guard.verdict" // guard span: pass, flagged, redacted, blocked or skipped
	AttrGuardReasons = "llmops.guard.reasons" // guard span: why ([]string)
	AttrGuardScore   = "llmops.guard.score"   // guard span: injection score or scope confidence, 0..1
	AttrGuardPII     = "llmops.guard.pii"     // guard span: PII found per type ({"EMAIL": 2})
	AttrGuardFailed  = "llmops.guard.failed"  // guard span: the guard errored (its span's error says why)
	// AttrGuards is on the trace: each guard that did not pass, with its
	// verdict ({"input.injection": "blocked"}); the Guardrails page
	// counts them.
	AttrGuards = "llmops.guards"
	// AttrGuardBlocked is on the trace: a guard blocked the question or
	// the answer, and the fallback answered.
	AttrGuardBlocked = "llmops.guard.blocked"
)

// Values of AttrGuardVerdict, and of AttrGuards' entries (which hold the
// verdicts other than pass and skipped). rag/guard's outcomes are these.
const (
	GuardPass     = "pass"
	GuardFlagged  = "flagged"
	GuardRedacted = "redacted"
	GuardBlocked  = "blocked"
	GuardSkipped  = "skipped" // the guard is not configured (no moderation endpoint)
)

// GuardInputScope names the scope guard (rag/guard.InputScope): what it
// blocks is a question the knowledge base does not cover, a knowledge gap,
// where the other guards block attacks and policy breaches.
const GuardInputScope = "input.scope"
