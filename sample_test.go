package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"llmops/store"
	"llmops/store/schema"
	"llmops/store/storetest"
)

// Loading the sample help centre (learning its embedding model, running
// the 90-case sample set) is most of a test's time under -race. Each of
// the two ways to load it runs once per test binary into a template data
// dir, and tests start from a copy:
//
//   - firstServe is a new install's first `llmops serve`: sample documents,
//     the sample test set and its finished run;
//   - firstIngest is `llmops ingest sample-data/docs` into an empty dir.
//
// A failure of either fails every test that needs it, with its reason.
var (
	served   = &storetest.Template{Build: firstServe}
	ingested = &storetest.Template{Build: firstIngest}
)

// sampleServeDir is a data dir as a new install's first serve leaves it:
// the sample documents, the sample set and its finished run, no users.
// (It has one viewer API key, which the first serve used to wait for the
// run.)
func sampleServeDir(t *testing.T) string {
	t.Helper()
	return served.Copy(t)
}

// sampleIngestDir is a data dir after `llmops ingest sample-data/docs`.
func sampleIngestDir(t *testing.T) string {
	t.Helper()
	return ingested.Copy(t)
}

func firstServe() (string, error) {
	dir, err := os.MkdirTemp("", "llmops-test-serve-")
	if err != nil {
		return "", err
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "create", "--data", dir, "--name", "template", "--role", "viewer"}, &out, &errOut, os.Getenv); code != exitOK {
		return dir, fmt.Errorf("keys create: exit %d: %s", code, errOut.String())
	}
	key := lastLine(out.String())
	inst, err := launch(dir, nil)
	if err != nil {
		return dir, err
	}
	defer inst.stop()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, inst.url+"/api/v1/evals/runs", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return dir, err
		}
		var list struct{ Runs []store.EvalRun }
		err = json.NewDecoder(res.Body).Decode(&list)
		res.Body.Close()
		if err != nil {
			return dir, fmt.Errorf("list runs: %w", err)
		}
		if len(list.Runs) == 1 && list.Runs[0].Finished() {
			if list.Runs[0].Status != schema.RunDone {
				return dir, fmt.Errorf("sample run %s: %s", list.Runs[0].Status, list.Runs[0].Error)
			}
			break
		}
		if time.Now().After(deadline) {
			return dir, fmt.Errorf("the sample run did not finish in 5 minutes: %+v", list.Runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := inst.stop(); code != exitOK {
		return dir, fmt.Errorf("serve exited with %d", code)
	}
	return dir, nil
}

func firstIngest() (string, error) {
	dir, err := os.MkdirTemp("", "llmops-test-ingest-")
	if err != nil {
		return "", err
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--data", dir, "sample-data/docs"}, &out, &errOut, os.Getenv); code != exitOK {
		return dir, fmt.Errorf("ingest: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), " 0 failed") {
		return dir, fmt.Errorf("ingest: %s", lastLine(out.String()))
	}
	return dir, nil
}
