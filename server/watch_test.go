package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"llmops/store"
)

// TestWatchFolder keeps the knowledge base in step with a folder: a new
// file lands, an edit replaces it, a removal deletes it.
func TestWatchFolder(t *testing.T) {
	t.Parallel()
	watched := t.TempDir()
	path := filepath.Join(watched, "shifts.md")
	os.WriteFile(path, []byte("# Shifts\n\nManagers publish the schedule every Friday.\n"), 0o644)
	os.WriteFile(filepath.Join(watched, ".hidden.md"), []byte("# Hidden\n\nnot ingested\n"), 0o644)

	cfg := testConfig(t)
	cfg.WatchDir, cfg.WatchInterval = watched, 100*time.Millisecond
	s, err := New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	abs, _ := filepath.Abs(path)
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute) // generous: a busy machine is slow, not wrong
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	doc := func() *store.Document {
		d, err := s.store.DocumentBySource(context.Background(), abs)
		if err != nil {
			return nil
		}
		return d
	}
	waitFor("the file is ingested", func() bool { return doc() != nil })
	first := doc()
	if docs, _ := s.store.ListDocuments(context.Background()); len(docs) != 1 {
		t.Errorf("%d documents; hidden files must be skipped", len(docs))
	}

	os.WriteFile(path, []byte("# Shifts\n\nManagers publish the schedule every Thursday now.\n"), 0o644)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(path, future, future) // a new mtime even on coarse file systems
	waitFor("the edit is ingested", func() bool { d := doc(); return d != nil && d.Hash != first.Hash })
	if d := doc(); d.ID != first.ID {
		t.Errorf("an edit made a new document (%s → %s)", first.ID, d.ID)
	}

	os.Remove(path)
	waitFor("the removal deletes the document", func() bool { return doc() == nil })
}

// TestWatchFolderThroughLink: --watch may name a link to a folder; the
// folder's files are ingested.
func TestWatchFolderThroughLink(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	os.WriteFile(filepath.Join(real, "shifts.md"), []byte("# Shifts\n\nManagers publish the schedule every Friday.\n"), 0o644)
	link := filepath.Join(t.TempDir(), "docs")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	cfg := testConfig(t)
	cfg.WatchDir, cfg.WatchInterval = link, 100*time.Millisecond
	s, err := New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(time.Minute)
	for {
		docs, _ := s.store.ListDocuments(context.Background())
		if len(docs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d documents ingested through the linked folder, want 1", len(docs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
