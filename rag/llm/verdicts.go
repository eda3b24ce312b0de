package llm

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// parseVerdicts reads a judge's verdicts on sentences 1..n from its
// output and returns a score in [0, 1] for each sentence it found, by
// number. Models wrap JSON in fences and prose, stop mid-array, rename
// keys and sometimes answer in lines instead, so it tries, in turn:
// JSON values in the text (repaired when truncated), every complete
// {...} object on its own, the same with Python-style quoting, and lines
// like "2 - supported". A verdict found earlier wins.
func parseVerdicts(text string, n int) map[int]float64 {
	got := make(map[int]float64, n)
	add := func(i int, s float64) {
		if _, dup := got[i]; i >= 1 && i <= n && !dup && !math.IsNaN(s) {
			got[i] = s
		}
	}
	texts := readings(text)
	text = texts[0]
	for _, t := range texts {
		for _, cand := range jsonCandidates(t) {
			if collectJSON(cand, add) && len(got) == n {
				return got
			}
		}
		for _, obj := range balancedObjects(t) {
			var v map[string]any
			if json.Unmarshal([]byte(obj), &v) == nil {
				if i, s, ok := objectVerdict(v); ok && i != noIndex {
					add(i, s)
				}
			}
		}
		if len(got) == n {
			return got
		}
	}
	for _, m := range verdictLine.FindAllStringSubmatch(strings.NewReplacer("*", "", "`", "").Replace(text), -1) {
		i, err := strconv.Atoi(m[1])
		if s, ok := wordScore(m[2]); ok && err == nil {
			add(i, s)
		}
	}
	return got
}

var (
	// thinking is the reasoning some local models (Qwen3, DeepSeek-R1)
	// write before their answer.
	thinking = regexp.MustCompile(`(?is)<think>.*?</think>`)
	// fence is a Markdown code block, possibly cut off at the end.
	fence = regexp.MustCompile("(?s)```[a-zA-Z]*\\s*\\n?(.*?)(?:```|$)")
	// verdictLine is "1: yes", "2 - supported", "3. no", "Sentence 4) partial".
	verdictLine = regexp.MustCompile(`(?im)^[ \t]*(?:[-•][ \t]*)?(?:sentence[ \t]*)?#?(\d{1,4})(?:[ \t]*[:.)\]=–—-][ \t]*|[ \t]+)(\S.*)$`)
	// pythonish turns a Python literal into JSON, roughly.
	pythonish = strings.NewReplacer("'", `"`, "True", "true", "False", "false", "None", "null")
	// trailingComma is a comma before a closing bracket, which JSON
	// refuses. It does not know strings, which costs only a comma in the
	// rare prose with ",]" in it.
	trailingComma = regexp.MustCompile(`,\s*([\]}])`)
)

// readings are the ways to read a model's output as JSON: without its
// <think> blocks, and then also with Python-style quoting made JSON.
func readings(text string) []string {
	text = thinking.ReplaceAllString(text, "")
	if py := pythonish.Replace(text); py != text {
		return []string{text, py}
	}
	return []string{text}
}

// jsonCandidates are the texts that may hold the verdicts as JSON: fenced
// blocks first, then the whole text.
func jsonCandidates(text string) []string {
	var out []string
	for _, m := range fence.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return append(out, text)
}

// ExtractJSON returns the first JSON object or array in a model's output
// that accept takes (nil takes any), read as tolerantly as the judge's
// verdicts: <think> blocks dropped, Markdown fences and prose around the
// value skipped, Python-style quoting turned into JSON, trailing commas
// dropped, and a value cut off at the end completed by closing its open
// string and brackets or by cutting it back to its last whole member.
// Fenced blocks are tried before the rest of the text. It reports false
// when nothing accept takes is found.
func ExtractJSON(text string, accept func(any) bool) (any, bool) {
	if accept == nil {
		accept = func(any) bool { return true }
	}
	for _, t := range readings(text) {
		for _, cand := range jsonCandidates(t) {
			if v, ok := firstJSON(cand, accept); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// collectJSON feeds add the verdicts of the first JSON value in text that
// holds any (see firstJSON). It reports whether it found one.
func collectJSON(text string, add func(int, float64)) bool {
	v, ok := firstJSON(text, func(v any) bool {
		found := false
		collect(v, func(int, float64) { found = true })
		return found
	})
	if ok {
		collect(v, add)
	}
	return ok
}

// firstJSON decodes the first JSON value in text that accept takes,
// trying each of the first few opening brackets (prose may hold brackets
// too), each as it stands, cut after its last closed bracket (repairJSON)
// and then completed (completions).
func firstJSON(text string, accept func(any) bool) (any, bool) {
	decode := func(s string) (any, bool) {
		var v any
		if s == "" || json.NewDecoder(strings.NewReader(s)).Decode(&v) != nil || !accept(v) {
			return nil, false
		}
		return v, true
	}
	tried := 0
	for p := 0; p < len(text) && tried < 20; p++ {
		if text[p] != '[' && text[p] != '{' {
			continue
		}
		tried++
		for _, s := range []string{text[p:], repairJSON(text[p:])} {
			if v, ok := decode(s); ok {
				return v, true
			}
		}
		for _, s := range completions(text[p:]) {
			if v, ok := decode(s); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// maxCutBacks bounds how many commas completions cuts back to.
const maxCutBacks = 4

// completions are ways to finish s, a JSON value that is sloppy or cut
// off at the end: without its trailing commas; with its open string and
// brackets closed, so `{"score": 0.8, "reason": "The ans` becomes
// `{"score": 0.8, "reason": "The ans"}`; and cut back to each of its last
// few commas and closed there, for a value cut off inside a key or a
// number, or spoilt by a stray quote.
func completions(s string) []string {
	s = trailingComma.ReplaceAllString(s, "$1")
	type cutBack struct {
		at   int
		open string
	}
	var cuts []cutBack
	var sc bracketScan
	for i := 0; i < len(s); i++ {
		switch c, ok := sc.next(s[i]); {
		case !ok:
			return nil
		case (c == ']' || c == '}') && len(sc.open) == 0:
			return []string{s[:i+1]}
		case c == ',':
			cuts = append(cuts, cutBack{i, string(sc.open)})
		}
	}
	end := s
	if sc.str.escaped {
		end = end[:len(end)-1]
	}
	if sc.str.in {
		end += `"`
	}
	out := []string{strings.TrimRight(end, ", \t\r\n") + closers(string(sc.open))}
	for k := len(cuts) - 1; k >= 0 && k >= len(cuts)-maxCutBacks; k-- {
		out = append(out, s[:cuts[k].at]+closers(cuts[k].open))
	}
	return out
}

// jsonString follows a byte-by-byte scan of JSON in and out of strings,
// so brackets inside strings are not taken for structure.
type jsonString struct{ in, escaped bool }

// skip reports whether ch belongs to a string (its quotes included).
func (j *jsonString) skip(ch byte) bool {
	switch {
	case j.in:
		switch {
		case j.escaped:
			j.escaped = false
		case ch == '\\':
			j.escaped = true
		case ch == '"':
			j.in = false
		}
		return true
	case ch == '"':
		j.in = true
		return true
	}
	return false
}

// repairJSON cuts s after the last bracket that closed a complete value
// and closes whatever is still open, so `[{"i":1,...},{"i":2,"sup` becomes
// `[{"i":1,...}]`. It returns "" when nothing closed.
func repairJSON(s string) string {
	cut, closedAt := 0, ""
	var sc bracketScan
	for i := 0; i < len(s); i++ {
		switch c, ok := sc.next(s[i]); {
		case !ok:
			return ""
		case c == ']' || c == '}':
			cut, closedAt = i+1, string(sc.open)
			if len(sc.open) == 0 {
				return s[:cut]
			}
		}
	}
	if cut == 0 {
		return ""
	}
	return s[:cut] + closers(closedAt)
}

// bracketScan follows a byte-by-byte scan of JSON's structure: the
// brackets still open, outside strings.
type bracketScan struct {
	str  jsonString
	open []byte
}

// next takes the next byte of the scan and returns it when it is
// structure ('[', '{', ']', '}' or ','), else 0. ok is false for a
// closing bracket with nothing open.
func (sc *bracketScan) next(ch byte) (structural byte, ok bool) {
	if sc.str.skip(ch) {
		return 0, true
	}
	switch ch {
	case '[', '{':
		sc.open = append(sc.open, ch)
	case ']', '}':
		if len(sc.open) == 0 {
			return ch, false
		}
		sc.open = sc.open[:len(sc.open)-1]
	case ',':
	default:
		return 0, true
	}
	return ch, true
}

// closers closes the brackets in open, innermost first.
func closers(open string) string {
	b := make([]byte, len(open))
	for i := range open {
		b[len(open)-1-i] = open[i] + 2 // '[' → ']', '{' → '}'
	}
	return string(b)
}

// balancedObjects returns every complete {...} in s that contains no
// other object, which is what a verdict looks like.
func balancedObjects(s string) []string {
	var out []string
	var starts []int
	var str jsonString
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if str.skip(ch) {
			continue
		}
		switch {
		case ch == '{':
			starts = append(starts, i)
		case ch == '}' && len(starts) > 0:
			start := starts[len(starts)-1]
			starts = starts[:len(starts)-1]
			if !strings.Contains(s[start+1:i], "{") {
				out = append(out, s[start:i+1])
			}
		}
	}
	return out
}

// collect finds verdicts in a decoded JSON value: an array of verdict
// objects or of bare verdicts (numbered by position), an object wrapping
// such an array, one verdict object, or an object keyed by number.
func collect(v any, add func(int, float64)) {
	switch v := v.(type) {
	case []any:
		type verdict struct {
			i int
			s float64
		}
		var vs []verdict
		zeroBased := false
		for k, e := range v {
			if obj, ok := e.(map[string]any); ok {
				if i, s, ok := objectVerdict(obj); ok {
					if i == noIndex {
						i = k + 1
					}
					zeroBased = zeroBased || i == 0
					vs = append(vs, verdict{i, s})
				}
			} else if s, ok := score(e); ok {
				vs = append(vs, verdict{k + 1, s})
			}
		}
		for _, v := range vs {
			if zeroBased { // some models count from 0
				v.i++
			}
			add(v.i, v.s)
		}
	case map[string]any:
		lower := lowerKeys(v)
		for _, key := range []string{"results", "scores", "verdicts", "judgments", "judgements", "sentences", "items", "data"} {
			if x, ok := lower[key]; ok {
				collect(x, add)
				return
			}
		}
		if i, s, ok := objectVerdict(v); ok && i != noIndex {
			add(i, s)
			return
		}
		for key, x := range v {
			if i, err := strconv.Atoi(strings.TrimSpace(key)); err == nil {
				if s, ok := score(x); ok {
					add(i, s)
				}
			}
		}
	}
}

// lowerKeys is obj with its keys in lower case.
func lowerKeys(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[strings.ToLower(k)] = v
	}
	return out
}

// noIndex is objectVerdict's sentence number for an object without one.
const noIndex = math.MinInt

// objectVerdict reads {"i": 1, "supported": true} and its variants.
func objectVerdict(obj map[string]any) (i int, s float64, ok bool) {
	lower := lowerKeys(obj)
	i = noIndex
	for _, key := range []string{"i", "index", "idx", "n", "number", "id", "sentence"} {
		if n, isNum := intOf(lower[key]); isNum {
			i = n
			break
		}
	}
	for _, key := range []string{"supported", "support", "verdict", "grounded", "label", "score", "judgment", "judgement", "result", "answer"} {
		if s, ok = score(lower[key]); ok {
			break
		}
	}
	return i, s, ok
}

// intOf reads a sentence number given as a number or a string.
func intOf(x any) (int, bool) {
	switch x := x.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e6 {
			return int(x), true
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n, true
		}
	}
	return 0, false
}

// score turns a verdict into a number in [0, 1].
func score(x any) (float64, bool) {
	switch x := x.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return min(max(x, 0), 1), true
	case string:
		return wordScore(x)
	}
	return 0, false
}

// wordScore reads a verdict in words: "yes", "Supported.", "partially",
// "not supported", "false", or a number.
func wordScore(s string) (float64, bool) {
	w := strings.Trim(strings.ToLower(strings.TrimSpace(s)), "\"'`*_.,;:!()[] \t")
	word := func(prefix string) bool {
		if !strings.HasPrefix(w, prefix) {
			return false
		}
		rest := w[len(prefix):]
		return rest == "" || !('a' <= rest[0] && rest[0] <= 'z')
	}
	switch {
	case strings.HasPrefix(w, "partial"), strings.HasPrefix(w, "partly"), word("mixed"), word("some"):
		return 0.5, true
	case word("no"), word("not"), word("n"), strings.HasPrefix(w, "unsupported"), word("false"),
		strings.HasPrefix(w, "contradict"), word("none"):
		return 0, true
	case word("yes"), word("y"), word("true"), strings.HasPrefix(w, "support"), strings.HasPrefix(w, "fully"),
		word("grounded"), word("entailed"):
		return 1, true
	}
	if v, err := strconv.ParseFloat(w, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return min(max(v, 0), 1), true
	}
	return 0, false
}
