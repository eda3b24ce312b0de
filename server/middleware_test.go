package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"llmops/assets"
	"llmops/store"
)

// wantSecurityHeaders are on every response, so no page can be framed
// (clickjacking) and no injected inline script can run.
var wantSecurityHeaders = map[string]string{
	"Content-Security-Policy": contentSecurityPolicy,
	"X-Frame-Options":         "DENY",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "same-origin",
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for name, want := range wantSecurityHeaders {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	if !strings.Contains(contentSecurityPolicy, "frame-ancestors 'none'") || !strings.Contains(contentSecurityPolicy, "script-src 'self';") {
		t.Fatalf("CSP %q must forbid framing and allow scripts from this site only", contentSecurityPolicy)
	}
	s := mustServer(t)
	h := s.http.Handler
	admin := keyFor(t, s, store.RoleAdmin)

	// Every GET in the route table, as a stranger and as an admin (pages
	// render then), plus what lives outside the table.
	paths := []string{assets.URL("app.js"), "/no-such-page", "/api/v1/no-such-route"}
	for _, rt := range s.routes() {
		if rt.method == http.MethodGet {
			paths = append(paths, strings.ReplaceAll(rt.path, ":id", "01HZZZZZZZZZZZZZZZZZZZZZZZ"))
		}
	}
	for _, path := range paths {
		for _, key := range []string{"", admin} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			what := "GET " + path
			if key != "" {
				what += " as admin"
			}
			checkSecurityHeaders(t, what+" ("+http.StatusText(rec.Code)+")", rec.Header())
			if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				checkNoInlineScript(t, what, rec)
			}
		}
	}

	// A cross-origin form post, refused before echo sees it.
	req := httptest.NewRequest(http.MethodPost, "/settings/keys", strings.NewReader("name=x&role=admin"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site post: got %d, want 403", rec.Code)
	}
	checkSecurityHeaders(t, "cross-site post", rec.Header())

	// The widget keeps working from other sites: its script may be loaded
	// cross-origin, and its API answers preflights.
	rec = call(h, http.MethodGet, "/widget.js", "", "")
	if got := rec.Header().Get("Cross-Origin-Resource-Policy"); rec.Code != http.StatusOK || got != "cross-origin" {
		t.Errorf("/widget.js: got %d with Cross-Origin-Resource-Policy %q, want 200, cross-origin", rec.Code, got)
	}
	req = httptest.NewRequest(http.MethodOptions, widgetPrefix+"ask", nil)
	req.Header.Set("Origin", "https://help.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://help.example.com" {
		t.Errorf("widget preflight: got %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	checkSecurityHeaders(t, "widget preflight", rec.Header())
}

// checkNoInlineScript fails on inline <script> and on* handler
// attributes, which the policy (script-src 'self') would block.
func checkNoInlineScript(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	doc.Find("script:not([src])").Each(func(_ int, sel *goquery.Selection) {
		if typ, _ := sel.Attr("type"); typ == "" || strings.Contains(typ, "javascript") || typ == "module" {
			t.Errorf("%s: inline script %.60q is blocked by the CSP", what, sel.Text())
		}
	})
	doc.Find("*").Each(func(_ int, sel *goquery.Selection) {
		for _, a := range sel.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s %s=…> is an inline handler the CSP blocks", what, goquery.NodeName(sel), a.Key)
			}
		}
	})
}
