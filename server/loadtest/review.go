package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"time"

	"llmops/evals/review"
	sampledata "llmops/sample-data"
	"llmops/server"
	"llmops/store"
	"llmops/store/schema"
)

// ReviewBenchOptions configure BenchReview.
type ReviewBenchOptions struct {
	Dir    string // data dir to build (must be empty or absent)
	Traces int    // answers in the week
	Labels int    // queue items to label before the report
	Seed   uint64
}

// ReviewBenchReport is what BenchReview measured.
type ReviewBenchReport struct {
	Week                   string
	Traces, Stored         int // answers of real traffic in the week; traces stored in all
	Queue, Mandatory       int // items queued; of them with a mandatory reason
	Double                 int
	Labelled, Failing      int
	Clusters, Gaps         int
	Write                  time.Duration // writing the traces (not timed against the bar)
	Build, Rebuild, Report time.Duration
	// BuildCPU and ReportCPU are the process's CPU time (user + system)
	// over the same steps: on a machine shared with other work, wall time
	// measures the neighbours too.
	BuildCPU, ReportCPU time.Duration
}

// cpuTime is the process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchReview stores a week of synthetic answers (the sample help
// centre's questions in a few wordings, three channels plus eval traffic
// the sampler must skip, two prompt versions, escalations, low
// groundedness, thumbs) with the sample help centre ingested, so the
// report clusters with the real local embedder. It then times building
// the week's review queue (first build, and a rebuild that tops it up),
// labels some items and times the weekly report.
func BenchReview(ctx context.Context, cfg server.Config, opts ReviewBenchOptions, progress io.Writer) (ReviewBenchReport, error) {
	var rep ReviewBenchReport
	app, err := openOffline(ctx, cfg, opts.Dir, server.AppOptions{})
	if err != nil {
		return rep, err
	}
	defer app.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(progress, "ingesting the sample help centre (for the embedder)…\n")
	if err := ingestSample(ctx, app); err != nil {
		return rep, err
	}
	st := app.Store
	actor := store.Actor{Kind: store.ActorCLI, Name: "bench"}
	for i := range 4 {
		u := &store.User{Name: fmt.Sprintf("Reviewer %d", i+1), Email: fmt.Sprintf("reviewer%d@example.com", i+1), Role: store.RoleReviewer, PasswordHash: []byte("x")}
		if err := st.CreateUser(ctx, actor, u); err != nil {
			return rep, err
		}
	}
	questions, err := sampledata.Questions()
	if err != nil {
		return rep, err
	}
	docs, err := sampledata.Manifest()
	if err != nil {
		return rep, err
	}
	// Last week, whole.
	monday, _ := store.ParseISOWeek(store.ISOWeek(time.Now()))
	monday = monday.AddDate(0, 0, -7)
	rep.Week = store.ISOWeek(monday)
	rng := rand.New(rand.NewPCG(opts.Seed, 13))
	wordings := []string{"%s", "Hi, %s", "quick question: %s", "%s thanks", "hello, %s please"}
	fmt.Fprintf(progress, "writing %d answers in %s…\n", opts.Traces, rep.Week)
	started := time.Now()
	var ids []string
	for i := range opts.Traces {
		at := monday.Add(time.Duration(float64(7*24*time.Hour) * float64(i) / float64(opts.Traces)))
		q := fmt.Sprintf(wordings[rng.IntN(len(wordings))], questions[rng.IntN(len(questions))].Question)
		channel := []string{schema.ChannelChat, schema.ChannelWidget, schema.ChannelWidget, schema.ChannelAPI, schema.ChannelEval}[rng.IntN(5)]
		kind := schema.KindAsk
		if channel == schema.ChannelEval {
			kind = schema.KindEval
		}
		g := 0.35 + 0.65*rng.Float64()
		status := schema.StatusOK
		if rng.IntN(100) < 2 {
			g, status = 0.35*rng.Float64(), schema.StatusFallback
		}
		doc := docs[rng.IntN(len(docs))]
		tr := &store.Trace{ID: store.NewIDAt(at), Kind: kind, Name: "ask · " + channel, Start: at, End: at.Add(time.Second), Status: status,
			Input: q, Output: "answer", Attributes: map[string]any{
				schema.AttrChannel: channel, schema.AttrQuestion: q, schema.AttrAnswer: "An answer to: " + q,
				schema.AttrPrompt: []string{"support-answer@1", "support-answer@2"}[rng.IntN(2)], schema.AttrGroundedness: g, schema.AttrThreshold: 0.35,
				schema.AttrFallback: status == schema.StatusFallback, schema.AttrEscalated: status == schema.StatusFallback || rng.IntN(100) == 0,
				schema.AttrConversationID: fmt.Sprintf("conv-%07d", i/3),
				schema.AttrCitations:      []map[string]any{{"n": 1, "document_id": doc.ID, "source": doc.Path, "title": doc.Title}},
			}}
		if err := app.Traces.Write(ctx, tr); err != nil {
			return rep, err
		}
		if kind == schema.KindAsk {
			rep.Traces++
			ids = append(ids, tr.ID)
		}
	}
	if err := app.Traces.Flush(ctx); err != nil {
		return rep, err
	}
	for _, id := range ids {
		switch r := rng.IntN(1000); {
		case r < 5:
			err = st.AddFeedback(ctx, actor, &store.Feedback{TraceID: id, Value: -1, Comment: "not what I asked"})
		case r < 15:
			err = st.AddFeedback(ctx, actor, &store.Feedback{TraceID: id, Value: 1})
		}
		if err != nil {
			return rep, err
		}
	}
	rep.Write = time.Since(started)
	if rep.Stored, err = st.CountTraces(ctx); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "building the queue…\n")
	c0, t0 := cpuTime(), time.Now()
	items, err := review.BuildQueue(ctx, st, actor, rep.Week)
	if err != nil {
		return rep, err
	}
	rep.Build, rep.BuildCPU = time.Since(t0), cpuTime()-c0
	t0 = time.Now()
	if _, err := review.BuildQueue(ctx, st, actor, rep.Week); err != nil {
		return rep, err
	}
	rep.Rebuild = time.Since(t0)
	rep.Queue = len(items)
	for _, it := range items {
		for _, r := range it.Reason {
			if r != store.ReasonSampled {
				rep.Mandatory++
				break
			}
		}
		if it.Double {
			rep.Double++
		}
	}

	fmt.Fprintf(progress, "labelling %d items…\n", min(opts.Labels, len(items)))
	for _, it := range items[:min(opts.Labels, len(items))] {
		for _, who := range it.Assignees {
			l := store.ReviewLabel{Verdict: store.Verdicts[rng.IntN(len(store.Verdicts))], Grounded: rng.IntN(2) == 0}
			if l.Verdict.Bad() {
				l.Cause = store.Causes[rng.IntN(len(store.Causes))]
			}
			if _, err := st.LabelReviewItem(ctx, actor, who, who, it.ID, l); err != nil {
				return rep, err
			}
		}
	}
	fmt.Fprintf(progress, "building the report…\n")
	c0, t0 = cpuTime(), time.Now()
	r, err := review.BuildReport(ctx, st, app.Knowledge.EmbedTexts, rep.Week)
	if err != nil {
		return rep, err
	}
	rep.Report, rep.ReportCPU = time.Since(t0), cpuTime()-c0
	rep.Labelled, rep.Failing, rep.Clusters, rep.Gaps = r.Labelled, r.Failing, len(r.Clusters), len(r.Gaps)
	return rep, nil
}
