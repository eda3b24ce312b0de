package rag

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"llmops/rag/parse"
	"llmops/store"
)

// Files for ingestion come from disk (llmops ingest, the watched folder),
// and not everything on disk is a document: a FIFO blocks a read forever,
// /dev/zero never ends, and a symbolic link can point anywhere (a secret
// outside the folder, a file far over the limit). So both readers below
// read only regular files, and judge what they opened rather than the path:
// the file is opened without blocking, its type and size come from the
// open descriptor, and at most the limit is read whatever the size said.
//
// Refusals are *store.Error values (EINVALID, or ETOOLARGE from
// parse.TooLarge) whose message says why, for the per-file line or log
// entry; any other error is the file system's (gone, no permission).

// ReadRegularFile reads the file at path, which a person named: a symbolic
// link is followed, but what it leads to must be a regular file of at most
// max bytes. A max of 0 or above the parser's limit means the parser's.
func ReadRegularFile(path string, max int64) ([]byte, error) {
	// Stat first, so a device or FIFO is refused without being opened.
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(info); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpened(f, max)
}

// ReadFolderFile reads path, an entry found by walking folder, when it is
// a regular file inside folder reached through no symbolic link, of at
// most max bytes (0 or above the parser's limit means the parser's). A
// link is refused even when it points inside the folder: nobody named it.
func ReadFolderFile(folder, path string, max int64) ([]byte, error) {
	rel, err := filepath.Rel(folder, path)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, store.Errorf(store.EINVALID, "outside the folder")
	}
	// os.Root opens each path component without following a link out of
	// the folder, so a directory swapped for a link after the walk cannot
	// lead outside either.
	root, err := os.OpenRoot(folder)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	info, err := root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return nil, linkRefusal(folder, path)
	}
	if err := regular(info); err != nil {
		return nil, err
	}
	// Replaced by a link since the Lstat, the entry is still confined to
	// the folder by the root, and what it leads to is checked again below.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpened(f, max)
}

// readOpened reads an opened file when it is regular and within max.
func readOpened(f *os.File, max int64) ([]byte, error) {
	if limit := parse.DefaultLimits().MaxBytes; max <= 0 || max > limit {
		max = limit
	}
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(info); err != nil {
		return nil, err
	}
	if info.Size() > max {
		return nil, parse.TooLarge(info.Size(), max)
	}
	// One byte past the limit tells a file that grew since the Stat.
	buf := bytes.NewBuffer(make([]byte, 0, info.Size()+1))
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	if n := int64(buf.Len()); n > max {
		return nil, parse.TooLarge(n, max)
	}
	return buf.Bytes(), nil
}

// regular refuses anything but a regular file, naming what it is.
func regular(info fs.FileInfo) error {
	m := info.Mode()
	var kind string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		kind = "folder"
	case m&fs.ModeSymlink != 0:
		kind = "symlink"
	case m&fs.ModeNamedPipe != 0:
		kind = "FIFO"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	case m&fs.ModeDevice != 0:
		kind = "device"
	default:
		kind = "irregular"
	}
	return store.Errorf(store.EINVALID, "not a regular file (%s)", kind)
}

// linkRefusal says why the link at path, inside folder, is not read:
// where it leads decides the message, never whether it is followed.
func linkRefusal(folder, path string) error {
	target, err := filepath.EvalSymlinks(path)
	realFolder, err2 := filepath.EvalSymlinks(folder)
	if err == nil && err2 == nil {
		if rel, err := filepath.Rel(realFolder, target); err != nil || !filepath.IsLocal(rel) {
			return store.Errorf(store.EINVALID, "symlink outside the folder")
		}
	}
	return store.Errorf(store.EINVALID, "symlink (links found in a folder are not followed)")
}
