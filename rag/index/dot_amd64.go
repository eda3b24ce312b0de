//go:build amd64 && !purego

package index

import "golang.org/x/sys/cpu"

// simdHalf: the CPU converts 8 halves to floats in one instruction (F16C)
// and multiplies-adds 8 floats in another (FMA, AVX2), so dotHalf runs
// the assembly kernel of dot_amd64.s: about 8 elements a cycle where the
// Go loop does one every two or three (it loads each half's float from
// halfTable). docs/BENCHMARKS.md has the measurement. Tests switch it off
// to check the Go path too.
var simdHalf = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// dotHalf8 is the dot product of q[:n] and row[:n]; n is a positive
// multiple of 8. Implemented in dot_amd64.s.
//
//go:noescape
func dotHalf8(q *float32, row *uint16, n int) float32

// dotHalf is the dot product of q and a row of halves.
func dotHalf(q []float32, row []uint16) float32 {
	n := min(len(q), len(row))
	if !simdHalf || n < 8 {
		return dotHalfGo(q, row)
	}
	m := n &^ 7
	s := dotHalf8(&q[0], &row[0], m)
	if m < n {
		s += dotHalfGo(q[m:n], row[m:n])
	}
	return s
}
