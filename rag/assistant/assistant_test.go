package assistant_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/rag"
	"llmops/rag/answer"
	"llmops/rag/assistant"
	"llmops/rag/retrieve"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a real knowledge base of the sample help centre with an
// assistant over it; traces go to a real TraceWriter.
type env struct {
	st     *store.Store
	kb     *rag.KnowledgeBase
	traces *store.TraceWriter
	asst   *assistant.Assistant
	dir    string
}

var (
	shared     *env
	sharedOnce sync.Once
)

// TestMain closes the shared knowledge base after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

// newEnv returns an assistant over the shared sample knowledge base
// (built once: ingesting it under the race detector takes seconds).
func newEnv(tb testing.TB, opts assistant.Options) *env {
	tb.Helper()
	sharedOnce.Do(func() { shared = openEnv(tb) })
	if shared == nil {
		tb.Fatal("shared knowledge base failed to open")
	}
	e := *shared
	opts.Retriever = retrieve.New(e.kb, retrieve.Options{})
	opts.Traces = e.traces
	opts.Conversations = e.st
	opts.Logger = quiet
	if opts.Embed == nil {
		opts.Embed = e.kb.EmbedTexts
	}
	var err error
	if e.asst, err = assistant.New(opts); err != nil {
		tb.Fatal(err)
	}
	return &e
}

func openEnv(tb testing.TB) *env {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "assistant-test-")
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	files, _, err := rag.SampleFiles()
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range kb.Ingest(ctx, store.Actor{Kind: store.ActorSystem, Name: "test"}, files, nil) {
		if r.Outcome == "failed" {
			tb.Fatalf("ingest %s: %s", r.Name, r.Error)
		}
	}
	return &env{st: st, kb: kb, dir: dir, traces: st.NewTraceWriter(store.TraceWriterOptions{Interval: time.Millisecond, Logger: quiet})}
}

func (e *env) close() {
	ctx := context.Background()
	e.traces.Close(ctx)
	e.kb.Close()
	e.st.Close()
	os.RemoveAll(e.dir)
}

// trace reads a written trace back.
func (e *env) trace(tb testing.TB, id string) (*store.Trace, []store.Span) {
	tb.Helper()
	ctx := context.Background()
	if err := e.traces.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	tr, spans, err := e.st.Trace(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	return tr, spans
}

var user = store.Actor{Kind: store.ActorUser, ID: "u1", Name: "ada@example.com"}

// recorder keeps a streamed answer's events.
type recorder struct {
	mu     sync.Mutex
	events []assistant.Event
}

func (r *recorder) emit(ev assistant.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) types() []string {
	var out []string
	for _, ev := range r.events {
		if len(out) == 0 || out[len(out)-1] != ev.Type {
			out = append(out, ev.Type)
		}
	}
	return out
}

func (r *recorder) text() string {
	var b strings.Builder
	for _, ev := range r.events {
		if ev.Type == assistant.EventToken {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}

func TestAskStreamsCitedAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{})
	var rec recorder
	res, err := e.asst.Ask(context.Background(), assistant.Request{Question: "How do I cancel my subscription?", Channel: "chat", Actor: user}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fallback || len(res.Citations) == 0 || res.Groundedness < 0.6 {
		t.Fatalf("answer = %+v", res)
	}
	if !strings.Contains(strings.ToLower(res.Citations[0].Title+res.Citations[0].Source), "cancel") {
		t.Errorf("first citation %q (%s) is not the cancellation article", res.Citations[0].Title, res.Citations[0].Source)
	}
	if got, want := rec.types(), []string{"meta", "token", "citations", "done"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if rec.text() != res.Answer {
		t.Errorf("streamed text %q != answer %q", rec.text(), res.Answer)
	}
	if rec.events[0].TraceID != res.TraceID || res.ConversationID == "" || rec.events[0].ConversationID != res.ConversationID {
		t.Errorf("meta %+v vs result %s/%s", rec.events[0], res.TraceID, res.ConversationID)
	}
	for _, c := range res.Citations {
		if c.ChunkID == "" || c.DocumentID == "" || c.Snippet == "" || c.Score == 0 {
			t.Errorf("incomplete citation %+v", c)
		}
	}
	if ui.ExtractiveModel != assistant.ExtractiveName {
		t.Errorf("ui.ExtractiveModel %q, assistant.ExtractiveName %q: the trace page would not recognise extractive answers", ui.ExtractiveModel, assistant.ExtractiveName)
	}
	if res.Model != assistant.ExtractiveName || res.CostUSD != 0 {
		t.Errorf("model %q cost %v", res.Model, res.CostUSD)
	}

	tr, spans := e.trace(t, res.TraceID)
	if tr.Status != schema.StatusOK || tr.Kind != schema.KindAsk || tr.Input != "How do I cancel my subscription?" || tr.Output != res.Answer {
		t.Errorf("trace = %+v", tr)
	}
	var names []string
	for _, sp := range spans {
		names = append(names, sp.Name)
		if sp.End.Before(sp.Start) || sp.Status != schema.StatusOK {
			t.Errorf("span %s: %v → %v, %s", sp.Name, sp.Start, sp.End, sp.Status)
		}
	}
	for _, want := range []string{schema.SpanAsk, schema.SpanGuard, schema.SpanRewrite, schema.SpanRetrieve, schema.SpanRetrieveBM25,
		schema.SpanRetrieveVector, schema.SpanFuse, schema.SpanRerank, schema.SpanLLM, schema.SpanGroundedness} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s span in %v", want, names)
		}
	}
	if tr.Attributes[schema.AttrGroundedness] == nil || tr.Attributes[schema.AttrCitations] == nil || tr.Attributes[schema.AttrConversationID] != res.ConversationID {
		t.Errorf("trace attributes %v", tr.Attributes)
	}
	if rel, ok := tr.Attributes[schema.AttrRelevance].(float64); !ok || rel < 0.5 || res.Relevance < 0.5 {
		t.Errorf("relevance: trace %v, result %v; want both ≥ 0.5 for the cancellation steps", tr.Attributes[schema.AttrRelevance], res.Relevance)
	}
	for _, sp := range spans {
		if sp.Name == schema.SpanGroundedness && sp.Attributes[schema.AttrRelevance] == nil {
			t.Errorf("groundedness span without %s: %v", schema.AttrRelevance, sp.Attributes)
		}
		if sp.Name == schema.SpanLLM && (sp.Attributes[schema.AttrOperationName] != schema.OperationExtract || sp.Attributes[schema.AttrResponseModel] != assistant.ExtractiveName) {
			t.Errorf("llm span attributes %v", sp.Attributes)
		}
	}
}

func TestAskFallsBackAndEscalates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{})
	res, err := e.asst.Ask(context.Background(), assistant.Request{Question: "Can Rosterly export payroll to Paychex Flex?", Actor: user}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Fallback || !res.Escalated || len(res.Citations) != 0 || len(res.Closest) == 0 {
		t.Fatalf("answer = %+v", res)
	}
	if !strings.HasPrefix(res.Answer, "The documentation does not cover this.") {
		t.Errorf("fallback text %q", res.Answer)
	}
	c, err := e.st.Conversation(context.Background(), res.ConversationID, "user:u1")
	if err != nil || !c.Escalated || len(c.Turns) != 1 || !c.Turns[0].Fallback {
		t.Fatalf("conversation = %+v, %v", c, err)
	}
}

func TestAskFollowUpIsRewritten(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{})
	ctx := context.Background()
	first, err := e.asst.Ask(ctx, assistant.Request{Question: "How do I connect Slack?", Actor: user}, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.asst.Ask(ctx, assistant.Request{Question: "Does it work with private channels?", ConversationID: first.ConversationID, Actor: user}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(second.Standalone, "Slack") || second.ConversationID != first.ConversationID {
		t.Fatalf("follow-up: standalone %q conversation %s", second.Standalone, second.ConversationID)
	}
	// Someone else cannot continue the conversation.
	_, err = e.asst.Ask(ctx, assistant.Request{Question: "and then?", ConversationID: first.ConversationID, Actor: store.Actor{Kind: store.ActorKey, ID: "k1"}}, nil)
	if store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("foreign conversation: %v", err)
	}
}

func TestAskRejectsBadInputAndTracesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{})
	for _, req := range []assistant.Request{
		{Question: "   ", Actor: user},
		{Question: strings.Repeat("x", assistant.MaxQuestionRunes+1)},
		{Question: "ok?", TopK: assistant.MaxTopK + 1},
	} {
		if _, err := e.asst.Ask(context.Background(), req, nil); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%.20q top_k %d: err %v, want EINVALID", req.Question, req.TopK, err)
		}
	}
	if err := e.traces.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	traces, _, err := e.st.ListTraces(context.Background(), store.TraceFilter{})
	bad := 0
	for _, tr := range traces {
		if tr.Status == schema.StatusError && (strings.Contains(tr.Error, "question") || strings.Contains(tr.Error, "top_k")) {
			bad++
		}
	}
	if err != nil || bad != 3 {
		t.Fatalf("%d error traces for bad input, want 3 (%v)", bad, err)
	}
}

func TestAskCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var traceID string
	_, err := e.asst.Ask(ctx, assistant.Request{Question: "How do I cancel my subscription?"}, func(ev assistant.Event) error {
		if ev.Type == assistant.EventMeta {
			traceID = ev.TraceID
			cancel() // the client goes away as soon as it has the trace ID
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	tr, _ := e.trace(t, traceID)
	if tr.Status != schema.StatusCancelled || !strings.Contains(tr.Error, "cancelled") {
		t.Fatalf("trace = %s %q", tr.Status, tr.Error)
	}
}

// inventor is a model that makes things up: its answer cites context
// that does not exist and claims facts the sources do not hold.
type inventor struct{ text string }

func (inventor) Name() string { return "inventor-1" }
func (m inventor) Generate(ctx context.Context, in assistant.Input, token func(string) error) (*assistant.Generation, error) {
	start := time.Now()
	for _, p := range strings.SplitAfter(m.text, " ") {
		if err := token(p); err != nil {
			return nil, err
		}
	}
	return &assistant.Generation{Answer: &answer.Answer{Text: m.text}, Model: "inventor-1", Start: start, End: time.Now(), TokensIn: 100, TokensOut: 20, CostUSD: 0.001}, nil
}

func TestAskGroundsGeneratedAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{Answerer: inventor{text: "Rosterly refunds every unused day within 90 days by Paychex cheque [1]. Call the hotline on Sundays [9]."}})
	var rec recorder
	res, err := e.asst.Ask(context.Background(), assistant.Request{Question: "How do I cancel my subscription?", Actor: user}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Fallback || !res.Escalated || res.RemovedCitations != 1 {
		t.Fatalf("invented answer not caught: %+v", res)
	}
	// The invented text streamed live; done's answer replaces it.
	if !strings.Contains(rec.text(), "Paychex") || strings.Contains(res.Answer, "Paychex") {
		t.Errorf("streamed %q, final %q", rec.text(), res.Answer)
	}
	tr, _ := e.trace(t, res.TraceID)
	if tr.TokensIn != 100 || tr.TokensOut != 20 || tr.CostUSD != 0.001 || tr.Attributes[schema.AttrResponseModel] != "inventor-1" {
		t.Errorf("trace usage %d/%d $%v model %v", tr.TokensIn, tr.TokensOut, tr.CostUSD, tr.Attributes[schema.AttrResponseModel])
	}
	// The answer fell back: the trace says so in its status.
	if tr.Status != schema.StatusFallback || tr.Attributes[schema.AttrFallback] != true {
		t.Errorf("trace status %q, fallback %v; want %q, true", tr.Status, tr.Attributes[schema.AttrFallback], schema.StatusFallback)
	}
}

// failing is a model whose upstream is down.
type failing struct{}

func (failing) Name() string { return "down" }
func (failing) Generate(ctx context.Context, in assistant.Input, token func(string) error) (*assistant.Generation, error) {
	return &assistant.Generation{Model: "down"}, store.Errorf(store.EUNAVAILABLE, "the model API is down")
}

// TestAskAfterAFailedFirstAnswer: the conversation ID the client got in
// meta stays usable when the first answer fails.
func TestAskAfterAFailedFirstAnswer(t *testing.T) {
	t.Parallel()
	down := newEnv(t, assistant.Options{Answerer: failing{}})
	var rec recorder
	if _, err := down.asst.Ask(context.Background(), assistant.Request{Question: "How do I connect Slack?", Actor: user}, rec.emit); store.ErrorCode(err) != store.EUNAVAILABLE {
		t.Fatalf("err = %v", err)
	}
	convID := rec.events[0].ConversationID
	up := newEnv(t, assistant.Options{})
	res, err := up.asst.Ask(context.Background(), assistant.Request{Question: "How do I connect Slack?", ConversationID: convID, Actor: user}, nil)
	if err != nil || res.ConversationID != convID {
		t.Fatalf("second ask: %+v, %v", res, err)
	}
}

// TestDoneAfterTraceQueued: when done goes out, the trace is queued, so
// a flush makes it readable (feedback relies on it).
func TestDoneAfterTraceQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t, assistant.Options{})
	var found error = errors.New("no done event")
	_, err := e.asst.Ask(context.Background(), assistant.Request{Question: "How do I cancel my subscription?", Actor: user}, func(ev assistant.Event) error {
		if ev.Type == assistant.EventDone {
			e.traces.Flush(context.Background())
			_, _, found = e.st.Trace(context.Background(), ev.Result.TraceID)
		}
		return nil
	})
	if err != nil || found != nil {
		t.Fatalf("ask %v; trace at done: %v", err, found)
	}
}
