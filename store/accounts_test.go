package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"llmops/store"
)

func TestFirstAdminOnlyOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	if err := s.CreateFirstAdmin(ctx, &store.User{Email: "Lead@Example.com", Name: "Lead", PasswordHash: []byte("h")}); err != nil {
		t.Fatalf("first admin: %v", err)
	}
	err := s.CreateFirstAdmin(ctx, &store.User{Email: "other@example.com", PasswordHash: []byte("h")})
	if got := store.ErrorCode(err); got != store.ECONFLICT {
		t.Fatalf("second first-admin code = %q, want %q", got, store.ECONFLICT)
	}
	u, err := s.UserByEmail(ctx, "lead@example.com")
	if err != nil || u.Role != store.RoleAdmin || u.Email != "lead@example.com" {
		t.Fatalf("UserByEmail = %+v, %v; want the admin with a lowercased email", u, err)
	}
}

func TestUserValidationAndLastAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	admin := store.Actor{Kind: store.ActorUser, Name: "root@example.com"}
	tests := []struct {
		name string
		user store.User
		code string
	}{
		{"bad email", store.User{Email: "nope", Role: store.RoleViewer, PasswordHash: []byte("h")}, store.EINVALID},
		{"bad role", store.User{Email: "a@example.com", Role: "owner", PasswordHash: []byte("h")}, store.EINVALID},
		{"no password", store.User{Email: "a@example.com", Role: store.RoleViewer}, store.EINVALID},
		{"ok", store.User{Email: "a@example.com", Role: store.RoleAdmin, PasswordHash: []byte("h")}, ""},
		{"duplicate", store.User{Email: "A@example.com", Role: store.RoleViewer, PasswordHash: []byte("h")}, store.ECONFLICT},
	}
	for _, tt := range tests {
		err := s.CreateUser(ctx, admin, &tt.user)
		if got := store.ErrorCode(err); got != tt.code {
			t.Errorf("%s: code = %q, want %q (%v)", tt.name, got, tt.code, err)
		}
	}
	u, _ := s.UserByEmail(ctx, "a@example.com")
	if _, err := s.SetUserRole(ctx, admin, u.ID, store.RoleViewer); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("demoting the last admin: err = %v, want conflict", err)
	}
	if err := s.DeleteUser(ctx, admin, u.ID); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("deleting the last admin: err = %v, want conflict", err)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	u := &store.User{Email: "a@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, u); err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateSession(ctx, u, time.Hour, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.SessionUser(ctx, token, 0); err != nil || got.ID != u.ID {
		t.Fatalf("SessionUser = %+v, %v; want user %s", got, err, u.ID)
	}
	if _, _, err := s.SessionUser(ctx, token+"x", 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("unknown token: err = %v, want unauthorized", err)
	}
	expired, _ := s.CreateSession(ctx, u, -time.Second, "", "")
	if _, _, err := s.SessionUser(ctx, expired, 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("expired token: err = %v, want unauthorized", err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, 0); n != 1 || err != nil {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if err := s.DeleteSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionUser(ctx, token, 0); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("after logout: err = %v, want unauthorized", err)
	}
}

func TestAPIKeysAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	lead := &store.User{Email: "lead@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, lead); err != nil {
		t.Fatal(err)
	}
	actor := store.Actor{Kind: store.ActorUser, ID: lead.ID, Name: lead.Email}
	secret, k, err := s.CreateAPIKey(ctx, actor, "ci bot", store.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKeyBySecret(ctx, secret)
	if err != nil || got.ID != k.ID || got.Role != store.RoleEditor {
		t.Fatalf("APIKeyBySecret = %+v, %v; want key %s", got, err, k.ID)
	}
	if err := s.TouchAPIKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	keys, _ := s.ListAPIKeys(ctx)
	if len(keys) != 1 || keys[0].LastUsedAt.IsZero() || keys[0].Hash != "" {
		t.Fatalf("ListAPIKeys = %+v; want one touched key without hash", keys)
	}
	if err := s.DeleteAPIKey(ctx, actor, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIKeyBySecret(ctx, secret); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Fatalf("revoked key: err = %v, want unauthorized", err)
	}
	events, _, err := s.ListAudit(ctx, store.Page{})
	if err != nil || len(events) != 3 {
		t.Fatalf("audit = %d events, %v; want 3 (user, key created, key deleted)", len(events), err)
	}
	if events[0].Action != "delete" || events[1].Action != "create" || events[0].Actor != actor {
		t.Errorf("audit newest first = %s, %s by %v; want delete, create by %v", events[0].Action, events[1].Action, events[0].Actor, actor)
	}
	if events[0].Before == "" || events[1].After == "" {
		t.Errorf("audit events lack before/after summaries: %+v", events)
	}
}

func TestAuditPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	actor := store.Actor{Kind: store.ActorCLI, Name: "test"}
	for i := range 7 {
		if _, _, err := s.CreateAPIKey(ctx, actor, fmt.Sprintf("k%d", i), store.RoleViewer); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	page := store.Page{Limit: 3}
	for pages := 0; ; pages++ {
		events, next, err := s.ListAudit(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			seen = append(seen, ev.After[:2])
		}
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		page.Before = next
	}
	want := []string{"k6", "k5", "k4", "k3", "k2", "k1", "k0"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("pages gave %v, want %v", seen, want)
	}
}

// TestKeysFollowTheirOwner: a key is its maker's (or, made by a key, that
// key's owner's); demoting the owner lowers it, removing them revokes it,
// both audited; a key made by the CLI belongs to no one and stays.
func TestKeysFollowTheirOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	lead := &store.User{Email: "lead@example.com", PasswordHash: []byte("h")}
	if err := s.CreateFirstAdmin(ctx, lead); err != nil {
		t.Fatal(err)
	}
	leadActor := store.Actor{Kind: store.ActorUser, ID: lead.ID, Name: lead.Email}
	ada := &store.User{Email: "ada@example.com", Role: store.RoleAdmin, PasswordHash: []byte("h")}
	if err := s.CreateUser(ctx, leadActor, ada); err != nil {
		t.Fatal(err)
	}
	adaActor := store.Actor{Kind: store.ActorUser, ID: ada.ID, Name: ada.Email}
	adaSecret, adaKey, err := s.CreateAPIKey(ctx, adaActor, "ada's admin key", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	madeSecret, madeKey, err := s.CreateAPIKey(ctx, store.Actor{Kind: store.ActorKey, ID: adaKey.ID, Name: adaKey.Name}, "made by ada's key", store.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	cliSecret, cliKey, err := s.CreateAPIKey(ctx, store.Actor{Kind: store.ActorCLI, Name: "ops"}, "headless", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if adaKey.OwnerID != ada.ID || madeKey.OwnerID != ada.ID || !cliKey.Service() {
		t.Fatalf("owners: ada's key %q, made by it %q, CLI key %q; want %s, %s, none", adaKey.OwnerID, madeKey.OwnerID, cliKey.OwnerID, ada.ID, ada.ID)
	}

	if _, err := s.SetUserRole(ctx, leadActor, ada.ID, store.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateAPIKey(ctx, store.Actor{Kind: store.ActorUser, ID: ada.ID, Name: ada.Email}, "too strong", store.RoleEditor); store.ErrorCode(err) != store.EFORBIDDEN {
		t.Errorf("viewer making an editor key: err = %v, want forbidden", err)
	}
	for _, secret := range []string{adaSecret, madeSecret} {
		k, err := s.APIKeyBySecret(ctx, secret)
		if err != nil || k.Role != store.RoleViewer {
			t.Errorf("key %+v, %v after its owner became viewer; want role viewer", k, err)
		}
	}
	if _, err := s.SetUserRole(ctx, leadActor, ada.ID, store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.APIKeyBySecret(ctx, adaSecret); k == nil || k.Role != store.RoleViewer {
		t.Errorf("promoting the owner raised the key: %+v, want it to stay viewer", k)
	}

	if err := s.DeleteUser(ctx, leadActor, ada.ID); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{adaSecret, madeSecret} {
		if _, err := s.APIKeyBySecret(ctx, secret); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("key of a removed user: err = %v, want unauthorized", err)
		}
	}
	if k, err := s.APIKeyBySecret(ctx, cliSecret); err != nil || k.Role != store.RoleAdmin {
		t.Errorf("CLI key after a user was removed: %+v, %v; want it working as admin", k, err)
	}
	keys, _ := s.ListAPIKeys(ctx)
	if len(keys) != 1 || keys[0].ID != cliKey.ID {
		t.Errorf("keys left: %+v, want only the CLI key", keys)
	}

	events, _, err := s.ListAudit(ctx, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range events {
		if ev.Resource == "api_key" && ev.Action != "create" {
			if ev.Actor != leadActor || ev.Before == "" || ev.After == "" {
				t.Errorf("key %s event %+v: want lead as actor, with before and after", ev.Action, ev)
			}
			got[ev.Action+" "+ev.ResourceID]++
		}
	}
	want := map[string]int{"update " + adaKey.ID: 1, "update " + madeKey.ID: 1, "delete " + adaKey.ID: 1, "delete " + madeKey.ID: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("key audit events %v, want %v", got, want)
	}
}
