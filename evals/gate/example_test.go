package gate_test

import (
	"fmt"
	"os"

	"llmops/evals/gate"
)

func Example() {
	mins, _ := gate.ParseThresholds(gate.KindMin, []string{"faithfulness=0.9,latency_ms=1500"})
	drops, _ := gate.ParseThresholds(gate.KindMaxDrop, []string{"ndcg@10=0.02"})
	run := map[string]float64{"faithfulness": 0.912, "ndcg@10": 0.778, "latency_ms": 1200}
	baseline := map[string]float64{"ndcg@10": 0.812}
	rs := gate.Check(run, nil, baseline, append(mins, drops...))
	for _, r := range rs {
		fmt.Println(r.Message)
	}
	fmt.Println("passed:", gate.Passed(rs))
	_ = gate.WriteJUnit(os.Stdout, "nightly", rs[2:], []gate.CaseReport{{ID: "q1", Question: "How do I cancel?", Seconds: 0.4}})
	// Output:
	// faithfulness 0.912 ≥ 0.900 ok
	// latency_ms 1200 ≤ 1500 ok
	// ndcg@10 dropped 0.034 (0.812 → 0.778), allowed 0.020: FAIL
	// passed: false
	// <?xml version="1.0" encoding="UTF-8"?>
	// <testsuites name="nightly" tests="2" failures="1" errors="0" time="0.400">
	//   <testsuite name="nightly" tests="2" failures="1" errors="0" skipped="0" time="0.400">
	//     <testcase classname="gate" name="max-drop ndcg@10" time="0.000">
	//       <failure message="ndcg@10 dropped 0.034 (0.812 → 0.778), allowed 0.020: FAIL" type="threshold">ndcg@10 dropped 0.034 (0.812 → 0.778), allowed 0.020: FAIL</failure>
	//     </testcase>
	//     <testcase classname="cases" name="q1: How do I cancel?" time="0.400"></testcase>
	//   </testsuite>
	// </testsuites>
}
