package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"llmops/rag"
	"llmops/server"
	"llmops/server/client"
	"llmops/store"
	"llmops/store/schema"
)

var ingestCmd = &command{
	name: "ingest", args: "PATH...", short: "add files and folders to the knowledge base",
	long: `Ingest files and folders (hidden entries skipped) into a data dir no
server holds (--data) or through a running server (--server, an editor
key), printing each file's outcome as it lands. A file that fails is
reported and the others still land; the exit code is then 1.`,
	run: runIngest,
}

// errFilesFailed makes ingest exit 1 after printing which files failed.
var errFilesFailed = errors.New("some files failed (see above); the others were ingested")

func runIngest(ctx context.Context, env *Env, cmd *command, args []string) error {
	fset := cmd.flagSet(env)
	app := newAppFlags(fset, env, false, false)
	// No default data dir: ingest writes, so it is told where (--data,
	// LLMOPS_DATA) or to which server.
	fset.StringVar(&app.cfg.DataDir, "data", env.Getenv("LLMOPS_DATA"), "data directory, when no server is running (LLMOPS_DATA)")
	serverURL := fset.String("server", "", "URL of a running llmops serve")
	apiKey := apiKeyFlag(fset, env, "editor")
	meta := rag.Meta{}
	fset.StringVar(&meta.Category, "category", "", "category of every file")
	fset.StringVar(&meta.ProductVersion, "product-version", "", "product version of every file")
	tags := fset.String("tags", "", "comma-separated tags of every file")
	fset.StringVar(&meta.SourceURL, "source-url", "", "source URL (for a single file)")
	if err := cmd.parse(env, fset, args, true); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if *tags != "" {
		meta.Tags = strings.Split(*tags, ",")
	}
	switch {
	case fset.NArg() == 0:
		return usagef("give at least one file or folder to ingest")
	case *serverURL == "" && app.cfg.DataDir == "", *serverURL != "" && set(fset, "data"):
		return usagef("give exactly one of --data DIR or --server URL")
	case *serverURL != "" && apiKey.Value() == "":
		return usagef("--server needs --api-key (or LLMOPS_API_KEY)")
	}
	paths, err := collectFiles(fset.Args())
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return errors.New("no files found in the given paths")
	}
	p := &ingestPrinter{w: env.Stdout, total: len(paths), start: time.Now()}
	var ingest func(batch []rag.File) error
	if *serverURL != "" {
		cl := client.New(*serverURL, apiKey.Value())
		fields := map[string]string{"category": meta.Category, "product_version": meta.ProductVersion, "tags": *tags, "source_url": meta.SourceURL}
		ingest = func(batch []rag.File) error {
			ups := make([]client.Upload, len(batch))
			for i, f := range batch {
				ups[i] = client.Upload{Name: f.Name, Data: f.Data}
			}
			results, err := cl.Ingest(ctx, ups, fields, nil)
			for _, r := range results {
				p.result(r.Name, r.Outcome, r.Chunks, r.Millis, r.Error)
			}
			return err
		}
	} else {
		a, err := app.open(ctx, env, server.AppOptions{})
		if err != nil {
			return err
		}
		defer a.Close(context.WithoutCancel(ctx))
		actor := store.Actor{Kind: store.ActorCLI, Name: cliUser(env.Getenv)}
		ingest = func(batch []rag.File) error {
			for _, r := range a.Knowledge.Ingest(ctx, actor, batch, nil) {
				p.result(r.Name, r.Outcome, r.Chunks, r.Millis, r.Error)
			}
			return ctx.Err()
		}
	}
	// Read and send in batches so a big folder never sits in memory whole.
	const batchFiles, batchBytes = 64, 32 << 20
	var batch []rag.File
	size := 0
	for i, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			p.result(path, schema.IngestFailed, 0, 0, err.Error())
		} else {
			batch = append(batch, rag.File{Name: path, Data: data, Meta: meta})
			size += len(data)
		}
		if len(batch) > 0 && (len(batch) == batchFiles || size >= batchBytes || i == len(paths)-1) {
			if err := ingest(batch); err != nil {
				return err
			}
			batch, size = batch[:0], 0
		}
	}
	p.summary()
	if p.failed > 0 {
		return errFilesFailed
	}
	return nil
}

// collectFiles expands folders (skipping hidden entries) into file paths.
func collectFiles(args []string) ([]string, error) {
	var paths []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			paths = append(paths, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != arg && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				paths = append(paths, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// ingestPrinter prints one line per file as it lands, then a summary.
type ingestPrinter struct {
	w                io.Writer
	total, n, failed int
	chunks           int
	outcomes         map[schema.IngestOutcome]int
	start            time.Time
}

// ingestMarks is the sign each outcome's line starts with.
var ingestMarks = map[schema.IngestOutcome]string{schema.IngestCreated: "+", schema.IngestUpdated: "~",
	schema.IngestUnchanged: "=", schema.IngestDuplicate: "=", schema.IngestFailed: "✕"}

func (p *ingestPrinter) result(name string, outcome schema.IngestOutcome, chunks int, ms int64, errText string) {
	p.n++
	if p.outcomes == nil {
		p.outcomes = map[schema.IngestOutcome]int{}
	}
	p.outcomes[outcome]++
	p.chunks += chunks
	mark := ingestMarks[outcome]
	line := fmt.Sprintf("[%*d/%d] %s %-9s %s", len(fmt.Sprint(p.total)), p.n, p.total, mark, outcome, name)
	if outcome == schema.IngestFailed {
		p.failed++
		line += ": " + errText
	} else {
		line += fmt.Sprintf(" (%s, %dms)", plural(chunks, "chunk", "chunks"), ms)
	}
	fmt.Fprintln(p.w, line)
}

func (p *ingestPrinter) summary() {
	counts := make([]string, len(schema.IngestOutcomes))
	for i, o := range schema.IngestOutcomes {
		counts[i] = fmt.Sprintf("%d %s", p.outcomes[o], o)
	}
	fmt.Fprintf(p.w, "%d files in %s: %s; %d chunks\n", p.n, time.Since(p.start).Round(time.Millisecond), strings.Join(counts, ", "), p.chunks)
}

var reindexCmd = &command{
	name: "reindex", short: "rebuild the keyword and vector indexes from the store",
	run: func(ctx context.Context, env *Env, cmd *command, args []string) error {
		fs := cmd.flagSet(env)
		app := newAppFlags(fs, env, true, false)
		if err := cmd.parse(env, fs, args, false); err != nil {
			return err
		}
		if err := app.done(); err != nil {
			return err
		}
		start := time.Now()
		a, err := app.open(ctx, env, server.AppOptions{})
		if err != nil {
			return err
		}
		defer a.Close(context.WithoutCancel(ctx))
		if !a.Knowledge.Rebuilt() {
			if err := a.Knowledge.Reindex(ctx); err != nil {
				return err
			}
		}
		stats, err := a.Knowledge.Stats(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Reindexed %d documents, %d chunks, %d vectors in %s\n", stats.Documents, stats.Chunks, stats.Vectors, time.Since(start).Round(time.Millisecond))
		return nil
	},
}
