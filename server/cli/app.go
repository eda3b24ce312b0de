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

// done checks the flags once they are parsed. The model endpoints are
// checked by open, when they are about to be used: a --server call does
// not use them.
func (a *appFlags) done() error {
	if err := a.flags.DoneFlags(); err != nil {
		return usageError{err}
	}
	return nil
}

// open opens the data dir through the composition root serve uses; a
// setting it cannot use (a bad model endpoint) is a usage error.
func (a *appFlags) open(ctx context.Context, env *Env, opts server.AppOptions) (*server.App, error) {
	if err := a.cfg.Validate(); err != nil {
		return nil, usageError{err}
	}
	if opts.AfterCommit == nil {
		opts.AfterCommit = env.AfterCommit
	}
	return server.OpenApp(ctx, a.cfg, quietLogger(env.Stderr), opts)
}
