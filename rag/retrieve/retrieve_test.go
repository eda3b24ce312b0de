package retrieve

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"llmops/rag/index"
	"llmops/store"
)

// fakeSearcher returns fixed lists, records what it was asked, and can
// fail or block until its context ends.
type fakeSearcher struct {
	kw, vec        []index.Hit
	chunks         map[string]store.ChunkRef
	kwErr, vecErr  error
	noModel, block bool

	mu                  sync.Mutex
	kwFilter, vecFilter *index.Filter
	embedded, searched  int
	unblocked           atomic.Int32 // searches that returned because ctx ended
}

func (f *fakeSearcher) wait(ctx context.Context) error {
	if !f.block {
		return nil
	}
	<-ctx.Done()
	f.unblocked.Add(1)
	return ctx.Err()
}

func (f *fakeSearcher) SearchKeyword(ctx context.Context, q string, n int, flt index.Filter) ([]index.Hit, error) {
	f.mu.Lock()
	f.kwFilter, f.searched = &flt, f.searched+1
	f.mu.Unlock()
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.kw[:min(n, len(f.kw))], f.kwErr
}

func (f *fakeSearcher) EmbedQuery(ctx context.Context, q string) ([]float32, error) {
	f.mu.Lock()
	f.embedded++
	f.mu.Unlock()
	if f.noModel {
		return nil, nil
	}
	return []float32{1, 0}, ctx.Err()
}

func (f *fakeSearcher) SearchEmbedding(ctx context.Context, v []float32, n int, flt index.Filter) ([]index.Hit, error) {
	f.mu.Lock()
	f.vecFilter = &flt
	f.mu.Unlock()
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.vec[:min(n, len(f.vec))], f.vecErr
}

func (f *fakeSearcher) Chunks(ctx context.Context, ids []string) ([]store.ChunkRef, error) {
	var out []store.ChunkRef
	for _, id := range ids {
		if c, ok := f.chunks[id]; ok {
			out = append(out, c)
		}
	}
	return out, ctx.Err()
}

// newFake has BM25 return c1 c2 c3 and vectors c2 c4 c1; every chunk
// exists, in a document of its own named after it.
func newFake() *fakeSearcher {
	f := &fakeSearcher{
		kw:     []index.Hit{{ID: "c1", Score: 9}, {ID: "c2", Score: 7}, {ID: "c3", Score: 3}},
		vec:    []index.Hit{{ID: "c2", Score: .9}, {ID: "c4", Score: .8}, {ID: "c1", Score: .7}},
		chunks: map[string]store.ChunkRef{},
	}
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		f.chunks[id] = store.ChunkRef{Chunk: store.Chunk{ID: id, DocumentID: "d" + id, Text: "text of " + id},
			Document: &store.Document{ID: "d" + id, Title: "Title " + id}}
	}
	return f
}

// plain is hand-computable: no gate, no reranker.
var plain = Options{Gate: GateNone, NoRerank: true}

func TestRetrieveKeepsEveryStage(t *testing.T) {
	f := newFake()
	opts := plain
	opts.TopK = 3
	res, err := New(f, opts).Retrieve(t.Context(), "  where is c2?  ", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Query != "where is c2?" {
		t.Errorf("Query = %q", res.Query)
	}
	// RRF: c2 1/62+1/61, c1 1/61+1/63, c4 1/62, c3 1/63.
	if got, want := ids(res.Fused), []string{"c2", "c1", "c4", "c3"}; !slices.Equal(got, want) {
		t.Errorf("fused %v, want %v", got, want)
	}
	if got, want := ids(res.Hits), []string{"c2", "c1", "c4"}; !slices.Equal(got, want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
	for i, h := range res.Hits {
		if h.Rank != i+1 || h.Chunk.ID != h.ID || h.Document == nil || h.Document.ID != "d"+h.ID {
			t.Errorf("hit %d: %+v, want rank %d with its chunk and document", i, h, i+1)
		}
	}
	if h := res.Hits[1]; h.KeywordRank != 1 || h.VectorRank != 3 {
		t.Errorf("c1 ranks kw %d vec %d, want 1 and 3", h.KeywordRank, h.VectorRank)
	}
	if h := res.Hits[2]; h.KeywordRank != 0 || h.VectorRank != 2 {
		t.Errorf("c4 ranks kw %d vec %d, want 0 and 2", h.KeywordRank, h.VectorRank)
	}
	if got := ids(res.Keyword); !slices.Equal(got, []string{"c1", "c2", "c3"}) || res.Keyword[2].Rank != 3 || res.Keyword[0].Score != 9 {
		t.Errorf("keyword stage %+v", res.Keyword)
	}
	if got := ids(res.Vector); !slices.Equal(got, []string{"c2", "c4", "c1"}) || res.Vector[1].Score != .8 {
		t.Errorf("vector stage %+v", res.Vector)
	}
	for _, stage := range []string{"embed", "keyword", "vector", "fuse", "load"} {
		if _, ok := res.Timings[stage]; !ok {
			t.Errorf("no %q timing in %v", stage, res.Timings)
		}
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	if res.KeywordWeight != 1 || res.VectorWeight != 1 {
		t.Errorf("weights %v/%v, want 1/1", res.KeywordWeight, res.VectorWeight)
	}
}

func TestFiltersReachBothIndexes(t *testing.T) {
	f := newFake()
	opts := plain
	opts.Filter = index.Filter{Category: "billing", ProductVersion: "5.0", Tags: []string{"invoices", "vat"}}
	if _, err := New(f, opts).Retrieve(t.Context(), "invoice", nil); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]*index.Filter{"keyword": f.kwFilter, "vector": f.vecFilter} {
		if got == nil || !reflect.DeepEqual(*got, opts.Filter) {
			t.Errorf("%s search got filter %+v, want %+v", name, got, opts.Filter)
		}
	}
}

func TestDeletedChunksAreSkippedAndReplaced(t *testing.T) {
	f := newFake()
	delete(f.chunks, "c1") // deleted between search and load
	opts := plain
	opts.TopK = 3
	res, err := New(f, opts).Retrieve(t.Context(), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(res.Hits), []string{"c2", "c4", "c3"}; !slices.Equal(got, want) {
		t.Errorf("hits %v, want %v", got, want)
	}
}

func TestRetrieveDegradesWithoutVectors(t *testing.T) {
	t.Run("no model yet", func(t *testing.T) {
		f := newFake()
		f.noModel = true
		res, err := New(f, plain).Retrieve(t.Context(), "q", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Hits); !slices.Equal(got, []string{"c1", "c2", "c3"}) || len(res.Vector) != 0 || len(res.Errors) != 0 {
			t.Errorf("hits %v, vector %v, errors %v; want BM25's order and no error", got, res.Vector, res.Errors)
		}
	})
	t.Run("vector search fails", func(t *testing.T) {
		f := newFake()
		f.vecErr = errors.New("embedding API: 503")
		res, err := New(f, plain).Retrieve(t.Context(), "q", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Hits); !slices.Equal(got, []string{"c1", "c2", "c3"}) || !errors.Is(res.Errors["vector"], f.vecErr) {
			t.Errorf("hits %v, errors %v; want BM25's order and the vector error kept", got, res.Errors)
		}
	})
	t.Run("keyword search fails", func(t *testing.T) {
		f := newFake()
		f.kwErr = errors.New("bleve: disk full")
		if _, err := New(f, plain).Retrieve(t.Context(), "q", nil); !errors.Is(err, f.kwErr) {
			t.Errorf("err = %v, want the keyword error", err)
		}
	})
}

func TestModes(t *testing.T) {
	f := newFake()
	opts := plain
	opts.Mode = ModeKeyword
	res, err := New(f, opts).Retrieve(t.Context(), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.embedded != 0 || !slices.Equal(ids(res.Hits), []string{"c1", "c2", "c3"}) {
		t.Errorf("keyword mode: %d embeddings, hits %v", f.embedded, ids(res.Hits))
	}
	if _, ok := res.Timings["embed"]; ok {
		t.Errorf("keyword mode has an embed timing: %v", res.Timings)
	}

	f = newFake()
	opts.Mode = ModeVector
	res, err = New(f, opts).Retrieve(t.Context(), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.searched != 0 || !slices.Equal(ids(res.Hits), []string{"c2", "c4", "c1"}) {
		t.Errorf("vector mode: %d BM25 searches, hits %v", f.searched, ids(res.Hits))
	}
	f.vecErr = errors.New("down")
	if _, err := New(f, opts).Retrieve(t.Context(), "q", nil); !errors.Is(err, f.vecErr) {
		t.Errorf("vector mode with vectors down: err = %v, want it to fail", err)
	}
}

func TestCancellationStopsBothSearches(t *testing.T) {
	f := newFake()
	f.block = true
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	// Both searches block until ctx ends, so returning at all shows the
	// cancellation reached them.
	_, err := New(f, plain).Retrieve(ctx, "q", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Retrieve waits for both halves: neither outlives the call.
	if n := f.unblocked.Load(); n != 2 {
		t.Errorf("%d searches saw the cancellation, want 2", n)
	}

	ctx, cancel = context.WithDeadline(t.Context(), time.Now().Add(10*time.Millisecond))
	defer cancel()
	if _, err := New(f, plain).Retrieve(ctx, "q", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

// failingReranker fails, or records what it was given.
type failingReranker struct {
	err error
	got []Hit
}

func (r *failingReranker) Rerank(_ context.Context, _ string, hits []Hit) ([]Hit, error) {
	r.got = hits
	if r.err != nil {
		return nil, r.err
	}
	out := slices.Clone(hits)
	slices.Reverse(out)
	return out, nil
}

func TestRerankStage(t *testing.T) {
	t.Run("reranker sees loaded candidates", func(t *testing.T) {
		rr := &failingReranker{}
		opts := Options{Gate: GateNone, Reranker: rr, TopK: 2, RerankDepth: 3}
		res, err := New(newFake(), opts).Retrieve(t.Context(), "q", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rr.got) != 3 || rr.got[0].Chunk.Text == "" || rr.got[0].Document == nil {
			t.Fatalf("reranker got %+v, want 3 loaded candidates", rr.got)
		}
		// Reversed c2 c1 c4 → c4 c1 (c2) cut to TopK.
		if got := ids(res.Hits); !slices.Equal(got, []string{"c4", "c1"}) || res.Hits[0].Rank != 1 {
			t.Errorf("hits %v, want [c4 c1] ranked from 1", got)
		}
		if _, ok := res.Timings["rerank"]; !ok {
			t.Errorf("no rerank timing: %v", res.Timings)
		}
	})
	t.Run("a failing reranker leaves the fused order", func(t *testing.T) {
		rr := &failingReranker{err: errors.New("rerank API: 500")}
		res, err := New(newFake(), Options{Gate: GateNone, Reranker: rr}).Retrieve(t.Context(), "q", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Hits); !slices.Equal(got, []string{"c2", "c1", "c4", "c3"}) || !errors.Is(res.Errors["rerank"], rr.err) {
			t.Errorf("hits %v, errors %v; want the fused order and the error kept", got, res.Errors)
		}
	})
}

func TestPerCallOptions(t *testing.T) {
	r := New(newFake(), Options{TopK: 2, Gate: GateNone, NoRerank: true})
	if o := r.Options(); o.TopK != 2 || o.Candidates != DefaultCandidates || o.Fusion != DefaultFusion || o.RRFK != DefaultRRFK {
		t.Errorf("Options() = %+v: want TopK 2 and defaults filled in", o)
	}
	res, _ := r.Retrieve(t.Context(), "q", nil)
	if len(res.Hits) != 2 {
		t.Errorf("nil options: %d hits, want New's 2", len(res.Hits))
	}
	o := r.Options()
	o.TopK = 3
	res, _ = r.Retrieve(t.Context(), "q", &o)
	if len(res.Hits) != 3 {
		t.Errorf("per-call TopK 3: %d hits", len(res.Hits))
	}
}

func TestInvalidOptions(t *testing.T) {
	r := New(newFake(), Options{})
	for _, tc := range []struct {
		name  string
		query string
		opts  Options
	}{
		{"empty question", "   ", Options{}},
		{"top_k too big", "q", Options{TopK: 101}},
		{"negative top_k", "q", Options{TopK: -1}},
		{"unknown fusion", "q", Options{Fusion: "max"}},
		{"unknown gate", "q", Options{Gate: "vibes"}},
		{"unknown mode", "q", Options{Mode: "semantic"}},
		{"negative weight", "q", Options{VectorWeight: -1}},
		{"negative passage weight", "q", Options{PassageVectorWeight: -1}},
		{"too many candidates", "q", Options{Candidates: 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Retrieve(t.Context(), tc.query, &tc.opts)
			if store.ErrorCode(err) != store.EINVALID {
				t.Errorf("err = %v (code %q), want %s", err, store.ErrorCode(err), store.EINVALID)
			}
			if err != nil && strings.Contains(err.Error(), "internal") {
				t.Errorf("message %q is not for users", err)
			}
		})
	}
}

// TestPassagesWeighVectorsLess: a query of more than passageTerms content
// words fuses with the vector weight scaled by PassageVectorWeight (half
// by default); a question, and a passage with the factor set to 1, keep
// the full weight.
func TestPassagesWeighVectorsLess(t *testing.T) {
	var b strings.Builder
	for i := range passageTerms + 1 {
		b.WriteString(" word" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	passage := b.String()
	if n := contentWords(passage); n != passageTerms+1 {
		t.Fatalf("the passage has %d content words, want %d", n, passageTerms+1)
	}
	for _, tc := range []struct {
		name, query string
		factor      float64
		want        float64
	}{
		{"question", "where is c2?", 0, 1},
		{"passage", passage, 0, DefaultPassageVectorWeight},
		{"passage, factor 0.3", passage, 0.3, 0.3},
		{"passage, factor 1", passage, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := plain
			opts.PassageVectorWeight = tc.factor
			res, err := New(newFake(), opts).Retrieve(t.Context(), tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.KeywordWeight != 1 || res.VectorWeight != tc.want {
				t.Errorf("weights %v/%v, want 1/%v", res.KeywordWeight, res.VectorWeight, tc.want)
			}
		})
	}
}
