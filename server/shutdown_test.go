package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

// TestShutdownEndsOpenStreams: a stream waiting on a silent model when
// shutdown begins ends with an error event saying the server is stopping;
// its trace still reaches the store, then the store closes cleanly.
func TestShutdownEndsOpenStreams(t *testing.T) {
	t.Parallel()
	f := newFakeModel(t, "stall")
	s := modelServer(t, f)
	key := keyFor(t, s, store.RoleViewer)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v1/ask/stream", strings.NewReader(`{"question":"How do I cancel my subscription?"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()

	events := make(chan sseEvent, 16)
	go func() {
		readSSE(res.Body, func(ev sseEvent) { events <- ev })
		close(events)
	}()
	var traceID string
	// The stream is open once meta arrived; the model then stays silent.
	for ev := range events {
		if ev.name == "meta" {
			var m struct {
				TraceID string `json:"trace_id"`
			}
			json.Unmarshal([]byte(ev.data), &m)
			traceID = m.TraceID
			break
		}
	}
	if traceID == "" {
		t.Fatal("no meta event before the stream ended")
	}

	shut := make(chan error, 1)
	go func() {
		// The drain deadline is far away: the stream must not hold it.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	var errEv struct {
		Error   struct{ Code, Message string }
		TraceID string `json:"trace_id"`
	}
	for ev := range events {
		if ev.name == "error" {
			json.Unmarshal([]byte(ev.data), &errEv)
		}
	}
	if errEv.Error.Code != store.EUNAVAILABLE || !strings.Contains(errEv.Error.Message, "stopping") || errEv.TraceID != traceID {
		t.Errorf("last event = %+v; want an unavailable error saying the server is stopping, for trace %s", errEv, traceID)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	st, err := store.Open(context.Background(), s.cfg.DataDir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("store after shutdown: %v", err)
	}
	defer st.Close()
	tr, _, err := st.Trace(context.Background(), traceID)
	if err != nil {
		t.Fatalf("trace of the stopped stream: %v", err)
	}
	if tr.Status == "ok" {
		t.Errorf("trace status %q; want it to say the answer did not finish", tr.Status)
	}
}

// TestAppCloseTwice: closing the App again returns the first result
// instead of closing its indexes twice.
func TestAppCloseTwice(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	app, err := OpenApp(context.Background(), cfg, quiet, AppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(context.Background()); err != nil {
		t.Errorf("second close: %v", err)
	}
}
