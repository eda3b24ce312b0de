// Package storetest helps tests start from a data dir that is expensive
// to build (the sample help centre ingested, a first serve's sample eval
// run): it is built once per test binary and every test gets a copy, as
// net/http/httptest helps tests of HTTP. Only tests import it.
package storetest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Template is a data dir built once by Build, on first use.
type Template struct {
	// Build makes the data dir and returns its path (a temporary folder
	// the Template owns from then on).
	Build func() (string, error)

	once sync.Once
	dir  string
	err  error
}

// Copy returns a fresh copy of the template's data dir in tb's temporary
// folder, building the template first if no test has yet. A template that
// failed to build fails every test that asks for it, with its reason.
func (t *Template) Copy(tb testing.TB) string {
	tb.Helper()
	t.once.Do(func() { t.dir, t.err = t.Build() })
	if t.err != nil {
		tb.Fatalf("template data dir: %v", t.err)
	}
	dir := filepath.Join(tb.TempDir(), "data")
	if err := os.CopyFS(dir, os.DirFS(t.dir)); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Remove deletes the template's data dir; call it from TestMain after
// m.Run.
func (t *Template) Remove() {
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}
