package metrics_test

import (
	"fmt"

	"llmops/evals/metrics"
)

func ExampleNDCGAt() {
	ranked := metrics.Dedupe([]string{"d1", "d2", "d1", "d3"})
	rels := map[string]float64{"d1": 1, "d3": 2, "d5": 3}
	ndcg, ok := metrics.NDCGAt(ranked, rels, 10)
	fmt.Printf("%.4f %v\n", ndcg, ok)

	_, ok = metrics.NDCGAt(ranked, map[string]float64{"d9": 0}, 10)
	fmt.Println("no relevant IDs:", ok)
	// Output:
	// 0.4200 true
	// no relevant IDs: false
}

func ExamplePairedDelta() {
	baseline := []float64{0.5, 0.6, 0.7, 0.4, 0.5, 0.6, 0.7, 0.4}
	candidate := []float64{0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.6}
	d := metrics.PairedDelta(baseline, candidate, 0, 0, 1)
	fmt.Printf("mean %+.2f, %d wins of %d, significant %v\n", d.Mean, d.Wins, d.N, d.Significant())
	// Output:
	// mean +0.20, 8 wins of 8, significant true
}

func ExampleTokenF1() {
	f1, _ := metrics.TokenF1("Refunds take 5 business days [1].", "Refunds are processed within 5 business days.")
	rl, _ := metrics.RougeL("police killed the gunman", "the gunman was killed by police")
	fmt.Printf("F1 %.4f, ROUGE-L %.2f\n", f1, rl)
	// Output:
	// F1 0.6667, ROUGE-L 0.25
}
