package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"llmops/evals"
	"llmops/evals/beir"
	"llmops/evals/cases"
	"llmops/server"
	"llmops/store"
	"llmops/store/schema"
)

var evalImportCmd = &command{
	name: "eval import", args: "FILE | --beir DIR", short: "import a test set (CSV, JSONL, JSON or a BEIR folder)",
	long: `Import a CSV/JSONL/JSON file or a BEIR folder as a test set; a set that
exists gets a new version when its cases changed. With --beir DIR
--ingest-corpus the corpus is ingested too (as beir/NAME/ID.txt), so a
BEIR set runs end to end.`,
	run: runEvalImport,
}

var evalSetsCmd = &command{
	name: "eval sets", short: "list test sets and their latest runs",
	run: runEvalSets,
}

// runEvalImport imports a CSV/JSONL/JSON file or a BEIR folder as a test
// set (a new version when the set exists and the cases changed).
func runEvalImport(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, true, false)
	name := fs.String("name", "", "test set name (default: the file or folder name)")
	desc := fs.String("description", "", "what the set covers")
	beirDir := fs.String("beir", "", "a BEIR folder (corpus.jsonl(.gz), queries.jsonl(.gz), qrels/SPLIT.tsv) instead of a file")
	split := fs.String("split", "test", "the BEIR qrels split")
	ingestCorpus := fs.Bool("ingest-corpus", false, "with --beir: also ingest the corpus into the knowledge base (as beir/NAME/ID.txt)")
	skip := fs.Bool("skip-invalid", false, "skip invalid lines (each is reported) instead of failing")
	if err := cmd.parse(env, fs, args, true); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if (*beirDir == "") == (fs.NArg() != 1) {
		return usagef("give one FILE or --beir DIR")
	}
	if *ingestCorpus {
		if *beirDir == "" {
			return usagef("--ingest-corpus needs --beir DIR")
		}
		if err := ingestBEIR(ctx, env, app, *beirDir); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, app.cfg.DataDir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	actor := store.Actor{Kind: store.ActorCLI, Name: cliUser(env.Getenv)}
	var imp *evals.Import
	if *beirDir != "" {
		imp, err = evals.ImportBEIR(ctx, st, actor, *name, *beirDir, *split)
	} else {
		data, rerr := os.ReadFile(fs.Arg(0))
		if rerr != nil {
			return rerr
		}
		imp, err = evals.ImportFile(ctx, st, actor, *name, *desc, fs.Arg(0), data, cases.Options{SkipInvalid: *skip})
	}
	if err != nil {
		return err
	}
	for _, l := range imp.Skipped {
		fmt.Fprintf(env.Stderr, "skipped %s\n", l.Error())
	}
	for _, n := range imp.Notes {
		fmt.Fprintln(env.Stderr, n)
	}
	fmt.Fprintf(env.Stdout, "%s v%d: %d cases (set %s)\n", imp.Set.Name, imp.Set.Version, imp.Set.Cases, imp.Set.ID)
	return nil
}

// ingestBEIR ingests a BEIR corpus into a data dir's knowledge base.
func ingestBEIR(ctx context.Context, env *Env, app *appFlags, dir string) error {
	ds, err := beir.Load(dir, beir.LoadOptions{})
	if err != nil {
		return err
	}
	a, err := app.open(ctx, env, server.AppOptions{})
	if err != nil {
		return err
	}
	defer a.Close(context.WithoutCancel(ctx))
	kb := a.Knowledge
	files := evals.BEIRFiles(ds)
	start := time.Now()
	counts := map[schema.IngestOutcome]int{}
	for _, r := range kb.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: cliUser(env.Getenv)}, files, nil) {
		counts[r.Outcome]++
		if r.Outcome == schema.IngestFailed && counts[schema.IngestFailed] <= 5 {
			fmt.Fprintf(env.Stderr, "%s: %s\n", r.Name, r.Error)
		}
	}
	if j := kb.CurrentJob(); j != nil {
		j.Wait()
	}
	fmt.Fprintf(env.Stdout, "corpus %s: %d documents in %s (%v)\n", ds.Name, len(files), time.Since(start).Round(time.Millisecond), counts)
	if counts[schema.IngestFailed] > 0 {
		return errFilesFailed
	}
	return nil
}

// runEvalSets lists test sets and their latest runs.
func runEvalSets(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, true, false)
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	st, err := store.Open(ctx, app.cfg.DataDir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	sets, err := st.TestSets(ctx)
	if err != nil {
		return err
	}
	for _, t := range sets {
		fmt.Fprintf(env.Stdout, "%-28s v%-3d %5d cases  %s\n", t.Name, t.Version, t.Cases, t.ID)
		runs, err := st.Runs(ctx, t.ID, 3)
		if err != nil {
			return err
		}
		for _, r := range runs {
			fmt.Fprintf(env.Stdout, "    run %s  %-10s %d/%d  %s\n", r.ID, r.Status, r.Done, r.Total, r.CreatedAt.Local().Format("2006-01-02 15:04"))
		}
	}
	return nil
}
