// Command llmops runs a whole LLMOps practice in one process: knowledge
// base, RAG assistant, prompts, traces, evals and review. main stays thin:
// it picks the subcommand, parses its flags and hands over to server/store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

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
	return st.Backup(ctx, w)
}

func backupRemote(ctx context.Context, base, key string, w io.Writer) (int64, error) {
	return client.New(base, key).Backup(ctx, w)
}

// parseFlags parses and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, help io.Writer) error {
	fs.SetOutput(io.Discard) // one line per error, printed by run
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(help, "Usage of %s:\n", fs.Name())
		fs.SetOutput(help)
		fs.PrintDefaults()
		return err
	} else if err != nil {
		return usageError{err}
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
