package assets

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHashedURLsAreServedImmutable(t *testing.T) {
	h := Handler()
	for _, name := range []string{"app.css", "app.js", "favicon.svg", "vendor/htmx/htmx.min.js", "vendor/uplot/uPlot.iife.min.js"} {
		u := URL(name)
		if !strings.HasPrefix(u, Prefix) || strings.Contains(u, "missing") {
			t.Fatalf("URL(%q) = %q", name, u)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s = %d (%d bytes)", u, rec.Code, rec.Body.Len())
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s Cache-Control = %q, want immutable", u, cc)
		}
	}
	for _, u := range []string{Prefix + "app.css", Prefix + "../assets.go", URL("nope.css")} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404 (only hashed names are served)", u, rec.Code)
		}
	}
}

func TestVendoredLicencesAreEmbedded(t *testing.T) {
	for _, name := range []string{"vendor/htmx/LICENSE", "vendor/uplot/LICENSE"} {
		if _, err := files.ReadFile(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
