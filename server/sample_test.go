package server

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"llmops/store/storetest"
)

// The sample help centre is loaded once per test binary, by a real first
// start (New on an empty data dir, sample data on), into a template data
// dir; each sampleServer starts on a copy. Learning the embedding model
// and running the sample eval set take most of a test's time under -race;
// a copy costs milliseconds. A server on the copy is a restarted new
// install: the sample documents, the sample set and its finished run.
var sample = &storetest.Template{Build: firstStart}

// shippedPasswordCost is the bcrypt cost the server hashes with outside
// these tests.
var shippedPasswordCost = passwordCost

// TestMain makes password hashes cheap (bcrypt's least cost: under -race a
// hash at the default cost takes seconds, and the sign-in tests make
// dozens; what they check does not depend on the cost), starts building
// the template data dir (when the whole package runs) and removes it after
// the tests.
func TestMain(m *testing.M) {
	UseLeastPasswordCost()
	storetest.StartAll(sample)
	code := m.Run()
	sample.Remove()
	os.Exit(code)
}

// firstStart makes the template: a server's first start on an empty data
// dir, shut down once the sample eval run has finished.
func firstStart() (string, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "server-test-sample-")
	if err != nil {
		return "", err
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Addr, cfg.NoSample = dir, "127.0.0.1:0", false
	s, err := New(ctx, cfg, quiet)
	if err != nil {
		return dir, err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		runs, err := s.store.Runs(ctx, "", 0)
		if err != nil {
			s.Shutdown(ctx)
			return dir, err
		}
		if len(runs) == 1 && runs[0].Finished() {
			break
		}
		if time.Now().After(deadline) {
			s.Shutdown(ctx)
			return dir, fmt.Errorf("the sample eval run did not finish in 5 minutes: %+v", runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return dir, s.Shutdown(ctx)
}

// sampleServer is a server with the sample help centre loaded, listening
// on a free port.
func sampleServer(tb testing.TB, options ...func(*Config)) *Server {
	tb.Helper()
	dir := sample.Copy(tb)
	s := mustServer(tb, append([]func(*Config){func(c *Config) { c.DataDir, c.NoSample = dir, false }}, options...)...)
	if err := s.Listen(); err != nil {
		tb.Fatal(err)
	}
	return s
}
