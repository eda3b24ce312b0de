package index

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"llmops/store"
)

// Vectors is the in-memory vector index of one embedding model: every
// vector as half floats in one contiguous array, scanned exactly
// (cosine) with the filter tested per row. It is loaded from the store
// at start-up, and holds the same halves the store does, so a ranking is
// the same before and after a restart.
//
// It replaced chromem-go's query path, which visits documents through a
// map and a channel per query (47 ms at 100k × 256 here; this scan takes
// about 5 ms on 2 cores): see ARCHITECTURE.md, "Vector search".
type Vectors struct {
	mu    sync.RWMutex
	model string
	dim   int      // set by the first vector
	ids   []string // row → chunk ID
	rows  map[string]int32
	data  []uint16  // row-major halves, dim per row, in block (halves.go)
	inv   []float32 // 1/‖row‖, 0 for a zero vector
	meta  []rowMeta
	names interner
	tags  tagSets

	block   halfBlock       // the memory behind data
	cleanup runtime.Cleanup // frees block when the index is dropped
	reserve int             // rows Reserve asked room for
}

// rowMeta is a row's filter fields as interned IDs (0: none).
type rowMeta struct {
	category, version, tags uint32 // tags indexes tagSets
}

// NewVectors returns an empty index for model.
func NewVectors(model string) (*Vectors, error) {
	return &Vectors{model: model, rows: map[string]int32{}, names: newInterner(), tags: newTagSets()}, nil
}

// Reserve makes room for rows vectors in all, so that loading an index
// of known size allocates each array once: growing by appending holds
// the old and the new array at once, and at 1M rows that held 1.2 GB live
// for 0.7 GB of index while the server started.
func (v *Vectors) Reserve(rows int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.reserve = max(v.reserve, rows)
	v.ids = slices.Grow(v.ids, rows-len(v.ids))
	v.inv = slices.Grow(v.inv, rows-len(v.inv))
	v.meta = slices.Grow(v.meta, rows-len(v.meta))
	if len(v.rows) == 0 {
		v.rows = make(map[string]int32, rows)
	}
	if v.dim > 0 {
		v.growData(rows * v.dim)
	}
}

// Model is the embedding model whose vectors this index holds.
func (v *Vectors) Model() string { return v.model }

// halfTable maps every half float to its float32: a 256 KiB table that
// stays in cache, cheaper per element than converting bits.
var halfTable = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = store.FromHalf(uint16(i))
	}
	return &t
}()

// Apply removes and adds vectors. vecs[i] belongs to add[i]; an ID already
// present is replaced.
func (v *Vectors) Apply(ctx context.Context, remove []string, add []Entry, vecs [][]float32) error {
	if len(add) != len(vecs) {
		return fmt.Errorf("vector index: %d vectors for %d entries", len(vecs), len(add))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	dim := v.dim
	if len(v.ids) == 0 && len(vecs) > 0 {
		dim = len(vecs[0])
	}
	for i, vec := range vecs {
		if len(vec) != dim || dim == 0 {
			return fmt.Errorf("vector index: %s has %d dimensions, want %d", add[i].ID, len(vec), dim)
		}
	}
	for _, id := range remove {
		v.remove(id)
	}
	if len(add) > 0 {
		v.dim = dim
		rows := len(v.ids)
		for _, e := range add {
			if _, ok := v.rows[e.ID]; !ok {
				rows++
			}
		}
		if len(v.ids) < v.reserve {
			rows = max(rows, v.reserve)
		}
		v.growData(rows * dim)
	}
	for i, e := range add {
		r, ok := v.rows[e.ID]
		if !ok {
			r = int32(len(v.ids))
			v.rows[e.ID] = r
			v.ids = append(v.ids, e.ID)
			v.data = v.data[:len(v.data)+dim]
			v.inv = append(v.inv, 0)
			v.meta = append(v.meta, rowMeta{})
		}
		row := v.data[int(r)*dim : int(r+1)*dim]
		var norm float64
		for j, x := range vecs[i] {
			h := store.ToHalf(x)
			row[j] = h
			f := float64(halfTable[h])
			norm += f * f
		}
		v.inv[r] = 0
		if norm > 0 {
			v.inv[r] = float32(1 / math.Sqrt(norm))
		}
		v.meta[r] = rowMeta{category: v.names.id(e.Category), version: v.names.id(e.ProductVersion), tags: v.tags.id(v.names.ids(e.Tags))}
	}
	if len(v.ids) == 0 {
		v.dim = 0
	}
	return nil
}

// remove deletes id by moving the last row into its place. v.mu is held.
func (v *Vectors) remove(id string) {
	r, ok := v.rows[id]
	if !ok {
		return
	}
	last := int32(len(v.ids) - 1)
	if r != last {
		lastID := v.ids[last]
		v.ids[r] = lastID
		v.rows[lastID] = r
		copy(v.data[int(r)*v.dim:int(r+1)*v.dim], v.data[int(last)*v.dim:])
		v.inv[r], v.meta[r] = v.inv[last], v.meta[last]
	}
	delete(v.rows, id)
	v.ids = v.ids[:last]
	v.data = v.data[:int(last)*v.dim]
	v.inv, v.meta = v.inv[:last], v.meta[:last]
}

// Count returns how many vectors the index holds.
func (v *Vectors) Count() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.ids)
}

// parallelRows is the size from which a search splits its scan across
// the CPUs: below it, starting goroutines costs more than it saves.
const parallelRows = 16384

// Search returns the n chunks nearest to vec (cosine), within filter f,
// best first; equal scores are ordered by ID.
func (v *Vectors) Search(ctx context.Context, vec []float32, n int, f Filter) ([]Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	rows := len(v.ids)
	n = min(n, rows)
	if n <= 0 {
		return nil, nil
	}
	if len(vec) != v.dim {
		return nil, fmt.Errorf("vector index: query has %d dimensions, the index %d", len(vec), v.dim)
	}
	match, ok := v.compile(f.normalized())
	if !ok {
		return nil, nil // a filter value no chunk has
	}
	q := make([]float32, len(vec))
	var norm float64
	for _, x := range vec {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		return nil, nil // no direction: nothing is nearer than anything else
	}
	for i, x := range vec {
		q[i] = float32(float64(x) / math.Sqrt(norm))
	}

	workers := 1
	if rows >= parallelRows {
		workers = min(runtime.GOMAXPROCS(0), rows/(parallelRows/2))
	}
	tops := make([]topN, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := rows*w/workers, rows*(w+1)/workers
		tops[w] = topN{n: n, ids: v.ids}
		if workers == 1 {
			v.scan(ctx, q, lo, hi, match, &tops[w])
			break
		}
		wg.Go(func() { v.scan(ctx, q, lo, hi, match, &tops[w]) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []scored
	for _, t := range tops {
		all = append(all, t.items...)
	}
	slices.SortFunc(all, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(v.ids[a.row], v.ids[b.row]))
	})
	all = all[:min(n, len(all))]
	hits := make([]Hit, len(all))
	for i, s := range all {
		hits[i] = Hit{ID: v.ids[s.row], Score: float64(s.score)}
	}
	return hits, nil
}

// scan scores rows lo..hi-1 that match into top. q is unit length.
func (v *Vectors) scan(ctx context.Context, q []float32, lo, hi int, match func(rowMeta) bool, top *topN) {
	dim := v.dim
	floor := float32(math.Inf(-1)) // the worst score top keeps, once full
	for r := lo; r < hi; r++ {
		if r&0xffff == 0 && ctx.Err() != nil {
			return
		}
		if match != nil && !match(v.meta[r]) {
			continue
		}
		s := dotHalf(q, v.data[r*dim:(r+1)*dim]) * v.inv[r]
		if s < floor {
			continue
		}
		top.offer(scored{score: s, row: int32(r)})
		if len(top.items) == top.n {
			floor = top.items[0].score
		}
	}
	// v.data may live outside the Go heap, freed by a cleanup on v: keep
	// v reachable until the last row is read.
	runtime.KeepAlive(v)
}

// dotHalfGo is the dot product of q and a row of halves in plain Go, in
// four running sums (the loop is bound by table loads, not by adds). It is
// dotHalf where the CPU has no F16C and FMA (dot_amd64.go), and the tail
// of a row whose length is not a multiple of 8.
func dotHalfGo(q []float32, row []uint16) float32 {
	t := halfTable
	var a0, a1, a2, a3 float32
	for len(q) >= 4 && len(row) >= 4 {
		a0 += q[0] * t[row[0]]
		a1 += q[1] * t[row[1]]
		a2 += q[2] * t[row[2]]
		a3 += q[3] * t[row[3]]
		q, row = q[4:], row[4:]
	}
	for i := range min(len(q), len(row)) {
		a0 += q[i] * t[row[i]]
	}
	return a0 + a1 + a2 + a3
}

// compile turns a normalized filter into a test on a row's fields; nil
// matches everything. ok is false when no row can match.
func (v *Vectors) compile(f Filter) (match func(rowMeta) bool, ok bool) {
	if f.Empty() {
		return nil, true
	}
	if f.Category != "" && len(f.AnyCategories) > 0 && !slices.Contains(f.AnyCategories, f.Category) {
		return nil, false
	}
	lookup := func(s string) (uint32, bool) {
		if s == "" {
			return 0, true
		}
		id, ok := v.names.m[s]
		return id, ok
	}
	cat, ok1 := lookup(f.Category)
	ver, ok2 := lookup(f.ProductVersion)
	if !ok1 || !ok2 {
		return nil, false
	}
	var all []uint32
	for _, t := range f.Tags {
		id, ok := lookup(t)
		if !ok {
			return nil, false
		}
		all = append(all, id)
	}
	anyIDs := func(vals []string) ([]uint32, bool) {
		var out []uint32
		for _, s := range vals {
			if id, ok := lookup(s); ok {
				out = append(out, id)
			}
		}
		return out, len(vals) == 0 || len(out) > 0
	}
	anyCat, ok1 := anyIDs(f.AnyCategories)
	anyTag, ok2 := anyIDs(f.AnyTags)
	if !ok1 || !ok2 {
		return nil, false
	}
	// Each distinct tag set is tested once per search, not once per row.
	tagOK := make([]bool, len(v.tags.sets))
	for i, set := range v.tags.sets {
		tagOK[i] = containsAll(set, all) && (len(f.AnyTags) == 0 || containsAny(set, anyTag))
	}
	return func(m rowMeta) bool {
		return (cat == 0 || m.category == cat) && (ver == 0 || m.version == ver) && tagOK[m.tags] &&
			(len(anyCat) == 0 || slices.Contains(anyCat, m.category))
	}, true
}

func containsAll(set, want []uint32) bool {
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}

func containsAny(set, want []uint32) bool {
	for _, w := range want {
		if slices.Contains(set, w) {
			return true
		}
	}
	return false
}

// scored is a row and its cosine.
type scored struct {
	score float32
	row   int32
}

// topN keeps the n best rows seen, as a min-heap: the worst kept is at
// the root. Equal scores go to the smaller ID, so the result never
// depends on row order.
type topN struct {
	n     int
	ids   []string
	items []scored
}

func (t *topN) better(a, b scored) bool {
	return a.score > b.score || (a.score == b.score && t.ids[a.row] < t.ids[b.row])
}

func (t *topN) offer(s scored) {
	if len(t.items) < t.n {
		heap.Push(t, s)
		return
	}
	if t.better(s, t.items[0]) {
		t.items[0] = s
		heap.Fix(t, 0)
	}
}

func (t *topN) Len() int           { return len(t.items) }
func (t *topN) Less(i, j int) bool { return t.better(t.items[j], t.items[i]) }
func (t *topN) Swap(i, j int)      { t.items[i], t.items[j] = t.items[j], t.items[i] }
func (t *topN) Push(x any)         { t.items = append(t.items, x.(scored)) }
func (t *topN) Pop() any {
	x := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return x
}

// interner numbers filter values from 1; 0 is "none". Values are never
// forgotten: a corpus has few categories, versions and tags.
type interner struct {
	m map[string]uint32
}

func newInterner() interner { return interner{m: map[string]uint32{}} }

func (in *interner) id(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := in.m[s]; ok {
		return id
	}
	id := uint32(len(in.m) + 1)
	in.m[s] = id
	return id
}

func (in *interner) ids(ss []string) []uint32 {
	out := make([]uint32, len(ss))
	for i, s := range ss {
		out[i] = in.id(s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tagSets numbers the distinct sets of tags rows have; set 0 is empty.
type tagSets struct {
	sets [][]uint32
	m    map[string]uint32
}

func newTagSets() tagSets { return tagSets{sets: [][]uint32{nil}, m: map[string]uint32{"": 0}} }

func (ts *tagSets) id(set []uint32) uint32 {
	key := fmt.Sprint(set)
	if len(set) == 0 {
		key = ""
	}
	if id, ok := ts.m[key]; ok {
		return id
	}
	id := uint32(len(ts.sets))
	ts.sets = append(ts.sets, set)
	ts.m[key] = id
	return id
}
