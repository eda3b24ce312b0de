package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkVectorsSearch is a top-10 query over random unit-free vectors,
// with no filter and with a category filter that keeps a third of them,
// at 256 and 512 dimensions (the local model's two sizes), with the
// assembly kernel (simd, where the CPU has one) and the Go loop (go):
//
//	go test ./rag/index -run '^$' -bench VectorsSearch -benchtime 200x
func BenchmarkVectorsSearch(b *testing.B) {
	for _, rd := range [][2]int{{10_000, 256}, {100_000, 256}, {10_000, 512}, {100_000, 512}} {
		rows, dim := rd[0], rd[1]
		rng := rand.New(rand.NewPCG(1, 2))
		v, _ := NewVectors("m")
		es := make([]Entry, rows)
		vecs := make([][]float32, rows)
		cats := []string{"billing", "admin", "integrations"}
		for i := range es {
			es[i] = Entry{ID: fmt.Sprintf("d%07d-00000", i), Category: cats[i%3]}
			vecs[i] = make([]float32, dim)
			for j := range vecs[i] {
				vecs[i][j] = float32(rng.NormFloat64())
			}
		}
		if err := v.Apply(context.Background(), nil, es, vecs); err != nil {
			b.Fatal(err)
		}
		for _, f := range []struct {
			name string
			f    Filter
		}{{"all", Filter{}}, {"category", Filter{Category: "admin"}}} {
			for _, kernel := range []string{"simd", "go"} {
				if kernel == "simd" && !simdHalf {
					continue // no assembly kernel on this CPU or build
				}
				b.Run(fmt.Sprintf("%dx%d/%s/%s", rows, dim, f.name, kernel), func(b *testing.B) {
					was := simdHalf
					simdHalf = kernel == "simd"
					defer func() { simdHalf = was }()
					q := vecs[rows/2]
					for b.Loop() {
						if _, err := v.Search(context.Background(), q, 10, f.f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkVectors1M loads 1M × 256 vectors as the knowledge base does
// (Apply in batches of 2,000) and times unfiltered top-10 queries,
// reporting the process's resident set after loading. It allocates about
// 700 MiB, so it runs only with LLMOPS_BENCH_1M=1:
//
//	LLMOPS_BENCH_1M=1 go test ./rag/index -run '^$' -bench Vectors1M -benchtime 50x -timeout 30m
func BenchmarkVectors1M(b *testing.B) {
	if os.Getenv("LLMOPS_BENCH_1M") == "" {
		b.Skip("set LLMOPS_BENCH_1M=1")
	}
	const rows, dim, batch = 1_000_000, 256, 2000
	rng := rand.New(rand.NewPCG(1, 2))
	v, _ := NewVectors("m")
	es := make([]Entry, batch)
	vecs := make([][]float32, batch)
	backing := make([]float32, batch*dim)
	for lo := 0; lo < rows; lo += batch {
		for i := range es {
			es[i] = Entry{ID: fmt.Sprintf("01JDOC%020d-%05d", (lo+i)/10, (lo+i)%10), Category: fmt.Sprintf("cat%d", (lo+i)%7)}
			vecs[i] = backing[i*dim : (i+1)*dim]
			for j := range vecs[i] {
				vecs[i][j] = float32(rng.NormFloat64())
			}
		}
		if err := v.Apply(context.Background(), nil, es, vecs); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	rss := rssMiB()
	q := make([]float32, dim)
	for j := range q {
		q[j] = float32(rng.NormFloat64())
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Search(context.Background(), q, 10, Filter{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(rss, "RSS-MiB")
}

// rssMiB is the process's VmRSS (Linux; 0 elsewhere).
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
