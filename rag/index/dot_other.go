//go:build !amd64 || purego

package index

// simdHalf is false: this build has no assembly kernel (see dot_amd64.go).
var simdHalf = false

// dotHalf is the dot product of q and a row of halves.
func dotHalf(q []float32, row []uint16) float32 { return dotHalfGo(q, row) }
