package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

// auditActions lists the audit log as sorted "action resource" lines.
// Sorted, not in time order: events of one millisecond (a stopped test
// clock) have IDs in no particular order.
func auditActions(t *testing.T, s *store.Store) []string {
	t.Helper()
	var out []string
	for _, ev := range auditWhere(t, s, "", "") {
		out = append(out, ev.Action+" "+ev.Resource)
	}
	slices.Sort(out)
	return out
}

// auditWhere returns the audit events with this action and resource (""
// matches any).
func auditWhere(t *testing.T, s *store.Store, action, resource string) []store.AuditEvent {
	t.Helper()
	events, _, err := s.ListAudit(context.Background(), store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, ev := range events {
		if (action == "" || ev.Action == action) && (resource == "" || ev.Resource == resource) {
			out = append(out, ev)
		}
	}
	return out
}

// TestInviteLink: an invite makes a member without a password and a link
// stored only as its hash; the link sets the password, signs them in and
// works once; every step is audited.
func TestInviteLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := MustOpenClock(t)
	lead := &store.User{Email: "lead@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, lead); err != nil {
		t.Fatal(err)
	}
	actor := store.Actor{Kind: store.ActorUser, ID: lead.ID, Name: lead.Email}
	if _, _, err := s.InviteUser(ctx, actor, &store.User{Email: "x@example.com", Role: store.RoleViewer, PasswordHash: []byte("h")}, time.Hour); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("invite with a password: err = %v, want invalid", err)
	}
	rae := &store.User{Email: "Rae@Example.com", Name: "Rae", Role: store.RoleReviewer}
	token, link, err := s.InviteUser(ctx, actor, rae, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rae.ID == "" || rae.HasPassword() || rae.Email != "rae@example.com" {
		t.Fatalf("invited user %+v: want an ID, no password, a lowercased email", rae)
	}
	sum := sha256.Sum256([]byte(token))
	if link.Hash != hex.EncodeToString(sum[:]) || link.Purpose != store.LinkInvite || link.UserID != rae.ID {
		t.Errorf("link %+v: want the token's sha256, purpose invite, for %s", link, rae.ID)
	}
	var db bytes.Buffer
	if _, err := s.Backup(ctx, &db, nil); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db.Bytes(), []byte(token)) {
		t.Error("the invite token is stored in the clear")
	}

	got, u, err := s.AccountLinkByToken(ctx, token)
	if err != nil || got.Hash != link.Hash || u.ID != rae.ID {
		t.Fatalf("AccountLinkByToken = %+v, %+v, %v; want the link for Rae", got, u, err)
	}
	if _, _, err := s.AccountLinkByToken(ctx, token+"x"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("unknown token: err = %v, want not found", err)
	}
	if _, _, err := s.UseAccountLink(ctx, token, nil, time.Hour, "", ""); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("using a link without a password: err = %v, want invalid", err)
	}

	session, u, err := s.UseAccountLink(ctx, token, []byte("new hash"), time.Hour, "192.0.2.1", "test")
	if err != nil || u.ID != rae.ID {
		t.Fatalf("UseAccountLink = %+v, %v", u, err)
	}
	if _, su, err := s.SessionUser(ctx, session, 0); err != nil || su.ID != rae.ID || string(su.PasswordHash) != "new hash" {
		t.Errorf("session from the link = %+v, %v; want Rae with her new password", su, err)
	}
	_, _, err = s.UseAccountLink(ctx, token, []byte("again"), time.Hour, "", "")
	if store.ErrorCode(err) != store.ENOTFOUND || !strings.Contains(store.ErrorMessage(err), "already used") {
		t.Errorf("second use: err = %v, want not found saying it was used", err)
	}
	if u, _ := s.UserByID(ctx, rae.ID); string(u.PasswordHash) != "new hash" {
		t.Errorf("the second use changed the password to %q", u.PasswordHash)
	}
	want := []string{"create account_link", "create user", "create user", "login.succeeded session", "update user"}
	if got := auditActions(t, s); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

// TestPasswordLinkExpiresAndIsReplaced: a link stops working at its
// expiry (by the store's clock) and when a newer one is made; using a
// reset link signs out the account's sessions; changing the password
// voids an unused link.
func TestPasswordLinkExpiresAndIsReplaced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := MustOpenClock(t)
	lead := &store.User{Email: "lead@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, lead); err != nil {
		t.Fatal(err)
	}
	actor := store.Actor{Kind: store.ActorUser, ID: lead.ID, Name: lead.Email}
	vic := &store.User{Email: "vic@example.com", Role: store.RoleViewer, PasswordHash: []byte("old")}
	if err := s.CreateUser(ctx, actor, vic); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.CreatePasswordLink(ctx, actor, "nobody", time.Hour); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("link for an unknown user: err = %v, want not found", err)
	}

	expiring, link, u, err := s.CreatePasswordLink(ctx, actor, vic.ID, 72*time.Hour)
	if err != nil || link.Purpose != store.LinkReset || u.ID != vic.ID {
		t.Fatalf("CreatePasswordLink = %+v, %+v, %v; want a reset link for Vic", link, u, err)
	}
	clock.Add(72*time.Hour - time.Second)
	if _, _, err := s.AccountLinkByToken(ctx, expiring); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clock.Add(time.Second)
	if _, _, err := s.AccountLinkByToken(ctx, expiring); store.ErrorCode(err) != store.ENOTFOUND || !strings.Contains(store.ErrorMessage(err), "expired") {
		t.Errorf("at expiry: err = %v, want not found saying it expired", err)
	}
	if _, _, err := s.UseAccountLink(ctx, expiring, []byte("new"), time.Hour, "", ""); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("using an expired link: err = %v, want not found", err)
	}

	first, _, _, err := s.CreatePasswordLink(ctx, actor, vic.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	second, _, _, err := s.CreatePasswordLink(ctx, actor, vic.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AccountLinkByToken(ctx, first); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("a replaced link: err = %v, want not found", err)
	}
	old1, _ := s.CreateSession(ctx, vic, time.Hour, "", "")
	old2, _ := s.CreateSession(ctx, vic, time.Hour, "", "")
	leads, _ := s.CreateSession(ctx, lead, time.Hour, "", "")
	if u, _ := s.UserByID(ctx, vic.ID); string(u.PasswordHash) != "old" {
		t.Errorf("making a reset link changed the password; the old one must work until the link is used")
	}
	session, _, err := s.UseAccountLink(ctx, second, []byte("new"), time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{old1, old2} {
		if _, _, err := s.SessionUser(ctx, tok, 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("a session from before the reset: err = %v, want unauthorized", err)
		}
	}
	for _, tok := range []string{session, leads} {
		if _, _, err := s.SessionUser(ctx, tok, 0); err != nil {
			t.Errorf("the link's own session, or another user's: %v", err)
		}
	}

	unused, _, _, err := s.CreatePasswordLink(ctx, actor, vic.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangePassword(ctx, store.Actor{Kind: store.ActorUser, ID: vic.ID, Name: vic.Email}, vic.ID, []byte("newer"), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AccountLinkByToken(ctx, unused); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("a link made before a password change: err = %v, want not found", err)
	}
	removed, _, _, err := s.CreatePasswordLink(ctx, actor, vic.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, actor, vic.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UseAccountLink(ctx, removed, []byte("x"), time.Hour, "", ""); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("the link of a removed user: err = %v, want not found", err)
	}

	// An invited member who never chose a password gets a new invite.
	ivy := &store.User{Email: "ivy@example.com", Role: store.RoleViewer}
	if _, _, err := s.InviteUser(ctx, actor, ivy, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, link, _, err := s.CreatePasswordLink(ctx, actor, ivy.ID, time.Hour); err != nil || link.Purpose != store.LinkInvite {
		t.Errorf("a new link for an invited member = %+v, %v; want an invite", link, err)
	}
}

// TestChangePassword keeps the current session and signs out the others,
// audited with how many.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	u := &store.User{Email: "a@example.com", PasswordHash: []byte("old")}
	if err := s.CreateFirstAdmin(ctx, u); err != nil {
		t.Fatal(err)
	}
	here, _ := s.CreateSession(ctx, u, time.Hour, "", "")
	other1, _ := s.CreateSession(ctx, u, time.Hour, "", "")
	other2, _ := s.CreateSession(ctx, u, time.Hour, "", "")
	sess, _, err := s.SessionUser(ctx, here, 0)
	if err != nil {
		t.Fatal(err)
	}
	actor := store.Actor{Kind: store.ActorUser, ID: u.ID, Name: u.Email}
	if _, err := s.ChangePassword(ctx, actor, u.ID, nil, sess.Hash); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("empty hash: err = %v, want invalid", err)
	}
	n, err := s.ChangePassword(ctx, actor, u.ID, []byte("new"), sess.Hash)
	if err != nil || n != 2 {
		t.Fatalf("ChangePassword = %d, %v; want 2 sessions signed out", n, err)
	}
	if _, got, err := s.SessionUser(ctx, here, 0); err != nil || string(got.PasswordHash) != "new" {
		t.Errorf("current session = %+v, %v; want it kept, with the new password", got, err)
	}
	for _, tok := range []string{other1, other2} {
		if _, _, err := s.SessionUser(ctx, tok, 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("other session: err = %v, want unauthorized", err)
		}
	}
	if events := auditWhere(t, s, "update", "user"); len(events) != 1 || events[0].After != "password changed; 2 other sessions signed out" {
		t.Errorf("user updates %+v, want the password change with 2 sessions signed out", events)
	}
}
