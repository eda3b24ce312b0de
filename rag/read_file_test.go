//go:build unix

package rag_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"llmops/rag"
	"llmops/store"
)

// TestReadFile reads what is a document and refuses, with the reason,
// what is not: the named reader follows a link to a regular file, the
// folder reader follows no link, and neither reads a FIFO, a device or
// more than the limit.
func TestReadFile(t *testing.T) {
	t.Parallel()
	outside, folder := t.TempDir(), t.TempDir()
	in := func(name string) string { return filepath.Join(folder, name) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "vault.md"), []byte("secret"), 0o644))
	must(os.WriteFile(in("a.md"), []byte("0123456789"), 0o644))
	must(os.Mkdir(in("sub"), 0o755))
	must(os.WriteFile(in("sub/b.md"), []byte("b"), 0o644))
	must(os.Symlink(filepath.Join(outside, "vault.md"), in("out.md")))
	must(os.Symlink("/dev/zero", in("zero.md")))
	must(os.Symlink(in("a.md"), in("inner.md")))
	must(os.Symlink(outside, in("outdir")))
	if err := syscall.Mkfifo(in("pipe.md"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	const links = "symlink (links found in a folder are not followed)"
	tests := []struct {
		name   string
		folder string // "" for ReadRegularFile
		path   string
		max    int64
		want   string // the data, or the refusal's message
		code   string // the refusal's code, "" when read
	}{
		{"regular", folder, in("a.md"), 0, "0123456789", ""},
		{"in a subfolder", folder, in("sub/b.md"), 0, "b", ""},
		{"at the limit", folder, in("a.md"), 10, "0123456789", ""},
		{"over the limit", folder, in("a.md"), 9, "file is 10 bytes; the limit is 9 bytes", store.ETOOLARGE},
		{"link outside", folder, in("out.md"), 0, "symlink outside the folder", store.EINVALID},
		{"link to a device", folder, in("zero.md"), 0, "symlink outside the folder", store.EINVALID},
		{"link inside", folder, in("inner.md"), 0, links, store.EINVALID},
		{"through a linked folder", folder, in("outdir/vault.md"), 0, "", "error"},
		{"not in the folder", folder, filepath.Join(outside, "vault.md"), 0, "outside the folder", store.EINVALID},
		{"FIFO in a folder", folder, in("pipe.md"), 0, "not a regular file (FIFO)", store.EINVALID},
		{"a folder", folder, in("sub"), 0, "not a regular file (folder)", store.EINVALID},
		{"named link", "", in("inner.md"), 0, "0123456789", ""},
		{"named link outside", "", in("out.md"), 0, "secret", ""},
		{"named FIFO", "", in("pipe.md"), 0, "not a regular file (FIFO)", store.EINVALID},
		{"named link to a device", "", in("zero.md"), 0, "not a regular file (device)", store.EINVALID},
		{"named, over the limit", "", in("a.md"), 4, "file is 10 bytes; the limit is 4 bytes", store.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			var err error
			if tt.folder == "" {
				data, err = rag.ReadRegularFile(tt.path, tt.max)
			} else {
				data, err = rag.ReadFolderFile(tt.folder, tt.path, tt.max)
			}
			switch {
			case tt.code == "":
				if err != nil || string(data) != tt.want {
					t.Errorf("got %q, %v; want %q", data, err, tt.want)
				}
			case tt.code == "error": // any refusal or file-system error
				if err == nil {
					t.Errorf("got %q; want an error", data)
				}
			default:
				if store.ErrorCode(err) != tt.code || store.ErrorMessage(err) != tt.want {
					t.Errorf("got %q, %v (%s); want %s %q", data, err, store.ErrorCode(err), tt.code, tt.want)
				}
			}
		})
	}
}
