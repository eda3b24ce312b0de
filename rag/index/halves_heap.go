//go:build !(linux || darwin)

package index

// allocHalves returns a heap slice with room for n halves.
func allocHalves(n int) halfBlock { return halfBlock{s: make([]uint16, 0, n)} }
