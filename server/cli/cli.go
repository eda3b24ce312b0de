// Package cli is the llmops command line: one file per command, each
// with its flags, help text and exit codes. Commands that answer or
// index open the application through server.OpenApp, the one
// composition root, so a flag means the same in serve, ask and eval run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
)

// Exit codes: 0 ok, 1 the command failed, 2 it was called wrongly.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Env is what a command may use of the process it runs in.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Version        string
	// AfterCommit is passed to server.AppOptions by commands that ingest.
	// Only tests set it (the crash test stalls there to kill the process
	// between a store commit and the index update).
	AfterCommit func()
}

// command is one entry of the command table: its name (one or two
// words), its arguments, a one-line summary for `llmops help`, a longer
// description for `llmops help NAME` and its function.
type command struct {
	name, args, short, long string
	run                     func(ctx context.Context, env *Env, cmd *command, args []string) error
}

// commands is the command table, in the order `llmops help` lists them.
func commands() []*command {
	return []*command{
		serveCmd, askCmd, ingestCmd, reindexCmd,
		evalRunCmd, evalImportCmd, evalSetsCmd,
		reviewReportCmd,
		promptsExportCmd, promptsImportCmd,
		benchIngestCmd, benchAskCmd, benchChatCmd, benchRetrievalCmd, benchSearchCmd, benchEvalCmd,
		benchCrashCmd, benchTracesCmd, benchGuardrailsCmd, benchReviewCmd,
		guardTrainCmd, benchInjectionCmd,
		keysCreateCmd, backupCmd, compactCmd, versionCmd,
	}
}

// usageError is a wrongly called command: printed on one line, exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// Main runs the command args name and returns its exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		writeHelp(env.Stderr)
		return ExitUsage
	}
	var cmd *command
	var rest []string
	var err error
	switch args[0] {
	case "help", "--help", "-h":
		cmd, rest = &command{name: "help"}, args[1:]
		cmd.run = runHelp
	default:
		cmd, rest, err = lookup(args)
	}
	name := args[0]
	if err == nil {
		name = cmd.name
		err = cmd.run(ctx, &env, cmd, rest)
	}
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "llmops %s: %v\n", name, ue.err)
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "llmops %s: %v\n", name, err)
		return ExitFail
	}
}

// lookup finds the command args start with: a two-word name first
// ("eval run"), then one word, then help and its aliases.
func lookup(args []string) (*command, []string, error) {
	if args[0] == "--version" || args[0] == "-v" {
		return versionCmd, args[1:], nil
	}
	var groupOf []string
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(words) == 2 && words[0] == args[0] {
			groupOf = append(groupOf, words[1])
			if len(args) > 1 && args[1] == words[1] {
				return c, args[2:], nil
			}
		}
		if len(words) == 1 && words[0] == args[0] {
			return c, args[1:], nil
		}
	}
	if len(groupOf) > 0 {
		return nil, nil, usagef("want: llmops %s %s [flags] (llmops help lists them)", args[0], strings.Join(groupOf, "|"))
	}
	return nil, nil, usagef("unknown command %q (try llmops help)", args[0])
}

// runHelp is llmops help [COMMAND]: the command list, or one command's
// usage, description and flags, on stdout.
func runHelp(_ context.Context, env *Env, _ *command, args []string) error {
	if len(args) == 0 {
		writeHelp(env.Stdout)
		return nil
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	// Each command prints its own help for -h, flags included.
	return cmd.run(context.Background(), &Env{Stdout: env.Stdout, Stderr: env.Stdout, Getenv: env.Getenv, Version: env.Version}, cmd, []string{"-h"})
}

// writeHelp lists every command with one line each, as `go help` does.
func writeHelp(w io.Writer) {
	fmt.Fprint(w, "llmops runs a whole LLMOps practice in one process: knowledge base, RAG\nassistant, traces, evals.\n\nUsage:\n\n\tllmops <command> [flags] [arguments]\n\nThe commands are:\n\n")
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "\t%s\t%s\n", c.name, c.short)
	}
	fmt.Fprintf(tw, "\t%s\t%s\n", "help", "list the commands, or show one command's flags")
	tw.Flush()
	fmt.Fprint(w, "\nUse \"llmops help <command>\" (or llmops <command> -h) for a command's flags.\n")
}

// flagSet is a command's flag set. Its errors are reported by Main in one
// line; -h prints the command's help (see parse).
func (c *command) flagSet(env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("llmops "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// printHelp writes the command's usage line, description and flags.
func (c *command) printHelp(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: llmops %s [flags] %s\n\n", c.name, c.args)
	if c.long != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.long))
	} else {
		fmt.Fprintf(w, "%s.\n\n", strings.ToUpper(c.short[:1])+c.short[1:])
	}
	fmt.Fprintln(w, "Flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses a command's flags, turning flag errors into usage errors;
// -h prints the command's help on stderr. withArgs allows positional
// arguments after the flags.
func (c *command) parse(env *Env, fs *flag.FlagSet, args []string, withArgs bool) error {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		c.printHelp(fs, env.Stderr)
		return err
	} else if err != nil {
		return usageError{err}
	}
	if !withArgs && fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// apiKeyFlag binds --api-key for --server calls. Its value falls back to
// LLMOPS_API_KEY when read, not as the flag's default, so help never
// prints a secret.
func apiKeyFlag(fs *flag.FlagSet, env *Env, role string) *apiKey {
	k := &apiKey{getenv: env.Getenv}
	fs.StringVar(&k.flag, "api-key", "", role+" API key for --server (default $LLMOPS_API_KEY)")
	return k
}

type apiKey struct {
	flag   string
	getenv func(string) string
}

func (k *apiKey) Value() string {
	if k.flag != "" {
		return k.flag
	}
	return k.getenv("LLMOPS_API_KEY")
}

// cliUser names who ran a command, for audit events and traces.
func cliUser(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

// quietLogger logs warnings and errors of an offline command to w.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
