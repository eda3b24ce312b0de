package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"llmops/rag/llm"
	"llmops/store"
)

// reply is what the fake model sends for one request: an OpenAI error
// when status is set, else text streamed in two deltas.
type reply struct {
	status     int
	retryAfter string
	text       string
}

// fakeModel is an OpenAI-compatible /v1/chat/completions server speaking
// the streaming wire format, which is how rag/llm always asks.
type fakeModel struct {
	*httptest.Server
	answer func(n int, prompt string) reply // n counts requests from 1

	requests atomic.Int64
	mu       sync.Mutex
	bodies   []chatBody
}

type chatBody struct {
	Model       string   `json:"model"`
	Stream      bool     `json:"stream"`
	Temperature *float64 `json:"temperature"`
	Messages    []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func newFakeModel(t *testing.T, answer func(n int, prompt string) reply) *fakeModel {
	t.Helper()
	m := &fakeModel{answer: answer}
	m.Server = httptest.NewServer(m)
	t.Cleanup(m.Close)
	return m
}

// script answers request n with rs[n-1], the last one repeating.
func script(rs ...reply) func(int, string) reply {
	return func(n int, _ string) reply { return rs[min(n, len(rs))-1] }
}

// says answers every request with text.
func says(text string) func(int, string) reply { return script(reply{text: text}) }

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(m.requests.Add(1))
	var body chatBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.URL.Path != "/v1/chat/completions" {
		openAIError(w, http.StatusBadRequest, "", "bad request")
		return
	}
	m.mu.Lock()
	m.bodies = append(m.bodies, body)
	m.mu.Unlock()
	prompt := ""
	if len(body.Messages) > 0 {
		prompt = body.Messages[len(body.Messages)-1].Content
	}
	rep := m.answer(n, prompt)
	if rep.status != 0 {
		openAIError(w, rep.status, rep.retryAfter, "scripted failure")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	event := func(format string, args ...any) {
		fmt.Fprintf(w, "data: "+format+"\n\n", args...)
		w.(http.Flusher).Flush()
	}
	const chunk = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":%q,"choices":[%s]%s}`
	half := len(rep.text) / 2
	for half > 0 && half < len(rep.text) && rep.text[half]&0xC0 == 0x80 { // not mid-rune
		half--
	}
	for _, part := range []string{rep.text[:half], rep.text[half:]} {
		content, _ := json.Marshal(part)
		event(chunk, body.Model, `{"index":0,"delta":{"content":`+string(content)+`},"finish_reason":null}`, "")
	}
	event(chunk, body.Model, `{"index":0,"delta":{},"finish_reason":"stop"}`, "")
	event(chunk, body.Model, "", `,"usage":{"prompt_tokens":40,"completion_tokens":7,"total_tokens":47}`)
	event("[DONE]")
}

func openAIError(w http.ResponseWriter, status int, retryAfter, msg string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"server_error","param":null,"code":null}}`, msg)
}

func (m *fakeModel) body(n int) chatBody {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bodies[n-1]
}

// newClient is a client of m for model; maxRetries 0 keeps rag/llm's
// default.
func newClient(t *testing.T, m *fakeModel, model string, maxRetries int) *llm.Client {
	t.Helper()
	c, err := llm.New(llm.Options{BaseURL: m.URL, Model: model, MaxRetries: maxRetries})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mapCache is an in-memory Cache that can be told to fail.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

func newMapCache() *mapCache { return &mapCache{m: make(map[string][]byte)} }

func (c *mapCache) GetJudgement(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, false, c.fail
	}
	v, ok := c.m[key]
	return v, ok, nil
}

func (c *mapCache) PutJudgement(_ context.Context, key string, value []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.m[key] = append([]byte(nil), value...)
	return nil
}

func (c *mapCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

var _ Cache = (*mapCache)(nil)

func TestTemplates(t *testing.T) {
	t.Parallel()
	for _, name := range []string{TemplateFaithfulness, TemplateSupport, TemplateRelevancy, TemplateCorrectness, TemplateRefusal} {
		text, ok := Template(name)
		if !ok || !strings.Contains(text, "JSON") {
			t.Errorf("Template(%q) = %q, %v; want a template asking for JSON", name, text, ok)
		}
	}
	if _, ok := Template("judge-relevancy@0"); ok {
		t.Error("got a template for an unknown version, want none")
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		output string
		call   func(*Judge) (float64, error)
		want   float64
		prompt []string // the prompt must hold each
	}{
		{"faithfulness", `{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "not supported"}]}`,
			func(j *Judge) (float64, error) {
				return j.Faithfulness(ctx, "How long do refunds take?", []string{"Refunds take 5 days.", " ", "They are\nfree."},
					[]string{"Refunds are processed within 5 business days.", "", "Fees apply."})
			}, 0.5,
			[]string{"Question: How long do refunds take?", "[P1] Refunds are processed", "[P2] Fees apply.",
				"1. Refunds take 5 days.\n2. They are free.\n", "sentences 1 to 2"}},
		{"citation precision", "```json\n[{\"i\":1,\"supported\":true},{\"i\":2,\"supported\":\"partial\"}]\n```",
			func(j *Judge) (float64, error) {
				return j.CitationPrecision(ctx, []string{"Refunds take 5 days.", "They are free.", "Call us."},
					[][]string{{"Refunds are processed within 5 business days."}, {"Refunds are processed within 5 business days.", "Fees apply."}, {" "}})
			}, 0.75,
			[]string{"[P1] Refunds are processed", "[P2] Fees apply.", "1. Refunds take 5 days.\n   cites: P1\n",
				"2. They are free.\n   cites: P1, P2\n", "sentences 1 to 2"}},
		{"relevancy", `{"score": 0.8, "reason": "on topic"}`,
			func(j *Judge) (float64, error) {
				return j.Relevancy(ctx, "How do I cancel?", "Open Billing and press Cancel.")
			},
			0.8, []string{"Question: How do I cancel?", "Open Billing and press Cancel.", `{"score": 0.8,`}},
		{"correctness on a 1-5 scale", "```json\n{\"score\": 4, \"scale\": \"1-5\"}\n```",
			func(j *Judge) (float64, error) {
				return j.Correctness(ctx, "How do I cancel?", "Press Cancel.", "Open Billing, then press Cancel.")
			},
			0.75, []string{"Reference answer:\nOpen Billing, then press Cancel.", "Answer to grade:\nPress Cancel."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newFakeModel(t, says(tc.output))
			j := New(newClient(t, m, "judge-m", 0), nil)
			got, err := tc.call(j)
			if err != nil || !near(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			body := m.body(1)
			if body.Temperature == nil || *body.Temperature != 0 || !body.Stream || body.Model != "judge-m" || len(body.Messages) != 1 {
				t.Errorf("got request %+v, want one message to judge-m, streamed, at temperature 0", body)
			}
			prompt := body.Messages[0].Content
			for _, want := range tc.prompt {
				if !strings.Contains(prompt, want) {
					t.Errorf("prompt lacks %q:\n%s", want, prompt)
				}
			}
			if s := j.Stats(); s.Calls != 1 || s.Failures != 0 || s.Retries != 0 || s.PromptTokens != 40 || s.CompletionTokens != 7 {
				t.Errorf("got stats %+v, want 1 call, 40+7 tokens", s)
			}
		})
	}
}

// TestOutputs sends the model's output forms through the whole path.
func TestOutputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, output string
		want         float64
	}{
		{"plain JSON", `{"score": 0.6}`, 0.6},
		{"fenced JSON", "Sure!\n```json\n{\"score\": 0.3, \"reason\": \"partly\"}\n```\n", 0.3},
		{"partial JSON", `{"score": 0.9, "reason": "The answer covers`, 0.9},
		{"bare number", "0.7", 0.7},
		{"percentage", "70%", 0.7},
		{"1-5 scale", `{"score": 5, "scale": "1-5"}`, 1},
		{"word", "Partially.", 0.5},
		{"garbage", "I'm sorry, I can't evaluate that.", unusable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newFakeModel(t, says(tc.output))
			j := New(newClient(t, m, "judge-m", 0), newMapCache())
			got, err := j.Relevancy(context.Background(), "Q?", "A.")
			if math.IsNaN(got) || got < 0 || got > 1 {
				t.Errorf("got score %v, outside [0, 1]", got)
			}
			if tc.want == unusable {
				if !errors.Is(err, ErrJudgeFailed) || got != 0 {
					t.Fatalf("got %v, %v; want 0 and ErrJudgeFailed", got, err)
				}
				if !strings.Contains(err.Error(), "I'm sorry") || !strings.Contains(err.Error(), TemplateRelevancy) {
					t.Errorf("error %q lacks the output or the template", err)
				}
				if s := j.Stats(); s.Failures != 1 {
					t.Errorf("got %d failures, want 1", s.Failures)
				}
				return
			}
			if err != nil || !near(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		output      string
		want, valid bool
	}{
		{`{"refusal": true, "reason": "says the docs do not cover it"}`, true, true},
		{"No, it answers the question.", false, true},
		{"The answer is about billing.", false, false},
	} {
		m := newFakeModel(t, says(tc.output))
		j := New(newClient(t, m, "judge-m", 0), nil)
		got, err := j.Refusal(context.Background(), "Can I pay in bitcoin?", "The documentation does not cover that.")
		switch {
		case !tc.valid && !errors.Is(err, ErrJudgeFailed):
			t.Errorf("%q: got %v, %v; want ErrJudgeFailed", tc.output, got, err)
		case tc.valid && (err != nil || got != tc.want):
			t.Errorf("%q: got %v, %v; want %v", tc.output, got, err, tc.want)
		}
	}
}

func TestRateLimitedThenAnswered(t *testing.T) {
	t.Parallel()
	m := newFakeModel(t, script(reply{status: http.StatusTooManyRequests, retryAfter: "0"}, reply{text: `{"score": 0.6}`}))
	j := New(newClient(t, m, "judge-m", 0), nil)
	got, err := j.Relevancy(context.Background(), "Q?", "A.")
	if err != nil || got != 0.6 {
		t.Fatalf("got %v, %v; want 0.6", got, err)
	}
	if n := m.requests.Load(); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
	if s := j.Stats(); s.Calls != 1 || s.Retries != 1 || s.Failures != 0 {
		t.Errorf("got stats %+v, want 1 call with 1 retry", s)
	}
}

func TestServerKeepsFailing(t *testing.T) {
	t.Parallel()
	m := newFakeModel(t, script(reply{status: http.StatusInternalServerError}))
	cache := newMapCache()
	j := New(newClient(t, m, "judge-m", 1), cache)
	got, err := j.Correctness(context.Background(), "Q?", "A.", "R.")
	if err == nil || got != 0 {
		t.Fatalf("got %v, %v; want 0 and an error", got, err)
	}
	if errors.Is(err, ErrJudgeFailed) || store.ErrorCode(err) != store.EUNAVAILABLE {
		t.Errorf("got %v (code %s), want the model's EUNAVAILABLE error, not ErrJudgeFailed", err, store.ErrorCode(err))
	}
	if n := m.requests.Load(); n != 2 {
		t.Errorf("got %d requests, want 2 (1 retry)", n)
	}
	if s := j.Stats(); s.Calls != 1 || s.Failures != 1 || cache.len() != 0 {
		t.Errorf("got stats %+v and %d cached, want 1 failed call and nothing cached", s, cache.len())
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, says(`{"score": 0.8, "refusal": false, "reason": "fine"}`))
	cache := newMapCache()
	j := New(newClient(t, m, "judge-m", 0), cache)
	steps := []struct {
		name     string
		call     func() error
		requests int64
	}{
		{"first", func() error { _, err := j.Relevancy(ctx, "Q?", "A."); return err }, 1},
		{"same again", func() error { _, err := j.Relevancy(ctx, "Q?", "A."); return err }, 1},
		{"same up to spaces", func() error { _, err := j.Relevancy(ctx, " Q? ", "A.\n"); return err }, 1},
		{"another answer", func() error { _, err := j.Relevancy(ctx, "Q?", "B."); return err }, 2},
		{"another template", func() error { _, err := j.Refusal(ctx, "Q?", "A."); return err }, 3},
		{"another model", func() error {
			_, err := New(newClient(t, m, "judge-2", 0), cache).Relevancy(ctx, "Q?", "A.")
			return err
		}, 4},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n := m.requests.Load(); n != s.requests {
			t.Errorf("%s: got %d requests in all, want %d", s.name, n, s.requests)
		}
	}
	if s := j.Stats(); s.CacheHits != 2 || s.Calls != 3 {
		t.Errorf("got stats %+v, want 2 cache hits and 3 calls", s)
	}
	if cache.len() != 4 {
		t.Errorf("got %d cache entries, want 4", cache.len())
	}
	key := cacheKey("judge-m", TemplateRelevancy, []byte(`{"question":"Q?","answer":"A."}`))
	var cached judgement
	if v, ok, _ := cache.GetJudgement(ctx, key); !ok || json.Unmarshal(v, &cached) != nil || cached.Score != 0.8 || cached.Reason != "fine" {
		t.Errorf("got cached %q (%v) under %s, want the score and reason", v, ok, key)
	}
}

func TestCacheKey(t *testing.T) {
	t.Parallel()
	base := cacheKey("m", TemplateRelevancy, []byte(`{"q":1}`))
	if len(base) != 64 || base != cacheKey("m", TemplateRelevancy, []byte(`{"q":1}`)) {
		t.Fatalf("got key %q, want 64 stable hex digits", base)
	}
	for _, other := range []string{
		cacheKey("m2", TemplateRelevancy, []byte(`{"q":1}`)),
		cacheKey("m", TemplateCorrectness, []byte(`{"q":1}`)),
		cacheKey("m", "judge-relevancy@2", []byte(`{"q":1}`)),
		cacheKey("m", TemplateRelevancy, []byte(`{"q":2}`)),
		cacheKey("mj", "udge-relevancy@1", []byte(`{"q":1}`)),
	} {
		if other == base {
			t.Errorf("got the same key %s for different inputs", other)
		}
	}
}

func TestCacheErrorsAreNotFatal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, says(`{"score": 0.4}`))
	cache := newMapCache()
	cache.fail = errors.New("disk full")
	j := New(newClient(t, m, "judge-m", 0), cache)
	if got, err := j.Relevancy(ctx, "Q?", "A."); err != nil || got != 0.4 {
		t.Fatalf("got %v, %v; want 0.4", got, err)
	}
	if s := j.Stats(); s.CacheErrors != 2 {
		t.Errorf("got %d cache errors, want 2 (get and put)", s.CacheErrors)
	}

	cache.mu.Lock()
	cache.fail = nil
	cache.m[cacheKey("judge-m", TemplateRelevancy, []byte(`{"question":"Q?","answer":"A."}`))] = []byte("{not json")
	cache.mu.Unlock()
	if got, err := j.Relevancy(ctx, "Q?", "A."); err != nil || got != 0.4 {
		t.Fatalf("corrupt entry: got %v, %v; want 0.4", got, err)
	}
	if n := m.requests.Load(); n != 2 {
		t.Errorf("got %d requests, want 2 (a corrupt entry is a miss)", n)
	}
}

func TestFailuresAreNotCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, script(reply{text: "Hmm."}, reply{text: `{"verdicts": ["yes"]}`}))
	cache := newMapCache()
	j := New(newClient(t, m, "judge-m", 0), cache)
	faith := func() (float64, error) { return j.Faithfulness(ctx, "Q?", []string{"A."}, []string{"ctx"}) }
	if _, err := faith(); !errors.Is(err, ErrJudgeFailed) {
		t.Fatalf("got %v, want ErrJudgeFailed", err)
	}
	for range 2 {
		if got, err := faith(); err != nil || got != 1 {
			t.Fatalf("got %v, %v; want 1", got, err)
		}
	}
	if n := m.requests.Load(); n != 2 {
		t.Errorf("got %d requests, want 2 (the failure asked again, the success was cached)", n)
	}
}

func TestWithoutAsking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, says("unused"))
	j := New(newClient(t, m, "judge-m", 0), nil)
	for _, tc := range []struct {
		name string
		call func() (float64, error)
		want error // nil: scores 0
	}{
		{"faithfulness, no sentences", func() (float64, error) { return j.Faithfulness(ctx, "Q?", []string{" "}, []string{"c"}) }, ErrNotApplicable},
		{"faithfulness, no contexts", func() (float64, error) { return j.Faithfulness(ctx, "Q?", []string{"A."}, nil) }, nil},
		{"citation precision, nothing cited", func() (float64, error) {
			return j.CitationPrecision(ctx, []string{"A.", "B."}, [][]string{nil, {""}})
		}, ErrNotApplicable},
		{"citation precision, no sentences", func() (float64, error) { return j.CitationPrecision(ctx, nil, nil) }, ErrNotApplicable},
		{"relevancy, no question", func() (float64, error) { return j.Relevancy(ctx, "", "A.") }, ErrNotApplicable},
		{"relevancy, no answer", func() (float64, error) { return j.Relevancy(ctx, "Q?", " ") }, nil},
		{"correctness, no reference", func() (float64, error) { return j.Correctness(ctx, "Q?", "A.", "") }, ErrNotApplicable},
		{"correctness, no answer", func() (float64, error) { return j.Correctness(ctx, "Q?", "", "R.") }, nil},
		{"refusal, no answer", func() (float64, error) {
			refused, err := j.Refusal(ctx, "Q?", "")
			return b2f(refused), err
		}, ErrNotApplicable},
	} {
		if got, err := tc.call(); got != 0 || !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: got %v, %v; want 0, %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := j.CitationPrecision(ctx, []string{"A."}, nil); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("mismatched lists: got %v, want EINVALID", err)
	}
	if _, err := New(nil, nil).Relevancy(ctx, "Q?", "A."); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("no client: got %v, want EINVALID", err)
	}
	if n := m.requests.Load(); n != 0 {
		t.Errorf("got %d requests, want none", n)
	}
	if s := j.Stats(); s != (Stats{}) {
		t.Errorf("got stats %+v, want none", s)
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	m := newFakeModel(t, says(`{"score": 1}`))
	cache := newMapCache()
	j := New(newClient(t, m, "judge-m", 0), cache)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Relevancy(ctx, "Q?", "A."); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if cache.len() != 0 {
		t.Errorf("got %d cached, want none", cache.len())
	}
}

// TestConcurrent runs every metric from many goroutines over one Judge
// and cache; run it with -race.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, func(_ int, prompt string) reply {
		switch {
		case strings.Contains(prompt, `"verdicts"`):
			return reply{text: `{"verdicts": [{"i": 1, "verdict": "supported"}]}`}
		case strings.Contains(prompt, `"refusal"`):
			return reply{text: `{"refusal": false}`}
		}
		return reply{text: `{"score": 1}`}
	})
	j := New(newClient(t, m, "judge-m", 0), newMapCache())
	const workers, rounds = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*5)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				q := fmt.Sprintf("Q%d?", (w+r)%3) // some inputs repeat across workers
				check := func(name string, got float64, err error) {
					if err != nil || got != 1 {
						errs <- fmt.Errorf("%s(%s): got %v, %v; want 1", name, q, got, err)
					}
				}
				got, err := j.Faithfulness(ctx, q, []string{"A."}, []string{"ctx"})
				check("Faithfulness", got, err)
				got, err = j.CitationPrecision(ctx, []string{q}, [][]string{{"ctx"}})
				check("CitationPrecision", got, err)
				got, err = j.Relevancy(ctx, q, "A.")
				check("Relevancy", got, err)
				got, err = j.Correctness(ctx, q, "A.", "A.")
				check("Correctness", got, err)
				refused, err := j.Refusal(ctx, q, "A.")
				check("Refusal", 1-b2f(refused), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := j.Stats()
	if s.Calls+s.CacheHits != workers*rounds*5 || s.Calls < 15 || s.Failures != 0 {
		t.Errorf("got stats %+v, want %d judgements, at least 15 asked, none failed", s, workers*rounds*5)
	}
}

func TestSupport(t *testing.T) {
	t.Parallel()
	m := newFakeModel(t, says("```json\n[{\"i\":1,\"supported\":true},{\"i\":2,\"supported\":\"partial\"}]\n```"))
	j := New(newClient(t, m, "judge-m", 0), nil)
	sentences := []string{"Refunds take 5 days.", "They are free\nof charge.", "Call us anytime."}
	sources := [][]string{{"Refunds are processed within 5 business days."}, {"Refunds are processed within 5 business days.", "Fees apply."}, {" "}}
	got, err := j.Support(context.Background(), sentences, sources)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 0.5, 0}; !slices.Equal(got, want) {
		t.Errorf("got scores %v, want %v", got, want)
	}
	body := m.body(1)
	if body.Temperature == nil || *body.Temperature != 0 || len(body.Messages) != 1 {
		t.Errorf("got request %+v, want one message at temperature 0", body)
	}
	prompt := body.Messages[0].Content
	for _, want := range []string{"[P1] Refunds are processed", "[P2] Fees apply.", "1. Refunds take 5 days.\n   cites: P1\n",
		"2. They are free of charge.\n   cites: P1, P2\n", "sentences 1 to 2"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks %q:\n%s", want, prompt)
		}
	}
	if strings.Count(prompt, "Refunds are processed") != 1 || strings.Contains(prompt, "Call us") {
		t.Errorf("want each passage once and no sentence without sources:\n%s", prompt)
	}
}

func TestSupportOutputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		replies  []reply
		want     []float64 // nil: unusable
		wantReqs int64
	}{
		{"line form", []reply{{text: "1: yes\n2 - no"}}, []float64{1, 0}, 1},
		{"partial JSON", []reply{{text: `[{"i":1,"supported":false},{"i":2,"supported":true},{"i":3,`}}, []float64{0, 1}, 1},
		{"429 then 200", []reply{{status: http.StatusTooManyRequests, retryAfter: "0"}, {text: `[{"i":1,"supported":true},{"i":2,"supported":true}]`}},
			[]float64{1, 1}, 2},
		{"garbage", []reply{{text: "As an AI, I think these are mostly fine."}}, nil, 1},
		{"one verdict missing", []reply{{text: `[{"i":1,"supported":true}]`}}, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newFakeModel(t, script(tc.replies...))
			j := New(newClient(t, m, "m-test", 0), nil)
			got, err := j.Support(context.Background(), []string{"A.", "B."}, [][]string{{"a"}, {"b"}})
			switch {
			case tc.want == nil:
				if !errors.Is(err, ErrJudgeFailed) || store.ErrorCode(err) != store.EUNAVAILABLE ||
					!strings.Contains(err.Error(), "judge output could not be parsed") || !strings.Contains(err.Error(), "m-test") {
					t.Errorf("got error %v (code %s), want ErrJudgeFailed, EUNAVAILABLE, naming the model", err, store.ErrorCode(err))
				}
				if got != nil {
					t.Errorf("got scores %v with the error, want none", got)
				}
			case err != nil:
				t.Fatal(err)
			case !slices.Equal(got, tc.want):
				t.Errorf("got scores %v, want %v", got, tc.want)
			}
			if n := m.requests.Load(); n != tc.wantReqs {
				t.Errorf("got %d requests, want %d", n, tc.wantReqs)
			}
		})
	}
}

func TestSupportWithoutAsking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, says("unused"))
	j := New(newClient(t, m, "judge-m", 0), nil)
	got, err := j.Support(ctx, []string{"A.", "B."}, [][]string{nil, {""}})
	if err != nil || !slices.Equal(got, []float64{0, 0}) {
		t.Errorf("got %v, %v; want [0 0] and no error", got, err)
	}
	if got, err := j.Support(ctx, nil, nil); err != nil || len(got) != 0 {
		t.Errorf("no sentences: got %v, %v; want none", got, err)
	}
	if m.requests.Load() != 0 {
		t.Errorf("got %d requests, want none", m.requests.Load())
	}
	_, err = j.Support(ctx, []string{"A."}, nil)
	if store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "1 sentences but 0 citation lists") {
		t.Errorf("mismatched lists: got %v, want EINVALID", err)
	}
	if _, err := New(nil, nil).Support(ctx, []string{"A."}, [][]string{{"a"}}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("no client: got %v, want EINVALID", err)
	}
}

// TestSupportSharesCitationPrecisionsCache: the answer path's verdicts
// and the eval metric's are one judgement of one template, cached once.
func TestSupportSharesCitationPrecisionsCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, says(`{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "partial"}]}`))
	j := New(newClient(t, m, "judge-m", 0), newMapCache())
	sentences, cited := []string{"A.", "Hi!", "B."}, [][]string{{"a"}, nil, {"a", "b"}}
	got, err := j.Support(ctx, sentences, cited)
	if err != nil || !slices.Equal(got, []float64{1, 0, 0.5}) {
		t.Fatalf("got %v, %v; want [1 0 0.5]", got, err)
	}
	if p, err := j.CitationPrecision(ctx, sentences, cited); err != nil || p != 0.75 {
		t.Errorf("got precision %v, %v; want 0.75", p, err)
	}
	if n := m.requests.Load(); n != 1 {
		t.Errorf("got %d requests, want 1 (the second from the cache)", n)
	}
}

// TestCachedVerdictsMustFit: a cached judgement without a verdict per
// sentence is a miss, never an index out of range.
func TestCachedVerdictsMustFit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newFakeModel(t, says(`["yes"]`))
	cache := newMapCache()
	j := New(newClient(t, m, "judge-m", 0), cache)
	in, _, err := supportInputOf([]string{"A."}, [][]string{{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	canonical, _ := json.Marshal(in)
	cache.m[cacheKey("judge-m", TemplateSupport, canonical)] = []byte(`{"score": 1}`)
	if got, err := j.Support(ctx, []string{"A."}, [][]string{{"a"}}); err != nil || !slices.Equal(got, []float64{1}) {
		t.Fatalf("got %v, %v; want [1]", got, err)
	}
	if s := j.Stats(); s.Calls != 1 || s.CacheErrors != 1 {
		t.Errorf("got stats %+v, want 1 call and 1 cache error", s)
	}
}
