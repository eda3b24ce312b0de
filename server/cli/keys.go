package cli

import (
	"context"
	"errors"
	"fmt"

	"llmops/store"
)

var keysCreateCmd = &command{
	name: "keys create", short: "create an API key without a server (headless set-up)",
	long: `Create an API key in a data dir no server holds (the data dir is created
if needed). The key is printed alone on the last line of stdout, so a VM
can be set up headless.`,
	run: runKeysCreate,
}

func runKeysCreate(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	dataDir := fs.String("data", "./llmops-data", "data directory")
	name := fs.String("name", "", "what the key is for, e.g. \"CI eval gate\"")
	roleName := fs.String("role", "", "admin, editor, reviewer or viewer")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
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
	secret, k, err := st.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: cliUser(env.Getenv)}, *name, role)
	if err != nil {
		return errors.New(store.ErrorMessage(err))
	}
	fmt.Fprintf(env.Stdout, "Created API key %q (id %s, role %s). It is shown once; store it now:\n%s\n", k.Name, k.ID, k.Role, secret)
	return nil
}
