package gate

import (
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	run := map[string]float64{
		"faithfulness": 0.912, "recall@5": 0.8, "ndcg@10": 0.778, "latency_ms": 812,
		"false_refusal": 0.05, "cost_usd": 0.0123, "answer_correctness": 0, "mean": (0.7 + 0.9) / 2,
		"close": 0.8996,
	}
	counts := map[string]int{"faithfulness": 90, "recall@5": 77, "ndcg@10": 77, "answer_correctness": 0, "false_refusal": 13}
	base := map[string]float64{"ndcg@10": 0.812, "recall@5": 0.79, "latency_ms": 700, "false_refusal": 0.05, "faithfulness": 0.93}
	tests := []struct {
		th       Threshold
		baseline map[string]float64
		pass     bool
		msg      string
	}{
		{th: Threshold{"faithfulness", KindMin, 0.9}, pass: true, msg: "faithfulness 0.912 ≥ 0.900 ok"},
		{th: Threshold{"faithfulness", KindMin, 0.95}, msg: "faithfulness 0.912 < 0.950: FAIL"},
		{th: Threshold{"recall@5", KindMin, 0.8}, pass: true, msg: "recall@5 0.800 ≥ 0.800 ok"},
		{th: Threshold{"mean", KindMin, 0.8}, pass: true, msg: "mean 0.800 ≥ 0.800 ok"},
		{th: Threshold{"close", KindMin, 0.9}, msg: "close 0.8996 < 0.9000: FAIL"},
		{th: Threshold{"latency_ms", KindMin, 1000}, pass: true, msg: "latency_ms 812 ≤ 1000 ok"},
		{th: Threshold{"latency_ms", KindMin, 812}, pass: true, msg: "latency_ms 812 ≤ 812 ok"},
		{th: Threshold{"latency_ms", KindMin, 800}, msg: "latency_ms 812 > 800: FAIL"},
		{th: Threshold{"false_refusal", KindMin, 0.1}, pass: true, msg: "false_refusal 0.050 ≤ 0.100 ok"},
		{th: Threshold{"cost_usd", KindMin, 0.01}, msg: "cost_usd 0.0123 > 0.0100: FAIL"},
		{th: Threshold{"ndcg@10", KindMaxDrop, 0.02}, baseline: base, msg: "ndcg@10 dropped 0.034 (0.812 → 0.778), allowed 0.020: FAIL"},
		{th: Threshold{"ndcg@10", KindMaxDrop, 0.034}, baseline: base, pass: true, msg: "ndcg@10 dropped 0.034 (0.812 → 0.778), allowed 0.034 ok"},
		{th: Threshold{"recall@5", KindMaxDrop, 0}, baseline: base, pass: true, msg: "recall@5 did not drop (0.790 → 0.800), allowed 0.000 ok"},
		{th: Threshold{"faithfulness", KindMaxDrop, 0.018}, baseline: base, pass: true, msg: "faithfulness dropped 0.018 (0.930 → 0.912), allowed 0.018 ok"},
		{th: Threshold{"latency_ms", KindMaxDrop, 100}, baseline: base, msg: "latency_ms rose 112 (700 → 812), allowed 100: FAIL"},
		{th: Threshold{"false_refusal", KindMaxDrop, 0}, baseline: base, pass: true, msg: "false_refusal did not rise (0.050 → 0.050), allowed 0.000 ok"},
		{th: Threshold{"ndcg@5", KindMin, 0.5}, msg: "metric ndcg@5 not in this run (known: close, cost_usd, faithfulness, false_refusal, latency_ms, mean, ndcg@10, recall@5): FAIL"},
		{th: Threshold{"answer_correctness", KindMin, 0}, msg: "metric answer_correctness was computed on no cases in this run: FAIL"},
		{th: Threshold{"cost_usd", KindMaxDrop, 1}, baseline: base, msg: "metric cost_usd not in the baseline run (known: faithfulness, false_refusal, latency_ms, ndcg@10, recall@5): FAIL"},
		{th: Threshold{"cost_usd", KindMaxDrop, 1}, msg: "no baseline run to compare cost_usd with: FAIL"},
		{th: Threshold{"cost_usd", "max", 1}, msg: `unknown threshold kind "max" for cost_usd: FAIL`},
	}
	for _, tt := range tests {
		t.Run(tt.th.String(), func(t *testing.T) {
			rs := Check(run, counts, tt.baseline, []Threshold{tt.th})
			if len(rs) != 1 {
				t.Fatalf("got %d results, want 1", len(rs))
			}
			r := rs[0]
			if r.Pass != tt.pass || r.Message != tt.msg {
				t.Errorf("got pass=%t %q, want pass=%t %q", r.Pass, r.Message, tt.pass, tt.msg)
			}
			if r.Threshold != tt.th {
				t.Errorf("got threshold %+v, want %+v", r.Threshold, tt.th)
			}
			if r.HasBaseline != (tt.th.Kind == KindMaxDrop && r.Message[:6] != "metric" && r.Message[:3] != "no ") {
				t.Errorf("HasBaseline = %t", r.HasBaseline)
			}
		})
	}
}

func TestCheckWithoutCounts(t *testing.T) {
	t.Parallel()
	rs := Check(map[string]float64{"mrr": 0.5}, nil, nil, []Threshold{{"mrr", KindMin, 0.5}})
	if !Passed(rs) || rs[0].Got != 0.5 {
		t.Errorf("got %+v, want a pass", rs)
	}
}

func TestPassed(t *testing.T) {
	t.Parallel()
	if !Passed(nil) {
		t.Error("Passed(nil) = false, want true")
	}
	if Passed([]Result{{Pass: true}, {Pass: false}}) {
		t.Error("Passed with a failure = true, want false")
	}
	if !Passed([]Result{{Pass: true}, {Pass: true}}) {
		t.Error("Passed with all passing = false, want true")
	}
}
