package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"llmops/store"

	bolt "go.etcd.io/bbolt"
)

// MustOpen opens a store in a temp dir and, when the test ends, closes it
// and checks the database's consistency.
func MustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	return mustOpen(tb, store.Options{})
}

// MustOpenClock is MustOpen on a clock the test moves by hand.
func MustOpenClock(tb testing.TB) (*store.Store, *Clock) {
	tb.Helper()
	c := &Clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	return mustOpen(tb, store.Options{Now: c.Now}), c
}

// Clock is a store clock that stands still until Add moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustOpen(tb testing.TB, opts store.Options) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		for _, err := range s.Check() {
			tb.Errorf("consistency: %v", err)
		}
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

func TestOpenMigratesEmptyDB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, "nested", "data"), store.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	n, err := s.CountUsers(ctx)
	if err != nil || n != 0 {
		t.Fatalf("CountUsers = %d, %v; want 0, nil", n, err)
	}
	s.Close()
	// Reopening an up-to-date database runs no migration and keeps data.
	s, err = store.Open(ctx, filepath.Join(dir, "nested", "data"), store.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	s.Close()
}

func TestOpenRefusesBadDataDirs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("data dir is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, []byte("x"), 0o600)
		_, err := store.Open(ctx, f, store.Options{})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("is a file, not a directory")) {
			t.Fatalf("err = %v, want 'is a file, not a directory'", err)
		}
	})

	t.Run("garbage db file is left untouched", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, store.DBFile)
		junk := bytes.Repeat([]byte("not a database "), 1000)
		os.WriteFile(path, junk, 0o600)
		_, err := store.Open(ctx, dir, store.Options{})
		if !errors.Is(err, store.ErrForeignDB) {
			t.Fatalf("err = %v, want ErrForeignDB", err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte(path)) {
			t.Errorf("error %q does not name the file %s", err, path)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, junk) {
			t.Errorf("file was modified")
		}
	})

	t.Run("bbolt file of another program", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, store.DBFile)
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err })
		db.Close()
		before, _ := os.ReadFile(path)
		_, err = store.Open(ctx, dir, store.Options{})
		if !errors.Is(err, store.ErrForeignDB) {
			t.Fatalf("err = %v, want ErrForeignDB", err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Errorf("foreign database was modified")
		}
	})

	t.Run("locked by another process", func(t *testing.T) {
		dir := t.TempDir()
		s, err := store.Open(ctx, dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = store.Open(ctx, dir, store.Options{})
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("err = %v, want ErrLocked", err)
		}
		if want := "use --server URL"; !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("err = %q, want it to mention %q", err, want)
		}
	})
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	if _, _, err := s.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, "ci", store.RoleViewer); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf, nil)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("Backup = %d, %v; wrote %d", n, err, buf.Len())
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, store.DBFile), buf.Bytes(), 0o600)
	restored, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer restored.Close()
	keys, err := restored.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].Name != "ci" {
		t.Fatalf("restored keys = %+v, %v; want the one key", keys, err)
	}
}
