package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
)

// otherBrowser opens a second browser context in the browser of ctx: its
// own cookies, as a different person's browser has. Like newBrowser, it
// fails the test on any Content-Security-Policy violation it reports.
func otherBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	var mu sync.Mutex
	var blocked []string
	other, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && (e.Entry.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Entry.Text, "Content Security Policy")) {
			mu.Lock()
			blocked = append(blocked, e.Entry.URL+": "+e.Entry.Text)
			mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		cancel()
		mu.Lock()
		defer mu.Unlock()
		for _, b := range blocked {
			t.Errorf("blocked by the Content-Security-Policy (second browser): %s", b)
		}
	})
	return other
}

// TestBrowserInviteFlow: an admin adds a member without a password and
// gets an invite link; the member opens it in their own browser, chooses a
// password and lands signed in; the link does not work a second time.
func TestBrowserInviteFlow(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	inst := startServe(t, t.TempDir(), "--no-sample")
	setupAdmin(t, ctx, inst)

	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.url+"/settings/users"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-form"]`)),
	)
	if err != nil {
		t.Fatalf("users page: %v", err)
	}
	if rule := text(t, ctx, `[data-testid="password-rule"]`); !strings.Contains(rule, "at least 10 characters") {
		t.Errorf("the add-member form states %q, want the password rule", rule)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#u-name"), "Rae Okafor"),
		chromedp.SendKeys(chromedp.CSS("#u-email"), "rae@rosterly.example"),
		chromedp.SetValue(chromedp.CSS("#u-role"), "reviewer"),
		chromedp.Click(chromedp.CSS(`[data-testid="user-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-link-url"]`)),
	)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	link := text(t, ctx, `[data-testid="new-link-url"]`)
	if !strings.HasPrefix(link, inst.url+"/set-password?token=") {
		t.Fatalf("invite link %q, want %s/set-password?token=…", link, inst.url)
	}
	if rows := text(t, ctx, `[data-testid="users-table"]`); !strings.Contains(rows, "Rae Okafor") || !strings.Contains(rows, "invited") {
		t.Errorf("team table = %q, want Rae marked invited", rows)
	}
	shot(t, ctx, "30-invite-link")

	rae := otherBrowser(t, ctx)
	err = chromedp.Do(rae,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="set-password-form"]`)),
	)
	if err != nil {
		t.Fatalf("open the invite: %v", err)
	}
	if h := text(t, rae, "h1"); h != "Welcome, Rae Okafor" {
		t.Errorf("invite page says %q, want a welcome for Rae", h)
	}
	shot(t, rae, "31-invite-page")
	err = chromedp.Do(rae,
		chromedp.SendKeys(chromedp.CSS("#password"), "rae's own password"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "rae's own password"),
		chromedp.Click(chromedp.CSS(`[data-testid="set-password-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="viewer"]`)),
	)
	if err != nil {
		t.Fatalf("set the password: %v", err)
	}
	if who := text(t, rae, `[data-testid="viewer"]`); !strings.Contains(who, "Rae Okafor") || !strings.Contains(who, "reviewer") {
		t.Errorf("signed in as %q, want Rae Okafor, reviewer", who)
	}
	shot(t, rae, "32-invite-signed-in")

	// Her sessions list this browser, marked; the admin's is not hers.
	err = chromedp.Do(rae,
		chromedp.Navigate(inst.url+"/settings/sessions"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sessions-table"]`)),
	)
	if err != nil {
		t.Fatalf("sessions: %v", err)
	}
	if rows, err := chromedp.Run(rae, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="session-row"]').length`)); err != nil || rows != 1 {
		t.Errorf("%d session rows (%v), want Rae's one", rows, err)
	}
	if cur := text(t, rae, `[data-testid="current-session"]`); !strings.Contains(cur, "this browser") {
		t.Errorf("current session marked %q", cur)
	}
	shot(t, rae, "33-sessions")
	err = chromedp.Do(rae,
		chromedp.Click(chromedp.CSS(`[data-testid="tab-profile"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="password-form"]`)),
	)
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	shot(t, rae, "34-profile-password")

	// The link worked once.
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="link-refused"]`)),
	)
	if err != nil {
		t.Fatalf("open the used link: %v", err)
	}
	if msg := text(t, ctx, `[data-testid="link-refused"]`); !strings.Contains(msg, "already used") {
		t.Errorf("a used link says %q", msg)
	}
}
