package judge

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"llmops/rag/llm"
)

// How a judge's output is read
//
// The templates ask for a small JSON object, but models wrap it in
// fences and prose, cut it off, quote it Python's way, or answer in a
// number or a word. The JSON is found by llm.ExtractJSON, which repairs
// what it can; failing that, the text itself is read: the whole of it as
// a number, a labelled number ("Score: 0.8"), or a verdict word opening
// it ("Yes, ...", "Partially supported").
//
// Numbers become scores in [0, 1] by one rule (normalise):
//   - "70%" is 0.7 and "4/5" or "4 out of 5" is 0.8;
//   - on the scale the object names ("scale": "1-5" or [1, 5]; or a top,
//     "max": 10, "out_of": 10 or "scale": 10, from "min" or else 0), the
//     number's place on it;
//   - otherwise a number from 0 to 1 is taken as it is, and a larger one
//     as a rating on the commonest scale it fits: 1–5 up to 5, 1–10 up to
//     10, percent up to 100. A 1–N rating's lowest point means "not at
//     all", so 1 of 1–5 is 0 and 4 is 0.75. (A bare 1 is taken as 1 of
//     0–1: name the scale to mean otherwise.)
//
// Every score is clamped to [0, 1]; NaN and infinities are unusable.

// Keys that name, case aside, what an object holds, most specific first.
var (
	scoreKeys = []string{"score", "rating", "grade", "relevancy", "relevance", "relevant", "correctness",
		"correct", "faithfulness", "supported", "verdict", "label", "result", "answer", "value"}
	refusalKeys = []string{"refusal", "refused", "is_refusal", "declined", "declines", "refuses",
		"verdict", "label", "result", "answer", "value", "score"}
	verdictKeys = []string{"verdict", "supported", "support", "label", "score", "result", "judgement", "judgment", "answer"}
	indexKeys   = []string{"i", "index", "idx", "n", "number", "sentence", "id"}
	listKeys    = []string{"verdicts", "results", "sentences", "scores", "items", "judgements", "judgments", "data"}
	reasonKeys  = []string{"reason", "reasoning", "explanation", "rationale", "justification"}
)

// maxReason bounds the reason kept with a cached judgement, in bytes.
const maxReason = 500

// readScore reads a score (and the judge's reason, if any) from out.
func readScore(out string) (judgement, bool) {
	var got judgement
	if _, ok := llm.ExtractJSON(out, func(v any) bool {
		var ok bool
		got, ok = scoreIn(v)
		return ok
	}); ok {
		return got, true
	}
	t := plain(out)
	if s, ok := numberScore(t, scale{}); ok {
		return judgement{Score: s}, true
	}
	if m := labelled.FindStringSubmatch(t); m != nil {
		if s, ok := numberScore(m[1], scale{}); ok {
			return judgement{Score: s}, true
		}
	}
	s, ok := wordScore(t)
	return judgement{Score: s}, ok
}

// readRefusal reads whether the judge found the answer a refusal.
func readRefusal(out string) (judgement, bool) {
	var got judgement
	if _, ok := llm.ExtractJSON(out, func(v any) bool {
		obj, ok := v.(map[string]any)
		if !ok {
			return false
		}
		lower := lowerKeys(obj)
		for _, k := range refusalKeys {
			if refused, ok := refusalOf(lower[k]); ok {
				got = judgement{Score: b2f(refused), Reason: reasonIn(lower)}
				return true
			}
		}
		return false
	}); ok {
		return got, true
	}
	refused, ok := refusalOf(plain(out))
	return judgement{Score: b2f(refused)}, ok
}

// readVerdicts reads the scores of sentences 1..n, all of them or none.
func readVerdicts(out string, n int) (judgement, bool) {
	var got []float64
	if _, ok := llm.ExtractJSON(out, func(v any) bool {
		got = verdictsIn(v, n)
		return got != nil
	}); !ok {
		return judgement{}, false
	}
	sum := 0.0
	for _, s := range got {
		sum += s
	}
	return judgement{Score: sum / float64(n), Verdicts: got}, true
}

// scoreIn reads a score object: {"score": 0.8, "reason": "..."} and its
// variants, or a one-element array of one.
func scoreIn(v any) (judgement, bool) {
	switch v := v.(type) {
	case []any:
		if len(v) == 1 {
			return scoreIn(v[0])
		}
	case map[string]any:
		lower := lowerKeys(v)
		sc := scaleIn(lower)
		for _, k := range scoreKeys {
			if s, ok := scoreOf(lower[k], sc); ok {
				return judgement{Score: s, Reason: reasonIn(lower)}, true
			}
		}
	}
	return judgement{}, false
}

// verdictsIn reads the verdicts on sentences 1..n from an array of
// verdict objects or bare verdicts (numbered by position unless they say
// otherwise; numbering from 0 is noticed), an object wrapping such an
// array, or an object keyed by sentence number. It returns nil unless
// every sentence has a verdict.
func verdictsIn(v any, n int) []float64 {
	type verdict struct {
		i int
		s float64
	}
	var vs []verdict
	switch x := v.(type) {
	case map[string]any:
		lower := lowerKeys(x)
		for _, k := range listKeys {
			if list, ok := lower[k].([]any); ok {
				return verdictsIn(list, n)
			}
		}
		for k, e := range x {
			i, err := strconv.Atoi(strings.TrimSpace(k))
			if s, ok := scoreOf(e, scale{}); ok && err == nil {
				vs = append(vs, verdict{i, s})
			}
		}
	case []any:
		for pos, e := range x {
			i, val := pos+1, e
			if obj, ok := e.(map[string]any); ok {
				lower := lowerKeys(obj)
				if k, ok := firstInt(lower, indexKeys); ok {
					i = k
				}
				val = firstOf(lower, verdictKeys)
			}
			if s, ok := scoreOf(val, scale{}); ok {
				vs = append(vs, verdict{i, s})
			}
		}
	}
	shift := 0
	for _, v := range vs {
		if v.i == 0 {
			shift = 1
		}
	}
	got := make([]float64, n)
	seen := make([]bool, n)
	left := n
	for _, v := range vs {
		if k := v.i + shift - 1; k >= 0 && k < n && !seen[k] {
			got[k], seen[k] = v.s, true
			left--
		}
	}
	if left > 0 {
		return nil
	}
	return got
}

// scoreOf reads one score: a boolean, a number, a string holding either
// or a verdict word, or an object holding a score.
func scoreOf(x any, sc scale) (float64, bool) {
	switch x := x.(type) {
	case bool:
		return b2f(x), true
	case float64:
		return normalise(x, sc)
	case string:
		return stringScore(x, sc)
	case map[string]any:
		j, ok := scoreIn(x)
		return j.Score, ok
	}
	return 0, false
}

// refusalOf reads a refusal verdict: a boolean, a word ("yes", "refused",
// "answered", "not a refusal") or a score above one half.
func refusalOf(x any) (bool, bool) {
	if s, ok := x.(string); ok {
		w := strings.ToLower(cleanText(s))
		switch {
		case strings.HasPrefix(w, "refus"), strings.HasPrefix(w, "declin"):
			return true, true
		case strings.HasPrefix(w, "answer"):
			return false, true
		}
	}
	s, ok := scoreOf(x, scale{})
	return s > 0.5, ok
}

// scale is a rating scale an object names; the zero scale names none.
type scale struct{ lo, hi float64 }

var (
	rangeText = regexp.MustCompile(`^(-?\d+(?:\.\d+)?)\s*(?:-|–|—|to|\.\.)\s*(-?\d+(?:\.\d+)?)$`)
	percent   = regexp.MustCompile(`^([-+]?\d*\.?\d+)\s*%$`)
	fraction  = regexp.MustCompile(`^([-+]?\d*\.?\d+)\s*(?:/|out of)\s*(\d*\.?\d+)$`)
	// labelled is a number after a word that names it: "Score: 0.8",
	// "relevance is 4/5", "Rating = 70%".
	labelled = regexp.MustCompile(`(?i)\b(?:score|rating|grade|relevancy|relevance|correctness|faithfulness)\b[^0-9\n+-]{0,12}?([-+]?\d*\.?\d+(?:\s*(?:%|/\s*\d*\.?\d+|out of\s*\d*\.?\d+))?)`)
	// thinking is the reasoning some local models write before answering.
	thinking = regexp.MustCompile(`(?is)<think>.*?</think>`)
)

// scaleIn reads the scale an object names, if any.
func scaleIn(lower map[string]any) scale {
	for _, k := range []string{"scale", "range"} {
		switch x := lower[k].(type) {
		case string:
			if m := rangeText.FindStringSubmatch(strings.ToLower(strings.TrimSpace(x))); m != nil {
				lo, _ := strconv.ParseFloat(m[1], 64)
				hi, _ := strconv.ParseFloat(m[2], 64)
				return scale{lo, hi}
			}
		case []any:
			if len(x) == 2 {
				lo, ok1 := x[0].(float64)
				hi, ok2 := x[1].(float64)
				if ok1 && ok2 {
					return scale{lo, hi}
				}
			}
		}
	}
	if hi, ok := firstOf(lower, []string{"max", "max_score", "maximum", "out_of", "outof", "scale"}).(float64); ok {
		lo, _ := firstOf(lower, []string{"min", "min_score", "minimum"}).(float64)
		return scale{lo, hi}
	}
	return scale{}
}

// normalise maps a number a judge gave to [0, 1] (see the rule above).
func normalise(v float64, sc scale) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	switch {
	case sc.hi > sc.lo:
		v = (v - sc.lo) / (sc.hi - sc.lo)
	case v <= 1:
	case v <= 5:
		v = (v - 1) / 4
	case v <= 10:
		v = (v - 1) / 9
	case v <= 100:
		v /= 100
	}
	return min(max(v, 0), 1), true
}

// stringScore reads a score written as text: a number, a percentage, a
// fraction or a verdict word.
func stringScore(s string, sc scale) (float64, bool) {
	if v, ok := numberScore(s, sc); ok {
		return v, true
	}
	return wordScore(s)
}

// numberScore reads "0.7", "70%", "4/5" or "4 out of 5".
func numberScore(s string, sc scale) (float64, bool) {
	s = strings.ToLower(cleanText(s))
	if m := percent.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return normalise(v, scale{0, 100})
	}
	if m := fraction.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		d, _ := strconv.ParseFloat(m[2], 64)
		if d <= 0 {
			return 0, false
		}
		return normalise(v, scale{0, d})
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return normalise(v, sc)
	}
	return 0, false
}

// verdictWords are the words judges answer in. A text scores as the first
// word here that it begins with, as a whole word.
var verdictWords = []struct {
	word  string
	score float64
}{
	{"partially", 0.5}, {"partial", 0.5}, {"partly", 0.5}, {"somewhat", 0.5}, {"mixed", 0.5},
	{"mostly", 0.75},
	{"not", 0}, {"no", 0}, {"none", 0}, {"false", 0}, {"unsupported", 0}, {"incorrect", 0},
	{"irrelevant", 0}, {"wrong", 0}, {"contradicted", 0}, {"contradicts", 0},
	{"yes", 1}, {"true", 1}, {"supported", 1}, {"fully", 1}, {"correct", 1}, {"relevant", 1},
	{"grounded", 1}, {"entailed", 1},
}

// wordScore reads a verdict word: "Yes.", "partially supported", "NOT
// SUPPORTED", "false".
func wordScore(s string) (float64, bool) {
	w := strings.ToLower(cleanText(s))
	for _, v := range verdictWords {
		if rest, ok := strings.CutPrefix(w, v.word); ok && (rest == "" || !unicode.IsLetter(rune(rest[0]))) {
			return v.score, true
		}
	}
	return 0, false
}

// cleanText is s without the quotes, Markdown and punctuation around it.
func cleanText(s string) string {
	s = strings.Trim(s, "\"'`*_()[] \t\r\n")
	return strings.TrimSpace(strings.TrimRight(s, ".,;:!"))
}

// plain is a judge's output without its reasoning and Markdown.
func plain(out string) string {
	out = thinking.ReplaceAllString(out, "")
	out = strings.NewReplacer("```json", "", "```", "", "**", "", "`", "").Replace(out)
	return strings.TrimSpace(out)
}

// reasonIn is the judge's reason in an object, if it gave one.
func reasonIn(lower map[string]any) string {
	r, _ := firstOf(lower, reasonKeys).(string)
	return clip(r, maxReason)
}

// firstOf is the value of the first of keys that obj has.
func firstOf(obj map[string]any, keys []string) any {
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			return v
		}
	}
	return nil
}

// firstInt is the first of keys in obj whose value is a whole number,
// given as a number or a string.
func firstInt(obj map[string]any, keys []string) (int, bool) {
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			if i, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(v))); err == nil {
				return i, true
			}
		}
	}
	return 0, false
}

// lowerKeys is obj with its keys in lower case.
func lowerKeys(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
