package assistant

import (
	"context"
	"errors"
	"time"

	"llmops/rag/retrieve"
	"llmops/store"
)

// traceKind is "eval" for an eval run's cases, so monitoring, chat
// suggestions and the Traces page can tell test traffic from real asks;
// every other channel's asks are "ask".
func traceKind(channel string) string {
	if channel == "eval" {
		return "eval"
	}
	return "ask"
}

// tracer builds an ask's trace: a root span "ask" with one child per
// stage, and "retrieve" with its own stages.
type tracer struct {
	trace *store.Trace
	root  *span
	spans []store.Span
}

type span struct {
	s     store.Span
	attrs map[string]any
}

func newTracer(now time.Time, req Request) *tracer {
	tr := &store.Trace{
		ID: store.NewIDAt(now), Kind: traceKind(req.Channel), Name: "ask · " + orDefault(req.Channel, "api"), Start: now, Status: store.StatusRunning,
		UserID: req.UserID, SessionID: req.SessionID,
		Input: store.Preview(req.Question, store.PreviewLen),
		Attributes: map[string]any{
			"question": store.Preview(req.Question, store.PreviewLen), "channel": orDefault(req.Channel, "api"),
			"actor": req.Actor.String(),
		},
	}
	if f := req.Filters; f.Category != "" || f.ProductVersion != "" || len(f.Tags) > 0 {
		tr.Attributes["filters"] = f
	}
	t := &tracer{trace: tr}
	t.root = &span{s: store.Span{TraceID: tr.ID, ID: store.NewIDAt(now), Name: "ask", Kind: "chain", Start: now}, attrs: map[string]any{}}
	return t
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// start opens a stage span under parent (the root when "").
func (t *tracer) start(name, kind, parent string) *span {
	return t.startAt(time.Now(), name, kind, parent)
}

func (t *tracer) startAt(at time.Time, name, kind, parent string) *span {
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
	sp.s.Status = store.StatusOK
	if err != nil {
		sp.s.Status = store.StatusError
		sp.s.Error = errorText(err)
	}
	if len(sp.attrs) > 0 {
		sp.s.Attributes = sp.attrs
	}
	t.spans = append(t.spans, sp.s)
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
	parent := t.startAt(start, "retrieve", "retriever", "")
	if rr == nil {
		t.endAt(parent, end, err)
		return
	}
	parent.attrs["query"] = rr.Query
	parent.attrs["hits"] = hitsAttr(rr.Hits, 20)
	d := rr.Timings
	if kw, ok := d["keyword"]; ok {
		sp := t.startAt(start, "retrieve.bm25", "retriever", parent.s.ID)
		sp.attrs["hits"] = hitsAttr(rr.Keyword, 10)
		sp.attrs["candidates"] = len(rr.Keyword)
		t.endAt(sp, start.Add(kw), nil)
	}
	searched := start.Add(d["keyword"])
	if emb, ok := d["embed"]; ok {
		sp := t.startAt(start, "retrieve.vector", "retriever", parent.s.ID)
		sp.attrs["embed_ms"] = float64(emb.Microseconds()) / 1000
		sp.attrs["hits"] = hitsAttr(rr.Vector, 10)
		sp.attrs["candidates"] = len(rr.Vector)
		vend := start.Add(emb + d["vector"])
		t.endAt(sp, vend, rr.Errors["vector"])
		if vend.After(searched) {
			searched = vend
		}
	}
	at := searched
	if fuse, ok := d["fuse"]; ok {
		sp := t.startAt(at, "fuse", "chain", parent.s.ID)
		sp.attrs["keyword_weight"] = round(rr.KeywordWeight)
		sp.attrs["vector_weight"] = round(rr.VectorWeight)
		sp.attrs["candidates"] = len(rr.Fused)
		sp.attrs["hits"] = hitsAttr(rr.Fused, 10)
		at = at.Add(fuse)
		t.endAt(sp, at, nil)
	}
	if rerank, ok := d["rerank"]; ok {
		sp := t.startAt(at.Add(d["load"]), "rerank", "reranker", parent.s.ID)
		sp.attrs["hits"] = hitsAttr(rr.Hits, 10)
		t.endAt(sp, at.Add(d["load"]+rerank), rr.Errors["rerank"])
	}
	t.endAt(parent, end, err)
}

// generation records the prompt and llm spans of an answer.
func (t *tracer) generation(g *Generation, err error) {
	if g == nil {
		sp := t.start("llm", "llm", "")
		t.end(sp, err)
		return
	}
	if !g.PromptStart.IsZero() {
		sp := t.startAt(g.PromptStart, "prompt", "chain", "")
		sp.attrs["template"] = g.Prompt
		sp.attrs["tokens"] = g.TokensIn
		sp.attrs["text"] = store.Preview(g.PromptText, 8000)
		t.endAt(sp, g.PromptEnd, nil)
	}
	sp := t.startAt(g.Start, "llm", "llm", "")
	sp.attrs["model"] = g.Model
	sp.attrs["tokens_in"] = g.TokensIn
	sp.attrs["tokens_out"] = g.TokensOut
	sp.attrs["usage_reported"] = g.UsageReported
	sp.attrs["ttft_ms"] = float64(g.TTFT.Microseconds()) / 1000
	sp.attrs["cost_usd"] = g.CostUSD
	if g.Attempts > 0 {
		sp.attrs["attempts"] = g.Attempts
	}
	if g.FinishReason != "" {
		sp.attrs["finish_reason"] = g.FinishReason
	}
	if g.Answer != nil {
		sp.attrs["output"] = store.Preview(g.Answer.Text, store.PreviewLen)
	}
	end := g.End
	if end.IsZero() {
		end = time.Now()
	}
	t.endAt(sp, end, err)
	t.trace.TokensIn, t.trace.TokensOut, t.trace.CostUSD = g.TokensIn, g.TokensOut, g.CostUSD
	t.trace.Attributes["model"] = g.Model
	if g.Prompt != "" {
		t.trace.Attributes["prompt"] = g.Prompt
	}
}

// finish closes the root span and the trace.
func (t *tracer) finish(now time.Time, res *Result, err error) {
	tr := t.trace
	tr.End = now
	tr.Status = store.StatusOK
	if err != nil {
		tr.Status = store.StatusError
		tr.Error = errorText(err)
	}
	if res != nil {
		tr.Output = store.Preview(res.Answer, store.PreviewLen)
		tr.Attributes["answer"] = store.Preview(res.Answer, store.PreviewLen)
		tr.Attributes["groundedness"] = round(res.Groundedness)
		tr.Attributes["fallback"] = res.Fallback
		tr.Attributes["escalated"] = res.Escalated
		tr.Attributes["citations"] = res.Citations
		tr.Attributes["retrieved"] = res.Retrieved
		if res.RemovedCitations > 0 {
			tr.Attributes["removed_citations"] = res.RemovedCitations
		}
		tr.Attributes["ttft_ms"] = res.TTFTMS
	}
	t.endAt(t.root, now, err)
}
