// Package store owns llmops's source of truth: one bbolt file in the data
// dir. It holds the domain types every layer speaks (users, API keys, audit
// events, traces, ...), the sentinel errors, and all bucket access; no
// *bolt.Tx leaves this package and every value read is copied out.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DBFile is the name of the bbolt file inside the data dir.
const DBFile = "llmops.db"

// Store is the bbolt-backed source of truth. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time

	chunkReads atomic.Int64 // chunks ChunksByID has read (mapped.go)
}

// Options tune Open. The zero value is what llmops serve uses.
type Options struct {
	// LockTimeout is how long Open waits for another process's file lock
	// before reporting ErrLocked. Default 250ms.
	LockTimeout time.Duration
	// ReadOnly opens the database without taking the write lock.
	ReadOnly bool
	// NoSync skips fsync per transaction; only for benchmarks of code above
	// the store.
	NoSync bool
	// Now is the store's clock (time.Now when nil): what it stamps on
	// records and checks expiries against. Tests move it.
	Now func() time.Time
}

// Open opens (creating if needed) the store in dataDir and brings its schema
// up to date. It refuses, without writing anything, a data dir that is a
// file, a database file llmops did not write, or one from a newer llmops.
func Open(ctx context.Context, dataDir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dataDir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("data dir %s is a file, not a directory", dataDir)
	} else if errors.Is(err, os.ErrNotExist) {
		if opts.ReadOnly {
			return nil, fmt.Errorf("data dir %s does not exist", dataDir)
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dataDir, DBFile)
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not an llmops database", path)
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 250 * time.Millisecond
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.LockTimeout,
		ReadOnly:     opts.ReadOnly,
		NoSync:       opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%s: %w", dataDir, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("%s: %w (%v)", path, ErrForeignDB, err)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, now: time.Now}
	if opts.Now != nil {
		s.now = opts.Now
	}
	if opts.ReadOnly {
		err = s.checkSchema()
	} else {
		err = s.migrate()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// Close releases the database and its file lock.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers a read transaction.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("meta bucket missing")
		}
		return nil
	})
}

// Backup writes a consistent copy of the database to w from a read
// transaction, so it runs while the server keeps serving and writing.
// size, if not nil, is told the copy's exact length before it is written
// (an HTTP handler sends it as Content-Length, so a cut copy is detected).
func (s *Store) Backup(ctx context.Context, w io.Writer, size func(int64)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	return n, err
}

// ctxWriter stops a long copy when its context is cancelled.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Check runs bbolt's consistency check and returns every problem found.
func (s *Store) Check() []error {
	var errs []error
	_ = s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return nil
	})
	return errs
}

// appendFill is the page fill for buckets written mostly in key order
// (time-sorted IDs): bbolt's default of 0.5 leaves every page half empty
// even for pure appends, doubling the file and the memory a full scan maps.
const appendFill = 0.9

// putJSON marshals v into bucket b under key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, buf)
}

// getJSON decodes the value at key into v, copying it out of the
// transaction. It reports false when the key does not exist.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	buf := b.Get(key)
	if buf == nil {
		return false, nil
	}
	return true, decode(buf, v)
}

// decode unmarshals a stored value; json.Unmarshal copies, so the result
// stays valid after the transaction ends.
func decode(buf []byte, v any) error {
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
