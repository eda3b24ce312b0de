package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"llmops/evals/review"
	"llmops/store"
	"llmops/store/schema"
)

// TestReviewReportCommand: llmops review report prints the same report as
// the API, as JSON and as Markdown, from a data dir.
func TestReviewReportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	actor := store.Actor{Kind: store.ActorCLI, Name: "test"}
	w := st.NewTraceWriter(store.TraceWriterOptions{})
	monday, _ := store.ParseISOWeek("2026-W50")
	for i := range 12 {
		at := monday.Add(time.Duration(i) * time.Hour)
		q := []string{"How do I cancel my subscription?", "cancel my subscription how", "Where is the time clock?"}[i%3]
		tr := &store.Trace{ID: store.NewIDAt(at), Kind: schema.KindAsk, Start: at, Status: schema.StatusOK, Attributes: map[string]any{
			schema.AttrChannel: schema.ChannelChat, schema.AttrQuestion: q, schema.AttrConversationID: fmt.Sprint(i),
			schema.AttrEscalated: true, schema.AttrPrompt: "support-answer@2"}}
		if err := w.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := review.BuildQueue(ctx, st, actor, "2026-W50")
	if err != nil || len(items) != 12 {
		t.Fatalf("queue: %d items, %v", len(items), err)
	}
	for _, it := range items {
		v := store.VerdictIncorrect
		if strings.Contains(it.Question, "time clock") {
			v = store.VerdictCorrect
		}
		if _, err := st.LabelReviewItem(ctx, actor, "ann", "Ann", it.ID, store.ReviewLabel{Verdict: v, Cause: store.CauseKnowledgeGap}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := review.BuildReport(ctx, st, nil, "2026-W50")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"review", "report", "--data", dir, "--week", "2026-W50", "--format", "json"}, &out, &errOut, func(string) string { return "" }); code != exitOK {
		t.Fatalf("review report --format json: exit %d: %s", code, errOut.String())
	}
	var got review.Report
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.Labelled != 12 || got.Failing != 8 || got.Verdicts[store.VerdictIncorrect] != 8 || len(got.Clusters) != len(want.Clusters) {
		t.Errorf("JSON report: labelled %d failing %d verdicts %v, %d clusters; want 12, 8, 8 incorrect, %d clusters", got.Labelled, got.Failing, got.Verdicts, len(got.Clusters), len(want.Clusters))
	}
	if len(got.Clusters) == 0 || got.Clusters[0].Size != 8 {
		t.Errorf("clusters %+v; want the two wordings of cancelling in one cluster of 8", got.Clusters)
	}
	out.Reset()
	if code := run(ctx, []string{"review", "report", "--data", dir, "--week", "2026-W50"}, &out, &errOut, func(string) string { return "" }); code != exitOK {
		t.Fatalf("review report: exit %d: %s", code, errOut.String())
	}
	for _, s := range []string{"# Review report, 2026-W50", "12 labelled, 8 failing", "| 8 | How do I cancel my subscription? |", "| support-answer@2 | 12 | 4 | 0 | 8 | 0 | knowledge gap |"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("Markdown report lacks %q:\n%s", s, out.String())
		}
	}
	if code := run(ctx, []string{"review", "report", "--data", dir, "--week", "W50"}, &out, &errOut, func(string) string { return "" }); code != exitUsage {
		t.Errorf("bad week: exit %d, want %d", code, exitUsage)
	}
}
