package assistant_test

import (
	"context"
	"strconv"
	"testing"

	"llmops/rag/assistant"
	"llmops/rag/prompt"
	"llmops/store"
)

// gated is an answerer that waits inside Generate until released, and
// reports the prompt version it was given.
type gated struct {
	entered chan string
	release chan struct{}
}

func (gated) Name() string { return "gated" }
func (g gated) Generate(ctx context.Context, in assistant.Input, token func(string) error) (*assistant.Generation, error) {
	g.entered <- in.Prompt.Ref()
	<-g.release
	return assistant.Extractive{}.Generate(ctx, in, token)
}

// TestHotSwitchKeepsInFlightVersion: a label moved while an ask is
// answering changes the next ask, not the one in flight; config of the
// new version (top_k) is honoured by the extractive answerer.
func TestHotSwitchKeepsInFlightVersion(t *testing.T) {
	ctx := context.Background()
	shared := newEnv(t, assistant.Options{})
	reg := prompt.New(shared.st, nil)
	if err := reg.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	actor := store.Actor{Kind: store.ActorCLI, Name: "test"}
	cur, err := reg.Get(ctx, prompt.SupportAnswer)
	if err != nil {
		t.Fatal(err)
	}
	// Start from production at the newest version, whatever earlier runs left.
	if _, err := reg.MoveLabel(ctx, actor, prompt.SupportAnswer, "hot", prompt.Target{Version: cur.Latest}, ""); err != nil {
		t.Fatal(err)
	}
	before := prompt.SupportAnswer + "@" + strconv.Itoa(cur.Latest)
	g := gated{entered: make(chan string, 1), release: make(chan struct{})}
	e := newEnv(t, assistant.Options{Answerer: g, Prompts: reg, Label: "hot"})

	done := make(chan *assistant.Result, 1)
	go func() {
		res, err := e.asst.Ask(ctx, assistant.Request{Question: "How do I cancel my subscription?", NoConversation: true}, nil)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case got := <-g.entered:
		if got != before {
			t.Fatalf("in-flight ask resolved %s, want %s", got, before)
		}
	case res := <-done:
		t.Fatalf("ask ended (%v) before answering", res)
	}
	v, _, err := reg.Save(ctx, actor, prompt.SupportAnswer, prompt.Draft{Config: &prompt.Config{TopK: 3}, Message: "three passages"}, cur.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.MoveLabel(ctx, actor, prompt.SupportAnswer, "hot", prompt.Target{Version: v.Version}, ""); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	res := <-done
	if res == nil || res.Prompt != before {
		t.Fatalf("in-flight ask finished with %v, want %s", res, before)
	}
	next, err := e.asst.Ask(ctx, assistant.Request{Question: "How do I cancel my subscription?", NoConversation: true}, nil)
	after := prompt.SupportAnswer + "@" + strconv.Itoa(v.Version)
	if err != nil || next.Prompt != after || len(next.Retrieved) != 3 {
		t.Fatalf("next ask: %v prompt %s with %d passages, want %s with 3", err, next.Prompt, len(next.Retrieved), after)
	}
	tr, _ := e.trace(t, next.TraceID)
	if tr.Attributes["llmops.prompt"] != after {
		t.Errorf("trace prompt %v, want %s", tr.Attributes["llmops.prompt"], after)
	}
}
