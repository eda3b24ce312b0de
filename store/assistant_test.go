package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

func TestPublishableKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	admin := store.Actor{Kind: store.ActorCLI, Name: "ops"}

	secret, k, err := s.CreatePublishableKey(ctx, admin, "Help centre", []string{"https://Help.Example.com/", " http://localhost:3000", "https://help.example.com:443", "", "http://[::1]:80"}, 0, store.KeyScope{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, store.PublishableKeyPrefix) || !k.Publishable() || k.Role != store.RoleViewer || k.RatePerMinute != store.DefaultWidgetRate {
		t.Fatalf("key = %+v (secret %q)", k, secret)
	}
	if want := []string{"https://help.example.com", "http://localhost:3000", "http://[::1]"}; !slices.Equal(k.Origins, want) {
		t.Fatalf("origins = %q, want %q", k.Origins, want)
	}
	got, err := s.APIKeyBySecret(ctx, secret)
	if err != nil || !got.Publishable() || !slices.Equal(got.Origins, k.Origins) {
		t.Fatalf("by secret = %+v, %v", got, err)
	}
	for origin, want := range map[string]bool{
		"https://help.example.com":     true,
		"https://HELP.example.com:443": true,
		"http://localhost:3000":        true,
		"http://[::1]":                 true,
		"http://help.example.com":      false, // scheme matters
		"https://evil.example.com":     false,
		"null":                         false,
		"":                             false,
	} {
		if got.AllowsOrigin(origin) != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, !want, want)
		}
	}

	for _, bad := range [][]string{nil, {""}, {"help.example.com"}, {"https://*.example.com"}, {"https://x.com/path"}, {"ftp://x.com"}, {"https://u:p@x.com"}} {
		if _, _, err := s.CreatePublishableKey(ctx, admin, "x", bad, 10, store.KeyScope{}); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("origins %q: err %v, want EINVALID", bad, err)
		}
	}
	if _, _, err := s.CreatePublishableKey(ctx, admin, "x", []string{"https://a.com"}, 100000, store.KeyScope{}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("huge rate: err %v", err)
	}
}

// TestPublishableKeyScope: a key's scope is normalised like documents'
// categories and tags, kept on the key, bounded, and audited.
func TestPublishableKeyScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	admin := store.Actor{Kind: store.ActorCLI, Name: "ops"}

	secret, k, err := s.CreatePublishableKey(ctx, admin, "Billing help", []string{"https://help.example.com"}, 0,
		store.KeyScope{Categories: []string{" Billing", "billing", ""}, Tags: []string{"Public", " faq "}})
	if err != nil {
		t.Fatal(err)
	}
	want := store.KeyScope{Categories: []string{"billing"}, Tags: []string{"public", "faq"}}
	bySecret, err := s.APIKeyBySecret(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]*store.APIKey{"created": k, "by secret": bySecret} {
		if !slices.Equal(got.Scope.Categories, want.Categories) || !slices.Equal(got.Scope.Tags, want.Tags) {
			t.Errorf("%s: scope %+v, want %+v", name, got.Scope, want)
		}
	}
	keys, err := s.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].Scope.String() != "categories=billing tags=public,faq" {
		t.Fatalf("listed keys %+v, %v", keys, err)
	}
	events, _, err := s.ListAudit(ctx, store.Page{})
	if err != nil || len(events) == 0 || !strings.Contains(events[0].After, "categories=billing tags=public,faq") {
		t.Errorf("audit of the creation: %+v, %v", events, err)
	}

	// No scope is the whole knowledge base.
	_, open, err := s.CreatePublishableKey(ctx, admin, "Everything", []string{"https://help.example.com"}, 0, store.KeyScope{Tags: []string{" "}})
	if err != nil || !open.Scope.IsZero() {
		t.Fatalf("unscoped key %+v, %v", open, err)
	}

	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprint("c", i)
	}
	for name, bad := range map[string]store.KeyScope{
		"too many categories": {Categories: many},
		"too many tags":       {Tags: many},
		"long category":       {Categories: []string{strings.Repeat("c", 101)}},
		"long tag":            {Tags: []string{strings.Repeat("t", 65)}},
	} {
		if _, _, err := s.CreatePublishableKey(ctx, admin, "x", []string{"https://a.com"}, 0, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
}

func TestConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	const owner, other = "user:ada", "key:widget"
	id := store.NewID()
	if _, err := s.Conversation(ctx, id, owner); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("missing conversation: %v", err)
	}
	if err := s.AppendTurn(ctx, id, "chat", owner, store.Turn{Question: "how do I cancel?", Answer: "Click Cancel. [1]", TraceID: "t1"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendTurn(ctx, id, "chat", owner, store.Turn{Question: "and get a refund?", Standalone: "cancel refund", Answer: "The docs do not cover this.", TraceID: "t2", Fallback: true}, true); err != nil {
		t.Fatal(err)
	}
	c, err := s.Conversation(ctx, id, owner)
	if err != nil || len(c.Turns) != 2 || !c.Escalated || c.Channel != "chat" || c.Turns[1].Standalone != "cancel refund" {
		t.Fatalf("conversation = %+v, %v", c, err)
	}
	// Another owner can neither read nor continue it.
	if _, err := s.Conversation(ctx, id, other); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("other owner read: %v", err)
	}
	if err := s.AppendTurn(ctx, id, "widget", other, store.Turn{Question: "x"}, false); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("other owner append: %v", err)
	}
	for i := range store.MaxTurns + 5 {
		if err := s.AppendTurn(ctx, id, "chat", owner, store.Turn{Question: "q", TraceID: string(rune('a' + i%26))}, false); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ = s.Conversation(ctx, id, owner); len(c.Turns) != store.MaxTurns || !c.Escalated {
		t.Fatalf("turns %d escalated %v after overflow", len(c.Turns), c.Escalated)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	var v []string
	if ok, err := s.Setting(ctx, store.SettingPrices, &v); ok || err != nil {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	actor := store.Actor{Kind: store.ActorUser, Name: "ada@example.com"}
	if err := s.PutSetting(ctx, actor, store.SettingPrices, []string{"gpt-4o 2.5 10"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Setting(ctx, store.SettingPrices, &v); !ok || err != nil || len(v) != 1 {
		t.Fatalf("setting = %v %v %v", v, ok, err)
	}
	events, _, err := s.ListAudit(ctx, store.Page{Limit: 10})
	if err != nil || len(events) == 0 || events[0].Resource != "setting" || events[0].ResourceID != store.SettingPrices {
		t.Fatalf("audit = %+v, %v", events, err)
	}
}

// TestTraceWriterFlush: after Flush returns, a trace written before it is
// readable (feedback on a just-given answer relies on it).
func TestTraceWriterFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	w := s.NewTraceWriter(store.TraceWriterOptions{Interval: time.Hour}) // never flushes on its own
	defer w.Close(ctx)
	tr, _ := newTrace(0)
	if err := w.Write(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Trace(ctx, tr.ID); err != nil {
		t.Fatalf("trace after flush: %v", err)
	}
	w.Close(ctx)
	if err := w.Flush(ctx); err != store.ErrClosed {
		t.Fatalf("flush after close: %v", err)
	}
}
