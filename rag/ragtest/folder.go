//go:build unix

// Package ragtest builds inputs for tests of what ingestion may read.
// Only tests import it.
package ragtest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Secret is the text of the file HostileFolder links to from outside
// the folder: a test asks for it to prove it was never published.
const Secret = "The vault passphrase is tangerine-forty-two."

// HostileFolder fills folder with what must never be read as a document
// beside one plain file, shifts.md: secret.md, a link to a file outside
// the folder holding Secret; zero.md, a link to /dev/zero; inner.md, a link
// to shifts.md; pipe.md, a FIFO; big.md, a sparse file past the parser's
// 64 MiB limit. It skips the test where FIFOs cannot be made.
func HostileFolder(tb testing.TB, folder string) {
	tb.Helper()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	outside := filepath.Join(tb.TempDir(), "vault.md")
	must(os.WriteFile(outside, []byte("# Vault\n\n"+Secret+"\n"), 0o644))
	shifts := filepath.Join(folder, "shifts.md")
	must(os.WriteFile(shifts, []byte("# Shifts\n\nManagers publish the schedule every Friday.\n"), 0o644))
	must(os.Symlink(outside, filepath.Join(folder, "secret.md")))
	must(os.Symlink("/dev/zero", filepath.Join(folder, "zero.md")))
	must(os.Symlink(shifts, filepath.Join(folder, "inner.md")))
	if err := syscall.Mkfifo(filepath.Join(folder, "pipe.md"), 0o644); err != nil {
		tb.Skipf("no FIFOs here: %v", err)
	}
	big, err := os.Create(filepath.Join(folder, "big.md"))
	must(err)
	must(big.Truncate(65 << 20)) // sparse: no 65 MiB written
	must(big.Close())
}
