package prompt

import (
	"context"
	"reflect"
	"strings"
)

// DiffLine is one line of a template diff: Op is " " (both), "-" (only
// in From) or "+" (only in To); Old and New are 1-based line numbers,
// 0 on the side the line is not on.
type DiffLine struct {
	Op   string `json:"op"`
	Old  int    `json:"old,omitempty"`
	New  int    `json:"new,omitempty"`
	Text string `json:"text"`
}

// Diff is what changed from one version to another.
type Diff struct {
	Name     string         `json:"name"`
	From     int            `json:"from"`
	To       int            `json:"to"`
	Template []DiffLine     `json:"template"` // every line, in order
	Config   []ConfigChange `json:"config"`   // changed keys only
	// Variables lists the declared variables of each side when they differ.
	Variables *[2][]string `json:"variables,omitempty"`
	Message   string       `json:"message"` // To's commit message
}

// Diff compares version from of name with version to.
func (r *Registry) Diff(ctx context.Context, name string, from, to int) (*Diff, error) {
	a, err := r.st.PromptVersion(ctx, name, from)
	if err != nil {
		return nil, err
	}
	b, err := r.st.PromptVersion(ctx, name, to)
	if err != nil {
		return nil, err
	}
	d := &Diff{Name: name, From: from, To: to, Template: LineDiff(a.Template, b.Template), Config: ConfigDiff(a.Config, b.Config), Message: b.Message}
	if !reflect.DeepEqual(a.Variables, b.Variables) {
		d.Variables = &[2][]string{a.Variables, b.Variables}
	}
	return d, nil
}

// ConfigDiff lists the keys whose values differ, From → To (nil: unset).
func ConfigDiff(a, b Config) []ConfigChange {
	ka, kb := configKeys(a), configKeys(b)
	out := []ConfigChange{}
	for i := range ka {
		if !reflect.DeepEqual(ka[i].To, kb[i].To) {
			out = append(out, ConfigChange{Key: ka[i].Key, From: ka[i].To, To: kb[i].To})
		}
	}
	return out
}

// maxDiffCells bounds the LCS table; past it the diff is "all removed,
// all added", which is still correct, only coarse.
const maxDiffCells = 4_000_000

// LineDiff is a line diff of a and b (longest common subsequence).
func LineDiff(a, b string) []DiffLine {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// Common prefix and suffix first: most edits are small.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	out := make([]DiffLine, 0, len(x)+len(y))
	for i := 0; i < pre; i++ {
		out = append(out, DiffLine{Op: " ", Old: i + 1, New: i + 1, Text: x[i]})
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	n, m := len(mx), len(my)
	if n*m > maxDiffCells {
		for i, l := range mx {
			out = append(out, DiffLine{Op: "-", Old: pre + i + 1, Text: l})
		}
		for j, l := range my {
			out = append(out, DiffLine{Op: "+", New: pre + j + 1, Text: l})
		}
	} else {
		// lcs[i][j]: the LCS length of mx[i:] and my[j:].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if mx[i] == my[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && mx[i] == my[j]:
				out = append(out, DiffLine{Op: " ", Old: pre + i + 1, New: pre + j + 1, Text: mx[i]})
				i++
				j++
			case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
				out = append(out, DiffLine{Op: "+", New: pre + j + 1, Text: my[j]})
				j++
			default:
				out = append(out, DiffLine{Op: "-", Old: pre + i + 1, Text: mx[i]})
				i++
			}
		}
	}
	for k := 0; k < suf; k++ {
		out = append(out, DiffLine{Op: " ", Old: len(x) - suf + k + 1, New: len(y) - suf + k + 1, Text: x[len(x)-suf+k]})
	}
	return out
}
