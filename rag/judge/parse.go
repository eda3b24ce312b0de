package judge

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// How a judge's output is read
//
// The templates ask for a small JSON object, but models wrap it in
// fences and prose, cut it off, quote it Python's way, or answer in a
// number, a word or a list of lines. The JSON is found by extractJSON,
// which repairs what it can (see extract.go); failing that, the text
// itself is read: for a score, the whole of it as a number, a labelled
// number ("Score: 0.8") or a verdict word opening it ("Yes, ...",
// "Partially supported"); for per-sentence verdicts, every complete
// {...} object that names its sentence, then lines like "2 - supported".
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
// Words become scores by one list (verdictWords). Every score is clamped
// to [0, 1]; NaN and infinities are unusable.

// Keys that name, case aside, what an object holds, most specific first.
var (
	scoreKeys = []string{"score", "rating", "grade", "relevancy", "relevance", "relevant", "correctness",
		"correct", "faithfulness", "supported", "verdict", "label", "result", "answer", "value"}
	refusalKeys = []string{"refusal", "refused", "is_refusal", "declined", "declines", "refuses",
		"verdict", "label", "result", "answer", "value", "score"}
	verdictKeys = []string{"verdict", "supported", "support", "grounded", "label", "score", "result",
		"judgement", "judgment", "answer"}
	indexKeys  = []string{"i", "index", "idx", "n", "number", "sentence", "id"}
	listKeys   = []string{"verdicts", "results", "sentences", "scores", "items", "judgements", "judgments", "data"}
	reasonKeys = []string{"reason", "reasoning", "explanation", "rationale", "justification"}
)

// maxReason bounds the reason kept with a cached judgement, in bytes.
const maxReason = 500

// readScore reads a score (and the judge's reason, if any) from out.
func readScore(out string) (judgement, bool) {
	var got judgement
	if _, ok := extractJSON(out, func(v any) bool {
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
	if _, ok := extractJSON(out, func(v any) bool {
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

// readVerdicts reads the scores of sentences 1..n, all of them or none;
// the judgement's score is their mean.
func readVerdicts(out string, n int) (judgement, bool) {
	found := parseVerdicts(out, n)
	if len(found) < n {
		return judgement{}, false
	}
	got := judgement{Verdicts: make([]float64, n)}
	sum := 0.0
	for i := range got.Verdicts {
		got.Verdicts[i] = found[i+1]
		sum += got.Verdicts[i]
	}
	got.Score = sum / float64(n)
	return got, true
}

// parseVerdicts returns the verdicts on sentences 1..n it finds in out,
// by sentence number. It tries, in turn: the first JSON value holding a
// verdict on every sentence; every complete {...} object that names its
// sentence, on its own; and lines like "2 - supported". A verdict found
// earlier wins.
func parseVerdicts(out string, n int) map[int]float64 {
	if v, ok := extractJSON(out, func(v any) bool { return len(numbered(verdictsIn(v), n)) == n }); ok {
		return numbered(verdictsIn(v), n)
	}
	got := make(map[int]float64, n)
	add := func(vs []verdict) bool {
		for i, s := range numbered(vs, n) {
			if _, dup := got[i]; !dup {
				got[i] = s
			}
		}
		return len(got) == n
	}
	var objects []verdict
	for _, t := range readings(out) {
		for _, text := range balancedObjects(t) {
			var obj map[string]any
			if json.Unmarshal([]byte(text), &obj) == nil {
				objects = append(objects, objectVerdicts(lowerKeys(obj))...)
			}
		}
	}
	if add(objects) {
		return got
	}
	var lines []verdict
	for _, m := range verdictLine.FindAllStringSubmatch(plain(out), -1) {
		i, err := strconv.Atoi(m[1])
		if s, ok := stringScore(m[2], scale{}); ok && err == nil {
			lines = append(lines, verdict{i, s})
		}
	}
	add(lines)
	return got
}

// verdict is a score for sentence i, numbered as the judge numbered it.
type verdict struct {
	i int
	s float64
}

// verdictsIn finds verdicts in a decoded JSON value: an array of verdict
// objects or of bare verdicts (numbered by position unless they say
// otherwise), an object wrapping such an array, one verdict object that
// names its sentence, or an object keyed by sentence number.
func verdictsIn(v any) []verdict {
	var vs []verdict
	switch x := v.(type) {
	case map[string]any:
		lower := lowerKeys(x)
		for _, k := range listKeys {
			switch inner := lower[k].(type) {
			case []any, map[string]any:
				return verdictsIn(inner)
			}
		}
		if one := objectVerdicts(lower); one != nil {
			return one
		}
		for k, e := range x {
			i, err := strconv.Atoi(strings.TrimSpace(k))
			if s, ok := scoreOf(e, scale{}); ok && err == nil {
				vs = append(vs, verdict{i, s})
			}
		}
	case []any:
		for pos, e := range x {
			if obj, ok := e.(map[string]any); ok {
				lower := lowerKeys(obj)
				i, ok := firstInt(lower, indexKeys)
				if !ok {
					i = pos + 1
				}
				if s, ok := verdictOf(lower); ok {
					vs = append(vs, verdict{i, s})
				}
			} else if s, ok := scoreOf(e, scale{}); ok {
				vs = append(vs, verdict{pos + 1, s})
			}
		}
	}
	return vs
}

// objectVerdicts reads one verdict object that names its sentence, like
// {"i": 1, "supported": true}; it returns nil for any other object.
func objectVerdicts(lower map[string]any) []verdict {
	i, ok := firstInt(lower, indexKeys)
	if !ok {
		return nil
	}
	s, ok := verdictOf(lower)
	if !ok {
		return nil
	}
	return []verdict{{i, s}}
}

// verdictOf is the first of an object's verdict keys that reads as a
// score, on the scale the object names.
func verdictOf(lower map[string]any) (float64, bool) {
	sc := scaleIn(lower)
	for _, k := range verdictKeys {
		if s, ok := scoreOf(lower[k], sc); ok {
			return s, true
		}
	}
	return 0, false
}

// numbered places verdicts on sentences 1..n, dropping numbers out of
// range; the first verdict on a sentence wins. When any verdict is
// numbered 0 the judge counted from 0, and all of them move up one.
func numbered(vs []verdict, n int) map[int]float64 {
	shift := 0
	for _, v := range vs {
		if v.i == 0 {
			shift = 1
		}
	}
	got := make(map[int]float64, n)
	for _, v := range vs {
		i := v.i + shift
		if _, dup := got[i]; i >= 1 && i <= n && !dup {
			got[i] = v.s
		}
	}
	return got
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
	// verdictLine is "1: yes", "2 - supported", "3. no", "Sentence 4) partial".
	verdictLine = regexp.MustCompile(`(?im)^[ \t]*(?:[-•][ \t]*)?(?:sentence[ \t]*)?#?(\d{1,4})(?:[ \t]*[:.)\]=–—-][ \t]*|[ \t]+)(\S.*)$`)
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

// verdictWords are the words judges answer in. A text scores as the word
// here that it begins with, as a whole word (so "N/A" is not "n").
var verdictWords = []struct {
	word  string
	score float64
}{
	{"partially", 0.5}, {"partial", 0.5}, {"partly", 0.5}, {"somewhat", 0.5}, {"mixed", 0.5}, {"some", 0.5},
	{"mostly", 0.75},
	{"not", 0}, {"no", 0}, {"n", 0}, {"none", 0}, {"false", 0}, {"unsupported", 0}, {"incorrect", 0},
	{"irrelevant", 0}, {"wrong", 0}, {"contradict", 0}, {"contradicts", 0}, {"contradicted", 0},
	{"contradiction", 0}, {"contradictory", 0},
	{"yes", 1}, {"y", 1}, {"true", 1}, {"supported", 1}, {"supports", 1}, {"support", 1}, {"fully", 1},
	{"correct", 1}, {"relevant", 1}, {"grounded", 1}, {"entailed", 1},
}

// verdictStems score any word they begin, after verdictWords found none.
var verdictStems = []struct {
	stem  string
	score float64
}{{"contradict", 0}, {"support", 1}}

// wordScore reads a verdict word: "Yes.", "partially supported", "NOT
// SUPPORTED", "false".
func wordScore(s string) (float64, bool) {
	w := strings.ToLower(cleanText(s))
	for _, v := range verdictWords {
		if rest, ok := strings.CutPrefix(w, v.word); ok && wordEnds(rest) {
			return v.score, true
		}
	}
	for _, v := range verdictStems {
		if strings.HasPrefix(w, v.stem) {
			return v.score, true
		}
	}
	return 0, false
}

// wordEnds reports whether rest, what follows a word, ends it: a letter,
// a digit or a slash would make it part of something else ("n/a").
func wordEnds(rest string) bool {
	if rest == "" {
		return true
	}
	r := rune(rest[0])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '/'
}

// cleanText is s without the quotes, Markdown and punctuation around it.
func cleanText(s string) string {
	s = strings.Trim(s, "\"'`*_()[] \t\r\n")
	return strings.TrimSpace(strings.TrimRight(s, ".,;:!"))
}

// plain is a judge's output without its reasoning and Markdown.
func plain(out string) string {
	out = thinking.ReplaceAllString(out, "")
	out = strings.NewReplacer("```json", "", "```", "", "*", "", "`", "").Replace(out)
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
