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
reported and the others still land; the exit code is then 1. Only
regular files are read: in a folder, symbolic links, FIFOs, devices and
sockets are reported as skipped; a link named on the command line is
followed to a regular file.`,
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
	if err := meta.Validate(); err != nil {
		return usageError{errors.New(store.ErrorMessage(err))}
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
	for i, in := range paths {
		data, err := in.read()
		var refused *store.Error
		switch {
		case in.folder != "" && errors.As(err, &refused) && refused.Code == store.EINVALID:
			// Not a document (a link, a FIFO, a device): like a hidden
			// entry, it is no failure of the folder's files.
			p.skipped(in.path, refused.Message)
		case err != nil:
			p.result(in.path, schema.IngestFailed, 0, 0, err.Error())
		default:
			batch = append(batch, rag.File{Name: in.path, Data: data, Meta: meta})
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

// ingestPath is a file to read: one named on the command line (folder
// empty), or one found by walking folder.
type ingestPath struct{ path, folder string }

// read reads the file: a named one through a symbolic link if it is one,
// a found one only when it is a regular file inside its folder. Either is
// refused over the parser's size limit, before it is read.
func (in ingestPath) read() ([]byte, error) {
	if in.folder == "" {
		return rag.ReadRegularFile(in.path, 0)
	}
	return rag.ReadFolderFile(in.folder, in.path, 0)
}

// collectFiles expands folders (skipping hidden entries) into file paths.
func collectFiles(args []string) ([]ingestPath, error) {
	var paths []ingestPath
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			paths = append(paths, ingestPath{path: arg})
			continue
		}
		root := arg
		if l, err := os.Lstat(arg); err == nil && l.Mode()&fs.ModeSymlink != 0 {
			// A named link to a folder is followed (WalkDir follows the
			// root only with a trailing separator); links inside are not.
			root += string(filepath.Separator)
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				paths = append(paths, ingestPath{path: path, folder: root})
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
	w                       io.Writer
	total, n, failed, skips int
	chunks                  int
	outcomes                map[schema.IngestOutcome]int
	start                   time.Time
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

// skipped prints the line of an entry that is not read, and why.
func (p *ingestPrinter) skipped(name, reason string) {
	p.n++
	p.skips++
	fmt.Fprintf(p.w, "[%*d/%d] - %-9s %s: %s\n", len(fmt.Sprint(p.total)), p.n, p.total, "skipped", name, reason)
}

func (p *ingestPrinter) summary() {
	counts := make([]string, len(schema.IngestOutcomes), len(schema.IngestOutcomes)+1)
	for i, o := range schema.IngestOutcomes {
		counts[i] = fmt.Sprintf("%d %s", p.outcomes[o], o)
	}
	counts = append(counts, fmt.Sprintf("%d skipped", p.skips))
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
