package cli

import (
	"context"
	"fmt"

	"llmops/store"
)

var versionCmd = &command{
	name: "version", short: "print the version and the store's schema version",
	run: func(_ context.Context, env *Env, cmd *command, args []string) error {
		if err := cmd.parse(env, cmd.flagSet(env), args, false); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "llmops %s (schema %d)\n", env.Version, store.SchemaVersion())
		return nil
	},
}
