package judge

import "testing"

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

func TestCompletions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string // one of the completions
	}{
		{`{"score": 0.8, "reason": "The ans`, `{"score": 0.8, "reason": "The ans"}`},
		{`{"score": 0.4, "rea`, `{"score": 0.4}`},
		{`[1, 2,]`, `[1, 2]`},
		{`{"a": "x\`, `{"a": "x"}`},
	} {
		found := false
		for _, c := range completions(tc.in) {
			found = found || c == tc.want
		}
		if !found {
			t.Errorf("completions(%q) = %q, want %q among them", tc.in, completions(tc.in), tc.want)
		}
	}
}

func TestExtractJSON(t *testing.T) {
	t.Parallel()
	isObject := func(v any) bool { _, ok := v.(map[string]any); return ok }
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"fenced after prose with brackets", "See [1].\n```json\n{\"a\": 1}\n```", true},
		{"python quoting", `{'a': True}`, true},
		{"think block only", "<think>{\"a\": 1}</think>", false},
		{"none", "no JSON here [1]", false},
	} {
		if _, ok := extractJSON(tc.text, isObject); ok != tc.ok {
			t.Errorf("%s: got %v, want %v", tc.name, ok, tc.ok)
		}
	}
}
