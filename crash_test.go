package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"llmops/rag"
	"llmops/rag/index"
	"llmops/server"
	"llmops/server/cli"
	"llmops/store"
	"llmops/store/storetest"
)

// TestMain lets a test run the real binary's code in a child process (the
// test binary re-executes itself), so it can be SIGKILLed mid-write.
// LLMOPS_TEST_STALL_AFTER_COMMIT=N makes that child stall forever right
// after its Nth knowledge-base store commit, before the indexes see it:
// a seam only this test binary has.
func TestMain(m *testing.M) {
	if os.Getenv("LLMOPS_TEST_RUN_MAIN") == "1" {
		env := cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version}
		if n, err := strconv.Atoi(os.Getenv("LLMOPS_TEST_STALL_AFTER_COMMIT")); err == nil && n > 0 {
			commits := 0
			env.AfterCommit = func() {
				if commits++; commits == n {
					fmt.Fprintf(os.Stderr, "stalled after commit %d\n", n)
					select {}
				}
			}
		}
		os.Exit(cli.Main(context.Background(), os.Args[1:], env))
	}
	// A run of the whole package builds both sample templates in the
	// background from the start (each takes most of a core for tens of
	// seconds under -race), while the tests that need neither run.
	storetest.StartAll(served, ingested)
	// Every browser test sets up an admin and most sign in: at the shipped
	// bcrypt cost each new hash takes ~1.7 s of CPU under -race.
	server.UseLeastPasswordCost()
	code := m.Run()
	stopBrowser()
	served.Remove()
	ingested.Remove()
	os.Exit(code)
}

// TestCrashMidIngestion kills `llmops ingest` while it writes, restarts,
// and checks that store and indexes agree and that no document is half
// there; ingesting again completes the rest.
func TestCrashMidIngestion(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	dir, docs := t.TempDir(), t.TempDir()
	// 240 files are four of ingest's 64-file batches, so there is work
	// left after the third commit; two sections make two chunks a file
	// (a document can be half there), and keep the four batches quick
	// under -race.
	const files = 240
	for i := range files {
		var b strings.Builder
		fmt.Fprintf(&b, "# Crash test document %d\n\n", i)
		for s := range 2 {
			fmt.Fprintf(&b, "## Section %d of document %d\n\n", s, i)
			for range 12 {
				fmt.Fprintf(&b, "Document %d section %d explains how rosters, shifts and swaps interact with payroll exports. ", i, s)
			}
			b.WriteString("\n\n")
		}
		os.WriteFile(filepath.Join(docs, fmt.Sprintf("doc-%03d.md", i)), []byte(b.String()), 0o644)
	}

	// The child stalls right after its third store commit, before the
	// indexes see it: the worst moment to die.
	cmd := exec.Command(os.Args[0], "ingest", "--data", dir, docs)
	cmd.Env = append(os.Environ(), "LLMOPS_TEST_RUN_MAIN=1", "LLMOPS_TEST_STALL_AFTER_COMMIT=3")
	cmd.Stdout = io.Discard
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(errPipe)
	stalled := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "stalled after commit 3") {
			stalled = true
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	go io.Copy(io.Discard, errPipe)
	cmd.Wait()
	if !stalled {
		t.Fatal("the child never reached its third commit")
	}

	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatalf("store after SIGKILL: %v", err)
	}
	for _, err := range st.Check() {
		t.Errorf("bbolt consistency: %v", err)
	}
	kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("knowledge base after SIGKILL: %v", err)
	}
	listed, _ := st.ListDocuments(ctx)
	for _, d := range listed {
		_, chunks, err := st.Document(ctx, d.ID)
		if err != nil || len(chunks) != d.Chunks || d.Chunks == 0 {
			t.Errorf("%s is half there: %d of %d chunks (%v)", d.Source, len(chunks), d.Chunks, err)
		}
	}
	stats, _ := kb.Stats(ctx)
	if stats.Vectors != stats.Chunks {
		t.Errorf("after restart %d vectors for %d chunks", stats.Vectors, stats.Chunks)
	}
	hits, err := kb.SearchKeyword(ctx, "payroll exports", stats.Chunks+10, index.Filter{})
	if err != nil || len(hits) != stats.Chunks {
		t.Errorf("BM25 finds %d of %d chunks after restart (%v)", len(hits), stats.Chunks, err)
	}
	if !kb.Rebuilt() {
		t.Error("the keyword index missed the last commit but was not rebuilt")
	}
	t.Logf("killed after the third commit; %d documents and %d chunks survived", len(listed), stats.Chunks)
	kb.Close()
	st.Close()

	var stdout, stderr strings.Builder
	if code := run(ctx, []string{"ingest", "--data", dir, docs}, &stdout, &stderr, os.Getenv); code != exitOK {
		t.Fatalf("re-ingest: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("%d files", files)) || !strings.Contains(stdout.String(), " 0 failed") {
		t.Errorf("re-ingest summary: %s", lastLine(stdout.String()))
	}
	st, _ = store.Open(ctx, dir, store.Options{})
	defer st.Close()
	if ks, _ := st.KnowledgeStats(ctx); ks.Documents != files {
		t.Errorf("after re-ingest %d documents, want %d", ks.Documents, files)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
