//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"llmops/rag/ragtest"
	"llmops/store"
)

// TestIngestReadsOnlyRegularFiles runs `llmops ingest --data DIR folder`
// on a folder holding a link to a secret outside it, a link to /dev/zero,
// a link inside it, a FIFO and a file over the parser's limit: the plain
// file lands, the links and the FIFO are skipped with their reasons, the
// big file fails without being read, and the command ends. A link named on
// the command line is followed to a regular file or a folder; a named
// FIFO or device fails.
func TestIngestReadsOnlyRegularFiles(t *testing.T) {
	t.Parallel()
	folder := t.TempDir()
	ragtest.HostileFolder(t, folder)
	fifo := filepath.Join(folder, "pipe.md")

	// ingest runs the command with a generous bound: before the fix a
	// FIFO blocked it forever.
	ingest := func(args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		done := make(chan int, 1)
		go func() {
			done <- run(context.Background(), append([]string{"ingest"}, args...), &out, &errOut, func(string) string { return "" })
		}()
		select {
		case code := <-done:
			return code, out.String() + errOut.String()
		case <-time.After(2 * time.Minute):
			t.Fatalf("ingest %v still running after two minutes", args)
			return 0, ""
		}
	}
	dir := t.TempDir()
	code, out := ingest("--data", dir, folder)
	if code != exitFail {
		t.Errorf("exit %d, want %d (big.md fails):\n%s", code, exitFail, out)
	}
	lines := []struct{ name, line string }{
		{"shifts.md", `\+ created +\S*/shifts\.md \(1 chunk`},
		{"secret.md", `- skipped +\S*/secret\.md: symlink outside the folder$`},
		{"zero.md", `- skipped +\S*/zero\.md: symlink outside the folder$`},
		{"inner.md", `- skipped +\S*/inner\.md: symlink \(links found in a folder are not followed\)$`},
		{"pipe.md", `- skipped +\S*/pipe\.md: not a regular file \(FIFO\)$`},
		{"big.md", `✕ failed +\S*/big\.md: file is 65 MiB; the limit is 64 MiB$`},
		{"summary", `^6 files in .*: 1 created, 0 updated, 0 unchanged, 0 duplicate, 1 failed, 4 skipped; 1 chunks$`},
	}
	for _, l := range lines {
		if !regexp.MustCompile(`(?m)` + l.line).MatchString(out) {
			t.Errorf("%s: no line matching %q in:\n%s", l.name, l.line, out)
		}
	}
	st, err := store.Open(context.Background(), dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := st.ListDocuments(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || filepath.Base(docs[0].Source) != "shifts.md" {
		t.Errorf("got %d documents (%v), want shifts.md alone", len(docs), docs)
	}

	// Named on the command line: the link to a regular file is the
	// person's choice; a FIFO or a device never is a document.
	named := filepath.Join(t.TempDir(), "named.md")
	symlink(t, filepath.Join(folder, "shifts.md"), named)
	code, out = ingest("--data", t.TempDir(), named, fifo, filepath.Join(folder, "zero.md"))
	if code != exitFail {
		t.Errorf("named paths: exit %d, want %d:\n%s", code, exitFail, out)
	}
	for _, line := range []string{
		`\+ created +\S*/named\.md \(1 chunk`,
		`✕ failed +\S*/pipe\.md: not a regular file \(FIFO\)$`,
		`✕ failed +\S*/zero\.md: not a regular file \(device\)$`,
	} {
		if !regexp.MustCompile(`(?m)` + line).MatchString(out) {
			t.Errorf("named paths: no line matching %q in:\n%s", line, out)
		}
	}

	// A named link to a folder is followed too; what the walk finds in it
	// is judged as above.
	linked := filepath.Join(t.TempDir(), "docs")
	symlink(t, folder, linked)
	code, out = ingest("--data", t.TempDir(), linked)
	for _, line := range []string{
		`\+ created +\S*/docs/shifts\.md \(1 chunk`,
		`- skipped +\S*/docs/secret\.md: symlink outside the folder$`,
	} {
		if !regexp.MustCompile(`(?m)` + line).MatchString(out) {
			t.Errorf("named folder link: exit %d, no line matching %q in:\n%s", code, line, out)
		}
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
