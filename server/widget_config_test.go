package server

import (
	"net/http"
	"strings"
	"testing"

	"llmops/store"
)

// TestWidgetConfig: the widget's check on page load answers only for a
// publishable key on one of its origins, and page loads do not spend the
// visitor's questions.
func TestWidgetConfig(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	admin := keyFor(t, s, store.RoleAdmin)
	secret := keyFor(t, s, store.RoleViewer)
	pk := widgetKey(t, s, admin, "")
	check := func(key, origin string) int {
		t.Helper()
		res := post(t, s.URL()+"/api/v1/widget/config", "", "Authorization", "Bearer "+key, "Origin", origin)
		res.Body.Close()
		if origin != "" && res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("config for %s: the page cannot read the answer (Access-Control-Allow-Origin %q)", origin, res.Header.Get("Access-Control-Allow-Origin"))
		}
		return res.StatusCode
	}
	for _, tt := range []struct {
		name, key, origin string
		want              int
	}{
		{"allowed origin", pk, widgetSite, http.StatusOK},
		{"another site", pk, "https://evil.example", http.StatusForbidden},
		{"no origin", pk, "", http.StatusForbidden},
		{"secret key", secret, widgetSite, http.StatusUnauthorized},
		{"unknown key", "llmops_pk_nope", widgetSite, http.StatusUnauthorized},
	} {
		if got := check(tt.key, tt.origin); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// More page loads than the key's questions per minute: every one is
	// answered, and the visitor can still ask.
	for i := 0; i < 25; i++ {
		if got := check(pk, widgetSite); got != http.StatusOK {
			t.Fatalf("page load %d: %d", i+1, got)
		}
	}
	res := post(t, s.URL()+"/api/v1/widget/ask", `{"question": "How do I reset my password?"}`, "Authorization", "Bearer "+pk, "Origin", widgetSite)
	res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests {
		t.Error("page loads used up the visitor's questions")
	}
}

// TestPublishableKeyShownAgain: a publishable key is listed with the key
// itself (it is meant for page source); a secret key never is.
func TestPublishableKeyShownAgain(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	admin := keyFor(t, s, store.RoleAdmin)
	pk := widgetKey(t, s, admin, "")
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v1/keys", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	list := decodeBody[struct {
		Keys []struct{ Kind, Key, Hint string }
	}](t, res)
	var found bool
	for _, k := range list.Keys {
		switch {
		case k.Kind == "publishable":
			found = k.Key == pk
		case k.Key != "" || strings.Contains(k.Key, admin):
			t.Errorf("a secret key is listed with its key: %+v", k)
		}
	}
	if !found {
		t.Errorf("the publishable key is not listed with its key: %+v", list.Keys)
	}
}
