package embed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// topicCorpus is a hand-made corpus of eight topics, 25 documents each,
// drawn from small word lists, plus one car document that never uses the
// words "automobile" or "vehicle". Document i < 200 is in topic i/25.
func topicCorpus() (docs []string, target int) {
	topics := [][]string{
		strings.Fields("car engine mechanic garage tyre brake automobile vehicle fuel gearbox driver road"),
		strings.Fields("recipe kitchen oven flour sugar bake bread butter chef dough pastry cake"),
		strings.Fields("telescope star planet orbit galaxy comet moon astronomer nebula solar eclipse sky"),
		strings.Fields("bank loan interest mortgage credit savings deposit investor stock dividend bond money"),
		strings.Fields("football goal referee striker stadium league match penalty coach team season fans"),
		strings.Fields("guitar piano melody chord concert orchestra rhythm singer album song violin drum"),
		strings.Fields("doctor patient hospital nurse surgery medicine symptom clinic diagnosis fever vaccine therapy"),
		strings.Fields("garden flower seed soil plant compost tulip rose hedge lawn bulb pruning"),
	}
	filler := strings.Fields("people often talk about new things every day week")
	rng := rand.New(rand.NewPCG(7, 7))
	for _, words := range topics {
		for range 25 {
			var b []string
			for range 20 {
				b = append(b, words[rng.IntN(len(words))])
			}
			for range 3 {
				b = append(b, filler[rng.IntN(len(filler))])
			}
			docs = append(docs, strings.Join(b, " "))
		}
	}
	docs = append(docs, "The mechanic fixed the engine, the gearbox and a brake in his garage.")
	return docs, len(docs) - 1
}

func mustTrain(t testing.TB, texts []string, opts TrainOptions) *Local {
	t.Helper()
	l, err := Train(context.Background(), texts, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustEmbed(t testing.TB, e Embedder, texts ...string) [][]float32 {
	t.Helper()
	v, err := e.EmbedDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustQuery(t testing.TB, e Embedder, q string) []float32 {
	t.Helper()
	v, err := e.EmbedQuery(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// rank returns document indexes by descending cosine with q.
func rank(q []float32, docs [][]float32) []int {
	idx := make([]int, len(docs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ca, cb := cosine(q, docs[a]), cosine(q, docs[b])
		switch {
		case ca > cb:
			return -1
		case ca < cb:
			return 1
		}
		return 0
	})
	return idx
}

func TestModelID(t *testing.T) {
	t.Parallel()
	if got := (Model{Name: "lsa", Version: "abc", Dim: 256}).ID(); got != "lsa@abc/256" {
		t.Errorf("got %q", got)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Don't PANIC: Rosterly's API-v2 returns 429s!", "don panic rosterly api v2 returns 429s"},
		{"Café naïve ÜBER straße", "café naïve über straße"},
		{"a b c 1 2 x9", "x9"},
		{"", ""},
		{strings.Repeat("z", 41) + " ok", "ok"},
	}
	for _, tc := range tests {
		var got []string
		forEachToken(tc.in, nil, func(tok []byte) { got = append(got, string(tok)) })
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("tokens(%q) = %q, want %q", tc.in, g, tc.want)
		}
	}
	for in, want := range map[string]string{"running": "run", "schedules": "schedul", "429s": "429s", "v2": "v2"} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalWeight(t *testing.T) {
	t.Parallel()
	for tf := 1; tf < 100; tf++ {
		if got, want := localWeight(tf, true), math.Log(1+float64(tf)); math.Abs(got-want) > 1e-12 {
			t.Fatalf("entropy tf=%d: got %v, want %v", tf, got, want)
		}
		if got, want := localWeight(tf, false), 1+math.Log(float64(tf)); math.Abs(got-want) > 1e-12 {
			t.Fatalf("tf-idf tf=%d: got %v, want %v", tf, got, want)
		}
	}
}

// TestVectorsAreNormalised covers a randomized-SVD model, a tiny-corpus
// model with hashed dimensions, and a model trained on nothing.
func TestVectorsAreNormalised(t *testing.T) {
	t.Parallel()
	docs, _ := topicCorpus()
	models := map[string]*Local{
		"lsa":       mustTrain(t, docs, TrainOptions{Dim: 8}),
		"tiny":      mustTrain(t, docs[:10], TrainOptions{}),
		"untrained": mustTrain(t, nil, TrainOptions{Dim: 32}),
	}
	inputs := []string{"", "   ", "the and of", "mechanik", "car engine", docs[3], strings.Repeat("bread ", 1000), "日本語のテキスト"}
	for name, l := range models {
		vecs := mustEmbed(t, l, inputs...)
		for i, v := range vecs {
			if len(v) != l.Model().Dim {
				t.Errorf("%s: input %d: got %d dims, want %d", name, i, len(v), l.Model().Dim)
			}
			var n float64
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%s: input %q: non-finite component", name, inputs[i])
				}
				n += float64(x) * float64(x)
			}
			if math.Abs(n-1) > 1e-4 {
				t.Errorf("%s: input %q: squared norm %v, want 1", name, inputs[i], n)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	// Not parallel: it changes GOMAXPROCS to show that the number of
	// workers does not change the model.
	docs := syntheticCorpus(600, 5) // enough for the randomized SVD
	opts := TrainOptions{Dim: 32, MaxVocab: 3000}
	train := func(procs int) ([]byte, [][]float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		l := mustTrain(t, docs, opts)
		if l.k != 32 {
			t.Fatalf("got %d LSA dims, want 32", l.k)
		}
		data, err := l.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return data, mustEmbed(t, l, docs[:20]...)
	}
	d1, v1 := train(1)
	d2, v2 := train(4)
	if !bytes.Equal(d1, d2) {
		t.Error("MarshalBinary differs between two trainings on the same texts")
	}
	for i := range v1 {
		if !slices.Equal(v1[i], v2[i]) {
			t.Fatalf("vector %d differs between two trainings", i)
		}
	}
	other := mustTrain(t, docs[1:], opts)
	l, _ := LoadLocal(d1)
	if other.Model().Version == l.Model().Version {
		t.Error("a different corpus kept the same model version")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	docs, _ := topicCorpus()
	for name, l := range map[string]*Local{
		"lsa":       mustTrain(t, docs, TrainOptions{Dim: 8}),
		"tiny":      mustTrain(t, docs[:5], TrainOptions{Dim: 64}),
		"untrained": mustTrain(t, nil, TrainOptions{Dim: 8}),
	} {
		data, err := l.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := LoadLocal(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.Model() != l.Model() {
			t.Errorf("%s: got model %+v, want %+v", name, back.Model(), l.Model())
		}
		again, _ := back.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Errorf("%s: re-marshalled bytes differ", name)
		}
		texts := append([]string{"mechanik garage", ""}, docs[:10]...)
		a, b := mustEmbed(t, l, texts...), mustEmbed(t, back, texts...)
		for i := range a {
			if !slices.Equal(a[i], b[i]) {
				t.Fatalf("%s: vector %d differs after the round trip", name, i)
			}
		}
	}
}

func TestLoadLocalRejectsBadData(t *testing.T) {
	t.Parallel()
	docs, _ := topicCorpus()
	data, err := mustTrain(t, docs, TrainOptions{Dim: 8}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 5, len(codecMagic) + 1, 20, 100, len(data) / 2, len(data) - 1} {
		if _, err := LoadLocal(data[:n]); !errors.Is(err, ErrBadModel) {
			t.Errorf("truncated to %d bytes: got %v, want ErrBadModel", n, err)
		}
	}
	if _, err := LoadLocal(append(slices.Clone(data), 0)); !errors.Is(err, ErrBadModel) {
		t.Errorf("trailing byte: got %v, want ErrBadModel", err)
	}
	bad := slices.Clone(data)
	bad[len(codecMagic)] = 99
	if _, err := LoadLocal(bad); !errors.Is(err, ErrBadModel) {
		t.Errorf("unknown version: got %v, want ErrBadModel", err)
	}
	// Flipped bytes may still parse, but must never panic.
	rng := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		bad := slices.Clone(data)
		bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
		if l, err := LoadLocal(bad); err == nil {
			mustQuery(t, l, "engine brake")
		}
	}
}

// TestSemanticMatch shows what the SVD adds: the query shares no word
// with the target document, only co-occurrences in other documents.
// Hashed term features (the fallback without an SVD) see no similarity.
func TestSemanticMatch(t *testing.T) {
	t.Parallel()
	docs, target := topicCorpus()
	const query = "automobile vehicle"
	for _, w := range strings.Fields(query) {
		if strings.Contains(docs[target], w) {
			t.Fatalf("target document contains %q", w)
		}
	}
	lsa := mustTrain(t, docs, TrainOptions{Dim: 8})
	hashed := mustTrain(t, docs, TrainOptions{Dim: 8, hashDims: 8})

	lsaCos := cosine(mustQuery(t, lsa, query), mustEmbed(t, lsa, docs[target])[0])
	hashCos := cosine(mustQuery(t, hashed, query), mustEmbed(t, hashed, docs[target])[0])
	t.Logf("cosine(query, target): LSA %.3f, hashed %.3f", lsaCos, hashCos)
	if lsaCos < 0.5 {
		t.Errorf("LSA cosine %.3f, want at least 0.5", lsaCos)
	}
	if lsaCos-hashCos < 0.3 {
		t.Errorf("LSA cosine %.3f is not clearly above hashed %.3f", lsaCos, hashCos)
	}
	// Every car document, the target included, ranks above the others.
	ranked := rank(mustQuery(t, lsa, query), mustEmbed(t, lsa, docs...))
	for pos, d := range ranked[:26] {
		if d >= 25 && d != target {
			t.Fatalf("rank %d is document %d, not a car document", pos+1, d)
		}
	}
}

// TestOutOfVocabularyQuery checks that a word the model never saw still
// places the query, through its character 4-grams.
func TestOutOfVocabularyQuery(t *testing.T) {
	t.Parallel()
	docs, _ := topicCorpus()
	l := mustTrain(t, docs, TrainOptions{Dim: 8})
	for query, topic := range map[string]int{"mechanik": 0, "telescopes astronomerz": 2, "mortgages": 3} {
		q := mustQuery(t, l, query)
		if q[0] == 1 {
			t.Errorf("%q: got the no-content vector", query)
		}
		top := rank(q, mustEmbed(t, l, docs[:200]...))[0]
		if top/25 != topic {
			t.Errorf("%q: nearest document %d is in topic %d, want %d", query, top, top/25, topic)
		}
	}
}

// TestTinyCorpus trains on 50 help-centre chunks: the SVD keeps every
// direction (exact TF-IDF ranking) and the spare dimensions carry hashed
// features, so a passage's own words find it.
func TestTinyCorpus(t *testing.T) {
	t.Parallel()
	chunks := chunkDocs(helpCentreDocs(t), 120)[:50]
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.text
	}
	l := mustTrain(t, texts, TrainOptions{})
	if m := l.Model(); m.Dim != SmallDim || m.Name != LocalName {
		t.Errorf("got model %+v", m)
	}
	if l.k == 0 || l.k > 50 {
		t.Errorf("got %d LSA dims for 50 chunks", l.k)
	}
	vecs := mustEmbed(t, l, texts...)
	hits, tried := 0, 0
	for i, text := range texts {
		words := strings.Fields(text)
		if len(words) < 24 {
			continue
		}
		tried++
		q := strings.Join(words[len(words)/3:len(words)/3+8], " ")
		if rank(mustQuery(t, l, q), vecs)[0] == i {
			hits++
		}
	}
	// The misses are excerpts of menu paths and table rules that several
	// chunks share.
	if hits*4 < tried*3 {
		t.Errorf("an 8-word excerpt found its own chunk first %d times in %d, want at least 75%%", hits, tried)
	}
	t.Logf("an 8-word excerpt found its own chunk first %d times in %d", hits, tried)
}

func TestTrainCancelled(t *testing.T) {
	t.Parallel()
	docs := syntheticCorpus(5000, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, docs, TrainOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: got %v, want context.Canceled", err)
	}
	for _, after := range []time.Duration{5 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond} {
		tctx, cancel := context.WithTimeout(context.Background(), after)
		start := time.Now()
		_, err := Train(tctx, docs, TrainOptions{})
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("cancelled after %v: got %v, want context.DeadlineExceeded", after, err)
		}
		// Training this corpus to the end takes most of a minute under
		// -race; 10 s of lateness leaves a busy machine room and still
		// catches a cancellation that is not checked.
		if late := time.Since(start) - after; err != nil && late > 10*time.Second {
			t.Errorf("cancelled after %v: returned %v later", after, late)
		}
	}
	l := mustTrain(t, docs[:100], TrainOptions{Dim: 8})
	if _, err := l.EmbedDocuments(ctx, docs); !errors.Is(err, context.Canceled) {
		t.Errorf("EmbedDocuments: got %v, want context.Canceled", err)
	}
	if _, err := l.EmbedQuery(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("EmbedQuery: got %v, want context.Canceled", err)
	}
}

func TestTrainOptionsValidated(t *testing.T) {
	t.Parallel()
	for _, o := range []TrainOptions{{Dim: 4}, {Dim: 4096}, {Dim: 16, hashDims: 17}} {
		if _, err := Train(context.Background(), []string{"a b"}, o); err == nil {
			t.Errorf("Train with %+v: got no error", o)
		}
	}
}

func TestSymEig(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 40} {
		a := make([][]float64, n)
		for i := range a {
			a[i] = make([]float64, n)
		}
		for i := range n {
			for j := range i + 1 {
				v := rng.NormFloat64()
				a[i][j], a[j][i] = v, v
			}
		}
		orig := make([][]float64, n)
		for i := range a {
			orig[i] = slices.Clone(a[i])
		}
		lam, v := symEig(a)
		for j := range n {
			if j > 0 && lam[j] < lam[j-1] {
				t.Fatalf("n=%d: eigenvalues not ascending", n)
			}
			for i := range n {
				var av float64
				for k := range n {
					av += orig[i][k] * v[k][j]
				}
				if math.Abs(av-lam[j]*v[i][j]) > 1e-9 {
					t.Fatalf("n=%d: A v != λ v for eigenpair %d", n, j)
				}
			}
			for k := range n {
				var d float64
				for i := range n {
					d += v[i][j] * v[i][k]
				}
				want := 0.0
				if j == k {
					want = 1
				}
				if math.Abs(d-want) > 1e-9 {
					t.Fatalf("n=%d: eigenvectors %d, %d not orthonormal", n, j, k)
				}
			}
		}
	}
}

// TestRandomizedMatchesExact compares the randomized SVD's leading
// spectrum with the exact one on a corpus small enough for both.
func TestRandomizedMatchesExact(t *testing.T) {
	t.Parallel()
	docs := syntheticCorpus(300, 11)
	stems, stats, err := countTerms(context.Background(), docs)
	if err != nil {
		t.Fatal(err)
	}
	var terms []string
	for s, st := range stats {
		if st.df >= 4 {
			terms = append(terms, s)
		}
	}
	slices.Sort(terms)
	ids := map[string]int32{}
	for i, s := range terms {
		ids[s] = int32(i)
	}
	wordID := map[string]int32{}
	for w, s := range stems {
		if id, ok := ids[s]; ok {
			wordID[w] = id
		}
	}
	idf := make([]float32, len(terms))
	for i := range idf {
		idf[i] = 1
	}
	x, err := buildMatrix(context.Background(), docs, sampleDocs(len(docs), len(docs)), wordID, idf, true)
	if err != nil {
		t.Fatal(err)
	}
	exact, _, err := exactEig(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	// This corpus has a flat spectrum, the hard case: the default two
	// iterations come within a few percent, more converge.
	for _, tc := range []struct {
		iters int
		tol   float64
	}{{2, 0.05}, {8, 0.01}} {
		approx, _, err := randomizedEig(context.Background(), x, 48, tc.iters, 1)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 10 {
			if rel := math.Abs(approx[j]-exact[j]) / exact[j]; rel > tc.tol {
				t.Errorf("%d iterations: eigenvalue %d: randomized %.4f, exact %.4f", tc.iters, j, approx[j], exact[j])
			}
		}
	}
}

func TestRRF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rankings [][]string
		weights  []float64
		want     string
	}{
		{"agreement wins", [][]string{{"a", "b", "c"}, {"b", "a", "d"}}, nil, "[a b c d]"},
		{"weights", [][]string{{"a", "b"}, {"b", "a"}}, []float64{1, 2}, "[b a]"},
		{"one list", [][]string{{"x", "y"}}, nil, "[x y]"},
		{"ties keep first appearance", [][]string{{"a"}, {"b"}}, nil, "[a b]"},
		{"nothing", nil, nil, "[]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(RRF(tc.rankings, tc.weights, 60)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func ExampleRRF() {
	bm25 := []string{"doc-3", "doc-1", "doc-7"}
	vectors := []string{"doc-1", "doc-4", "doc-3"}
	fmt.Println(RRF([][]string{bm25, vectors}, nil, 60))
	// Output: [doc-1 doc-3 doc-4 doc-7]
}

func ExampleTrain() {
	ctx := context.Background()
	docs := []string{
		"Reset your password from the sign-in page.",
		"Invoices are emailed on the first of the month.",
		"Connect Slack to get shift reminders in a channel.",
	}
	l, err := Train(ctx, docs, TrainOptions{Dim: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	vecs, _ := l.EmbedDocuments(ctx, docs)
	q, _ := l.EmbedQuery(ctx, "where is my invoice?")
	best := rank(q, vecs)[0]
	fmt.Println(l.Model().Name, l.Model().Dim, "→", docs[best])
	// Output: llmops-lsa 64 → Invoices are emailed on the first of the month.
}

// TestDefaultDim checks the corpus-size rule of the default dimension:
// 256 below SmallCorpus texts and above LargeCorpus, 512 between, and an
// explicit Dim always wins.
func TestDefaultDim(t *testing.T) {
	for _, tc := range []struct {
		texts, dim, want int
	}{
		{0, 0, SmallDim},
		{SmallCorpus - 1, 0, SmallDim},
		{SmallCorpus, 0, DefaultDim},
		{LargeCorpus, 0, DefaultDim},
		{LargeCorpus + 1, 0, SmallDim},
		{10, 384, 384},
		{LargeCorpus + 1, 384, 384},
	} {
		o, err := TrainOptions{Dim: tc.dim}.withDefaults(tc.texts)
		if err != nil || o.Dim != tc.want {
			t.Errorf("%d texts, Dim %d: got %d (%v), want %d", tc.texts, tc.dim, o.Dim, err, tc.want)
		}
	}
}
