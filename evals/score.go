package evals

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"llmops/evals/metrics"
	"llmops/rag/answer"
	"llmops/rag/assistant"
	"llmops/rag/judge"
	"llmops/store"
	"llmops/store/schema"
)

// supported is the support score from which a sentence counts as backed
// by a source (the groundedness check's per-sentence score).
const supported = 0.5

// caseOutcome is a result plus whether the judge was asked, and whether
// the run was cancelled before the case finished (then it is dropped, not
// stored half-scored: resume runs it again).
type caseOutcome struct {
	store.CaseResult
	judged    bool
	cancelled bool
}

func noEmit(assistant.Event) error { return nil }

// runCase answers one case through the pipeline and scores it.
func (r *Runner) runCase(ctx context.Context, run *store.EvalRun, i int, c store.EvalCase, refs *resolver) caseOutcome {
	s := run.Settings
	out := caseOutcome{CaseResult: store.CaseResult{Index: i, CaseID: c.ID, Question: c.Question, Tags: c.Tags, Metrics: map[string]float64{}}}
	start := time.Now()
	req := assistant.Request{
		Question: c.Question, TopK: s.TopK, RankDepth: max(rankDepth, s.TopK), Mode: s.Mode, NoRerank: s.NoRerank,
		Channel: schema.ChannelEval, Actor: store.Actor{Kind: store.ActorSystem, ID: run.ID, Name: "eval " + run.ID}, NoConversation: true,
	}
	err := r.promptRequest(ctx, s.Prompt, &req)
	var res *assistant.Result
	if err == nil {
		res, err = r.opts.Assistant.Ask(ctx, req, noEmit)
	}
	if ctx.Err() != nil {
		out.cancelled = true
		return out
	}
	if err != nil {
		out.Error = err.Error()
		out.LatencyMS = time.Since(start).Milliseconds()
		return out
	}
	out.Answer, out.Fallback, out.TraceID = res.Answer, res.Fallback, res.TraceID
	out.LatencyMS, out.TokensIn, out.TokensOut, out.CostUSD = res.LatencyMS, res.TokensIn, res.TokensOut, res.CostUSD
	out.Context = len(res.Retrieved)
	out.Retrieved = res.Ranked
	if out.Retrieved == nil {
		out.Retrieved = res.Retrieved
	}
	for _, cit := range res.Citations {
		out.Citations = append(out.Citations, cit.ChunkID)
	}
	scoreRetrieval(&out.CaseResult, c, refs)

	chunks, err := r.opts.Store.ChunksByID(ctx, res.Retrieved)
	if err != nil {
		out.Error = fmt.Sprintf("reading the retrieved chunks: %v", err)
		return out
	}
	if len(chunks) != len(res.Retrieved) {
		// Citations number the context; with a chunk gone they would
		// point at the wrong text.
		out.Error = "a retrieved document was re-ingested or deleted while the case ran; resume the run to redo it"
		return out
	}
	if err := r.scoreAnswer(ctx, &out.CaseResult, c, res, chunks); err != nil {
		out.Error = err.Error()
		return out
	}
	if r.opts.Judge != nil {
		asked, err := r.judgeCase(ctx, &out.CaseResult, c, res, chunks)
		out.judged = asked
		if err != nil {
			out.JudgeError = "judge failed: " + err.Error()
		}
	}
	out.cancelled = ctx.Err() != nil
	return out
}

// scoreRetrieval sets the retrieval metrics: at chunk level when the case
// names chunks, else at document level.
func scoreRetrieval(out *store.CaseResult, c store.EvalCase, refs *resolver) {
	if c.Unanswerable {
		return
	}
	var ranked []string
	rels := map[string]float64{}
	switch {
	case len(c.ChunkIDs) > 0:
		ranked = metrics.Dedupe(out.Retrieved)
		for _, id := range c.ChunkIDs {
			rels[id] = 1
		}
	case len(c.DocumentIDs) > 0:
		docs := make([]string, len(out.Retrieved))
		for i, id := range out.Retrieved {
			docs[i] = documentOf(id)
		}
		ranked = metrics.Dedupe(docs)
		out.RetrievedDocs = ranked
		for _, ref := range c.DocumentIDs {
			g := 1.0
			if v, ok := c.Relevance[ref]; ok {
				g = v
			}
			rels[refs.doc(ref)] = max(rels[refs.doc(ref)], g)
		}
	default:
		return
	}
	given := ranked
	if len(c.ChunkIDs) == 0 {
		docs := make([]string, 0, out.Context)
		for _, id := range out.Retrieved[:min(out.Context, len(out.Retrieved))] {
			docs = append(docs, documentOf(id))
		}
		given = metrics.Dedupe(docs)
	} else {
		given = ranked[:min(out.Context, len(ranked))]
	}
	set := func(key string) func(float64, bool) {
		return func(v float64, ok bool) {
			if ok {
				out.Metrics[key] = v
			}
		}
	}
	set("hit@1")(metrics.HitAt(ranked, rels, 1))
	set("hit@5")(metrics.HitAt(ranked, rels, 5))
	set("recall@5")(metrics.RecallAt(ranked, rels, 5))
	set("recall@10")(metrics.RecallAt(ranked, rels, 10))
	set("mrr@10")(metrics.MRRAt(ranked, rels, 10))
	set("ndcg@10")(metrics.NDCGAt(ranked, rels, 10))
	set("context_precision")(metrics.ContextPrecision(given, rels))
	set("context_recall")(metrics.ContextRecall(given, rels))
}

// documentOf is the document of a chunk ID (store.ChunkID's inverse).
func documentOf(chunkID string) string {
	if i := strings.LastIndexByte(chunkID, '-'); i > 0 {
		return chunkID[:i]
	}
	return chunkID
}

// scoreAnswer sets the non-LLM answer metrics.
func (r *Runner) scoreAnswer(ctx context.Context, out *store.CaseResult, c store.EvalCase, res *assistant.Result, chunks []store.ChunkRef) error {
	if c.Unanswerable {
		out.Metrics["refusal_correctness"] = b2f(res.Fallback)
	} else {
		out.Metrics["false_refusal"] = b2f(res.Fallback)
	}
	text := metrics.StripCitations(res.Answer)

	// An answer to an unanswerable question is held to its context too:
	// whatever it claims must still come from the sources.
	if !res.Fallback {
		sentences := answer.ParseCitations(res.Answer)
		if v, ok, err := faithfulness(ctx, sentences, chunks); err != nil {
			return err
		} else if ok {
			out.Metrics["faithfulness"] = v
		}
		if v, ok, err := citationPrecision(ctx, sentences, chunks); err != nil {
			return err
		} else if ok {
			out.Metrics["citation_precision"] = v
		}
	}
	if c.Unanswerable {
		return nil
	}
	if c.ReferenceAnswer != "" {
		if res.Fallback {
			text = ""
		}
		if v, ok := metrics.TokenF1(text, c.ReferenceAnswer); ok {
			out.Metrics["correctness_f1"] = v
		}
		if v, ok := metrics.RougeL(text, c.ReferenceAnswer); ok {
			out.Metrics["rouge_l"] = v
		}
	}
	if r.opts.Embed == nil {
		return nil
	}
	if res.Fallback {
		out.Metrics["answer_relevancy"] = 0
		if c.ReferenceAnswer != "" {
			out.Metrics["answer_similarity"] = 0
		}
		return nil
	}
	texts := []string{c.Question, text}
	if c.ReferenceAnswer != "" {
		texts = append(texts, c.ReferenceAnswer)
	}
	vecs, err := r.opts.Embed(ctx, texts)
	if err != nil {
		// Embedding metrics are left out, not failed: words still score.
		return nil
	}
	if v, ok := metrics.Similarity(vecs[0], vecs[1]); ok {
		out.Metrics["answer_relevancy"] = v
	}
	if len(vecs) > 2 {
		if v, ok := metrics.Similarity(vecs[1], vecs[2]); ok {
			out.Metrics["answer_similarity"] = v
		}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// faithfulness is the share of sentences the context as a whole supports.
func faithfulness(ctx context.Context, sentences []answer.Sentence, chunks []store.ChunkRef) (float64, bool, error) {
	if len(sentences) == 0 || len(chunks) == 0 {
		return 0, false, nil
	}
	all := make([]int, len(chunks))
	for i := range all {
		all[i] = i + 1
	}
	a := &answer.Answer{Sentences: make([]answer.Sentence, len(sentences))}
	for i, s := range sentences {
		a.Sentences[i] = answer.Sentence{Text: s.Text, Cites: all}
	}
	if err := answer.Ground(ctx, a, chunks, nil); err != nil {
		return 0, false, err
	}
	n := 0
	for _, s := range a.Sentences {
		if s.Support >= supported {
			n++
		}
	}
	return float64(n) / float64(len(sentences)), true, nil
}

// citationPrecision is the share of (sentence, cited chunk) pairs where
// the chunk alone supports the sentence.
func citationPrecision(ctx context.Context, sentences []answer.Sentence, chunks []store.ChunkRef) (float64, bool, error) {
	a := &answer.Answer{}
	for _, s := range sentences {
		for _, n := range s.Cites {
			a.Sentences = append(a.Sentences, answer.Sentence{Text: s.Text, Cites: []int{n}})
		}
	}
	if len(a.Sentences) == 0 {
		return 0, false, nil
	}
	pairs := len(a.Sentences)
	if err := answer.Ground(ctx, a, chunks, nil); err != nil {
		return 0, false, err
	}
	n := 0
	for _, s := range a.Sentences {
		// A citation outside the context was removed: unsupported.
		if len(s.Cites) > 0 && s.Support >= supported {
			n++
		}
	}
	return float64(n) / float64(pairs), true, nil
}

// judgeCase sets the LLM-judge metrics, following the same rules as the
// non-LLM ones, and reports whether the judge was asked. An unusable
// verdict leaves its metric out and is reported; other verdicts of the
// case are kept.
func (r *Runner) judgeCase(ctx context.Context, out *store.CaseResult, c store.EvalCase, res *assistant.Result, chunks []store.ChunkRef) (bool, error) {
	j := r.opts.Judge
	var errs []error
	asked := false
	keep := func(key string, v float64, err error) {
		switch {
		case err == nil:
			asked = true
			out.Metrics[key] = v
		case errors.Is(err, judge.ErrNotApplicable):
		default:
			asked = true
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	text := metrics.StripCitations(res.Answer)
	if c.Unanswerable {
		refused, err := j.Refusal(ctx, c.Question, text)
		keep("refusal_llm", b2f(refused), err)
	}
	if res.Fallback {
		// A refusal of an answerable question answers nothing: relevancy
		// and correctness are 0, as their non-LLM variants are.
		if !c.Unanswerable {
			out.Metrics["answer_relevancy_llm"] = 0
			if c.ReferenceAnswer != "" {
				out.Metrics["correctness_llm"] = 0
			}
		}
		return asked, errors.Join(errs...)
	}
	sentences := answer.ParseCitations(res.Answer)
	plain := make([]string, len(sentences))
	cited := make([][]string, len(sentences))
	for i, s := range sentences {
		plain[i] = s.Text
		for _, n := range s.Cites {
			if n >= 1 && n <= len(chunks) {
				cited[i] = append(cited[i], chunks[n-1].Chunk.Text)
			}
		}
	}
	contexts := make([]string, len(chunks))
	for i, ch := range chunks {
		contexts[i] = ch.Chunk.Text
	}
	v, err := j.Faithfulness(ctx, c.Question, plain, contexts)
	keep("faithfulness_llm", v, err)
	v, err = j.CitationPrecision(ctx, plain, cited)
	keep("citation_precision_llm", v, err)
	if !c.Unanswerable {
		v, err = j.Relevancy(ctx, c.Question, text)
		keep("answer_relevancy_llm", v, err)
		if c.ReferenceAnswer != "" {
			v, err = j.Correctness(ctx, c.Question, text, c.ReferenceAnswer)
			keep("correctness_llm", v, err)
		}
	}
	return asked, errors.Join(errs...)
}

// resolver maps the document references of cases to stored document
// IDs. A reference may be a stored ID or any trailing part of a
// document's source path, with or without its extension:
// "sample-data/docs/billing/cancel.md" answers to "docs/billing/cancel.md",
// "billing/cancel" and "cancel". A longer part wins over a shorter one
// another document shares.
type resolver struct {
	byKey map[string]string
	depth map[string]int // segments stripped to make the key; lower wins
	// ambiguous keys name two documents at the same depth ("faq" for
	// billing/faq.md and mobile/faq.md): the first listed wins, and runs
	// say so.
	ambiguous map[string]bool
	// chunks reports which chunk IDs exist (nil: not checked).
	chunks func([]string) map[string]bool
}

func newResolver(ctx context.Context, st *store.Store) (*resolver, error) {
	docs, err := st.ListDocuments(ctx)
	if err != nil {
		return nil, err
	}
	r := &resolver{byKey: make(map[string]string, len(docs)*6), depth: make(map[string]int, len(docs)*6), ambiguous: map[string]bool{}}
	r.chunks = func(ids []string) map[string]bool {
		refs, err := st.ChunksByID(ctx, ids)
		if err != nil {
			return nil
		}
		found := make(map[string]bool, len(refs))
		for _, ref := range refs {
			found[ref.Chunk.ID] = true
		}
		return found
	}
	add := func(key, id string, depth int) {
		if key == "" {
			return
		}
		d, ok := r.depth[key]
		switch {
		case !ok || depth < d:
			r.byKey[key], r.depth[key] = id, depth
			delete(r.ambiguous, key)
		case depth == d && r.byKey[key] != id:
			r.ambiguous[key] = true
		}
	}
	for _, d := range docs {
		add(d.ID, d.ID, -1)
		parts := strings.Split(strings.Trim(d.Source, "/"), "/")
		for i := range parts {
			s := strings.Join(parts[i:], "/")
			add(s, d.ID, i)
			add(strings.TrimSuffix(s, path.Ext(s)), d.ID, i)
		}
	}
	return r, nil
}

// doc returns the stored ID ref names, or ref itself when nothing
// matches (so it can never be retrieved: the case counts it as missed).
func (r *resolver) doc(ref string) string {
	if id, ok := r.byKey[ref]; ok {
		return id
	}
	return ref
}

// warnings describes references no document matches, references that
// match several documents, and chunk references that do not exist.
func (r *resolver) warnings(cases []store.EvalCase) []string {
	missing, affected := 0, 0
	example, ambiguousRef := "", ""
	ambiguous := 0
	var chunkIDs []string
	for _, c := range cases {
		hit := false
		for _, ref := range c.DocumentIDs {
			if _, ok := r.byKey[ref]; !ok {
				missing++
				hit = true
				if example == "" {
					example = ref
				}
			} else if r.ambiguous[ref] {
				ambiguous++
				if ambiguousRef == "" {
					ambiguousRef = ref
				}
			}
		}
		if hit {
			affected++
		}
		chunkIDs = append(chunkIDs, c.ChunkIDs...)
	}
	var out []string
	if missing > 0 {
		out = append(out, fmt.Sprintf("%d reference documents of %d cases are not in the knowledge base (e.g. %q); retrieval metrics count them as missed", missing, affected, example))
	}
	if ambiguous > 0 {
		out = append(out, fmt.Sprintf("%d document references name more than one document (e.g. %q); each was read as the first one; use a longer path or the document ID", ambiguous, ambiguousRef))
	}
	if len(chunkIDs) > 0 && r.chunks != nil {
		if found := r.chunks(chunkIDs); found != nil {
			gone := 0
			for _, id := range chunkIDs {
				if !found[id] {
					gone++
				}
			}
			if gone > 0 {
				out = append(out, fmt.Sprintf("%d reference chunks no longer exist (chunk IDs change when a document is re-chunked); retrieval metrics count them as missed", gone))
			}
		}
	}
	return out
}
