package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkVectorsSearch is a top-10 query over random unit-free vectors,
// with no filter and with a category filter that keeps a third of them:
//
//	go test ./rag/index -run '^$' -bench VectorsSearch -benchtime 200x
func BenchmarkVectorsSearch(b *testing.B) {
	for _, rows := range []int{10_000, 100_000} {
		const dim = 256
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
			b.Run(fmt.Sprintf("%dx%d/%s", rows, dim, f.name), func(b *testing.B) {
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
