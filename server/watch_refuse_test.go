//go:build unix

package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/rag"
	"llmops/rag/ragtest"
	"llmops/store"
)

// TestWatchFolderReadsOnlyRegularFiles fills the watched folder with what
// must never be read as a document: a link to a secret outside it, a link
// to /dev/zero, a FIFO, a file over the parser's limit and a link inside
// it. The plain file lands; each of the others is logged once with its
// reason; a document an older version read through the outside link is
// removed; the server keeps answering and shuts down.
func TestWatchFolderReadsOnlyRegularFiles(t *testing.T) {
	t.Parallel()
	watched := t.TempDir()
	ragtest.HostileFolder(t, watched)
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join(watched, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := map[string]string{ // file → the reason it is skipped
		abs("secret.md"): "symlink outside the folder",
		abs("zero.md"):   "symlink outside the folder",
		abs("inner.md"):  "symlink (links found in a folder are not followed)",
		abs("pipe.md"):   "not a regular file (FIFO)",
		abs("big.md"):    "file is 65 MiB; the limit is 64 MiB",
	}

	logs := &logBuffer{}
	cfg := testConfig(t)
	cfg.WatchDir, cfg.WatchInterval = watched, 100*time.Millisecond
	s, err := New(context.Background(), cfg, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	// What an older version published by following the link: the first
	// scan must take it down.
	actor := store.Actor{Kind: store.ActorCLI, Name: "test"}
	for _, r := range s.ingest(context.Background(), actor, []rag.File{{Name: abs("secret.md"), Data: []byte("# Vault\n\n" + ragtest.Secret + "\n")}}, nil) {
		if r.Error != "" {
			t.Fatalf("seeding the leaked document: %s", r.Error)
		}
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select { // generous: a busy machine is slow, not stuck
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("shutdown still blocked after a minute")
		}
	}
	defer stop()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s; log:\n%s", what, logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	has := func(name string) bool {
		_, err := s.store.DocumentBySource(context.Background(), name)
		return err == nil
	}
	waitFor("shifts.md is ingested", func() bool { return has(abs("shifts.md")) })
	waitFor("the leaked document is removed", func() bool { return !has(abs("secret.md")) })
	// A file added later lands only after a later scan: by then every
	// refusal has been seen at least twice.
	write(t, filepath.Join(watched, "leave.md"), "# Leave\n\nRequest leave from the Time off page.\n")
	waitFor("leave.md is ingested", func() bool { return has(abs("leave.md")) })

	docs, err := s.store.ListDocuments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		var names []string
		for _, d := range docs {
			names = append(names, d.Source)
		}
		t.Errorf("documents %v; want shifts.md and leave.md only", names)
	}
	skips := map[string][]string{}
	for _, rec := range logs.records(t) {
		if rec["msg"] == "watch: skipped" {
			file, _ := rec["file"].(string)
			reason, _ := rec["reason"].(string)
			skips[file] = append(skips[file], reason)
		}
	}
	for file, reason := range want {
		if got := skips[file]; len(got) != 1 || got[0] != reason {
			t.Errorf("%s: skip log lines %q, want one with %q", filepath.Base(file), got, reason)
		}
	}
	if len(skips) != len(want) {
		t.Errorf("skipped %d entries, want %d: %v", len(skips), len(want), skips)
	}

	res, err := http.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatalf("the server stopped answering: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz: got %d, want 200", res.StatusCode)
	}
	stop()
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects a logger's JSON lines, safe for the server's
// goroutines and the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// records decodes every line logged so far.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	return recs
}
