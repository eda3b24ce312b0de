package cli

import (
	"context"
	"flag"

	"llmops/server"
)

// appFlags binds the flags of a command that opens the application: with
// data --data, with answer the flags that change answers, bound exactly as
// serve binds them (benches build their own data dir and take no --data).
type appFlags struct {
	cfg   server.Config
	flags *server.Flags
	fs    *flag.FlagSet
}

func newAppFlags(fs *flag.FlagSet, env *Env, data, answer bool) *appFlags {
	a := &appFlags{cfg: server.DefaultConfig(), fs: fs}
	a.flags = server.NewFlags(fs, &a.cfg, env.Getenv)
	if data {
		a.flags.Data()
	}
	if answer {
		a.flags.Answer()
	}
	return a
}

// done validates the settings once the flags are parsed.
func (a *appFlags) done() error {
	if err := a.flags.Done(); err != nil {
		return usageError{err}
	}
	return nil
}

// dataGiven reports whether the data dir was chosen (--data or
// LLMOPS_DATA), for commands that take it or --server.
func (a *appFlags) dataGiven(env *Env) bool {
	return env.Getenv("LLMOPS_DATA") != "" || set(a.fs, "data")
}

// open opens the data dir through the composition root serve uses.
func (a *appFlags) open(ctx context.Context, env *Env, opts server.AppOptions) (*server.App, error) {
	if opts.AfterCommit == nil {
		opts.AfterCommit = env.AfterCommit
	}
	return server.OpenApp(ctx, a.cfg, quietLogger(env.Stderr), opts)
}
