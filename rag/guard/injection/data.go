package injection

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ReadJSONL reads labelled examples, one JSON object a line: "text" and
// either "label" (0 benign, 1 injection; deepset/prompt-injections) or
// "injection" (true/false; the guardrails bench format), and an optional
// "split". Blank lines are skipped; a bad line is an error naming it.
func ReadJSONL(r io.Reader) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var row struct {
			Text      *string `json:"text"`
			Label     *int    `json:"label"`
			Injection *bool   `json:"injection"`
			Split     string  `json:"split"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if row.Text == nil {
			return nil, fmt.Errorf("line %d: no \"text\"", line)
		}
		e := Example{Text: *row.Text, Split: row.Split}
		switch {
		case row.Injection != nil:
			e.Injection = *row.Injection
		case row.Label != nil && (*row.Label == 0 || *row.Label == 1):
			e.Injection = *row.Label == 1
		default:
			return nil, fmt.Errorf("line %d: want \"label\" 0 or 1, or \"injection\" true or false", line)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Load reads path: a JSONL file, or a folder holding data.jsonl (as
// ../shared/datasets/prompt-injections does).
func Load(path string) ([]Example, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "data.jsonl")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}

// Split returns the examples whose Split is name.
func Split(examples []Example, name string) []Example {
	var out []Example
	for _, e := range examples {
		if e.Split == name {
			out = append(out, e)
		}
	}
	return out
}

// ReadLines reads one text a line, skipping blank lines and lines that
// start with "#" (the benign validation fixture's format).
func ReadLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
