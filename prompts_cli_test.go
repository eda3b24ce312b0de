package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"llmops/evals"
)

// TestPromptsExportImport: export writes one file per version, import of
// the same files changes nothing, an edited file becomes the next
// version, and exporting again round-trips it byte for byte.
func TestPromptsExportImport(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	llmops := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut, func(string) string { return "" })
		return code, out.String(), errOut.String()
	}
	dir := t.TempDir()
	if code, out, errOut := llmops("prompts", "export", "--data", data, dir); code != exitOK || !strings.Contains(out, "9 prompt versions written") {
		t.Fatalf("export: exit %d %s %s", code, out, errOut)
	}
	if code, out, errOut := llmops("prompts", "import", "--data", data, dir); code != exitOK || !strings.Contains(out, "0 new versions, 9 already there") {
		t.Fatalf("re-import: exit %d %s %s", code, out, errOut)
	}
	path := filepath.Join(dir, "fallback-message@1.prompt")
	v1, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(v1), "The documentation does not cover this.", "Our help centre has no article on this yet.", 1)
	edited = strings.Replace(edited, `message: "Built-in text"`, `message: "friendlier"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "fallback-message@2.prompt"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		code, out, errOut := llmops("prompts", "import", "--data", data, dir)
		if code != exitOK {
			t.Fatalf("import: exit %d %s %s", code, out, errOut)
		}
		if !strings.Contains(out, "1 new versions") && !strings.Contains(out, "0 new versions, 10 already there") {
			t.Errorf("import: %s", out)
		}
	}
	dir2 := t.TempDir()
	if code, out, errOut := llmops("prompts", "export", "--data", data, dir2); code != exitOK || !strings.Contains(out, "10 prompt versions written") {
		t.Fatalf("export: exit %d %s %s", code, out, errOut)
	}
	got, err := os.ReadFile(filepath.Join(dir2, "fallback-message@2.prompt"))
	if err != nil || !strings.Contains(string(got), "Our help centre has no article") || !strings.Contains(string(got), `message: "friendlier"`) {
		t.Errorf("exported version 2: %s (%v)", got, err)
	}
	// A broken template is refused with its position; the others load.
	bad := strings.Replace(string(v1), "{{with .Closest}}", "{{with .Closest}", 1)
	if err := os.WriteFile(filepath.Join(dir, "fallback-message@3.prompt"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := llmops("prompts", "import", "--data", data, dir); code != exitFail || !strings.Contains(errOut, "fallback-message@3.prompt: template line 1") {
		t.Errorf("bad file: exit %d %s", code, errOut)
	}
}

// TestEvalRunAtPromptVersion: eval run --prompt pins a version and
// records it; an unknown version is refused.
func TestEvalRunAtPromptVersion(t *testing.T) {
	t.Parallel()
	dir := sampleIngestDir(t)
	eval := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"eval", "run", "--data", dir}, args...), &out, &errOut, os.Getenv)
		return code, out.String(), errOut.String()
	}
	code, stdout, stderr := eval("--set", evals.SampleSetName, "--prompt", "support-answer@1", "--json")
	var rep evals.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if rep.Run.Settings.Prompt != "support-answer@1" {
		t.Errorf("run prompt %q, want support-answer@1", rep.Run.Settings.Prompt)
	}
	// A label pointing at one version is recorded as that version (on a
	// two-case set: the full set's run above took seconds under -race).
	file := filepath.Join(t.TempDir(), "smoke.jsonl")
	os.WriteFile(file, []byte(`{"question":"How do I cancel my subscription?","document_ids":["billing/refunds-and-cancellation"]}
{"question":"Do you integrate with Paychex?","answerable":false}
`), 0o644)
	if code, stdout, _ = eval("--set", file, "--label", "staging", "--json"); code != exitOK || !strings.Contains(stdout, `"prompt": "support-answer@1"`) {
		t.Errorf("--label staging: exit %d %s", code, stdout)
	}
	for _, args := range [][]string{{"--prompt", "support-answer@7"}, {"--label", "nope"}, {"--prompt", "support-answer"}, {"--prompt", "support-answer@1", "--label", "dev"}} {
		if code, _, stderr := eval(append([]string{"--set", evals.SampleSetName}, args...)...); code == exitOK {
			t.Errorf("%v: exit 0 %s", args, stderr)
		}
	}
}
