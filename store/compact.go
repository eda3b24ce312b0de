package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// compactTxSize bounds the bytes copied per transaction while compacting.
const compactTxSize = 64 << 20

// Compact rewrites the database of dataDir into a fresh file, which drops
// the free pages bbolt never gives back (deleted traces, rewritten
// rollups), then renames it over the original. It takes the store's lock
// first, so it refuses (ErrLocked) while a server runs on dataDir. It
// returns the file's size before and after.
func Compact(ctx context.Context, dataDir string) (before, after int64, err error) {
	s, err := Open(ctx, dataDir, Options{})
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0, 0, err
	}
	tmp := s.path + ".compact"
	_ = os.Remove(tmp) // left by an interrupted compaction
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		return 0, 0, err
	}
	if err := bolt.Compact(dst, s.db, compactTxSize); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	if err := ctx.Err(); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	nfi, err := os.Stat(tmp)
	if err != nil {
		return 0, 0, err
	}
	// Every commit of dst was synced; the rename is made durable by
	// syncing the directory.
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return fi.Size(), nfi.Size(), nil
}
