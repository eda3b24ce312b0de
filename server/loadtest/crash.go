package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"llmops/rag/index"
	sampledata "llmops/sample-data"
	"llmops/server"
	"llmops/store"
)

// CrashBenchOptions drive `llmops bench crash`.
type CrashBenchOptions struct {
	Cycles int    // child processes started and killed (or finished)
	Seed   uint64 // picks documents, versions and kill moments
	// Dir holds the data dir and the generated documents; empty: a
	// temporary one, removed after.
	Dir string
	// Executable is the llmops binary the children run; empty: this
	// process's own (os.Executable). Env is added to the children's
	// environment, which otherwise is this process's without LLMOPS_*
	// settings (so no child talks to a model off this machine).
	Executable string
	Env        []string
}

// CrashBenchReport is what `llmops bench crash` found. Lost and
// CheckErrors must be 0.
type CrashBenchReport struct {
	Cycles, IngestCycles, ServeCycles int
	Kills                             int // children SIGKILLed
	IngestKilled                      int // ingests killed…
	IngestKilledBeforeAck             int // …of them before their first printed line
	IngestFinished                    int // ingests that ended before their kill moment
	ServeKilled                       int // serves killed…
	ServeKilledStartUp                int // …of them before they were ready
	AckedDocuments                    int // ingest lines printed (created, updated, unchanged)
	AckedFeedback                     int // feedback posts answered 201
	Lost                              int // acknowledged writes missing or changed after restart
	CheckErrors                       int // bbolt Check errors, half-stored documents, index disagreements, requests failed while serve was up
	Rebuilds                          int // restarts that found the keyword index behind and rebuilt it
	TracesAnswered, TracesStored      int // traces are queued, not acknowledged: stored ≤ answered
	Problems                          []string
	Documents, Chunks                 int // stored at the end
	Elapsed                           time.Duration
}

// crashMarker is in every generated sentence and heading, so one keyword
// query returns every chunk the keyword index holds.
const crashMarker = "crashmark"

// crashPool is how many document paths the ingest cycles reuse (updating
// them), so the store stays small however many cycles run.
const crashPool = 200

// BenchCrash starts Cycles child llmops processes on one data dir, in
// turn `llmops ingest` of generated documents and `llmops serve` taking
// asks and feedback on loopback, kills each with SIGKILL at a moment the
// seed picks, and after each kill checks what a restart finds: bbolt's
// consistency check on a read-only open, then the app opened as serve
// opens it (the knowledge base compares the keyword index's fingerprint
// and rebuilds it when behind), every acknowledged write present and
// complete, and both indexes holding exactly the store's chunks.
func BenchCrash(ctx context.Context, cfg server.Config, opts CrashBenchOptions, progress io.Writer) (CrashBenchReport, error) {
	var rep CrashBenchReport
	if opts.Cycles < 1 {
		return rep, errors.New("cycles must be positive")
	}
	if opts.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return rep, fmt.Errorf("find the llmops binary: %w", err)
		}
		opts.Executable = exe
	}
	if opts.Dir == "" {
		tmp, err := os.MkdirTemp("", "llmops-bench-crash-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(tmp)
		opts.Dir = tmp
	}
	vocab, err := sampledata.Vocabulary()
	if err != nil {
		return rep, err
	}
	b := &crashBench{
		cfg: cfg, opts: opts, rep: &rep, vocab: vocab,
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x63726173)),
		dataDir: filepath.Join(opts.Dir, "data"),
		docsDir: filepath.Join(opts.Dir, "docs"),
		docs:    map[string]*crashDoc{},
		client:  &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: crashClients}},
		startUp: 400 * time.Millisecond, perFile: 10 * time.Millisecond,
	}
	if err := b.setUp(ctx); err != nil {
		return rep, err
	}
	start := time.Now()
	for i := range opts.Cycles {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var err error
		if i%2 == 0 {
			rep.IngestCycles++
			err = b.ingestCycle(ctx)
		} else {
			rep.ServeCycles++
			err = b.serveCycle(ctx, i)
		}
		if err != nil {
			return rep, fmt.Errorf("cycle %d: %w", i, err)
		}
		rep.Cycles++
		if err := b.verify(ctx, b.cycleFeedback); err != nil {
			return rep, fmt.Errorf("cycle %d: verify: %w", i, err)
		}
		b.cycleFeedback = b.cycleFeedback[:0]
		if progress != nil {
			fmt.Fprintf(progress, "\r%d/%d cycles, %d kills, %d documents + %d feedback acknowledged, %d lost, %d check errors",
				rep.Cycles, opts.Cycles, rep.Kills, rep.AckedDocuments, rep.AckedFeedback, rep.Lost, rep.CheckErrors)
		}
	}
	if progress != nil {
		fmt.Fprintln(progress)
	}
	// Once more at the end, every feedback record acknowledged in any cycle.
	if err := b.verify(ctx, b.allFeedback); err != nil {
		return rep, fmt.Errorf("final verify: %w", err)
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// crashClients is how many clients ask and post feedback in a serve cycle.
const crashClients = 4

type crashBench struct {
	cfg     server.Config
	opts    CrashBenchOptions
	rep     *CrashBenchReport
	vocab   []string
	rng     *rand.Rand
	dataDir string
	docsDir string
	apiKey  string
	client  *http.Client

	docs          map[string]*crashDoc // by path, every one ever written
	cycleFeedback []crashFeedback      // acknowledged in this cycle
	allFeedback   []crashFeedback
	answered      []string // trace IDs answered in this cycle

	// How long a child takes to start (open the data dir) and to ingest a
	// file, learned from the children that got that far, so the kill
	// moments spread over the work on a fast machine as on a slow one.
	startUp, perFile time.Duration
}

// learn moves an estimate a quarter of the way towards a new sample.
func learn(est *time.Duration, sample time.Duration) { *est = (3**est + sample) / 4 }

// crashDoc is a generated document and what the store may hold for it:
// the hash of the version last acknowledged, or either of it and a newer
// version whose ingest was killed before its line was printed.
type crashDoc struct {
	path    string
	version int
	allowed []string // acceptable stored hashes; "" means absent
	acked   bool     // some version was acknowledged
}

type crashFeedback struct{ traceID, comment string }

// setUp creates the data dir with a viewer key for the serve cycles.
func (b *crashBench) setUp(ctx context.Context) error {
	if err := os.MkdirAll(b.docsDir, 0o700); err != nil {
		return err
	}
	st, err := store.Open(ctx, b.dataDir, store.Options{})
	if err != nil {
		return err
	}
	b.apiKey, _, err = st.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "bench"}, "bench crash", store.RoleViewer)
	return errors.Join(err, st.Close())
}

// document is version v of pool document n.
func (b *crashBench) document(n, v int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(v)))
	word := func() string { return b.vocab[rng.IntN(len(b.vocab))] }
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Crash document %d, version %d\n\n", n, v)
	for s := range 3 + rng.IntN(4) {
		fmt.Fprintf(&sb, "## %s %s section %d %s\n\n", crashMarker, word(), s, word())
		for range 4 + rng.IntN(5) {
			w := make([]string, 6+rng.IntN(8))
			for i := range w {
				w[i] = word()
			}
			fmt.Fprintf(&sb, "Document %d v%d %s %s. ", n, v, crashMarker, strings.Join(w, " "))
		}
		sb.WriteString("\n\n")
	}
	return []byte(sb.String())
}

// ingestLine is one file's line as `llmops ingest` prints it when the
// file has landed: "[ 3/40] + created   PATH (5 chunks, 12ms)".
var ingestLine = regexp.MustCompile(`^\[\s*\d+/\d+\] \S+ (created|updated|unchanged|duplicate|failed)\s+(.+?)(?: \(\d+ chunks?, \d+ms\)|: (.*))$`)

// ingestCycle runs `llmops ingest` over some pool documents, some of them
// in a new version, and kills it after a seeded delay or a seeded number
// of printed lines.
func (b *crashBench) ingestCycle(ctx context.Context) error {
	n := 8 + b.rng.IntN(153)
	picked := b.rng.Perm(crashPool)[:n]
	args := []string{"ingest", "--data", b.dataDir}
	hashes := map[string]string{}
	for _, i := range picked {
		path := filepath.Join(b.docsDir, fmt.Sprintf("doc-%03d.md", i))
		d := b.docs[path]
		if d == nil {
			d = &crashDoc{path: path, allowed: []string{""}}
			b.docs[path] = d
		}
		if d.version == 0 || b.rng.IntN(2) == 0 {
			d.version++
			if err := os.WriteFile(path, b.document(i, d.version), 0o600); err != nil {
				return err
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		hashes[path] = hex.EncodeToString(sum[:])
		if !slices.Contains(d.allowed, hashes[path]) {
			d.allowed = append(d.allowed, hashes[path])
		}
		args = append(args, path)
	}
	// Two kills in three land at a time from the start, anywhere in
	// the expected run (start-up, parsing, committing, indexing, closing)
	// or just past it; one in three right after the kth printed line.
	var killAfter time.Duration
	killAtLine := 0
	if b.rng.IntN(3) != 0 {
		expected := b.startUp + time.Duration(n)*b.perFile
		killAfter = time.Duration(b.rng.Float64() * 1.1 * float64(expected))
	} else {
		killAtLine = 1 + b.rng.IntN(n)
		killAfter = time.Duration(b.rng.Int64N(int64(100 * time.Millisecond)))
	}

	started := time.Now()
	c, err := b.start(ctx, args...)
	if err != nil {
		return err
	}
	var timer <-chan time.Time
	if killAtLine == 0 {
		timer = time.After(killAfter)
	}
	acks, killed := 0, false
	record := func(line string) error {
		m := ingestLine.FindStringSubmatch(line)
		if m == nil {
			return nil // the summary line
		}
		if m[1] == "failed" || m[1] == "duplicate" {
			return fmt.Errorf("ingest: %s", line)
		}
		d := b.docs[m[2]]
		if d == nil {
			return fmt.Errorf("ingest printed a file it was not given: %s", line)
		}
		d.allowed, d.acked = []string{hashes[m[2]]}, true
		acks++
		b.rep.AckedDocuments++
		return nil
	}
	for lines := c.lines; lines != nil; {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			if err := record(line); err != nil {
				c.kill()
				c.wait()
				return err
			}
			if killAtLine > 0 && acks >= killAtLine && timer == nil && !killed {
				timer = time.After(killAfter)
			}
		case <-timer:
			c.kill()
			killed = true
			timer = nil
		case <-ctx.Done():
			c.kill()
			c.wait()
			return ctx.Err()
		}
	}
	// Lines printed just before the kill were still in the pipe: they
	// were read above, and count.
	waitErr := c.wait()
	switch {
	case waitErr == nil: // done before its kill moment
		b.rep.IngestFinished++
		learn(&b.perFile, max(time.Millisecond, (time.Since(started)-b.startUp)/time.Duration(n)))
	case killed:
		b.rep.Kills++
		b.rep.IngestKilled++
		if acks == 0 {
			b.rep.IngestKilledBeforeAck++
		}
	default:
		return fmt.Errorf("ingest failed: %v\n%s", waitErr, c.stderr.String())
	}
	return nil
}

// serveCycle runs `llmops serve` on loopback with clients that ask and
// post feedback on each answer, and kills it: a quarter of the time at a
// seeded moment of its expected start-up (which may be rebuilding the
// keyword index), otherwise at a seeded moment in the 2 s after it is
// ready.
func (b *crashBench) serveCycle(ctx context.Context, cycle int) error {
	b.answered = b.answered[:0]
	duringStartUp := b.rng.IntN(4) == 0
	killAfter := time.Duration(b.rng.Int64N(int64(2 * time.Second)))
	if duringStartUp {
		killAfter = time.Duration(b.rng.Float64() * float64(b.startUp))
	}
	started := time.Now()
	// --ask-rate 0: the clients ask as fast as they can on purpose.
	c, err := b.start(ctx, "serve", "--addr", "127.0.0.1:0", "--data", b.dataDir, "--no-sample", "--log-level", "warn", "--ask-rate", "0")
	if err != nil {
		return err
	}
	var base string
	if duringStartUp {
		select {
		case <-time.After(killAfter):
		case <-ctx.Done():
		}
		c.kill()
		b.rep.Kills++
		b.rep.ServeKilled++
		b.rep.ServeKilledStartUp++
		c.wait()
		return ctx.Err()
	}
	const prefix = " is running at "
	for base == "" {
		select {
		case line, ok := <-c.lines:
			if !ok {
				err := c.wait()
				return fmt.Errorf("serve stopped before it was ready: %v\n%s", err, c.stderr.String())
			}
			if _, after, found := strings.Cut(line, prefix); found {
				base, _, _ = strings.Cut(after, " ")
				learn(&b.startUp, time.Since(started))
			}
		case <-time.After(2 * time.Minute):
			c.kill()
			c.wait()
			return errors.New("serve not ready after 2 minutes")
		case <-ctx.Done():
			c.kill()
			c.wait()
			return ctx.Err()
		}
	}
	go func() { // the rest of stdout
		for range c.lines {
		}
	}()

	cctx, stop := context.WithCancel(ctx)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	questionRNG := rand.New(rand.NewPCG(b.opts.Seed, uint64(cycle)))
	questions := make([]string, 64)
	for i := range questions {
		questions[i] = fmt.Sprintf("How does %s %s work with %s?", crashMarker, b.vocab[questionRNG.IntN(len(b.vocab))], b.vocab[questionRNG.IntN(len(b.vocab))])
	}
	var killing atomic.Bool
	failed := func(err error) {
		if !killing.Load() { // the server was up: a real failure
			mu.Lock()
			b.problem(false, "serve cycle %d: %v", cycle, err)
			mu.Unlock()
		}
	}
	for w := range crashClients {
		wg.Go(func() {
			for n := 0; cctx.Err() == nil; n++ {
				traceID, err := crashAsk(cctx, b.client, base, b.apiKey, questions[(w*17+n)%len(questions)])
				if err != nil {
					failed(err)
					return
				}
				mu.Lock()
				b.answered = append(b.answered, traceID)
				mu.Unlock()
				comment := fmt.Sprintf("bench crash c%d w%d n%d", cycle, w, n)
				if err := benchFeedback(cctx, b.client, base, b.apiKey, traceID, 1-2*(n%2), comment); err != nil {
					failed(err)
					return
				}
				mu.Lock()
				b.cycleFeedback = append(b.cycleFeedback, crashFeedback{traceID, comment})
				b.allFeedback = append(b.allFeedback, crashFeedback{traceID, comment})
				b.rep.AckedFeedback++
				mu.Unlock()
			}
		})
	}
	select {
	case <-time.After(killAfter):
	case <-ctx.Done():
	}
	killing.Store(true)
	c.kill()
	stop()
	wg.Wait()
	c.wait()
	b.client.CloseIdleConnections()
	b.rep.Kills++
	b.rep.ServeKilled++
	b.rep.TracesAnswered += len(b.answered)
	return ctx.Err()
}

// crashAsk asks one question over the JSON API and returns its trace ID.
func crashAsk(ctx context.Context, c *http.Client, base, key, q string) (string, error) {
	body, _ := json.Marshal(map[string]string{"question": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/ask", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		TraceID string `json:"trace_id"`
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ask: %s", res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", err
	}
	if out.TraceID == "" {
		return "", errors.New("ask: no trace_id")
	}
	return out.TraceID, nil
}

// problem counts an acknowledged write lost, or another check error, and
// keeps the first few for the report.
func (b *crashBench) problem(lost bool, format string, a ...any) {
	if lost {
		b.rep.Lost++
	} else {
		b.rep.CheckErrors++
	}
	if len(b.rep.Problems) < 20 {
		b.rep.Problems = append(b.rep.Problems, fmt.Sprintf(format, a...))
	}
}

// verify is the restart after a kill: a read-only bbolt consistency check,
// then the app opened as serve opens it, and every acknowledged write and
// index entry checked against the store.
func (b *crashBench) verify(ctx context.Context, feedback []crashFeedback) error {
	problem := b.problem
	ro, err := store.Open(ctx, b.dataDir, store.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read-only open after SIGKILL: %w", err)
	}
	for _, err := range ro.Check() {
		problem(false, "bbolt check: %v", err)
	}
	if err := ro.Close(); err != nil {
		return err
	}

	app, err := openOffline(ctx, b.cfg, b.dataDir, server.AppOptions{})
	if err != nil {
		return fmt.Errorf("open after SIGKILL: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			app.Close(context.WithoutCancel(ctx))
		}
	}()
	st, kb := app.Store, app.Knowledge
	if kb.Rebuilt() {
		b.rep.Rebuilds++
	}

	// Documents: every one whole, each what was acknowledged last (or the
	// newer version a killed ingest may have committed).
	listed, err := st.ListDocuments(ctx)
	if err != nil {
		return err
	}
	stored := map[string]string{}
	for _, d := range listed {
		stored[d.Source] = d.Hash
		_, chunks, err := st.Document(ctx, d.ID)
		if err != nil {
			return err
		}
		if len(chunks) != d.Chunks || d.Chunks == 0 {
			problem(false, "%s is half there: %d of %d chunks", d.Source, len(chunks), d.Chunks)
		}
		if b.docs[d.Source] == nil {
			problem(false, "unknown document %s", d.Source)
		}
	}
	for path, d := range b.docs {
		got := stored[path]
		if !slices.Contains(d.allowed, got) {
			problem(d.acked, "%s: stored hash %q, want one of %q", filepath.Base(path), got, d.allowed)
		}
		d.allowed = []string{got}
	}

	// Indexes: the vector index loaded from bbolt holds a vector per
	// chunk; the keyword index exactly the store's chunk IDs.
	stats, err := kb.Stats(ctx)
	if err != nil {
		return err
	}
	if stats.Documents != len(listed) {
		problem(false, "store counts %d documents, lists %d", stats.Documents, len(listed))
	}
	if stats.Vectors != stats.Chunks {
		problem(false, "vector index holds %d vectors for %d chunks", stats.Vectors, stats.Chunks)
	}
	ids := map[string]bool{}
	if err := st.ForEachChunk(ctx, func(_ *store.Document, c *store.Chunk) error {
		ids[c.ID] = true
		return nil
	}); err != nil {
		return err
	}
	if len(ids) != stats.Chunks {
		problem(false, "store counts %d chunks, holds %d", stats.Chunks, len(ids))
	}
	hits, err := kb.SearchKeyword(ctx, crashMarker, len(ids)+100, index.Filter{})
	if err != nil {
		return err
	}
	extra := 0
	for _, h := range hits {
		if !ids[h.ID] {
			extra++
		}
	}
	if len(hits) != len(ids) || extra > 0 {
		problem(false, "keyword index finds %d chunks (%d not in the store), the store holds %d", len(hits), extra, len(ids))
	}
	b.rep.Documents, b.rep.Chunks = len(listed), len(ids)

	for _, f := range feedback {
		fbs, err := st.FeedbackFor(ctx, f.traceID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(fbs, func(s store.Feedback) bool { return s.Comment == f.comment }) {
			problem(true, "feedback %q on trace %s acknowledged but not stored", f.comment, f.traceID)
		}
	}
	for _, id := range b.answered {
		if _, _, err := st.Trace(ctx, id); err == nil {
			b.rep.TracesStored++
		} else if store.ErrorCode(err) != store.ENOTFOUND {
			return err
		}
	}
	b.answered = b.answered[:0]
	closed = true
	return app.Close(context.WithoutCancel(ctx))
}

// crashChild is a running llmops child process.
type crashChild struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line; closed at EOF
	stderr *tailBuffer
	once   sync.Once
	err    error
}

// start starts the llmops binary with args, its stdout read line by line.
func (b *crashBench) start(ctx context.Context, args ...string) (*crashChild, error) {
	cmd := exec.CommandContext(ctx, b.opts.Executable, args...)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LLMOPS_") })
	cmd.Env = append(env, b.opts.Env...)
	c := &crashChild{cmd: cmd, lines: make(chan string, 1024), stderr: &tailBuffer{max: 4 << 10}}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c, nil
}

// kill sends SIGKILL.
func (c *crashChild) kill() { _ = c.cmd.Process.Kill() }

// wait waits for the child once its stdout is read to the end (a reader
// may still be on it) and returns how it ended.
func (c *crashChild) wait() error {
	c.once.Do(func() {
		for range c.lines {
		}
		c.err = c.cmd.Wait()
	})
	return c.err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

var _ io.Writer = (*tailBuffer)(nil)
