package judge

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Finding JSON in a judge's output
//
// Models wrap the JSON they were asked for in fences and prose, write
// <think> blocks first, quote it Python's way, leave trailing commas and
// stop mid-value. extractJSON reads through all of that; parse.go reads
// scores and verdicts from what it finds.

var (
	// thinking is the reasoning some local models (Qwen3, DeepSeek-R1)
	// write before their answer.
	thinking = regexp.MustCompile(`(?is)<think>.*?</think>`)
	// fence is a Markdown code block, possibly cut off at the end.
	fence = regexp.MustCompile("(?s)```[a-zA-Z]*\\s*\\n?(.*?)(?:```|$)")
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

// jsonCandidates are the texts that may hold the JSON: fenced blocks
// first, then the whole text.
func jsonCandidates(text string) []string {
	var out []string
	for _, m := range fence.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return append(out, text)
}

// extractJSON returns the first JSON object or array in a model's output
// that accept takes: <think> blocks dropped, Markdown fences and prose
// around the value skipped, Python-style quoting turned into JSON,
// trailing commas dropped, and a value cut off at the end completed by
// closing its open string and brackets or by cutting it back to its last
// whole member. Fenced blocks are tried before the rest of the text. It
// reports false when nothing accept takes is found.
func extractJSON(text string, accept func(any) bool) (any, bool) {
	for _, t := range readings(text) {
		for _, cand := range jsonCandidates(t) {
			if v, ok := firstJSON(cand, accept); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// maxOpenings bounds how many opening brackets firstJSON tries.
const maxOpenings = 20

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
	for p := 0; p < len(text) && tried < maxOpenings; p++ {
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
// other object, which is what one verdict looks like.
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
