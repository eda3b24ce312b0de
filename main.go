// Command llmops runs a whole LLMOps practice in one process: knowledge
// base, RAG assistant, prompts, traces, evals and review. main stays thin:
// it picks the subcommand, parses its flags and hands over to server/store.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"llmops/evals"
	"llmops/evals/beir"
	"llmops/evals/bench"
	"llmops/evals/cases"
	"llmops/evals/gate"
	"llmops/rag"
	"llmops/rag/assistant"
	"llmops/rag/llm"
	sampledata "llmops/sample-data"
	"llmops/server"
	"llmops/server/client"
	"llmops/store"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes: 0 ok, 1 the command failed, 2 it was called wrongly.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `llmops: a self-hosted LLMOps platform in one binary.

Usage:
  llmops serve   [--addr 127.0.0.1:8080] [--data ./llmops-data] [--no-sample]
  llmops keys create --data DIR --name NAME --role admin|editor|reviewer|viewer
  llmops ingest  [--data DIR | --server URL --api-key KEY] [--category C] [--product-version V] [--tags a,b] PATH...
  llmops ask     [--data DIR | --server URL --api-key KEY] [--json] [--category C] [--product-version V] [--tags a,b] [--top-k 5] QUESTION
  llmops reindex --data DIR
  llmops eval run    [--data DIR | --server URL --api-key KEY] --set NAME|FILE [--min metric=value ...] [--baseline RUN_ID --max-drop metric=value ...] [--max-errors 0] [--json] [--junit FILE]
  llmops eval import [--data DIR] [--name NAME] [--skip-invalid] FILE | --beir DIR [--ingest-corpus]
  llmops eval sets   [--data DIR]
  llmops bench ingest [--docs 10000] [--sections 10] [--dir DIR]
  llmops bench ask   [--docs 1000] [--rounds 10]
  llmops bench chat  [--concurrency 50] [--duration 60s] [--ttft 1s]
  llmops bench retrieval --beir DIR [--ignore-identical-ids] [--json] [--limit N]
  llmops bench eval  [--cases 1000] [--concurrency 0]
  llmops backup  --data DIR --out FILE | --server URL --api-key KEY --out FILE
  llmops version

Run "llmops COMMAND --help" for a command's flags.
`

// usageError is a wrongly called command: printed on one line, exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr, getenv)
	case "keys":
		err = runKeys(ctx, rest, stdout, stderr, getenv)
	case "backup":
		err = runBackup(ctx, rest, stdout, stderr, getenv)
	case "ingest":
		err = runIngest(ctx, rest, stdout, stderr, getenv)
	case "reindex":
		err = runReindex(ctx, rest, stdout, stderr, getenv)
	case "ask":
		err = runAsk(ctx, rest, stdout, stderr, getenv)
	case "eval":
		err = runEval(ctx, rest, stdout, stderr, getenv)
	case "bench":
		err = runBench(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "llmops %s (schema %d)\n", version, store.SchemaVersion())
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		err = usageError{fmt.Errorf("unknown command %q (try llmops help)", cmd)}
	}
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "llmops %s: %v\n", args[0], ue.err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "llmops %s: %v\n", args[0], err)
		return exitFail
	}
}

// runServe starts the server and blocks until ctx ends (SIGINT/SIGTERM),
// then shuts down gracefully.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := server.ParseServeFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return usageError{err}
	}
	log := newLogger(stderr, cfg.LogLevel)
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	fmt.Fprintf(stdout, "llmops %s is running at %s (data: %s)\n", version, srv.URL(), cfg.DataDir)
	if setup := srv.SetupURL(); setup != "" {
		fmt.Fprintf(stdout, "First run: create the admin account at\n  %s\n(this one-time link works until setup is done; keep it private)\n", setup)
	}
	err = srv.Run(ctx)
	fmt.Fprintln(stdout, "llmops stopped")
	return err
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv}))
}

// runKeys manages API keys offline, so a VM can be set up headless: the
// new key is printed alone on the last line of stdout.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{errors.New("want: llmops keys create --data DIR --name NAME --role ROLE")}
	}
	fs := flag.NewFlagSet("llmops keys create", flag.ContinueOnError)
	dataDir := fs.String("data", "./llmops-data", "data directory")
	name := fs.String("name", "", "what the key is for, e.g. \"CI eval gate\"")
	roleName := fs.String("role", "", "admin, editor, reviewer or viewer")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	if *name == "" {
		return usageError{errors.New("--name is required")}
	}
	role, err := store.ParseRole(*roleName)
	if err != nil {
		return usageError{errors.New(store.ErrorMessage(err))}
	}
	st, err := store.Open(ctx, *dataDir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	secret, k, err := st.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: cliUser(getenv)}, *name, role)
	if err != nil {
		return errors.New(store.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "Created API key %q (id %s, role %s). It is shown once; store it now:\n%s\n", k.Name, k.ID, k.Role, secret)
	return nil
}

// runBackup writes a consistent copy of the database, from the data dir
// or, while a server holds it, from the server's backup endpoint.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops backup", flag.ContinueOnError)
	dataDir := fs.String("data", "", "data directory (when no server is running)")
	serverURL := fs.String("server", "", "URL of a running llmops serve")
	apiKey := fs.String("api-key", getenv("LLMOPS_API_KEY"), "admin API key for --server (LLMOPS_API_KEY)")
	out := fs.String("out", "", "file to write the backup to")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	switch {
	case *out == "":
		return usageError{errors.New("--out is required")}
	case (*dataDir == "") == (*serverURL == ""):
		return usageError{errors.New("give exactly one of --data DIR or --server URL")}
	case *serverURL != "" && *apiKey == "":
		return usageError{errors.New("--server needs --api-key (or LLMOPS_API_KEY)")}
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".llmops-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	var n int64
	if *dataDir != "" {
		n, err = backupLocal(ctx, *dataDir, tmp)
	} else {
		n, err = backupRemote(ctx, *serverURL, *apiKey, tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Write-then-rename: an interrupted backup never leaves a partial file
	// under the requested name.
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backup written to %s (%d bytes)\n", *out, n)
	return nil
}

func backupLocal(ctx context.Context, dataDir string, w io.Writer) (int64, error) {
	st, err := store.Open(ctx, dataDir, store.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Backup(ctx, w, nil)
}

func backupRemote(ctx context.Context, base, key string, w io.Writer) (int64, error) {
	return client.New(base, key).Backup(ctx, w)
}

// parseFlags parses a command's flags (and no positional arguments),
// turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, help io.Writer) error {
	if err := parseFlagsWithArgs(fs, args, help); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func cliUser(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

// errFilesFailed makes ingest exit 1 after printing which files failed.
var errFilesFailed = errors.New("some files failed (see above); the others were ingested")

// runIngest ingests files and folders, locally into a data dir or through
// a running server, printing each file's outcome as it lands.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops ingest", flag.ContinueOnError)
	dataDir := fs.String("data", "", "data directory (when no server is running)")
	serverURL := fs.String("server", "", "URL of a running llmops serve")
	apiKey := fs.String("api-key", getenv("LLMOPS_API_KEY"), "editor API key for --server (LLMOPS_API_KEY)")
	meta := rag.Meta{}
	fs.StringVar(&meta.Category, "category", "", "category of every file")
	fs.StringVar(&meta.ProductVersion, "product-version", "", "product version of every file")
	tags := fs.String("tags", "", "comma-separated tags of every file")
	fs.StringVar(&meta.SourceURL, "source-url", "", "source URL (for a single file)")
	if err := parseFlagsWithArgs(fs, args, stderr); err != nil {
		return err
	}
	if *tags != "" {
		meta.Tags = strings.Split(*tags, ",")
	}
	switch {
	case fs.NArg() == 0:
		return usageError{errors.New("give at least one file or folder to ingest")}
	case (*dataDir == "") == (*serverURL == ""):
		return usageError{errors.New("give exactly one of --data DIR or --server URL")}
	case *serverURL != "" && *apiKey == "":
		return usageError{errors.New("--server needs --api-key (or LLMOPS_API_KEY)")}
	}
	paths, err := collectFiles(fs.Args())
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return errors.New("no files found in the given paths")
	}
	p := &ingestPrinter{w: stdout, total: len(paths), start: time.Now()}
	var ingest func(batch []rag.File) error
	if *serverURL != "" {
		cl := client.New(*serverURL, *apiKey)
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
		st, kb, err := openKnowledge(ctx, *dataDir, getenv, stderr)
		if err != nil {
			return err
		}
		defer st.Close()
		defer kb.Close()
		actor := store.Actor{Kind: store.ActorCLI, Name: cliUser(getenv)}
		ingest = func(batch []rag.File) error {
			for _, r := range kb.Ingest(ctx, actor, batch, nil) {
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
			p.result(path, "failed", 0, 0, err.Error())
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

// openKnowledge opens a data dir's store and knowledge base for offline
// commands, with the embedding API from the environment if one is set.
func openKnowledge(ctx context.Context, dataDir string, getenv func(string) string, logw io.Writer) (*store.Store, *rag.KnowledgeBase, error) {
	st, err := store.Open(ctx, dataDir, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	opts := rag.Options{IndexDir: filepath.Join(dataDir, "index"), Logger: newLogger(logw, "warn")}
	// Test seam: stall forever right after the Nth store commit, before the
	// indexes see it, so a test can SIGKILL the process in that window.
	if n, err := strconv.Atoi(getenv("LLMOPS_TEST_STALL_AFTER_COMMIT")); err == nil && n > 0 {
		commits := 0
		opts.AfterCommit = func() {
			if commits++; commits == n {
				fmt.Fprintf(logw, "stalled after commit %d\n", n)
				select {}
			}
		}
	}
	if u := getenv("LLMOPS_EMBED_BASE_URL"); u != "" {
		opts.Remote = &rag.RemoteEmbedding{BaseURL: u, APIKey: getenv("LLMOPS_EMBED_API_KEY"), Model: getenv("LLMOPS_EMBED_MODEL")}
	}
	kb, err := rag.Open(ctx, st, opts)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, kb, nil
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
	outcomes         map[string]int
	start            time.Time
}

func (p *ingestPrinter) result(name, outcome string, chunks int, ms int64, errText string) {
	p.n++
	if p.outcomes == nil {
		p.outcomes = map[string]int{}
	}
	p.outcomes[outcome]++
	p.chunks += chunks
	mark := map[string]string{"created": "+", "updated": "~", "unchanged": "=", "duplicate": "=", "failed": "✕"}[outcome]
	line := fmt.Sprintf("[%*d/%d] %s %-9s %s", len(fmt.Sprint(p.total)), p.n, p.total, mark, outcome, name)
	if outcome == "failed" {
		p.failed++
		line += ": " + errText
	} else {
		line += fmt.Sprintf(" (%s, %dms)", plural(chunks, "chunk", "chunks"), ms)
	}
	fmt.Fprintln(p.w, line)
}

func (p *ingestPrinter) summary() {
	fmt.Fprintf(p.w, "%d files in %s: %d created, %d updated, %d unchanged, %d duplicate, %d failed; %d chunks\n",
		p.n, time.Since(p.start).Round(time.Millisecond), p.outcomes["created"], p.outcomes["updated"], p.outcomes["unchanged"],
		p.outcomes["duplicate"], p.failed, p.chunks)
}

// runReindex rebuilds the search indexes from the store.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops reindex", flag.ContinueOnError)
	dataDir := fs.String("data", "./llmops-data", "data directory")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	start := time.Now()
	st, kb, err := openKnowledge(ctx, *dataDir, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	defer kb.Close()
	if !kb.Rebuilt() {
		if err := kb.Reindex(ctx); err != nil {
			return err
		}
	}
	stats, err := kb.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Reindexed %d documents, %d chunks, %d vectors in %s\n", stats.Documents, stats.Chunks, stats.Vectors, time.Since(start).Round(time.Millisecond))
	return nil
}

// parseFlagsWithArgs is parseFlags for commands that take positional
// arguments after their flags.
func parseFlagsWithArgs(fs *flag.FlagSet, args []string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(help, "Usage of %s:\n", fs.Name())
		fs.SetOutput(help)
		fs.PrintDefaults()
		return err
	} else if err != nil {
		return usageError{err}
	}
	return nil
}

// runBench runs a named benchmark; results go to docs/BENCHMARKS.md.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ask" {
		return runBenchAsk(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "chat" {
		return runBenchChat(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "retrieval" {
		return runBenchRetrieval(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "eval" {
		return runBenchEval(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "ingest" {
		return usageError{errors.New("want: llmops bench ingest|ask|chat|retrieval|eval [flags]")}
	}
	fs := flag.NewFlagSet("llmops bench ingest", flag.ContinueOnError)
	docs := fs.Int("docs", 10000, "synthetic documents to ingest")
	sections := fs.Int("sections", 10, "sections (about one chunk each) per document")
	dir := fs.String("dir", "", "data dir to build (default: a temporary one, removed after)")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "llmops-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	vocab, err := sampledata.Vocabulary()
	if err != nil {
		return err
	}
	rep, err := rag.BenchIngest(ctx, rag.IngestBenchOptions{Dir: *dir, Documents: *docs, Sections: *sections, Vocab: vocab, Seed: 1}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "documents           %d\n", rep.Documents)
	fmt.Fprintf(stdout, "chunks              %d\n", rep.Chunks)
	fmt.Fprintf(stdout, "ingest              %s (%.0f chunks/s end to end)\n", rep.Ingest.Round(time.Millisecond), rep.ChunksPerSec)
	fmt.Fprintf(stdout, "reopen to ready     %s (rebuilt: %v)\n", rep.Reopen.Round(time.Millisecond), rep.Rebuilt)
	fmt.Fprintf(stdout, "RSS after reopen    %.0f MiB (Go heap in use %.0f MiB)\n", rep.RSSMiB, rep.HeapMiB)
	fmt.Fprintf(stdout, "BM25 query p50      %s\n", rep.QueryKeyword)
	fmt.Fprintf(stdout, "vector query p50    %s (embedding excluded)\n", rep.QueryVector)
	fmt.Fprintf(stdout, "store file          %.0f MiB; keyword index %.0f MiB\n", rep.StoreFileMiB, rep.IndexDirMiB)
	fmt.Fprintf(stdout, "embedding model     %s\n", rep.EmbedModel)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// runAsk answers a question: from a data dir (no server running) or from
// a running server (--server). Either way the answer is recorded as a
// trace; --json prints the object POST /api/v1/ask returns.
func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops ask", flag.ContinueOnError)
	dataDir := fs.String("data", getenv("LLMOPS_DATA"), "data directory (default ./llmops-data)")
	serverURL := fs.String("server", "", "URL of a running llmops serve")
	apiKey := fs.String("api-key", getenv("LLMOPS_API_KEY"), "viewer API key for --server (LLMOPS_API_KEY)")
	asJSON := fs.Bool("json", false, "print the answer object as JSON")
	var req assistant.Request
	fs.IntVar(&req.TopK, "top-k", assistant.DefaultTopK, "chunks given to the answerer")
	fs.StringVar(&req.Filters.Category, "category", "", "only documents of this category")
	fs.StringVar(&req.Filters.ProductVersion, "product-version", "", "only documents of this product version")
	tags := fs.String("tags", "", "only documents with one of these comma-separated tags")
	fs.StringVar(&req.ConversationID, "conversation", "", "continue this conversation (its ID from an earlier --json answer)")
	if err := parseFlagsWithArgs(fs, args, stderr); err != nil {
		return err
	}
	req.Question = strings.TrimSpace(strings.Join(fs.Args(), " "))
	if *tags != "" {
		req.Filters.Tags = strings.Split(*tags, ",")
	}
	if req.Question == "" {
		return usageError{errors.New("give a question, e.g. llmops ask how do I cancel my subscription")}
	}
	if err := req.Validate(); err != nil {
		return usageError{err}
	}
	if *serverURL != "" && *apiKey == "" {
		return usageError{errors.New("--server needs --api-key (or LLMOPS_API_KEY)")}
	}

	var res assistant.Result
	if *serverURL != "" {
		if err := client.New(*serverURL, *apiKey).JSON(ctx, "/api/v1/ask", req, &res); err != nil {
			return err
		}
	} else {
		st, kb, err := openKnowledge(ctx, orDataDir(*dataDir), getenv, stderr)
		if err != nil {
			return err
		}
		defer st.Close()
		defer kb.Close()
		cfg := server.ModelConfig(getenv)
		tw := st.NewTraceWriter(store.TraceWriterOptions{})
		prices, _, err := server.LoadPrices(ctx, st)
		if err != nil {
			return err
		}
		asst, err := server.NewAssistant(cfg, st, kb, tw, newLogger(stderr, "warn"), func() *llm.PriceTable { return prices })
		if err != nil {
			return err
		}
		req.Channel, req.Actor = "cli", store.Actor{Kind: store.ActorCLI, Name: cliUser(getenv)}
		r, err := asst.Ask(ctx, req, nil)
		if cerr := tw.Close(context.WithoutCancel(ctx)); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		res = *r
	}

	if *asJSON {
		if res.Citations == nil {
			res.Citations = []assistant.Citation{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintln(stdout, res.Answer)
	if len(res.Citations) > 0 {
		fmt.Fprintln(stdout, "\nSources:")
		for _, c := range res.Citations {
			where := c.Source
			if c.Page > 0 {
				where += fmt.Sprintf(", p. %d", c.Page)
			}
			fmt.Fprintf(stdout, "  [%d] %s (%s)\n", c.N, c.Title, where)
		}
	}
	if res.Fallback {
		fmt.Fprintln(stdout, "\nNot answered from the docs: flagged for a human.")
	}
	fmt.Fprintf(stdout, "\ngroundedness %.2f · %s · %dms · trace %s\n", res.Groundedness, res.Model, res.LatencyMS, res.TraceID)
	return nil
}

// runBenchAsk measures the whole answer path with the extractive answerer.
func runBenchAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("llmops bench ask", flag.ContinueOnError)
	docs := fs.Int("docs", 1000, "synthetic documents (10 chunks each) beside the sample help centre")
	rounds := fs.Int("rounds", 10, "times the sample eval set is asked")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	rep, err := server.BenchAsk(ctx, server.AskBenchOptions{Documents: *docs, Rounds: *rounds}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chunks              %d\n", rep.Chunks)
	fmt.Fprintf(stdout, "asks                %d (%d fell back)\n", rep.Asks, rep.Fallbacks)
	fmt.Fprintf(stdout, "answer path         p50 %s  p95 %s  p99 %s  max %s\n", rep.Latency.P50, rep.Latency.P95, rep.Latency.P99, rep.Latency.Max)
	return nil
}

// runBenchChat is the streaming load test: concurrent chats against a
// fake model on loopback, each followed by feedback.
func runBenchChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("llmops bench chat", flag.ContinueOnError)
	var o server.ChatBenchOptions
	fs.IntVar(&o.Concurrency, "concurrency", 50, "simultaneous streaming chats")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long to keep asking")
	fs.DurationVar(&o.TTFT, "ttft", time.Second, "the fake model's time to first token")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if o.Concurrency < 1 || o.Duration <= 0 {
		return usageError{errors.New("--concurrency and --duration must be positive")}
	}
	rep, err := server.BenchChat(ctx, o, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chats               %d (%.1f/s), errors %d\n", rep.Chats, rep.ChatsPerSec, rep.Errors)
	for _, e := range rep.ErrorSamples {
		fmt.Fprintf(stdout, "  error: %s\n", e)
	}
	fmt.Fprintf(stdout, "feedback            %d sent, %d stored, %d lost\n", rep.FeedbackSent, rep.FeedbackStored, rep.FeedbackSent-rep.FeedbackStored)
	fmt.Fprintf(stdout, "time to first token p50 %s  p95 %s  p99 %s\n", rep.TTFT.P50, rep.TTFT.P95, rep.TTFT.P99)
	fmt.Fprintf(stdout, "whole answer        p50 %s  p95 %s  p99 %s  max %s\n", rep.Total.P50, rep.Total.P95, rep.Total.P99, rep.Total.Max)
	fmt.Fprintf(stdout, "trace writer        %d stalls, %d dropped\n", rep.TraceStalls, rep.TraceDropped)
	if rep.Errors > 0 || rep.FeedbackStored != rep.FeedbackSent {
		return fmt.Errorf("load test failed: %d errors, %d feedback records lost", rep.Errors, rep.FeedbackSent-rep.FeedbackStored)
	}
	return nil
}

// runEval is llmops eval: import test sets, list them, and run one as a
// CI gate.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return usageError{errors.New("want: llmops eval run|import|sets [flags]")}
	}
	switch args[0] {
	case "run":
		return runEvalRun(ctx, args[1:], stdout, stderr, getenv)
	case "import":
		return runEvalImport(ctx, args[1:], stdout, stderr, getenv)
	case "sets":
		return runEvalSets(ctx, args[1:], stdout, stderr, getenv)
	}
	return usageError{fmt.Errorf("unknown eval command %q (want run, import or sets)", args[0])}
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func dataDirFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("data", getenv("LLMOPS_DATA"), "data directory (default ./llmops-data)")
}

func orDataDir(d string) string {
	if d == "" {
		return "./llmops-data"
	}
	return d
}

// runEvalRun runs a test set through the real pipeline, of a data dir or
// of a running server (--server), and checks thresholds: exit 1 when one
// fails, cases failed or the run did not finish; 2 when called wrongly.
func runEvalRun(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops eval run", flag.ContinueOnError)
	var o evalRunOptions
	o.dataDir = dataDirFlag(fs, getenv)
	serverURL := fs.String("server", "", "URL of a running llmops serve to run on (its data dir is locked)")
	apiKey := fs.String("api-key", getenv("LLMOPS_API_KEY"), "editor API key for --server (LLMOPS_API_KEY)")
	fs.StringVar(&o.set, "set", "", "test set name or ID, or a CSV/JSONL/JSON file to import as a set first")
	fs.StringVar(&o.name, "name", "", "label for the run, e.g. the commit")
	var mins, drops stringList
	fs.Var(&mins, "min", "metric=value: fail when the run's mean is below (repeatable)")
	fs.StringVar(&o.baseline, "baseline", "", "run ID to compare with for --max-drop")
	fs.Var(&drops, "max-drop", "metric=value: fail when the mean dropped more than this below --baseline (repeatable)")
	asJSON := fs.Bool("json", false, "print the run, its metrics and the gate as JSON")
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	fs.BoolVar(&o.skipInvalid, "skip-invalid", false, "when --set is a file: skip invalid lines (each is reported)")
	maxErrors := fs.Int("max-errors", 0, "cases whose pipeline call may fail before the gate fails (their metrics are missing)")
	fs.StringVar(&o.settings.Mode, "mode", "hybrid", "retrieval: hybrid, keyword or vector")
	fs.BoolVar(&o.settings.NoRerank, "no-rerank", false, "skip the reranker")
	fs.IntVar(&o.settings.TopK, "top-k", assistant.DefaultTopK, "chunks given to the answerer")
	fs.IntVar(&o.settings.Concurrency, "concurrency", 0, "cases in flight (default: max(4, CPUs))")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if o.set == "" {
		return usageError{errors.New("--set is required (a test set name or ID, or a file)")}
	}
	ths, err := gate.ParseThresholds(gate.KindMin, mins)
	if err != nil {
		return usageError{err}
	}
	dropThs, err := gate.ParseThresholds(gate.KindMaxDrop, drops)
	if err != nil {
		return usageError{err}
	}
	if len(dropThs) > 0 && o.baseline == "" {
		return usageError{errors.New("--max-drop needs --baseline RUN_ID")}
	}
	ths = append(ths, dropThs...)
	if *serverURL != "" && *apiKey == "" {
		return usageError{errors.New("--server needs --api-key (or LLMOPS_API_KEY)")}
	}

	var out *evalRunOutcome
	if *serverURL != "" {
		out, err = evalRunRemote(ctx, client.New(*serverURL, *apiKey), o, stderr)
	} else {
		out, err = evalRunLocal(ctx, o, stderr, getenv)
	}
	if err != nil {
		return err
	}
	run := out.run
	var baseMetrics map[string]float64
	if out.base != nil {
		baseMetrics = out.base.Metrics
	}
	checks := gate.Check(run.Metrics, run.Counts, baseMetrics, ths)
	if run.Errors > *maxErrors {
		checks = append(checks, gate.Result{Threshold: gate.Threshold{Metric: "errors", Kind: "max-errors", Value: float64(*maxErrors)},
			Got: float64(run.Errors), Message: fmt.Sprintf("%d cases failed (allowed %d): their metrics are missing: FAIL", run.Errors, *maxErrors)})
	}
	passed := gate.Passed(checks) && run.Status == store.RunDone
	if *junit != "" {
		if err := writeJUnit(*junit, run, checks, out.results); err != nil {
			return err
		}
	}
	rep := evals.NewReport(run, out.base, out.results, checks, passed)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(stdout)
	}
	if !passed {
		return errGateFailed
	}
	return nil
}

// evalRunOptions are what llmops eval run asks for.
type evalRunOptions struct {
	dataDir     *string
	set, name   string
	baseline    string
	skipInvalid bool
	settings    store.RunSettings
}

// evalRunOutcome is a finished run with its results and baseline.
type evalRunOutcome struct {
	run     *store.EvalRun
	base    *store.EvalRun
	results []store.CaseResult
}

// evalRunLocal runs on a data dir no server holds.
func evalRunLocal(ctx context.Context, o evalRunOptions, stderr io.Writer, getenv func(string) string) (*evalRunOutcome, error) {
	st, kb, err := openKnowledge(ctx, orDataDir(*o.dataDir), getenv, stderr)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	defer kb.Close()
	actor := store.Actor{Kind: store.ActorCLI, Name: cliUser(getenv)}
	if _, _, err := evals.EnsureSampleSet(ctx, st); err != nil {
		return nil, err
	}
	setRef := o.set
	if _, err := st.TestSet(ctx, setRef); store.ErrorCode(err) == store.ENOTFOUND {
		data, ferr := os.ReadFile(setRef)
		if ferr != nil {
			return nil, usageError{fmt.Errorf("no test set %q, and not a readable file: %v", setRef, ferr)}
		}
		imp, err := evals.ImportFile(ctx, st, actor, "", "", setRef, data, cases.Options{SkipInvalid: o.skipInvalid})
		if err != nil {
			return nil, err
		}
		for _, l := range imp.Skipped {
			fmt.Fprintf(stderr, "skipped %s\n", l.Error())
		}
		setRef = imp.Set.ID
	} else if err != nil {
		return nil, err
	}
	out := &evalRunOutcome{}
	if o.baseline != "" {
		if out.base, err = st.Run(ctx, o.baseline); err != nil {
			return nil, err
		}
		set, err := st.TestSet(ctx, setRef)
		if err != nil {
			return nil, err
		}
		if err := sameSet(out.base, set.ID, set.Name); err != nil {
			return nil, err
		}
	}

	cfg := server.ModelConfig(getenv)
	tw := st.NewTraceWriter(store.TraceWriterOptions{})
	defer tw.Close(context.WithoutCancel(ctx))
	prices, _, err := server.LoadPrices(ctx, st)
	if err != nil {
		return nil, err
	}
	log := newLogger(stderr, "warn")
	asst, err := server.NewAssistant(cfg, st, kb, tw, log, func() *llm.PriceTable { return prices })
	if err != nil {
		return nil, err
	}
	runner, err := server.NewRunner(cfg, st, kb, asst, log, func(r store.EvalRun) {
		fmt.Fprintf(stderr, "\r%d/%d cases", r.Done, r.Total)
	})
	if err != nil {
		return nil, err
	}
	run, err := runner.Create(ctx, actor, setRef, 0, o.name, o.settings)
	if store.ErrorCode(err) == store.EINVALID {
		return nil, usageError{errors.New(store.ErrorMessage(err))}
	} else if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "run %s: %s v%d, %d cases, %s\n", run.ID, run.SetName, run.SetVersion, run.Total, server.SettingsText(run.Settings))
	err = runner.Execute(ctx, run)
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, err
	}
	if err := tw.Flush(ctx); err != nil {
		return nil, err
	}
	out.run = run
	if out.results, err = st.CaseResults(ctx, run.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// sameSet refuses a baseline of another test set: runs compare case by case.
func sameSet(base *store.EvalRun, setID, setName string) error {
	if base.SetID != setID {
		return usageError{fmt.Errorf("--baseline %s is a run of %q, not of %q: compare runs of one test set", base.ID, base.SetName, setName)}
	}
	return nil
}

// evalRunRemote runs on a server through /api/v1/evals and waits for the
// run; interrupting the command cancels the run.
func evalRunRemote(ctx context.Context, cl *client.Client, o evalRunOptions, stderr io.Writer) (*evalRunOutcome, error) {
	var got struct {
		Set store.TestSet `json:"set"`
	}
	err := cl.Get(ctx, "/api/v1/evals/sets/"+url.PathEscape(o.set), &got)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		data, ferr := os.ReadFile(o.set)
		if ferr != nil {
			return nil, usageError{fmt.Errorf("the server has no test set %q, and it is not a readable file: %v", o.set, ferr)}
		}
		var imp evals.Import
		fields := map[string]string{}
		if o.skipInvalid {
			fields["skip_invalid"] = "true"
		}
		if err := cl.Upload(ctx, "/api/v1/evals/sets", "file", filepath.Base(o.set), data, fields, &imp); err != nil {
			return nil, err
		}
		for _, l := range imp.Skipped {
			fmt.Fprintf(stderr, "skipped %s\n", l.Error())
		}
		got.Set = *imp.Set
	} else if err != nil {
		return nil, err
	}
	out := &evalRunOutcome{}
	if o.baseline != "" {
		out.base = &store.EvalRun{}
		if err := cl.Get(ctx, "/api/v1/evals/runs/"+url.PathEscape(o.baseline), out.base); err != nil {
			return nil, err
		}
		if err := sameSet(out.base, got.Set.ID, got.Set.Name); err != nil {
			return nil, err
		}
	}
	var run store.EvalRun
	err = cl.JSON(ctx, "/api/v1/evals/runs", map[string]any{"set": got.Set.ID, "name": o.name, "settings": o.settings}, &run)
	if errors.As(err, &ce) && ce.Code == store.EINVALID {
		return nil, usageError{errors.New(ce.Message)}
	} else if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "run %s on %s: %s v%d, %d cases, %s\n", run.ID, cl.BaseURL, run.SetName, run.SetVersion, run.Total, server.SettingsText(run.Settings))
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for !run.Finished() {
		select {
		case <-ctx.Done():
			var cancelled store.EvalRun
			_ = cl.JSON(context.WithoutCancel(ctx), "/api/v1/evals/runs/"+run.ID+"/cancel", map[string]any{}, &cancelled)
			fmt.Fprintln(stderr)
			return nil, ctx.Err()
		case <-tick.C:
		}
		if err := cl.Get(ctx, "/api/v1/evals/runs/"+run.ID, &run); err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "\r%d/%d cases", run.Done, run.Total)
	}
	fmt.Fprintln(stderr)
	var res struct {
		Results []store.CaseResult `json:"results"`
	}
	if err := cl.Get(ctx, "/api/v1/evals/runs/"+run.ID+"/results", &res); err != nil {
		return nil, err
	}
	out.run, out.results = &run, res.Results
	return out, nil
}

var errGateFailed = errors.New("eval gate failed")

func writeJUnit(path string, run *store.EvalRun, checks []gate.Result, results []store.CaseResult) error {
	reports := make([]gate.CaseReport, len(results))
	for i, r := range results {
		reports[i] = gate.CaseReport{ID: r.CaseID, Question: r.Question, Seconds: float64(r.LatencyMS) / 1000, Error: r.Error}
	}
	var buf bytes.Buffer
	if err := gate.WriteJUnit(&buf, "llmops eval "+run.SetName, checks, reports); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// runEvalImport imports a CSV/JSONL/JSON file or a BEIR folder as a test
// set (a new version when the set exists and the cases changed).
func runEvalImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops eval import", flag.ContinueOnError)
	dataDir := dataDirFlag(fs, getenv)
	name := fs.String("name", "", "test set name (default: the file or folder name)")
	desc := fs.String("description", "", "what the set covers")
	beirDir := fs.String("beir", "", "a BEIR folder (corpus.jsonl(.gz), queries.jsonl(.gz), qrels/SPLIT.tsv) instead of a file")
	split := fs.String("split", "test", "the BEIR qrels split")
	ingestCorpus := fs.Bool("ingest-corpus", false, "with --beir: also ingest the corpus into the knowledge base (as beir/NAME/ID.txt)")
	skip := fs.Bool("skip-invalid", false, "skip invalid lines (each is reported) instead of failing")
	if err := parseFlagsWithArgs(fs, args, stderr); err != nil {
		return err
	}
	if (*beirDir == "") == (fs.NArg() != 1) {
		return usageError{errors.New("give one FILE or --beir DIR")}
	}
	if *ingestCorpus {
		if *beirDir == "" {
			return usageError{errors.New("--ingest-corpus needs --beir DIR")}
		}
		if err := ingestBEIR(ctx, orDataDir(*dataDir), *beirDir, getenv, stdout, stderr); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, orDataDir(*dataDir), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	actor := store.Actor{Kind: store.ActorCLI, Name: cliUser(getenv)}
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
		fmt.Fprintf(stderr, "skipped %s\n", l.Error())
	}
	for _, n := range imp.Notes {
		fmt.Fprintln(stderr, n)
	}
	fmt.Fprintf(stdout, "%s v%d: %d cases (set %s)\n", imp.Set.Name, imp.Set.Version, imp.Set.Cases, imp.Set.ID)
	return nil
}

// ingestBEIR ingests a BEIR corpus into a data dir's knowledge base.
func ingestBEIR(ctx context.Context, dataDir, dir string, getenv func(string) string, stdout, stderr io.Writer) error {
	ds, err := beir.Load(dir, beir.LoadOptions{})
	if err != nil {
		return err
	}
	st, kb, err := openKnowledge(ctx, dataDir, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	defer kb.Close()
	files := evals.BEIRFiles(ds)
	start := time.Now()
	counts := map[string]int{}
	for _, r := range kb.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: cliUser(getenv)}, files, nil) {
		counts[r.Outcome]++
		if r.Outcome == "failed" && counts["failed"] <= 5 {
			fmt.Fprintf(stderr, "%s: %s\n", r.Name, r.Error)
		}
	}
	if j := kb.CurrentJob(); j != nil {
		j.Wait()
	}
	fmt.Fprintf(stdout, "corpus %s: %d documents in %s (%v)\n", ds.Name, len(files), time.Since(start).Round(time.Millisecond), counts)
	if counts["failed"] > 0 {
		return errFilesFailed
	}
	return nil
}

// runEvalSets lists test sets and their latest runs.
func runEvalSets(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("llmops eval sets", flag.ContinueOnError)
	dataDir := dataDirFlag(fs, getenv)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	st, err := store.Open(ctx, orDataDir(*dataDir), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	sets, err := st.TestSets(ctx)
	if err != nil {
		return err
	}
	for _, t := range sets {
		fmt.Fprintf(stdout, "%-28s v%-3d %5d cases  %s\n", t.Name, t.Version, t.Cases, t.ID)
		runs, err := st.Runs(ctx, t.ID, 3)
		if err != nil {
			return err
		}
		for _, r := range runs {
			fmt.Fprintf(stdout, "    run %s  %-10s %d/%d  %s\n", r.ID, r.Status, r.Done, r.Total, r.CreatedAt.Local().Format("2006-01-02 15:04"))
		}
	}
	return nil
}

// runBenchRetrieval runs a BEIR dataset through the four retrieval
// pipelines; --json prints exactly one object on stdout.
func runBenchRetrieval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("llmops bench retrieval", flag.ContinueOnError)
	dir := fs.String("beir", "", "BEIR folder: corpus.jsonl(.gz), queries.jsonl(.gz), qrels/test.tsv")
	ignore := fs.Bool("ignore-identical-ids", false, "drop hits whose ID equals the query ID (BEIR's ignore_identical_ids; ArguAna needs it)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	limit := fs.Int("limit", 0, "run only the first N queries (0: all)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{errors.New("--beir DIR is required")}
	}
	rep, err := bench.Retrieval(ctx, bench.RetrievalOptions{Dir: *dir, IgnoreIdenticalIDs: *ignore, Limit: *limit}, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	rep.WriteText(stdout)
	return nil
}

// runBenchEval measures the eval runner with the extractive answerer.
func runBenchEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("llmops bench eval", flag.ContinueOnError)
	n := fs.Int("cases", 1000, "cases in the run (the sample questions, repeated)")
	conc := fs.Int("concurrency", 0, "cases in flight (0: max(4, CPUs))")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *n < 1 {
		return usageError{errors.New("--cases must be positive")}
	}
	rep, err := server.BenchEval(ctx, server.EvalBenchOptions{Cases: *n, Concurrency: *conc}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cases               %d (%d stored, %d errors)\n", rep.Cases, rep.Stored, rep.Errors)
	fmt.Fprintf(stdout, "concurrency         %d\n", rep.Concurrency)
	fmt.Fprintf(stdout, "run, results stored %s (%.0f cases/s)\n", rep.Elapsed.Round(time.Millisecond), rep.PerSecond)
	for _, k := range []string{"hit@5", "ndcg@10", "faithfulness", "correctness_f1", "refusal_correctness"} {
		fmt.Fprintf(stdout, "%-19s %.3f\n", k, rep.Metrics[k])
	}
	return nil
}
