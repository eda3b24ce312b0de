package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"llmops/store"
	"llmops/store/schema"
)

// TestChatSuggestions: the chat suggests what the team asks often (any
// phrasing) and got good answers to, after what an admin pinned; not the
// last question someone typed, not fallbacks, ungrounded or thumbed-down
// answers, not widget visitors' questions.
func TestChatSuggestions(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ctx := context.Background()
	ask := func(q string, status schema.TraceStatus, channel string, groundedness float64) string {
		t.Helper()
		tr := &store.Trace{ID: store.NewID(), Kind: schema.KindAsk, Name: "ask", Status: status, Input: q,
			Attributes: map[string]any{schema.AttrChannel: channel, schema.AttrGroundedness: groundedness, schema.AttrThreshold: 0.6}}
		if err := s.traces.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
		return tr.ID
	}
	ok := schema.StatusOK
	ask("how do i export timesheets", ok, schema.ChannelChat, 0.9)
	ask("How can I export my timesheets?", ok, schema.ChannelChat, 0.9)
	ask("HOW DO I EXPORT TIMESHEETS", ok, schema.ChannelChat, 0.8)
	ask("can i add a second location", ok, schema.ChannelChat, 0.9)
	ask("can i add a second location?", ok, schema.ChannelChat, 0.9)
	down := ask("How do I reset my password?", ok, schema.ChannelChat, 0.9)
	ask("how do i reset my password", ok, schema.ChannelChat, 0.9)
	ask("What is the meaning of life?", schema.StatusFallback, schema.ChannelChat, 0.1)
	ask("What is the meaning of life?", schema.StatusFallback, schema.ChannelChat, 0.1)
	ask("How do I connect Slack?", ok, schema.ChannelChat, 0.4) // held to 0.6: not grounded
	ask("How do I connect Slack?", ok, schema.ChannelChat, 0.4)
	ask("Where is my invoice for order 4411?", ok, schema.ChannelWidget, 0.9)
	ask("Where is my invoice for order 4411?", ok, schema.ChannelWidget, 0.9)
	ask("Does the app work offline?", ok, schema.ChannelChat, 0.9) // asked once: the last typed
	if err := s.traces.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.store.AddFeedback(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, &store.Feedback{TraceID: down, Value: -1}); err != nil {
		t.Fatal(err)
	}

	got, err := s.suggestions(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"How can I export my timesheets?", "Can I add a second location?"} // the best-formed phrasing
	if !reflect.DeepEqual(got, want) {
		t.Errorf("suggestions = %q, want %q", got, want)
	}

	admin, viewer := keyFor(t, s, store.RoleAdmin), keyFor(t, s, store.RoleViewer)
	call := func(method, key, body string) (int, map[string][]string) {
		t.Helper()
		req := httptest.NewRequest(method, "/api/v1/chat/suggestions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.http.Handler.ServeHTTP(rec, req)
		var out map[string][]string
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	// An admin pins two (one a repeat of the other in other words, and
	// one of the frequent ones): they come first, each once.
	code, out := call(http.MethodPut, admin, `{"pinned": ["  what are the keyboard shortcuts ", "Which keyboard shortcuts are there?", "how can i export timesheets"]}`)
	if code != http.StatusOK {
		t.Fatalf("PUT pinned: %d %v", code, out)
	}
	wantPinned := []string{"What are the keyboard shortcuts?", "How can I export timesheets?"}
	if !reflect.DeepEqual(out["pinned"], wantPinned) {
		t.Errorf("pinned = %q, want %q", out["pinned"], wantPinned)
	}
	code, out = call(http.MethodGet, viewer, "")
	if want := append(wantPinned, "Can I add a second location?"); code != http.StatusOK || !reflect.DeepEqual(out["suggestions"], want) {
		t.Errorf("GET as viewer: %d %q, want %q", code, out["suggestions"], want)
	}
	if code, _ := call(http.MethodPut, viewer, `{"pinned": []}`); code != http.StatusForbidden {
		t.Errorf("a viewer pins: %d, want 403", code)
	}
	if code, _ := call(http.MethodPut, admin, `{"pinned": ["a1?", "a2?", "a3?", "a4?", "a5?", "a6?", "a7?"]}`); code != http.StatusBadRequest {
		t.Errorf("seven pinned: %d, want 400", code)
	}
	if code, _ := call(http.MethodPut, admin, `{"pinned": ["`+strings.Repeat("é", 121)+`"]}`); code != http.StatusBadRequest {
		t.Errorf("a pinned question of 121 characters: %d, want 400", code)
	}
}

func TestParaphraseKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"How do I export timesheets?", "how can i export my timesheet", true},
		{"Can I add a second location?", "CAN I ADD A SECOND LOCATION", true},
		{"How do I reset my password?", "How do I reset my PIN?", false},
		{"How do I export timesheets?", "How do I import timesheets?", false},
	} {
		if same := paraphraseKey(tt.a) == paraphraseKey(tt.b); same != tt.same {
			t.Errorf("%q ~ %q: %v (keys %q, %q), want %v", tt.a, tt.b, same, paraphraseKey(tt.a), paraphraseKey(tt.b), tt.same)
		}
	}
}
