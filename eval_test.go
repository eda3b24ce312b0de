package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"llmops/evals"
	"llmops/store"
	"llmops/store/schema"
)

// TestEvalGate runs the sample set from the CLI as a team's CI would and
// checks the exit codes: 0 when thresholds hold, 1 when one fails (or
// names a metric the run does not have), 2 when called wrongly.
func TestEvalGate(t *testing.T) {
	t.Parallel()
	// A first serve's data dir: the sample documents and the sample set's
	// finished run (hybrid with rerank, the defaults), made by serve, which
	// is the baseline here. Each full run of the 90 cases takes seconds
	// under -race, so two runs check every path of the gate: one that
	// passes every kind of threshold, one where each kind fails.
	dir := sampleServeDir(t)
	eval := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"eval", "run", "--data", dir}, args...), &out, &errOut, os.Getenv)
		return code, out.String(), errOut.String()
	}
	st, err := store.Open(context.Background(), dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(context.Background(), "", 10)
	st.Close()
	if err != nil || len(runs) != 1 || runs[0].SetName != evals.SampleSetName || runs[0].Status != schema.RunDone {
		t.Fatalf("the first serve's runs: %+v (%v), want the finished sample run", runs, err)
	}
	baseline := runs[0].ID

	// The same settings as the baseline: thresholds it reaches hold, and
	// it stays within a small drop.
	junit := filepath.Join(t.TempDir(), "report.xml")
	code, stdout, stderr := eval("--set", evals.SampleSetName, "--min", "hit@5=0.9", "--min", "refusal_correctness=0.75",
		"--baseline", baseline, "--max-drop", "ndcg@10=0.001", "--json", "--junit", junit)
	if code != exitOK {
		t.Fatalf("passing gate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep evals.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json printed %q: %v", stdout, err)
	}
	if !rep.Passed || rep.Run.Done != 90 || len(rep.Gate) != 3 || len(rep.Metrics) < 10 {
		t.Fatalf("report: passed %v, %d done, %d checks, %d metrics", rep.Passed, rep.Run.Done, len(rep.Gate), len(rep.Metrics))
	}
	for _, g := range rep.Gate {
		if !g.Pass {
			t.Errorf("passing gate: %s", g.Message)
		}
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil || len(suites.Suites) == 0 || suites.Suites[0].Failures != 0 {
		t.Errorf("junit: %+v %v\n%s", suites, err, data)
	}

	// BM25 alone against the hybrid baseline, with a threshold of each
	// kind failing: exit 1, and the report says which and why. A
	// threshold above what the run reaches fails; a typo in a metric name
	// fails instead of passing silently; nDCG drops more than allowed.
	code, stdout, _ = eval("--set", evals.SampleSetName, "--mode", "keyword", "--no-rerank", "--baseline", baseline,
		"--min", "hit@5=0.999", "--min", "hit@50=0.1", "--max-drop", "ndcg@10=0", "--max-drop", "faithfulness=0.5")
	if code != exitFail || !strings.Contains(stdout, "FAILED") {
		t.Errorf("failing gate: exit %d\n%s", code, stdout)
	}
	_, gate, _ := strings.Cut(stdout, "\nGate\n")
	gateLine := func(prefix string) string {
		for _, l := range strings.Split(gate, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}
	for _, c := range []struct{ prefix, want string }{
		{"hit@5 ", "FAIL"},                        // above what the run reaches
		{"metric hit@50 not in this run", "FAIL"}, // a typo
		{"ndcg@10 dropped", "FAIL"},               // a drop beyond the allowed
	} {
		if l := gateLine(c.prefix); !strings.HasSuffix(l, c.want) {
			t.Errorf("gate line %q: got %q\n%s", c.prefix, l, stdout)
		}
	}

	// Wrong calls exit 2.
	for _, args := range [][]string{
		{"--min", "hit@5=0.9"},
		{"--set", evals.SampleSetName, "--min", "hit@5"},
		{"--set", evals.SampleSetName, "--max-drop", "hit@5=0.1"},
		{"--set", evals.SampleSetName, "--mode", "telepathy"},
		{"--set", "no-such-set.csv"},
	} {
		if code, _, _ := eval(args...); code != exitUsage {
			t.Errorf("eval run %v: exit %d, want %d", args, code, exitUsage)
		}
	}

	// A file as the set: bad lines fail the import unless skipped.
	file := filepath.Join(t.TempDir(), "smoke.jsonl")
	os.WriteFile(file, []byte(`{"question":"How do I cancel my subscription?","document_ids":["billing/refunds-and-cancellation"]}
{"question":
{"question":"Do you integrate with Paychex?","answerable":false}
`), 0o644)
	if code, _, stderr = eval("--set", file); code != exitFail || !strings.Contains(stderr, "line 2") {
		t.Errorf("file with a bad line: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr = eval("--set", file, "--skip-invalid", "--min", "refusal_correctness=1"); code != exitOK || !strings.Contains(stderr, "skipped line 2") {
		t.Errorf("--skip-invalid: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestEvalImportBEIR imports a BEIR folder with its corpus and runs it.
func TestEvalImportBEIR(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"eval", "import", "--data", dir, "--beir", "evals/beir/testdata/tiny-gz", "--ingest-corpus"}, &out, &errOut, os.Getenv)
	if code != exitOK || !strings.Contains(out.String(), "cases") || !strings.Contains(errOut.String(), "missing from the corpus") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"eval", "run", "--data", dir, "--set", "tiny-gz", "--min", "hit@5=0.8", "--min", "ndcg@10=0.5"}, &out, &errOut, os.Getenv)
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if code := run(context.Background(), []string{"eval", "import", "--data", dir, "--ingest-corpus", "x.csv"}, &out, &errOut, os.Getenv); code != exitUsage {
		t.Errorf("--ingest-corpus without --beir: exit %d", code)
	}
}

// TestEvalGateServer runs the gate against a running server, whose data
// dir is locked: the run happens on the server, the gate here.
func TestEvalGateServer(t *testing.T) {
	t.Parallel()
	dir := sampleServeDir(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "create", "--data", dir, "--name", "ci", "--role", "editor"}, &out, &errOut, os.Getenv); code != exitOK {
		t.Fatalf("keys create: %d %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key := lines[len(lines)-1]
	inst := startServe(t, dir)
	eval := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"eval", "run", "--server", inst.url, "--api-key", key}, args...), &out, &errOut, os.Getenv)
		return code, out.String(), errOut.String()
	}
	code, stdout, stderr := eval("--set", evals.SampleSetName, "--min", "hit@5=0.9", "--json")
	if code != exitOK {
		t.Fatalf("gate on a server: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep evals.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || !rep.Passed || rep.Run.Done != 90 || len(rep.Metrics) < 10 {
		t.Fatalf("report %v: %+v", err, rep.Run)
	}
	if code, stdout, _ = eval("--set", evals.SampleSetName, "--baseline", rep.Run.ID, "--max-drop", "ndcg@10=0.001", "--min", "faithfulness=1.01"); code != exitFail || !strings.Contains(stdout, "faithfulness") {
		t.Errorf("failing gate on a server: exit %d\n%s", code, stdout)
	}
	file := filepath.Join(t.TempDir(), "smoke.jsonl")
	os.WriteFile(file, []byte(`{"question":"How do I cancel my subscription?","document_ids":["billing/refunds-and-cancellation"]}`+"\n"), 0o644)
	if code, stdout, stderr = eval("--set", file, "--min", "hit@5=1"); code != exitOK {
		t.Errorf("file set on a server: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, _ = eval("--set", evals.SampleSetName, "--baseline", rep.Run.ID, "--max-drop", "hit@5=0", "--set", "smoke"); code != exitUsage {
		t.Errorf("baseline of another set: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ = eval("--set", evals.SampleSetName, "--mode", "telepathy"); code != exitUsage {
		t.Errorf("bad mode on a server: exit %d, want %d", code, exitUsage)
	}
}
