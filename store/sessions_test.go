package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

// TestSessionIdleExpiry: a session unused for longer than the idle time is
// refused and pruned, one touched in time lives on, and the absolute
// expiry holds however busy a session is.
func TestSessionIdleExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := MustOpenClock(t)
	u := &store.User{Email: "a@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, u); err != nil {
		t.Fatal(err)
	}
	const idle, ttl = 7 * 24 * time.Hour, 14 * 24 * time.Hour
	busy, _ := s.CreateSession(ctx, u, ttl, "192.0.2.1", "busy")
	quiet, _ := s.CreateSession(ctx, u, ttl, "192.0.2.2", "quiet")
	sess, _, err := s.SessionUser(ctx, busy, idle)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.LastSeenAt.Equal(clock.Now()) {
		t.Errorf("a new session was last seen %v, want %v", sess.LastSeenAt, clock.Now())
	}

	clock.Add(idle - time.Minute)
	if err := s.TouchSession(ctx, sess.Hash, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute) // past the idle time for quiet, not for busy
	if _, _, err := s.SessionUser(ctx, quiet, idle); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("idle session: err = %v, want unauthorized", err)
	}
	if _, _, err := s.SessionUser(ctx, quiet, 0); err != nil {
		t.Errorf("idle session with no idle limit: %v", err)
	}
	got, _, err := s.SessionUser(ctx, busy, idle)
	if err != nil || got.IP != "198.51.100.7" {
		t.Fatalf("touched session = %+v, %v; want it alive, seen from 198.51.100.7", got, err)
	}
	list, err := s.ListSessions(ctx, u.ID, idle)
	if err != nil || len(list) != 1 || list[0].Hash != sess.Hash {
		t.Errorf("ListSessions = %+v, %v; want only the busy one", list, err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, idle); n != 1 || err != nil {
		t.Errorf("DeleteExpiredSessions = %d, %v; want the idle one", n, err)
	}
	if _, _, err := s.SessionUser(ctx, quiet, 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("pruned session: err = %v, want unauthorized", err)
	}

	for clock.Now().Before(sess.ExpiresAt) { // busy every day until its 14 days are up
		if err := s.TouchSession(ctx, sess.Hash, ""); err != nil {
			t.Fatal(err)
		}
		clock.Add(24 * time.Hour)
	}
	if _, _, err := s.SessionUser(ctx, busy, idle); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("past the absolute expiry: err = %v, want unauthorized", err)
	}

	// Touching a session revoked meanwhile does not bring it back.
	gone, _ := s.CreateSession(ctx, u, ttl, "", "")
	g, _, _ := s.SessionUser(ctx, gone, idle)
	if err := s.DeleteSession(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, g.Hash, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionUser(ctx, gone, idle); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("a touched signed-out session: err = %v, want unauthorized", err)
	}
}

// TestListAndRevokeSessions: a user sees their own live sessions, most
// recent first; revokes one by its ID (never someone else's) or all but
// the current one; each revocation is audited.
func TestListAndRevokeSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := MustOpenClock(t)
	ann := &store.User{Email: "ann@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, ann); err != nil {
		t.Fatal(err)
	}
	ben := &store.User{Email: "ben@example.com", Role: store.RoleViewer, PasswordHash: []byte("h")}
	if err := s.CreateUser(ctx, store.Actor{Kind: store.ActorCLI, Name: "t"}, ben); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, ua := range []string{"laptop", "phone", "tablet"} {
		tok, err := s.CreateSession(ctx, ann, time.Hour, "192.0.2.1", ua)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
		clock.Add(time.Minute)
	}
	bens, _ := s.CreateSession(ctx, ben, time.Hour, "", "ben's")
	list, err := s.ListSessions(ctx, ann.ID, 0)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListSessions = %d sessions, %v; want Ann's 3", len(list), err)
	}
	if list[0].UserAgent != "tablet" || list[2].UserAgent != "laptop" {
		t.Errorf("order %s, %s, %s; want the most recently seen first", list[0].UserAgent, list[1].UserAgent, list[2].UserAgent)
	}
	if len(list[0].ID()) != 16 || list[0].ID() != list[0].Hash[:16] {
		t.Errorf("session ID %q, want the hash's first 16 hex digits", list[0].ID())
	}

	annActor := store.Actor{Kind: store.ActorUser, ID: ann.ID, Name: ann.Email}
	benSess, _, _ := s.SessionUser(ctx, bens, 0)
	for _, id := range []string{benSess.ID(), "nope", benSess.Hash, ""} {
		if _, err := s.RevokeSession(ctx, annActor, ann.ID, id); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("Ann revoking %q: err = %v, want not found", id, err)
		}
	}
	if _, _, err := s.SessionUser(ctx, bens, 0); err != nil {
		t.Errorf("Ben's session after Ann tried to revoke it: %v", err)
	}
	phone := list[1]
	got, err := s.RevokeSession(ctx, annActor, ann.ID, phone.ID())
	if err != nil || got.UserAgent != "phone" {
		t.Fatalf("RevokeSession = %+v, %v; want the phone", got, err)
	}
	if _, _, err := s.SessionUser(ctx, tokens[1], 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("revoked session: err = %v, want unauthorized", err)
	}

	more, _ := s.CreateSession(ctx, ann, time.Hour, "", "desktop")
	n, err := s.RevokeOtherSessions(ctx, annActor, ann.ID, list[0].Hash)
	if err != nil || n != 2 {
		t.Errorf("RevokeOtherSessions = %d, %v; want 2 (laptop, desktop)", n, err)
	}
	for i, tok := range []string{tokens[0], more} {
		if _, _, err := s.SessionUser(ctx, tok, 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("other session %d: err = %v, want unauthorized", i, err)
		}
	}
	for _, tok := range []string{tokens[2], bens} {
		if _, _, err := s.SessionUser(ctx, tok, 0); err != nil {
			t.Errorf("kept session: %v", err)
		}
	}
	if n, err := s.RevokeOtherSessions(ctx, annActor, ann.ID, list[0].Hash); n != 0 || err != nil {
		t.Errorf("nothing left to revoke: %d, %v", n, err)
	}
	revoked := map[string]string{}
	for _, ev := range auditWhere(t, s, "delete", "session") {
		revoked[ev.ResourceID] = ev.Before
	}
	if len(revoked) != 2 || revoked[ann.ID] != "2 sessions of ann@example.com" || !strings.HasPrefix(revoked[phone.ID()], "ann@example.com session "+phone.ID()) {
		t.Errorf("revocations audited: %v; want the phone's and the two others'", revoked)
	}
}
