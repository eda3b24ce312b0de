// Package storetest helps tests start from a data dir that is expensive
// to build (the sample help centre ingested, a first serve's sample eval
// run): it is built once per test binary and every test gets a copy, as
// net/http/httptest helps tests of HTTP. Only tests import it.
package storetest

import (
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Template is a data dir built once by Build, on first use or from Start.
type Template struct {
	// Build makes the data dir and returns its path (a temporary folder
	// the Template owns from then on).
	Build func() (string, error)

	once sync.Once
	dir  string
	err  error
}

// Start builds the template in the background, so that tests which need
// it later find it ready instead of holding one of the -parallel slots
// while it builds; the other tests run meanwhile. Call it from TestMain,
// before m.Run, when the whole package runs (a test picked by -run may
// not need the template at all).
func (t *Template) Start() {
	go t.once.Do(t.build)
}

func (t *Template) build() { t.dir, t.err = t.Build() }

// StartAll starts the templates' builds (see Start) when the whole package
// runs, with no -run pattern; call it from TestMain before m.Run. It
// parses the test flags, as a TestMain that reads them must.
func StartAll(templates ...*Template) {
	flag.Parse()
	if f := flag.Lookup("test.run"); f == nil || f.Value.String() != "" {
		return
	}
	for _, t := range templates {
		t.Start()
	}
}

// Copy returns a fresh copy of the template's data dir in tb's temporary
// folder, building the template first if no test has yet (or waiting for
// the build Start began). A template that failed to build fails every
// test that asks for it, with its reason.
func (t *Template) Copy(tb testing.TB) string {
	tb.Helper()
	t.once.Do(t.build)
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
// m.Run. It waits for a build Start began.
func (t *Template) Remove() {
	t.once.Do(func() {}) // returns once a running build has
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}
