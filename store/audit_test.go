package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFindAudit drives the store's clock so events have known times,
// then checks each filter, the time bounds (to the microsecond, though
// keys hold milliseconds) and the scan bound.
func TestFindAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var clock time.Time
	s.now = func() time.Time { return clock }
	record := func(at time.Time, actor, action, target string) {
		t.Helper()
		clock = at
		if err := s.RecordAudit(ctx, AuditEvent{Actor: Actor{Kind: ActorUser, ID: "id-" + actor, Name: actor}, Action: action, Resource: "user", ResourceID: target}); err != nil {
			t.Fatal(err)
		}
	}
	// Event i at minute i: login.failed every 10th (3, 13, 23, 33), else
	// update; actors u0..u3 in turn; target t<i>.
	for i := range 40 {
		action := "update"
		if i%10 == 3 {
			action = ActionLoginFailed
		}
		record(base.Add(time.Duration(i)*time.Minute), fmt.Sprintf("u%d", i%4), action, fmt.Sprintf("t%d", i))
	}
	// Two events within one millisecond, an hour on.
	ms := base.Add(time.Hour)
	record(ms.Add(100*time.Microsecond), "u9", "update", "early")
	record(ms.Add(900*time.Microsecond), "u9", "update", "late")

	targets := func(events []AuditEvent) string {
		var ts []string
		for _, e := range events {
			ts = append(ts, e.ResourceID)
		}
		return strings.Join(ts, " ")
	}
	// all pages through f and returns every event and how many pages.
	all := func(f AuditFilter) (string, int) {
		var got []AuditEvent
		pages := 0
		for {
			events, next, err := s.FindAudit(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got, pages = append(got, events...), pages+1
			if next == "" || pages > 100 {
				return targets(got), pages
			}
			f.Before = next
		}
	}

	tests := []struct {
		name  string
		f     AuditFilter
		want  string
		pages int // 0: any
	}{
		{"action", AuditFilter{Action: ActionLoginFailed}, "t33 t23 t13 t3", 1},
		{"action family", AuditFilter{Action: "LOGIN"}, "t33 t23 t13 t3", 1},
		{"no partial action", AuditFilter{Action: "login.fail"}, "", 1},
		{"actor by name", AuditFilter{Actor: "U1", From: base.Add(20 * time.Minute)}, "t37 t33 t29 t25 t21", 1},
		{"actor by ID", AuditFilter{Actor: "id-u1", To: base.Add(10 * time.Minute)}, "t9 t5 t1", 1},
		{"target", AuditFilter{Target: "T17"}, "t17", 1},
		{"resource", AuditFilter{Resource: "api_key"}, "", 1},
		{"pages of a filter", AuditFilter{Actor: "u2", Page: Page{Limit: 3}}, "t38 t34 t30 t26 t22 t18 t14 t10 t6 t2", 4},
		// The bounds become where the scan starts and stops: ten events
		// fit a scan of ten with no cursor left over.
		{"from and to", AuditFilter{From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute), MaxScan: 10},
			"t19 t18 t17 t16 t15 t14 t13 t12 t11 t10", 1},
		{"to inside a millisecond", AuditFilter{From: ms, To: ms.Add(500 * time.Microsecond)}, "early", 1},
		{"from inside a millisecond", AuditFilter{From: ms.Add(500 * time.Microsecond)}, "late", 1},
		{"to before any ID", AuditFilter{To: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}, "", 1},
		// A sparse filter under a small scan bound comes back in several
		// pages, some of them empty, and still finds everything.
		{"scan bound", AuditFilter{Action: ActionLoginFailed, MaxScan: 7}, "t33 t23 t13 t3", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := all(tt.f)
			if got != tt.want || (tt.pages != 0 && pages != tt.pages) {
				t.Errorf("got %q in %d pages, want %q in %d", got, pages, tt.want, tt.pages)
			}
		})
	}

	events, next, err := s.FindAudit(ctx, AuditFilter{Action: ActionLoginFailed, MaxScan: 3})
	if err != nil || len(events) != 0 || next == "" {
		t.Errorf("a scan bound reached before any match: got %d events, next %q, %v; want none and a cursor", len(events), next, err)
	}
}
