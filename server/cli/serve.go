package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"llmops/server"
)

var serveCmd = &command{
	name: "serve", short: "start the web UI and the JSON API",
	long: `Serve the web UI and the JSON API on --addr until interrupted, then
shut down gracefully. On an empty data dir it loads the sample help
centre (unless --no-sample) and prints a one-time link to create the
admin account. Model endpoints come from LLMOPS_LLM_BASE_URL,
LLMOPS_LLM_API_KEY, LLMOPS_LLM_MODEL, LLMOPS_JUDGE_MODEL and
LLMOPS_EMBED_BASE_URL, LLMOPS_EMBED_API_KEY, LLMOPS_EMBED_MODEL; without
them everything runs offline.`,
	run: runServe,
}

func runServe(ctx context.Context, env *Env, cmd *command, args []string) error {
	cfg := server.DefaultConfig()
	fs := cmd.flagSet(env)
	f := server.NewFlags(fs, &cfg, env.Getenv).Data().Answer().Serve()
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := f.Done(); err != nil {
		return usageError{err}
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by Done
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return errors.Join(err, srv.Shutdown(context.Background()))
	}
	fmt.Fprintf(env.Stdout, "llmops %s is running at %s (data: %s)\n", env.Version, srv.URL(), cfg.DataDir)
	if setup := srv.SetupURL(); setup != "" {
		fmt.Fprintf(env.Stdout, "First run: create the admin account at\n  %s\n(this one-time link works until setup is done; keep it private)\n", setup)
	}
	err = srv.Run(ctx)
	fmt.Fprintln(env.Stdout, "llmops stopped")
	return err
}
