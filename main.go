// Command llmops runs a whole LLMOps practice in one process: knowledge
// base, RAG assistant, prompts, traces, evals and review. main stays thin:
// the commands live in server/cli.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"llmops/server/cli"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, as server/cli returns them.
const (
	exitOK    = cli.ExitOK
	exitFail  = cli.ExitFail
	exitUsage = cli.ExitUsage
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole program but the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return cli.Main(ctx, args, cli.Env{Stdout: stdout, Stderr: stderr, Getenv: getenv, Version: version})
}
