package loadtest_test

import (
	"context"
	"io"
	"os"
	"testing"

	"llmops/server"
	"llmops/server/cli"
	"llmops/server/loadtest"
)

// TestMain lets BenchCrash's children be this test binary: with
// LLMOPS_TEST_RUN_MAIN=1 it runs the llmops command line instead of the
// tests, as the real binary would.
func TestMain(m *testing.M) {
	if os.Getenv("LLMOPS_TEST_RUN_MAIN") == "1" {
		env := cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: "test"}
		os.Exit(cli.Main(context.Background(), os.Args[1:], env))
	}
	os.Exit(m.Run())
}

// TestBenchCrash runs two cycles of `llmops bench crash` (one ingest, one
// serve), so the command keeps working; the figures come from the real
// command (docs/BENCHMARKS.md).
func TestBenchCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills child processes")
	}
	opts := loadtest.CrashBenchOptions{Cycles: 2, Seed: 1, Dir: t.TempDir(), Env: []string{"LLMOPS_TEST_RUN_MAIN=1"}}
	rep, err := loadtest.BenchCrash(t.Context(), server.DefaultConfig(), opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Error(p)
	}
	if rep.Lost != 0 || rep.CheckErrors != 0 {
		t.Errorf("lost %d, check errors %d; want 0 and 0", rep.Lost, rep.CheckErrors)
	}
	if rep.IngestCycles != 1 || rep.ServeCycles != 1 {
		t.Errorf("got %d ingest and %d serve cycles, want 1 and 1", rep.IngestCycles, rep.ServeCycles)
	}
	if rep.Kills+rep.IngestFinished != 2 {
		t.Errorf("got %d kills and %d finished children, want 2 in all", rep.Kills, rep.IngestFinished)
	}
	t.Logf("%+v", rep)
}
