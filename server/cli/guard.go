package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"llmops/rag/chunk"
	"llmops/rag/guard/injection"
	"llmops/rag/parse"
	sampledata "llmops/sample-data"
)

// defaultInjectionData is where the labelled injection set lives beside
// the repository's worktrees.
const defaultInjectionData = "../shared/datasets/prompt-injections"

var guardTrainCmd = &command{
	name: "guard train", short: "train the prompt-injection classifier from labelled data",
	long: `Train the prompt-injection classifier (rag/guard/injection) on the rows of
--data whose split is "train" (all rows when none says), and write the model
file to --out. Every setting of the grid is cross-validated on the training
rows (5 folds; the threshold is the one of best F1 at precision ≥ 0.95);
the setting of best cross-validated F1 among those flagging at most 1 % of
--benign (ordinary support questions, never trained on) is trained on all
training rows and written. The same data gives a byte-identical file.
--data is a JSONL file or a folder holding data.jsonl, one
{"text", "label": 0|1, "split"} a line. --extra adds hand-written labelled
rows (same format; every row's split must be "train" or absent) to the
training rows: by default rag/guard/injection/testdata/authored_train.jsonl,
attack kinds the deepset train split has few of (see docs/INJECTION.md).
--grid segments adds the settings that also score each sentence (or the
text from each sentence on) by itself; the default grid scores texts whole.`,
	run: runGuardTrain,
}

func runGuardTrain(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	data := fs.String("data", defaultInjectionData, "labelled data: a JSONL file or a folder holding data.jsonl")
	out := fs.String("out", "rag/guard/injection/model.bin", "model file to write")
	benign := fs.String("benign", "rag/guard/injection/testdata/benign_support.txt,rag/guard/injection/testdata/benign_passages.txt,rag/guard/injection/testdata/benign_context.txt",
		"benign validation texts, one a line: comma-separated files (\"\" for none)")
	extra := fs.String("extra", "rag/guard/injection/testdata/authored_train.jsonl",
		"more labelled training rows (JSONL, split \"train\" or none): comma-separated files (\"\" for none)")
	asJSON := fs.Bool("json", false, "print the candidates and the chosen model as JSON")
	bits := fs.Int("bits", 0, "hash table size 2^bits (default 18; small tables train faster, for tests)")
	gridName := fs.String("grid", "default", `settings to try: "default" (texts scored whole) or "segments" (also every way of scoring sentences on their own)`)
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	var grid []injection.Options
	switch *gridName {
	case "default":
		grid = injection.DefaultGrid()
	case "segments":
		grid = injection.SegmentGrid()
	default:
		return usagef("--grid %q: want default or segments", *gridName)
	}
	for i := range grid {
		grid[i].Bits = *bits
	}
	all, err := injection.Load(*data)
	if err != nil {
		return err
	}
	train := injection.Split(all, "train")
	if len(train) == 0 {
		train = all
	}
	nData := len(train)
	for _, name := range strings.Split(*extra, ",") {
		if name == "" {
			continue
		}
		rows, err := injection.Load(name)
		if err != nil {
			return err
		}
		for i, r := range rows {
			if r.Split != "" && r.Split != "train" {
				return fmt.Errorf("%s: row %d has split %q; --extra rows are training rows only", name, i+1, r.Split)
			}
		}
		train = append(train, rows...)
	}
	var val []string
	for _, name := range strings.Split(*benign, ",") {
		if name == "" {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		lines, err := injection.ReadLines(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		val = append(val, lines...)
	}
	fmt.Fprintf(env.Stderr, "training on %d rows (%d from --data, %d from --extra), %d benign validation texts, %d settings\n",
		len(train), nData, len(train)-nData, len(val), len(grid))
	m, cands, err := injection.Select(train, val, grid)
	if err != nil {
		return err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"candidates": cands, "model": m.Info(), "bytes": len(b), "out": *out})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "features\tsegments\ttails\tsentence negatives\tl2\tcv f1\tcv precision\tcv recall\tthreshold\tbenign flagged")
	for _, c := range cands {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%g\t%.3f\t%.3f\t%.3f\t%.3f\t%d/%d\n", c.CV.Name, c.Segments, c.Tails, c.SentenceNegatives, c.L2, c.CV.F1, c.CV.Precision, c.CV.Recall, c.CV.Threshold, c.BenignFP, len(val))
	}
	tw.Flush()
	i := m.Info()
	fmt.Fprintf(env.Stdout, "chose %s (segments %v, tails %v, sentence negatives %v), threshold %.3f, cv f1 %.3f; wrote %s (%d bytes)\n", i.Features, i.Segments, i.Tails, i.SentenceNegatives, i.Threshold, i.CVF1, *out, len(b))
	return nil
}

var benchInjectionCmd = &command{
	name: "bench injection", short: "precision, recall and F1 of the injection classifier; false flags on the sample data",
	long: `Measure the shipped prompt-injection classifier (or --model FILE): precision,
recall and F1 on the test split of --data (all rows when none is marked
test), the rules of rag/guard alone on the same rows, how many of the
sample eval questions and sample help-centre chunks it flags (all are
benign), and the median time of one Score on a 50-word question.
--data is a JSONL file or a folder holding data.jsonl: {"text", "label":
0|1 or "injection": true|false, "split"} a line.`,
	run: runBenchInjection,
}

// injectionReport is bench injection's result (--json prints it).
type injectionReport struct {
	Model          injection.Info    `json:"model"`
	Data           string            `json:"data"`
	Rows           int               `json:"rows"`
	Classifier     injection.Metrics `json:"classifier"`
	RulesOnly      injection.Metrics `json:"rules_only"`
	SampleQ        int               `json:"sample_questions"`
	SampleQFlagged []string          `json:"sample_questions_flagged"`
	Chunks         int               `json:"sample_chunks"`
	ChunksFlagged  int               `json:"sample_chunks_flagged"`
	ScoreP50us     float64           `json:"score_50_words_p50_us"`
}

func runBenchInjection(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	data := fs.String("data", defaultInjectionData, "labelled data: a JSONL file or a folder holding data.jsonl")
	modelFile := fs.String("model", "", "model file (default: the one in the binary)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	m := injection.Default()
	if *modelFile != "" {
		b, err := os.ReadFile(*modelFile)
		if err != nil {
			return err
		}
		m = new(injection.Model)
		if err := m.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("%s: %w", *modelFile, err)
		}
	}
	all, err := injection.Load(*data)
	if err != nil {
		return err
	}
	rows := injection.Split(all, "test")
	if len(rows) == 0 {
		rows = all
	}
	rep := injectionReport{Model: m.Info(), Data: *data, Rows: len(rows), Classifier: m.Evaluate(rows), RulesOnly: injection.EvaluateRules(rows), SampleQFlagged: []string{}}
	qs, err := sampledata.Questions()
	if err != nil {
		return err
	}
	for _, q := range qs {
		rep.SampleQ++
		if m.Flagged(m.Score(q.Question)) {
			rep.SampleQFlagged = append(rep.SampleQFlagged, q.ID+": "+q.Question)
		}
	}
	chunks, err := sampleChunks(ctx)
	if err != nil {
		return err
	}
	rep.Chunks = len(chunks)
	for _, c := range chunks {
		if m.Flagged(m.Score(c)) {
			rep.ChunksFlagged++
		}
	}
	rep.ScoreP50us = scoreP50(m, fiftyWords).Seconds() * 1e6
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	w := env.Stdout
	i := rep.Model
	fmt.Fprintf(w, "model               %s (segments %v), 2^%d weights, threshold %.3f, trained on %d rows (cv f1 %.3f)\n", i.Features, i.Segments, i.Bits, i.Threshold, i.Examples, i.CVF1)
	line := func(name string, r injection.Metrics) {
		fmt.Fprintf(w, "%-19s tp %d fp %d fn %d tn %d: precision %.3f recall %.3f F1 %.3f\n", name, r.TP, r.FP, r.FN, r.TN, r.Precision, r.Recall, r.F1)
	}
	fmt.Fprintf(w, "data                %s: %d rows\n", rep.Data, rep.Rows)
	line("classifier", rep.Classifier)
	line("rules alone", rep.RulesOnly)
	fmt.Fprintf(w, "sample questions    %d of %d flagged\n", len(rep.SampleQFlagged), rep.SampleQ)
	for _, q := range rep.SampleQFlagged {
		fmt.Fprintf(w, "  %s\n", q)
	}
	fmt.Fprintf(w, "sample chunks       %d of %d flagged\n", rep.ChunksFlagged, rep.Chunks)
	fmt.Fprintf(w, "Score, 50 words     p50 %.1f µs\n", rep.ScoreP50us)
	return nil
}

// fiftyWords is a 50-word support question, the size the answer path's
// guard budget is stated for.
const fiftyWords = "Hi, we run three cafés and our managers keep asking the same thing: when an employee swaps a shift with a colleague at another location, does the swap still need approval from both managers, and will the hours show up correctly in the Gusto payroll export at the end of the month?"

// scoreP50 is the median time of one Score of text, over 100 batches of
// 20 calls after a warm-up.
func scoreP50(m *injection.Model, text string) time.Duration {
	for range 50 {
		m.Score(text)
	}
	var d []time.Duration
	for range 100 {
		start := time.Now()
		for range 20 {
			m.Score(text)
		}
		d = append(d, time.Since(start)/20)
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// sampleChunks parses and chunks the sample help centre as ingestion
// does (default chunking config) and returns each chunk's text with its
// headings, the text ingestion checks.
func sampleChunks(ctx context.Context) ([]string, error) {
	tok, err := chunk.NewTokenizer()
	if err != nil {
		return nil, err
	}
	var out []string
	err = fs.WalkDir(sampledata.FS(), "docs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sampledata.FS(), p)
		if err != nil {
			return err
		}
		doc, err := parse.Parse(ctx, filepath.Base(p), b, parse.Limits{})
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		cs, err := chunk.Split(doc, chunk.DefaultConfig(), tok)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, c := range cs {
			out = append(out, c.Text+"\n"+strings.Join(c.Headings, "\n"))
		}
		return nil
	})
	return out, err
}
