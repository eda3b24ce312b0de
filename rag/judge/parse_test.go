package judge

import (
	"maps"
	"math"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// unusable marks an output no score may be read from.
const unusable = -1.0

func TestReadScore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, out string
		want      float64
	}{
		{"plain JSON", `{"score": 0.8, "reason": "on topic"}`, 0.8},
		{"fenced", "```json\n{\"score\": 0.3}\n```", 0.3},
		{"prose around", "Here is my rating: {\"score\": 0.6} Hope this helps {sic}.", 0.6},
		{"truncated in the reason", `{"score": 0.9, "reason": "The answer cov`, 0.9},
		{"truncated in a key", `{"score": 0.4, "rea`, 0.4},
		{"truncated fence", "```json\n{\"score\": 0.45, \"reason\": \"mostly", 0.45},
		{"trailing comma", `{"score": 0.5, "reason": "ok",}`, 0.5},
		{"single quotes", `{'score': 0.7, 'reason': 'it's fine'}`, 0.7},
		{"thinking first", "<think>maybe {\"score\": 0.1}</think>\n{\"score\": 0.9}", 0.9},
		{"nested", `{"result": {"score": 0.4}}`, 0.4},
		{"one-element array", `[{"Score": 0.6}]`, 0.6},
		{"score as a string", `{"score": "0.25"}`, 0.25},
		{"bare number", "0.7", 0.7},
		{"bare number with a full stop", " 0.7. ", 0.7},
		{"bare fraction of one", ".5", 0.5},
		{"percentage", "70%", 0.7},
		{"percentage in JSON", `{"score": "85 %"}`, 0.85},
		{"fraction", "4/5", 0.8},
		{"out of", "7 out of 10", 0.7},
		{"named 1-5 scale", `{"score": 4, "scale": "1-5"}`, 0.75},
		{"named 1-5 scale, lowest", `{"score": 1, "scale": "1 to 5"}`, 0},
		{"named scale as a pair", `{"rating": 3, "scale": [1, 5]}`, 0.5},
		{"named top", `{"score": 8, "max": 10}`, 0.8},
		{"named top and bottom", `{"score": 3, "min": 1, "out_of": 5}`, 0.5},
		{"inferred 1-5", "4", 0.75},
		{"inferred 1-10", `{"score": 7}`, 6.0 / 9},
		{"inferred percent", `{"score": 85}`, 0.85},
		{"clamped below", `{"score": -0.2}`, 0},
		{"clamped above", `{"score": 250}`, 1},
		{"clamped to the named top", `{"score": 7, "max": 5}`, 1},
		{"yes", "yes", 1},
		{"no", "No.", 0},
		{"partially", "Partially", 0.5},
		{"supported", "**Supported**", 1},
		{"not supported", "not supported", 0},
		{"word in JSON", `{"score": "partially"}`, 0.5},
		{"word opening prose", "Yes, it answers the question directly.", 1},
		{"labelled", "Score: 0.85\nThe answer covers both steps.", 0.85},
		{"labelled fraction", "I would say the relevance is 4/5 overall.", 0.8},
		{"garbage", "As an AI, I cannot rate this.", unusable},
		{"empty", "", unusable},
		{"null score", `{"score": null}`, unusable},
		{"NaN", "NaN", unusable},
		{"NaN in JSON", `{"score": "NaN"}`, unusable},
		{"unknown word", `{"score": "high"}`, unusable},
		{"n/a", "N/A", unusable},
		{"prose brackets only", "See [1] and [2].", unusable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := readScore(tc.out)
			switch {
			case tc.want == unusable && ok:
				t.Errorf("got score %v, want none", got.Score)
			case tc.want != unusable && !ok:
				t.Errorf("got no score, want %v", tc.want)
			case ok && !near(got.Score, tc.want):
				t.Errorf("got score %v, want %v", got.Score, tc.want)
			case ok && (math.IsNaN(got.Score) || got.Score < 0 || got.Score > 1):
				t.Errorf("got score %v, outside [0, 1]", got.Score)
			}
		})
	}
}

func TestReadScoreKeepsReason(t *testing.T) {
	t.Parallel()
	got, ok := readScore(`{"score": 0.8, "Reason": "on topic"}`)
	if !ok || got.Reason != "on topic" {
		t.Errorf("got %+v, %v; want the reason %q", got, ok, "on topic")
	}
}

func TestReadRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, out string
		want      float64 // 1 refused, 0 answered
	}{
		{"JSON true", `{"refusal": true, "reason": "says the docs do not cover it"}`, 1},
		{"JSON false", "```json\n{\"refusal\": false}\n```", 0},
		{"JSON word, single quotes", `{'refusal': 'yes'}`, 1},
		{"verdict word", `{"verdict": "answered"}`, 0},
		{"truncated", `{"refusal": true, "reason": "The answer says it does not`, 1},
		{"yes", "Yes", 1},
		{"no", "No, it answers.", 0},
		{"refused", "Refused.", 1},
		{"declines", "Declines to answer", 1},
		{"not a refusal", "Not a refusal", 0},
		{"garbage", "The answer is about billing.", unusable},
		{"no verdict key", `{"reason": "unclear"}`, unusable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := readRefusal(tc.out)
			switch {
			case tc.want == unusable && ok:
				t.Errorf("got %v, want no verdict", got.Score)
			case tc.want != unusable && (!ok || got.Score != tc.want):
				t.Errorf("got %v (ok %v), want %v", got.Score, ok, tc.want)
			}
		})
	}
}

func TestReadVerdicts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, out string
		want      []float64 // nil: unusable
	}{
		{"wrapped", `{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "partial"}, {"i": 3, "verdict": "not supported"}]}`,
			[]float64{1, 0.5, 0}},
		{"bare array, booleans", "```json\n[{\"i\":1,\"supported\":true},{\"i\":2,\"supported\":\"partial\"},{\"i\":3,\"supported\":false}]\n```",
			[]float64{1, 0.5, 0}},
		{"by position", `["yes", "no", "partially"]`, []float64{1, 0, 0.5}},
		{"sentence text, not number", `{"Results": [{"sentence": "A.", "label": "yes"}, {"sentence": "B.", "label": "no"}, {"sentence": "C.", "label": "yes"}]}`,
			[]float64{1, 0, 1}},
		{"out of order", `[{"i":3,"verdict":"no"},{"i":1,"verdict":"yes"},{"i":2,"verdict":"yes"}]`, []float64{1, 1, 0}},
		{"counted from 0", `[{"i":0,"verdict":"yes"},{"i":1,"verdict":"no"},{"i":2,"verdict":"yes"}]`, []float64{1, 0, 1}},
		{"numbered keys", `{"1": "supported", "2": "unsupported", "3": 0.5}`, []float64{1, 0, 0.5}},
		{"truncated in the last verdict", `{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "partial"}, {"i": 3, "verdict": "not supp`,
			[]float64{1, 0.5, 0}},
		{"trailing comma", `{"verdicts": [{"i": 1, "verdict": "yes"}, {"i": 2, "verdict": "yes"}, {"i": 3, "verdict": "yes"},]}`,
			[]float64{1, 1, 1}},
		{"one missing", `{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "partial"}]}`, nil},
		{"cut off before the last", `{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "partial"}, {"i": 3, "ver`, nil},
		{"garbage", "All three sentences look fine to me.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := readVerdicts(tc.out, 3)
			switch {
			case tc.want == nil && ok:
				t.Errorf("got verdicts %v, want none", got.Verdicts)
			case tc.want != nil && !slices.Equal(got.Verdicts, tc.want):
				t.Errorf("got verdicts %v (ok %v), want %v", got.Verdicts, ok, tc.want)
			case tc.want != nil:
				mean := (tc.want[0] + tc.want[1] + tc.want[2]) / 3
				if !near(got.Score, mean) {
					t.Errorf("got score %v, want the mean %v", got.Score, mean)
				}
			}
		})
	}
}

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
		{"results key, numbered keys", `{"results": {"1": "yes", "2": "no"}}`, 2, map[int]float64{1: 1, 2: 0}},
		{"scores key, bare values", `{"scores": [true, "partial", 0]}`, 3, map[int]float64{1: 1, 2: 0.5, 3: 0}},
		{"Verdicts key, no numbers", `{"Verdicts": [{"supported": true}, {"supported": "Partially"}]}`, 2,
			map[int]float64{1: 1, 2: 0.5}},
		{"numbered keys", `{"1": "supported", "2": "unsupported"}`, 2, map[int]float64{1: 1, 2: 0}},
		{"one verdict object", `{"i": 1, "grounded": "yes"}`, 1, map[int]float64{1: 1}},
		{"first readable key", `[{"i":1,"verdict":"see P1","supported":false}]`, 1, map[int]float64{1: 0}},
		{"truncated", `[{"i":1,"supported":true},{"i":2,"supported":"partial"},{"i":3,"supp`, 3,
			map[int]float64{1: 1, 2: 0.5}},
		{"truncated wrapper", "```json\n{\"results\": [{\"i\":1,\"supported\":false}, {\"i\":2,\"supported\":true},", 2,
			map[int]float64{1: 0, 2: 1}},
		{"trailing comma", `[{"i":1,"supported":true},{"i":2,"supported":true},]`, 2, map[int]float64{1: 1, 2: 1}},
		{"objects one per line", "{\"i\":1,\"supported\":true}\n{\"i\":2,\"supported\":false}", 2, map[int]float64{1: 1, 2: 0}},
		{"objects one per line, counted from 0", "{\"i\":0,\"supported\":true}\n{\"i\":1,\"supported\":false}", 2,
			map[int]float64{1: 1, 2: 0}},
		{"python literal", `[{'i': 1, 'supported': True}, {'i': 2, 'supported': False}]`, 2, map[int]float64{1: 1, 2: 0}},
		{"lines", "1: yes\n2 - supported\n3. no\n4) partially supported\nSentence 5: Not supported.\n**6**: Yes, P2 says so", 6,
			map[int]float64{1: 1, 2: 1, 3: 0, 4: 0.5, 5: 0, 6: 1}},
		{"lines, one letter", "1: y\n2: n\n3: N/A", 3, map[int]float64{1: 1, 2: 0}},
		{"thinking first", "<think>Sentence 1 looks wrong... [maybe]</think>\n[{\"i\":1,\"supported\":false}]", 1, map[int]float64{1: 0}},
		// Numbers follow the one rule (normalise): 7 is a 1-10 rating.
		{"scores as numbers", `[{"i":1,"score":0.8},{"i":2,"score":7},{"i":3,"score":-1}]`, 3, map[int]float64{1: 0.8, 2: 6.0 / 9, 3: 0}},
		{"score on a named scale", `[{"i":1,"score":4,"scale":"1-5"}]`, 1, map[int]float64{1: 0.75}},
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

func TestWordScore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want float64 // unusable: no verdict word
	}{
		{"Yes.", 1}, {"y", 1}, {"TRUE", 1}, {"Supported", 1}, {"supports it", 1}, {"fully supported", 1},
		{"correct", 1}, {"grounded", 1}, {"entailed", 1},
		{"partially supported", 0.5}, {"Partial", 0.5}, {"partly", 0.5}, {"somewhat", 0.5}, {"mixed", 0.5},
		{"some of it", 0.5}, {"mostly", 0.75},
		{"No", 0}, {"n", 0}, {"NOT SUPPORTED", 0}, {"unsupported", 0}, {"false", 0}, {"none", 0},
		{"contradicts P1", 0}, {"contradicted", 0}, {"contradictory", 0}, {"incorrect", 0}, {"wrong", 0},
		{"N/A", unusable}, {"yes/no", unusable}, {"nope", unusable}, {"notable", unusable}, {"supportive", 1}, {"contradicting the passage", 0},
		{"high", unusable}, {"", unusable},
	} {
		got, ok := wordScore(tc.in)
		switch {
		case tc.want == unusable && ok:
			t.Errorf("wordScore(%q) = %v, want none", tc.in, got)
		case tc.want != unusable && (!ok || got != tc.want):
			t.Errorf("wordScore(%q) = %v (ok %v), want %v", tc.in, got, ok, tc.want)
		}
	}
}
