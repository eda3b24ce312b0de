package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"llmops/store"
)

// call sends one request through the server's handler, with an API key
// (auth, "" for none) or session cookies, and a JSON body.
func call(h http.Handler, method, path, body, auth string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestKeysFollowTheirOwner: a key an admin made in the browser goes when
// they are removed and drops to their new role when they are demoted,
// while a service key from llmops keys create keeps working.
func TestKeysFollowTheirOwner(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	ctx := context.Background()
	h := s.http.Handler
	hash, _ := hashPassword("the right password")
	lead := &store.User{Email: "lead@example.com", Name: "Lead", PasswordHash: hash}
	if err := s.store.CreateFirstAdmin(ctx, lead); err != nil {
		t.Fatal(err)
	}
	s.finishSetup()
	service := keyFor(t, s, store.RoleAdmin) // CLI actor: a service key

	// Two more admins each sign in and make an admin key through the API.
	admins := map[string]*store.User{}
	secrets := map[string]string{}
	for _, name := range []string{"ada", "bo"} {
		rec := call(h, http.MethodPost, "/api/v1/users", `{"email":"`+name+`@example.com","name":"`+name+`","role":"admin","password":"long enough pw"}`, service)
		if rec.Code != http.StatusCreated {
			t.Fatalf("add %s: got %d: %s", name, rec.Code, rec.Body)
		}
		var u userJSON
		json.Unmarshal(rec.Body.Bytes(), &u)
		admins[name] = &store.User{ID: u.ID, Email: u.Email}
		rec = postForm(h, "/login", url.Values{"email": {name + "@example.com"}, "password": {"long enough pw"}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%s signs in: got %d", name, rec.Code)
		}
		rec = call(h, http.MethodPost, "/api/v1/keys", `{"name":"`+name+`'s script","role":"admin"}`, "", rec.Result().Cookies()...)
		if rec.Code != http.StatusCreated {
			t.Fatalf("%s makes a key: got %d: %s", name, rec.Code, rec.Body)
		}
		var k struct {
			keyJSON
			Key string `json:"key"`
		}
		json.Unmarshal(rec.Body.Bytes(), &k)
		if k.OwnerID != u.ID || k.Service {
			t.Fatalf("%s's key: owner %q, service %v; want owner %s", name, k.OwnerID, k.Service, u.ID)
		}
		secrets[name] = k.Key
		if rec := call(h, http.MethodGet, "/api/v1/keys", "", k.Key); rec.Code != http.StatusOK {
			t.Fatalf("%s's key on an admin route: got %d", name, rec.Code)
		}
	}

	// Ada is removed: her key is refused at once.
	if rec := call(h, http.MethodDelete, "/api/v1/users/"+admins["ada"].ID, "", service); rec.Code != http.StatusNoContent {
		t.Fatalf("remove ada: got %d: %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodGet, "/api/v1/me", "", secrets["ada"]); rec.Code != http.StatusUnauthorized {
		t.Errorf("removed admin's key: got %d, want 401", rec.Code)
	}

	// Bo becomes a viewer: his key keeps viewer routes, loses admin ones.
	if rec := call(h, http.MethodPatch, "/api/v1/users/"+admins["bo"].ID, `{"role":"viewer"}`, service); rec.Code != http.StatusOK {
		t.Fatalf("demote bo: got %d: %s", rec.Code, rec.Body)
	}
	if rec := call(h, http.MethodGet, "/api/v1/keys", "", secrets["bo"]); rec.Code != http.StatusForbidden {
		t.Errorf("demoted admin's key on an admin route: got %d, want 403", rec.Code)
	}
	if rec := call(h, http.MethodGet, "/api/v1/documents", "", secrets["bo"]); rec.Code != http.StatusOK {
		t.Errorf("demoted admin's key on a viewer route: got %d, want 200", rec.Code)
	}

	// The service key still works and is listed as one; Bo's key shows
	// its new role.
	rec := call(h, http.MethodGet, "/api/v1/keys", "", service)
	if rec.Code != http.StatusOK {
		t.Fatalf("service key after the changes: got %d, want 200", rec.Code)
	}
	var list struct{ Keys []keyJSON }
	json.Unmarshal(rec.Body.Bytes(), &list)
	got := map[string]string{}
	for _, k := range list.Keys {
		got[k.Name] = string(k.Role)
		if k.Service {
			got[k.Name] += " service"
		}
	}
	want := map[string]string{"k-admin": "admin service", "bo's script": "viewer"}
	if len(got) != len(want) || got["k-admin"] != want["k-admin"] || got["bo's script"] != want["bo's script"] {
		t.Errorf("keys listed %v, want %v", got, want)
	}
	req := httptest.NewRequest(http.MethodGet, "/settings/keys", nil)
	req.Header.Set("Authorization", "Bearer "+service)
	page := httptest.NewRecorder()
	h.ServeHTTP(page, req)
	doc := pageDoc(t, page)
	if n := doc.Find(`[data-testid="service-key"]`).Length(); n != 1 {
		t.Errorf("keys page marks %d keys as service keys, want 1", n)
	}

	// Each revocation and role change is audited.
	events, _, err := s.store.ListAudit(ctx, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var revoked, lowered int
	for _, ev := range events {
		switch {
		case ev.Resource == "api_key" && ev.Action == "delete" && strings.Contains(ev.After, "ada@example.com"):
			revoked++
		case ev.Resource == "api_key" && ev.Action == "update" && strings.Contains(ev.After, "role=viewer"):
			lowered++
		}
	}
	if revoked != 1 || lowered != 1 {
		t.Errorf("audit has %d key revocations and %d lowered keys, want 1 and 1", revoked, lowered)
	}
}
