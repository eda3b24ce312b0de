package assistant

import (
	"cmp"
	"context"
	"errors"
	"time"

	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
)

// traceKind is eval for an eval run's cases and playground for the
// prompt playground's answers, so monitoring, chat suggestions and the
// Traces page can tell test traffic from real asks; every other
// channel's asks are ask.
func traceKind(channel string) schema.TraceKind {
	switch channel {
	case schema.ChannelEval:
		return schema.KindEval
	case schema.ChannelPlayground:
		return schema.KindPlayground
	}
	return schema.KindAsk
}

// tracer builds an ask's trace: a root span "ask" with one child per
// stage, and "retrieve" with its own stages. Names, kinds and attribute
// keys are schema's.
type tracer struct {
	threshold float64 // the groundedness threshold the answer is held to
	trace     *store.Trace
	root      *span
	spans     []store.Span
}

type span struct {
	s     store.Span
	attrs map[string]any
}

func newTracer(now time.Time, req Request) *tracer {
	tr := &store.Trace{
		ID: store.NewIDAt(now), Kind: traceKind(req.Channel), Name: "ask · " + orDefault(req.Channel, schema.ChannelAPI), Start: now, Status: schema.StatusRunning,
		UserID: req.UserID, SessionID: req.SessionID,
		Input: store.Preview(req.Question, store.PreviewLen),
		Attributes: map[string]any{
			schema.AttrQuestion: store.Preview(req.Question, store.PreviewLen), schema.AttrChannel: orDefault(req.Channel, schema.ChannelAPI),
			schema.AttrActor: req.Actor.String(),
		},
	}
	if req.Visitor != "" {
		tr.Attributes[schema.AttrVisitor] = req.Visitor
	}
	// Filters are flat keys, one per filter set, so each maps onto an OTLP
	// attribute.
	if f := req.Filters; f.Category != "" {
		tr.Attributes[schema.AttrFilterCategory] = f.Category
	}
	if f := req.Filters; f.ProductVersion != "" {
		tr.Attributes[schema.AttrFilterProductVersion] = f.ProductVersion
	}
	if f := req.Filters; len(f.Tags) > 0 {
		tr.Attributes[schema.AttrFilterTags] = f.Tags
	}
	if f := req.Filters; len(f.AnyCategories) > 0 {
		tr.Attributes[schema.AttrScopeCategories] = f.AnyCategories
	}
	if f := req.Filters; len(f.AnyTags) > 0 {
		tr.Attributes[schema.AttrScopeTags] = f.AnyTags
	}
	t := &tracer{trace: tr}
	t.root = &span{s: store.Span{TraceID: tr.ID, ID: store.NewIDAt(now), Name: schema.SpanAsk, Kind: schema.SpanKindChain, Start: now}, attrs: map[string]any{}}
	return t
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// start opens a stage span under parent (the root when "").
func (t *tracer) start(name string, kind schema.SpanKind, parent string) *span {
	return t.startAt(time.Now(), name, kind, parent)
}

func (t *tracer) startAt(at time.Time, name string, kind schema.SpanKind, parent string) *span {
	if at.IsZero() {
		at = time.Now() // an answerer that failed before it started
	}
	if parent == "" {
		parent = t.root.s.ID
	}
	return &span{s: store.Span{TraceID: t.trace.ID, ID: store.NewIDAt(at), ParentID: parent, Name: name, Kind: kind, Start: at}, attrs: map[string]any{}}
}

// end closes sp now with err's status.
func (t *tracer) end(sp *span, err error) { t.endAt(sp, time.Now(), err) }

func (t *tracer) endAt(sp *span, at time.Time, err error) {
	sp.s.End = at
	sp.s.Status = errorStatus(err)
	if err != nil {
		sp.s.Error = errorText(err)
	}
	if len(sp.attrs) > 0 {
		sp.s.Attributes = sp.attrs
	}
	t.spans = append(t.spans, sp.s)
}

// errorStatus is ok without an error, cancelled when the caller went
// away, error otherwise.
func errorStatus(err error) schema.TraceStatus {
	switch {
	case err == nil:
		return schema.StatusOK
	case errors.Is(err, context.Canceled):
		return schema.StatusCancelled
	}
	return schema.StatusError
}

func errorText(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled: the client went away"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return store.ErrorMessage(err)
}

// hitsAttr keeps the first n hits of a stage for the trace.
func hitsAttr(hits []retrieve.Hit, n int) []map[string]any {
	out := make([]map[string]any, 0, min(n, len(hits)))
	for _, h := range hits[:min(n, len(hits))] {
		out = append(out, map[string]any{"chunk_id": h.ID, "rank": h.Rank, "score": round(h.Score)})
	}
	return out
}

func round(f float64) float64 {
	const p = 1e4
	if f != f {
		return 0
	}
	return float64(int64(f*p+0.5*sign(f))) / p
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// retrieval records the retrieve span and its stages. The retriever runs
// BM25 beside embedding + vector search and reports each stage's
// duration; the stage spans are laid out from those durations.
func (t *tracer) retrieval(start, end time.Time, rr *retrieve.Result, err error) {
	parent := t.startAt(start, schema.SpanRetrieve, schema.SpanKindRetriever, "")
	if rr == nil {
		t.endAt(parent, end, err)
		return
	}
	parent.attrs[schema.AttrQuery] = rr.Query
	parent.attrs[schema.AttrHits] = hitsAttr(rr.Hits, 20)
	d := rr.Timings
	if kw, ok := d["keyword"]; ok {
		sp := t.startAt(start, schema.SpanRetrieveBM25, schema.SpanKindRetriever, parent.s.ID)
		sp.attrs[schema.AttrHits] = hitsAttr(rr.Keyword, 10)
		sp.attrs[schema.AttrCandidates] = len(rr.Keyword)
		t.endAt(sp, start.Add(kw), nil)
	}
	searched := start.Add(d["keyword"])
	if emb, ok := d["embed"]; ok {
		sp := t.startAt(start, schema.SpanRetrieveVector, schema.SpanKindRetriever, parent.s.ID)
		sp.attrs[schema.AttrEmbedMS] = float64(emb.Microseconds()) / 1000
		sp.attrs[schema.AttrHits] = hitsAttr(rr.Vector, 10)
		sp.attrs[schema.AttrCandidates] = len(rr.Vector)
		vend := start.Add(emb + d["vector"])
		t.endAt(sp, vend, rr.Errors["vector"])
		if vend.After(searched) {
			searched = vend
		}
	}
	at := searched
	if fuse, ok := d["fuse"]; ok {
		sp := t.startAt(at, schema.SpanFuse, schema.SpanKindChain, parent.s.ID)
		sp.attrs[schema.AttrKeywordWeight] = round(rr.KeywordWeight)
		sp.attrs[schema.AttrVectorWeight] = round(rr.VectorWeight)
		sp.attrs[schema.AttrCandidates] = len(rr.Fused)
		sp.attrs[schema.AttrHits] = hitsAttr(rr.Fused, 10)
		at = at.Add(fuse)
		t.endAt(sp, at, nil)
	}
	// Feedback (a second BM25 or vector search, then fusion again) runs
	// between fusion and reranking; the BM25 and vector spans list the
	// hits it left.
	at = at.Add(d["bm25_feedback"] + d["feedback"])
	if rerank, ok := d["rerank"]; ok {
		sp := t.startAt(at.Add(d["load"]), schema.SpanRerank, schema.SpanKindReranker, parent.s.ID)
		sp.attrs[schema.AttrHits] = hitsAttr(rr.Hits, 10)
		t.endAt(sp, at.Add(d["load"]+rerank), rr.Errors["rerank"])
	}
	t.endAt(parent, end, err)
}

// generation records the prompt and llm spans of an answer.
func (t *tracer) generation(g *Generation, err error) {
	if g == nil {
		sp := t.start(schema.SpanLLM, schema.SpanKindLLM, "")
		t.end(sp, err)
		return
	}
	if !g.PromptStart.IsZero() {
		sp := t.startAt(g.PromptStart, schema.SpanPrompt, schema.SpanKindChain, "")
		sp.attrs[schema.AttrPrompt] = g.Prompt
		sp.attrs[schema.AttrPromptTokens] = g.TokensIn
		sp.attrs[schema.AttrPromptText] = store.Preview(g.PromptText, 8000)
		t.endAt(sp, g.PromptEnd, nil)
	}
	sp := t.startAt(g.Start, schema.SpanLLM, schema.SpanKindLLM, "")
	if g.Operation != "" {
		sp.attrs[schema.AttrOperationName] = g.Operation
	}
	if g.Provider != "" {
		sp.attrs[schema.AttrProviderName] = g.Provider
	}
	sp.attrs[schema.AttrRequestModel] = cmp.Or(g.RequestModel, g.Model)
	sp.attrs[schema.AttrResponseModel] = g.Model
	if g.Temperature != nil {
		sp.attrs[schema.AttrRequestTemperature] = round(float64(*g.Temperature))
	}
	if g.MaxTokens > 0 {
		sp.attrs[schema.AttrRequestMaxTokens] = g.MaxTokens
	}
	sp.attrs[schema.AttrUsageInputTokens] = g.TokensIn
	sp.attrs[schema.AttrUsageOutputTokens] = g.TokensOut
	sp.attrs[schema.AttrUsageReported] = g.UsageReported
	sp.attrs[schema.AttrTTFTMS] = float64(g.TTFT.Microseconds()) / 1000
	sp.attrs[schema.AttrCostUSD] = g.CostUSD
	if g.Attempts > 0 {
		sp.attrs[schema.AttrAttempts] = g.Attempts
	}
	if g.FinishReason != "" {
		sp.attrs[schema.AttrResponseFinishReasons] = []string{g.FinishReason}
	}
	if g.Answer != nil {
		sp.attrs[schema.AttrOutput] = store.Preview(g.Answer.Text, store.PreviewLen)
	}
	end := g.End
	if end.IsZero() {
		end = time.Now()
	}
	t.endAt(sp, end, err)
	t.trace.TokensIn, t.trace.TokensOut, t.trace.CostUSD = g.TokensIn, g.TokensOut, g.CostUSD
	t.trace.Attributes[schema.AttrResponseModel] = g.Model
	if g.Prompt != "" {
		t.trace.Attributes[schema.AttrPrompt] = g.Prompt
	}
	if g.Priced {
		t.trace.Attributes[schema.AttrCostInputUSD] = g.CostInUSD
		t.trace.Attributes[schema.AttrCostOutputUSD] = g.CostOutUSD
	}
}

// finish closes the root span and the trace. An answer that fell back is
// its own status: the customer got no answer, though nothing failed.
func (t *tracer) finish(now time.Time, res *Result, err error) {
	tr := t.trace
	tr.End = now
	tr.Status = errorStatus(err)
	if err != nil {
		tr.Error = errorText(err)
	}
	if res != nil {
		if res.Fallback && err == nil {
			tr.Status = schema.StatusFallback
		}
		tr.Output = store.Preview(res.Answer, store.PreviewLen)
		tr.Attributes[schema.AttrAnswer] = store.Preview(res.Answer, store.PreviewLen)
		tr.Attributes[schema.AttrGroundedness] = round(res.Groundedness)
		tr.Attributes[schema.AttrRelevance] = round(res.Relevance)
		tr.Attributes[schema.AttrThreshold] = t.threshold
		tr.Attributes[schema.AttrFallback] = res.Fallback
		tr.Attributes[schema.AttrEscalated] = res.Escalated
		tr.Attributes[schema.AttrCitations] = res.Citations
		tr.Attributes[schema.AttrRetrieved] = res.Retrieved
		if res.RemovedCitations > 0 {
			tr.Attributes[schema.AttrRemovedCitations] = res.RemovedCitations
		}
		tr.Attributes[schema.AttrTTFTMS] = res.TTFTMS
	}
	t.endAt(t.root, now, err)
}
