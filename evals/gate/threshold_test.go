package gate

import (
	"reflect"
	"testing"
)

func TestParseThresholds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    string
		specs   []string
		want    []Threshold
		wantErr string
	}{
		{kind: KindMin, specs: []string{"faithfulness=0.9", "recall@5 = .8"}, want: []Threshold{
			{Metric: "faithfulness", Kind: KindMin, Value: 0.9}, {Metric: "recall@5", Kind: KindMin, Value: 0.8}}},
		{kind: KindMaxDrop, specs: []string{"NDCG@10=0.02,latency_p95_ms=150", ""}, want: []Threshold{
			{Metric: "ndcg@10", Kind: KindMaxDrop, Value: 0.02}, {Metric: "latency_p95_ms", Kind: KindMaxDrop, Value: 150}}},
		{kind: KindMin, specs: []string{"a.b+c-d_e=1e-3"}, want: []Threshold{{Metric: "a.b+c-d_e", Kind: KindMin, Value: 0.001}}},
		{kind: KindMin, specs: nil, want: nil},
		{kind: KindMin, specs: []string{"faithfulness"}, wantErr: "--min faithfulness: want metric=value"},
		{kind: KindMin, specs: []string{"=0.9"}, wantErr: "--min =0.9: want metric=value"},
		{kind: KindMin, specs: []string{"faithfulness="}, wantErr: "--min faithfulness=: want metric=value"},
		{kind: KindMin, specs: []string{"faithfulness=high"}, wantErr: `--min faithfulness=high: "high" is not a number`},
		{kind: KindMin, specs: []string{"faithfulness=NaN"}, wantErr: `--min faithfulness=NaN: "NaN" is not a number`},
		{kind: KindMin, specs: []string{"faith fulness=0.9"}, wantErr: `--min faith fulness=0.9: metric "faith fulness" may hold only a-z, 0-9 and @ _ . + -`},
		{kind: KindMin, specs: []string{"recall@5=0.8", "Recall@5=0.7"}, wantErr: "--min Recall@5=0.7: recall@5 is given twice"},
		{kind: KindMaxDrop, specs: []string{"mrr=-0.1"}, wantErr: "--max-drop mrr=-0.1: the allowed drop must not be negative"},
		{kind: "max", specs: []string{"mrr=0.1"}, wantErr: `unknown threshold kind "max" (want min or max-drop)`},
	}
	for _, tt := range tests {
		got, err := ParseThresholds(tt.kind, tt.specs)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseThresholds(%s, %q): got error %v, want %q", tt.kind, tt.specs, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseThresholds(%s, %q) = %+v, %v; want %+v", tt.kind, tt.specs, got, err, tt.want)
		}
	}
}

func TestLowerIsBetter(t *testing.T) {
	t.Parallel()
	for m, want := range map[string]bool{
		"false_refusal": true, "cost_usd": true, "latency_ms": true, "latency_p95_ms": true,
		"faithfulness": false, "recall@5": false, "ms": false, "cost": false, "refusal": false,
	} {
		if got := LowerIsBetter(m); got != want {
			t.Errorf("LowerIsBetter(%s) = %t, want %t", m, got, want)
		}
	}
}
