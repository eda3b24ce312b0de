package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"llmops/store"
)

// auditServer is a frozen server with a mix of events: an API key made
// from the CLI, a user made with it, a sign-in and two failed ones.
func auditServer(t *testing.T) (*Server, string, *store.User) {
	t.Helper()
	s, admin := frozenServer(t)
	h := s.http.Handler
	key := keyFor(t, s, store.RoleAdmin)
	if rec := call(h, http.MethodPost, "/api/v1/users", `{"email":"rae@example.com","role":"viewer","password":"long enough pw"}`, key); rec.Code != http.StatusCreated {
		t.Fatalf("create user: %d %s", rec.Code, rec.Body)
	}
	steps := []struct {
		email, password string
		want            int
	}{
		{"a@example.com", "the right password", http.StatusSeeOther},
		{"B@example.com", "guess guess guess", http.StatusUnauthorized},
		{"a@example.com", "guess guess guess", http.StatusUnauthorized},
	}
	for _, st := range steps {
		if rec := postFormFrom(h, "192.0.2.10:5555", "Firefox", "/login", url.Values{"email": {st.email}, "password": {st.password}}); rec.Code != st.want {
			t.Fatalf("login %s: got %d, want %d", st.email, rec.Code, st.want)
		}
	}
	return s, key, admin
}

// auditPage is GET /api/v1/audit?query: its events and next cursor.
func auditPage(t *testing.T, s *Server, key, query string) ([]store.AuditEvent, string) {
	t.Helper()
	rec := call(s.http.Handler, http.MethodGet, "/api/v1/audit?"+query, "", key)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit?%s: %d %s", query, rec.Code, rec.Body)
	}
	var body struct {
		Events []store.AuditEvent `json:"events"`
		Next   string             `json:"next"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	return body.Events, body.Next
}

func actions(events []store.AuditEvent) string {
	var a []string
	for _, e := range events {
		a = append(a, e.Action+":"+e.ResourceID)
	}
	return strings.Join(a, " ")
}

func TestAuditAPIFilters(t *testing.T) {
	t.Parallel()
	s, key, admin := auditServer(t)
	all, _ := auditPage(t, s, key, "")
	if len(all) < 6 {
		t.Fatalf("%d events, want at least 6: %s", len(all), actions(all))
	}
	rae := ""
	for _, e := range all {
		if e.Resource == "user" && strings.Contains(e.After, "rae@example.com") {
			rae = e.ResourceID
		}
	}

	tests := []struct {
		query string
		want  string // actions:targets, newest first
	}{
		{"actor=A@example.com", "login.succeeded:a@example.com create:" + admin.ID},
		{"actor=" + admin.ID + "&resource=session", "login.succeeded:a@example.com"},
		{"action=login.failed", "login.failed:a@example.com login.failed:b@example.com"},
		{"action=login", "login.failed:a@example.com login.failed:b@example.com login.succeeded:a@example.com"},
		{"target=b@EXAMPLE.com", "login.failed:b@example.com"},
		{"resource=user&actor=k-admin", "create:" + rae},
		{"action=login.failed&target=a@example.com", "login.failed:a@example.com"},
		{"actor=nobody@example.com", ""},
		{"action=log", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got, next := auditPage(t, s, key, tt.query); actions(got) != tt.want || next != "" {
				t.Errorf("got %q (next %q), want %q", actions(got), next, tt.want)
			}
		})
	}

	t.Run("time range", func(t *testing.T) {
		// From the second oldest event up to (not including) the newest.
		from, to := all[len(all)-2].Time, all[0].Time
		var want []store.AuditEvent
		for _, e := range all {
			if !e.Time.Before(from) && e.Time.Before(to) {
				want = append(want, e)
			}
		}
		q := url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}
		if got, _ := auditPage(t, s, key, q.Encode()); actions(got) != actions(want) || len(got) == 0 {
			t.Errorf("from %v to %v: got %q, want %q", from, to, actions(got), actions(want))
		}
		// A date alone as the end includes that whole day.
		day := all[0].Time.UTC().Format(time.DateOnly)
		if got, _ := auditPage(t, s, key, "from="+day+"&to="+day); len(got) != len(all) {
			t.Errorf("from=to=%s: %d events, want all %d", day, len(got), len(all))
		}
		if got, _ := auditPage(t, s, key, "to="+all[0].Time.Add(-24*time.Hour).UTC().Format(time.DateOnly)); len(got) != 0 {
			t.Errorf("to=the day before: got %q, want none", actions(got))
		}
	})

	t.Run("pages keep the filter", func(t *testing.T) {
		var got []store.AuditEvent
		query := "action=login&limit=1"
		for range 10 {
			page, next := auditPage(t, s, key, query)
			if len(page) > 1 {
				t.Fatalf("limit=1 gave %d events", len(page))
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			query = "action=login&limit=1&before=" + url.QueryEscape(next)
		}
		if want := "login.failed:a@example.com login.failed:b@example.com login.succeeded:a@example.com"; actions(got) != want {
			t.Errorf("paged: got %q, want %q", actions(got), want)
		}
	})

	for _, bad := range []string{"from=yesterday", "to=2025-13-01", "from=2025-02-01&to=2025-01-01", "actor=" + strings.Repeat("x", 300), "limit=0"} {
		if rec := call(s.http.Handler, http.MethodGet, "/api/v1/audit?"+bad, "", key); rec.Code != http.StatusBadRequest {
			t.Errorf("?%s: got %d, want 400", bad, rec.Code)
		}
	}
}

func TestAuditPageFilters(t *testing.T) {
	t.Parallel()
	s, key, _ := auditServer(t)
	get := func(query string) *goquery.Document {
		t.Helper()
		rec := call(s.http.Handler, http.MethodGet, "/settings/audit?"+query, "", key)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /settings/audit?%s: %d %s", query, rec.Code, rec.Body)
		}
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}

	q := url.Values{"actor": {"a@example.com"}, "action": {"login.failed"}, "resource": {"session"}, "target": {"x@example.com"},
		"from": {"2025-01-02T03:04"}, "to": {"2025-01-31"}}
	doc := get(q.Encode())
	bar := doc.Find(`form[data-testid="audit-filters"]`)
	if method, _ := bar.Attr("method"); bar.Length() != 1 || method != "get" {
		t.Fatalf("no GET filter bar on the audit page")
	}
	for name, want := range map[string]string{"actor": "a@example.com", "action": "login.failed", "resource": "session",
		"target": "x@example.com", "from": "2025-01-02T03:04", "to": "2025-02-01T00:00"} {
		if got, _ := bar.Find(`input[name="` + name + `"]`).Attr("value"); got != want {
			t.Errorf("filter %s shows %q, want %q", name, got, want)
		}
	}
	empty := doc.Find(`[data-testid="audit-empty"]`)
	if !strings.Contains(empty.Text(), "No events match these filters") {
		t.Errorf("filtered to nothing, the page says %q", strings.TrimSpace(empty.Text()))
	}
	if href, _ := empty.Find(`a[data-testid="audit-clear-empty"]`).Attr("href"); href != "/settings/audit" {
		t.Errorf("no clear-filters link in the empty state (href %q)", href)
	}

	doc = get("action=login.failed")
	rows := doc.Find(`[data-testid="audit-table"] tbody tr`)
	if rows.Length() != 2 {
		t.Fatalf("action=login.failed: %d rows, want 2", rows.Length())
	}
	if ip := rows.First().Find(`[data-testid="audit-ip"]`); !strings.Contains(ip.Text(), "192.0.2.10") || ip.AttrOr("title", "") != "Firefox" {
		t.Errorf("a failed sign-in's row shows %q (title %q), want its address and user agent", ip.Text(), ip.AttrOr("title", ""))
	}
	if !strings.Contains(rows.First().Text(), "a@example.com") {
		t.Errorf("a failed sign-in's row does not name the e-mail tried: %q", rows.First().Text())
	}
	if doc.Find(`a[data-testid="audit-clear"]`).Length() != 1 {
		t.Error("a filtered page has no clear-filters link")
	}
	if get("").Find(`a[data-testid="audit-clear"]`).Length() != 0 {
		t.Error("the unfiltered page offers to clear filters")
	}

	if rec := call(s.http.Handler, http.MethodGet, "/settings/audit?from=soon", "", key); rec.Code != http.StatusBadRequest {
		t.Errorf("a bad from on the page: got %d, want 400", rec.Code)
	}
}
