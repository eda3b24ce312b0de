package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

func TestFeedback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	w := s.NewTraceWriter(store.TraceWriterOptions{Interval: time.Millisecond})
	tr, _ := newTrace(0)
	w.Write(ctx, tr)
	w.Close(ctx)
	actor := store.Actor{Kind: store.ActorUser, Name: "rae@example.com"}
	tests := []struct {
		f    store.Feedback
		code string
	}{
		{store.Feedback{TraceID: tr.ID, Value: -1, Comment: "  wrong plan price  "}, ""},
		{store.Feedback{TraceID: tr.ID, Value: 1}, ""},
		{store.Feedback{TraceID: tr.ID, Value: 0}, store.EINVALID},
		{store.Feedback{TraceID: tr.ID, Value: 1, Comment: strings.Repeat("x", store.MaxCommentLen+1)}, store.EINVALID},
		{store.Feedback{TraceID: "nope", Value: 1}, store.ENOTFOUND},
	}
	for i, tt := range tests {
		if got := store.ErrorCode(s.AddFeedback(ctx, actor, &tt.f)); got != tt.code {
			t.Errorf("case %d: code %q, want %q", i, got, tt.code)
		}
	}
	fb, err := s.FeedbackFor(ctx, tr.ID)
	if err != nil || len(fb) != 2 || fb[0].Value != -1 || fb[0].Comment != "wrong plan price" || fb[0].Actor != actor {
		t.Fatalf("feedback = %+v, %v", fb, err)
	}
}
