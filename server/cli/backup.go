package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"llmops/server/client"
	"llmops/store"
)

var backupCmd = &command{
	name: "backup", short: "write a consistent copy of the database",
	long: `Write a consistent copy of the database to --out: from a data dir no
server holds (--data), or from a running server (--server, an admin key).
The copy is written beside --out and renamed into place, so an interrupted
backup never leaves a partial file under that name.`,
	run: runBackup,
}

func runBackup(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	dataDir := fs.String("data", "", "data directory (when no server is running)")
	serverURL := fs.String("server", "", "URL of a running llmops serve")
	apiKey := apiKeyFlag(fs, env, "admin")
	out := fs.String("out", "", "file to write the backup to")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	switch {
	case *out == "":
		return usagef("--out is required")
	case (*dataDir == "") == (*serverURL == ""):
		return usagef("give exactly one of --data DIR or --server URL")
	case *serverURL != "" && apiKey.Value() == "":
		return usagef("--server needs --api-key (or LLMOPS_API_KEY)")
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
		n, err = client.New(*serverURL, apiKey.Value()).Backup(ctx, tmp)
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
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Backup written to %s (%d bytes)\n", *out, n)
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
