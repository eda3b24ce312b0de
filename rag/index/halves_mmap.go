//go:build linux || darwin

package index

import (
	"syscall"
	"unsafe"
)

// allocHalves maps n zeroed halves of anonymous memory, outside the Go
// heap; pages count in the resident set only once written. It falls back
// to the heap if the map fails.
func allocHalves(n int) halfBlock {
	if n == 0 {
		return halfBlock{}
	}
	m, err := syscall.Mmap(-1, 0, 2*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return halfBlock{s: make([]uint16, 0, n)}
	}
	return halfBlock{
		s:    unsafe.Slice((*uint16)(unsafe.Pointer(&m[0])), n)[:0],
		free: func() { syscall.Munmap(m) },
	}
}
