package index

import "runtime"

// The rows' halves are most of the index (512 MiB at 1M × 256), hold no
// pointers and change only through Apply. On Linux and macOS they live
// outside the Go heap, in an anonymous memory map. The garbage collector
// paces itself on the heap it manages: GOGC lets that heap grow to twice
// its live size between collections, so with the halves on it a 1M-chunk
// index let the process grow by another ~700 MB of garbage before each
// collection (docs/BENCHMARKS.md, "Serving 1M chunks within 1.5 GiB").
// Off the heap, the collector's headroom is proportional to what it
// collects. Elsewhere the halves are an ordinary slice.

// halfBlock is memory for cap(s) halves and how to give it back (nil
// free: a heap slice, collected as usual).
type halfBlock struct {
	s    []uint16
	free func()
}

// growData makes room for n halves in v.data, keeping its contents. A new
// block is at least a quarter larger than the old one, so loading row by
// row copies O(n) halves in all; Reserve sizes it once. The old block is
// freed at once (v.mu is held: no search is reading it), and a cleanup
// frees the current one when the index is dropped (a model swap replaces
// the whole index; a search holds the index, so never under a search).
func (v *Vectors) growData(n int) {
	if n <= cap(v.data) {
		return
	}
	n = max(n, cap(v.data)+cap(v.data)/4)
	b := allocHalves(n)
	data := append(b.s[:0], v.data...)
	v.cleanup.Stop()
	if v.block.free != nil {
		v.block.free()
	}
	v.data, v.block, v.cleanup = data, b, runtime.Cleanup{}
	if b.free != nil {
		v.cleanup = runtime.AddCleanup(v, func(free func()) { free() }, b.free)
	}
}
