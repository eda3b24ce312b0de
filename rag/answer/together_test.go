package answer

import "testing"

// TestTogether: a question's neighbouring terms count as said together in
// order with at most one content word between, or as a reversed compound;
// said apart, they are about different things.
func TestTogether(t *testing.T) {
	q := analyseQuestion("How do I reset my password?").terms
	for _, c := range []struct {
		text string
		want float64
	}{
		{"Wait and try again, or reset your password.", 1},
		{"Reset the admin password from the console.", 1},
		{"The password reset link is valid for one hour.", 1},
		{"Treat the feed URL like a password; click Reset URL if it has been shared.", 0},
		{"Click Forgot password? on the sign-in page.", 0},
	} {
		if got := together(q, tokenize(c.text)); got != c.want {
			t.Errorf("together(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := together([]string{"password"}, tokenize("reset your password")); got != 0 {
		t.Errorf("one-term question: %v, want 0", got)
	}
}

// TestFAQTitleIsHeading: a statement on a line of its own without closing
// punctuation titles the answer below it and is not quoted into it.
func TestFAQTitleIsHeading(t *testing.T) {
	ps := splitPassages("Troubleshooting\nMy shifts stopped syncing after I changed my password\nMicrosoft may revoke the refresh token when you change your password. Open Profile → Calendar sync and click Reconnect.")
	var quoted []string
	for _, p := range ps {
		if !p.heading {
			quoted = append(quoted, p.text)
		}
	}
	if len(quoted) != 2 || quoted[0] != "Microsoft may revoke the refresh token when you change your password." {
		t.Fatalf("quotable passages: %q", quoted)
	}
	if isHeadingLine("Sign in to the web app and open the Billing page, then choose a plan from the list there") {
		t.Error("a long unpunctuated line is prose, not a title")
	}
}
