package cli

import (
	"context"
	"errors"
	"fmt"

	"llmops/store"
)

var compactCmd = &command{
	name: "compact", short: "rewrite the database to reclaim the space of deleted traces (server stopped)",
	long: `Rewrite the database of --data into a fresh file and rename it into
place: bbolt never shrinks its file, so space freed by trace retention or
deleted documents is only given back this way. Stop the server first: the
command refuses a data dir another process holds. It reports the file's
size before and after.`,
	run: runCompact,
}

func runCompact(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	dataDir := fs.String("data", "", "data directory of a stopped server")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if *dataDir == "" {
		return usagef("--data is required")
	}
	before, after, err := store.Compact(ctx, *dataDir)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: stop the server first", err)
	}
	if err != nil {
		return err
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	fmt.Fprintf(env.Stdout, "Compacted %s: %.1f MiB → %.1f MiB (%.1f MiB reclaimed)\n", *dataDir, mib(before), mib(after), mib(before-after))
	return nil
}
