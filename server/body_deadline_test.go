package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"llmops/rag/answer"
	"llmops/rag/assistant"
	"llmops/rag/retrieve"
	"llmops/store"
)

// The body deadline tests speak HTTP over raw connections, so that a
// request can send its headers and then stall. The server's body timeout
// is tiny and the upload timeout an hour; the tests wait for the server
// with a deadline of a minute, which tells the two apart on any machine
// without measuring how long anything took.

// patience is how long a test waits for the server to give up on a stalled
// body.
const patience = time.Minute

// slowServer is a listening server whose body timeout is tiny and whose
// upload timeout is an hour.
func slowServer(t *testing.T) *Server {
	t.Helper()
	s := mustServer(t, func(c *Config) { c.BodyTimeout, c.UploadTimeout = 50*time.Millisecond, time.Hour })
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	return s
}

// stalledRequest opens a connection and sends a request's head (lines
// without the final blank line) and the first part of its body, then
// nothing more.
func stalledRequest(t *testing.T, s *Server, head []string, partial string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, strings.Join(head, "\r\n")+"\r\n\r\n"+partial); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(patience))
	return conn, bufio.NewReader(conn)
}

// givenUp reads what the server says about a stalled request: a response
// with want status and then the connection closing, or the connection
// closing at once. A read that hits the test's own deadline means the
// server is still waiting for the body.
func givenUp(t *testing.T, what string, r *bufio.Reader, want int) {
	t.Helper()
	res, err := http.ReadResponse(r, nil)
	if err == nil {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("%s: got %d %s, want %d or the connection closed", what, res.StatusCode, body, want)
		}
		_, err = r.ReadByte()
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("%s: the server was still waiting for the body after %s", what, patience)
	case err == nil:
		t.Fatalf("%s: the connection stayed open for another request", what)
	}
	// EOF or a reset: the server closed the connection.
}

// TestBodyTimeoutCutsSlowJSON: a JSON body that stalls after the headers
// is cut off with 408 and counted on /metrics.
func TestBodyTimeoutCutsSlowJSON(t *testing.T) {
	t.Parallel()
	s := slowServer(t)
	key := keyFor(t, s, store.RoleViewer)
	_, r := stalledRequest(t, s, []string{
		"POST /api/v1/ask HTTP/1.1", "Host: llmops.test", "Authorization: Bearer " + key,
		"Content-Type: application/json", "Content-Length: 100",
	}, `{"question":`)
	res, err := http.ReadResponse(r, nil)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server was still waiting for the body after %s", patience)
	}
	if err == nil {
		e := decodeBody[apiError](t, res)
		if res.StatusCode != http.StatusRequestTimeout || e.Error.Code != codeRequestTimeout || !res.Close {
			t.Fatalf("stalled JSON body: %d %+v (close %v), want 408 %s and the connection closed", res.StatusCode, e, res.Close, codeRequestTimeout)
		}
	}
	metrics, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.Body.Close()
	text, _ := io.ReadAll(metrics.Body)
	if want := `llmops_http_body_timeouts_total{method="POST",route="/api/v1/ask"} 1`; !strings.Contains(string(text), want) {
		t.Errorf("/metrics has no %s", want)
	}
}

// TestBodyTimeoutForUploads: an editor's upload may take longer than the
// body timeout; an anonymous one may not.
func TestBodyTimeoutForUploads(t *testing.T) {
	t.Parallel()
	s := slowServer(t)
	editor := keyFor(t, s, store.RoleEditor)
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	w.WriteField("name", "slow")
	fw, _ := w.CreateFormFile("file", "slow.csv")
	io.WriteString(fw, "question\nHow do I reset my password?\n")
	w.Close()
	head := func(auth ...string) []string {
		return append([]string{
			"POST /api/v1/evals/sets HTTP/1.1", "Host: llmops.test",
			"Content-Type: " + w.FormDataContentType(), fmt.Sprintf("Content-Length: %d", form.Len()),
		}, auth...)
	}

	// The editor's client waits for 100 Continue, which the server sends
	// when the handler starts reading the body: its deadline is set.
	slow, slowR := stalledRequest(t, s, head("Authorization: Bearer "+editor, "Expect: 100-continue"), "")
	if res, err := http.ReadResponse(slowR, nil); err != nil || res.StatusCode != http.StatusContinue {
		t.Fatalf("editor's upload: want 100 Continue, got %v %v", res, err)
	}

	// An anonymous upload started after it: the server stops waiting for
	// its body (401 for the missing key, then the connection closes).
	_, anonR := stalledRequest(t, s, head(), form.String()[:form.Len()/2])
	givenUp(t, "anonymous upload", anonR, http.StatusUnauthorized)

	// So the editor's body has now been slower than the body timeout,
	// and it is still taken.
	if _, err := slow.Write(form.Bytes()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(slowR, nil)
	if err != nil {
		t.Fatalf("editor's upload after the stall: %v", err)
	}
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusCreated {
		t.Fatalf("editor's upload after the stall: %d %s, want 201", res.StatusCode, body)
	}
}

// gateAnswerer answers "ok" once released, or fails when its request is
// cancelled first.
type gateAnswerer struct{ started, release chan struct{} }

func (gateAnswerer) Name() string { return "gate" }
func (a gateAnswerer) Generate(ctx context.Context, in assistant.Input, token func(string) error) (*assistant.Generation, error) {
	a.started <- struct{}{}
	g := &assistant.Generation{Model: "gate", Start: time.Now()}
	select {
	case <-ctx.Done():
		return g, ctx.Err()
	case <-a.release:
	}
	g.Answer, g.End = &answer.Answer{Text: "ok"}, time.Now()
	return g, token("ok")
}

// TestBodyTimeoutSparesLongAnswers: the body deadline ends with the body.
// A streamed answer that takes longer than the body timeout after its
// body was read is not cut off or cancelled.
func TestBodyTimeoutSparesLongAnswers(t *testing.T) {
	t.Parallel()
	s := sampleServer(t, func(c *Config) { c.BodyTimeout, c.UploadTimeout = 50*time.Millisecond, time.Hour })
	gate := gateAnswerer{started: make(chan struct{}, 1), release: make(chan struct{})}
	var err error
	s.asst, err = assistant.New(assistant.Options{Retriever: retrieve.New(s.kb, retrieve.Options{}), Answerer: gate, Traces: s.traces, Conversations: s.store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	key := keyFor(t, s, store.RoleViewer)
	res := post(t, s.URL()+"/api/v1/ask/stream", `{"question":"How do I cancel my subscription?"}`, "Authorization", "Bearer "+key)
	defer res.Body.Close()
	select {
	case <-gate.started: // the body has been read
	case <-time.After(patience):
		t.Fatal("the model was never asked")
	}
	// A request stalled after the answer began is cut off: the answer has
	// now run longer than the body timeout.
	_, r := stalledRequest(t, s, []string{
		"POST /api/v1/ask HTTP/1.1", "Host: llmops.test", "Authorization: Bearer " + key,
		"Content-Type: application/json", "Content-Length: 100",
	}, `{"question":`)
	givenUp(t, "stalled JSON body", r, http.StatusRequestTimeout)
	close(gate.release)
	var names []string
	if err := readSSE(res.Body, func(ev sseEvent) {
		if ev.name != ":" {
			names = append(names, ev.name)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 || names[len(names)-1] != "done" {
		t.Errorf("events %v, want the answer to end with done", names)
	}
}
