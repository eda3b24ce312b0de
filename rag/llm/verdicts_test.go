package llm

import (
	"maps"
	"testing"
)

func TestParseVerdicts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		text string
		n    int
		want map[int]float64
	}{
		{"bare array", `[{"i":1,"supported":true},{"i":2,"supported":false},{"i":3,"supported":"partial"}]`, 3,
			map[int]float64{1: 1, 2: 0, 3: 0.5}},
		{"fenced", "Here you go:\n```json\n[{\"i\": 1, \"supported\": true},\n {\"i\": 2, \"supported\": \"partial\"}]\n```\nLet me know!", 2,
			map[int]float64{1: 1, 2: 0.5}},
		{"prose around, brackets in prose", `Sentence [1] is fine. Verdicts: [{"i":1,"supported":true},{"i":2,"supported":false}] Hope that helps [sic].`, 2,
			map[int]float64{1: 1, 2: 0}},
		{"out of order", `[{"i":2,"supported":false},{"i":1,"supported":true}]`, 2, map[int]float64{1: 1, 2: 0}},
		{"results key", `{"results": [{"index": "1", "verdict": "yes"}, {"index": "2", "verdict": "no"}]}`, 2,
			map[int]float64{1: 1, 2: 0}},
		{"scores key, bare values", `{"scores": [true, "partial", 0]}`, 3, map[int]float64{1: 1, 2: 0.5, 3: 0}},
		{"Verdicts key, no numbers", `{"Verdicts": [{"supported": true}, {"supported": "Partially"}]}`, 2,
			map[int]float64{1: 1, 2: 0.5}},
		{"numbered keys", `{"1": "supported", "2": "unsupported"}`, 2, map[int]float64{1: 1, 2: 0}},
		{"truncated", `[{"i":1,"supported":true},{"i":2,"supported":"partial"},{"i":3,"supp`, 3,
			map[int]float64{1: 1, 2: 0.5}},
		{"truncated wrapper", "```json\n{\"results\": [{\"i\":1,\"supported\":false}, {\"i\":2,\"supported\":true},", 2,
			map[int]float64{1: 0, 2: 1}},
		{"trailing comma", `[{"i":1,"supported":true},{"i":2,"supported":true},]`, 2, map[int]float64{1: 1, 2: 1}},
		{"objects one per line", "{\"i\":1,\"supported\":true}\n{\"i\":2,\"supported\":false}", 2, map[int]float64{1: 1, 2: 0}},
		{"python literal", `[{'i': 1, 'supported': True}, {'i': 2, 'supported': False}]`, 2, map[int]float64{1: 1, 2: 0}},
		{"lines", "1: yes\n2 - supported\n3. no\n4) partially supported\nSentence 5: Not supported.\n**6**: Yes, P2 says so", 6,
			map[int]float64{1: 1, 2: 1, 3: 0, 4: 0.5, 5: 0, 6: 1}},
		{"thinking first", "<think>Sentence 1 looks wrong... [maybe]</think>\n[{\"i\":1,\"supported\":false}]", 1, map[int]float64{1: 0}},
		{"scores as numbers", `[{"i":1,"score":0.8},{"i":2,"score":7},{"i":3,"score":-1}]`, 3, map[int]float64{1: 0.8, 2: 1, 3: 0}},
		{"out of range ignored", `[{"i":9,"supported":true},{"i":-1,"supported":true},{"i":1,"supported":false}]`, 1,
			map[int]float64{1: 0}},
		{"counted from 0", `[{"i":0,"supported":true},{"i":1,"supported":false}]`, 2, map[int]float64{1: 1, 2: 0}},
		{"garbage", "I cannot help with that.", 2, map[int]float64{}},
		{"empty", "", 1, map[int]float64{}},
		{"prose lines are not verdicts", "1. The refund policy says 30 days.\n2. The passage is about billing.", 2, map[int]float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := parseVerdicts(tc.text, tc.n); !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRepairJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`[{"a":1},{"b":"x]}`: `[{"a":1}]`,
		`{"r":[{"a":"}"},{`:  `{"r":[{"a":"}"}]}`,
		`[1,2`:               ``,
		`[{"a":1}] tail`:     `[{"a":1}]`,
	} {
		if got := repairJSON(in); got != want {
			t.Errorf("repairJSON(%q) = %q, want %q", in, got, want)
		}
	}
}
