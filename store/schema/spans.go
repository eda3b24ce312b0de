package schema

// TraceKind says what a trace records.
type TraceKind string

// Trace kinds.
const (
	KindAsk    TraceKind = "ask"    // a question answered for a person or client
	KindEval   TraceKind = "eval"   // an eval run's case: an ask kept out of the default Traces view
	KindIngest TraceKind = "ingest" // an upload of files into the knowledge base
	// KindPlayground is an answer tried in the prompt playground: not an
	// ask, so dashboards and chat suggestions (which read kind ask) leave
	// it out.
	KindPlayground TraceKind = "playground"
)

// SpanKind is what a span does; the UI colours and draws each kind.
type SpanKind string

// Span kinds.
const (
	SpanKindGuard     SpanKind = "guard"
	SpanKindRetriever SpanKind = "retriever"
	SpanKindReranker  SpanKind = "reranker"
	SpanKindLLM       SpanKind = "llm"
	SpanKindEmbedding SpanKind = "embedding"
	SpanKindChain     SpanKind = "chain"
	SpanKindTool      SpanKind = "tool"
)

// Span names of an ask, in the order they run. An ingest trace has a span
// per file (named after the file) with a child per stage (named after the
// stage: parse, chunk, embed, index).
const (
	SpanAsk            = "ask"             // the root: the whole ask
	SpanGuard          = "guard"           // input checks
	SpanRewrite        = "rewrite"         // a follow-up made standalone
	SpanRetrieve       = "retrieve"        // hybrid retrieval, parent of its stages
	SpanRetrieveBM25   = "retrieve.bm25"   // keyword search
	SpanRetrieveVector = "retrieve.vector" // query embedding and vector search
	SpanFuse           = "fuse"            // rank fusion of the two
	SpanRerank         = "rerank"          // the reranker
	SpanPrompt         = "prompt"          // rendering the prompt template
	SpanLLM            = "llm"             // the answerer: a model call or the extractive answerer
	SpanGroundedness   = "groundedness"    // support check and the fallback decision
	// SpanGuardPrefix + a guard's name is that guard's span
	// ("guard.input.pii", "guard.output.policy"): input guards run after
	// "guard", the scope guard after "retrieve", output guards after
	// "groundedness".
	SpanGuardPrefix = "guard."
)
