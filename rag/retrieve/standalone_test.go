package retrieve

import (
	"fmt"
	"testing"
)

func user(text string) Turn      { return Turn{Role: RoleUser, Text: text} }
func assistant(text string) Turn { return Turn{Role: RoleAssistant, Text: text} }

func TestStandalone(t *testing.T) {
	slack := []Turn{user("How do I connect Slack?"), assistant("An admin installs the Rosterly app from the Slack directory [1].")}
	tests := []struct {
		name     string
		history  []Turn
		question string
		want     string
	}{
		{"no history", nil, "Does it work offline?", "Does it work offline?"},
		{"only an assistant turn", []Turn{assistant("Hi! How can I help?")}, "Does it work offline?", "Does it work offline?"},
		{"pronoun it", slack, "Does it work with private channels?", "connect Slack: Does it work with private channels?"},
		{"pronoun they", []Turn{user("Can employees swap shifts?")}, "Do they need manager approval?", "employees swap shifts: Do they need manager approval?"},
		{"that as a pronoun", []Turn{user("How do I export payroll to ADP?")}, "How long does that take?", "export payroll ADP: How long does that take?"},
		{"this at the end", []Turn{user("Why are my push notifications not arriving?")}, "How can I fix this?", "push notifications arriving: How can I fix this?"},
		{"what about", []Turn{user("How much does the Pro plan cost per month?")}, "What about annual billing?", "Pro plan cost per month: What about annual billing?"},
		{"how about", []Turn{user("Can I sync shifts to Google Calendar?")}, "how about Outlook", "sync shifts Google Calendar: how about Outlook"},
		{"starts with and", []Turn{user("Does Rosterly support SAML single sign-on?")}, "And SCIM provisioning for Okta?", "Rosterly support SAML single sign-on: And SCIM provisioning for Okta?"},
		{"very short", []Turn{user("How do I set up geofencing for the time clock?")}, "On Android?", "set geofencing time clock: On Android?"},
		{"a new, complete question", slack, "How do I reset my password?", "How do I reset my password?"},
		{"a fragment", []Turn{user("How much does the Pro plan cost?")}, "Annual billing?", "Pro plan cost: Annual billing?"},
		{"this month is not a referent", slack, "Why was I charged twice this month?", "Why was I charged twice this month?"},
		{"a relative that", slack, "Can I see shifts that overlap across locations?", "Can I see shifts that overlap across locations?"},
		{"dummy it", slack, "Is it possible to export timesheets to Excel?", "Is it possible to export timesheets to Excel?"},
		{"that as a conjunction", slack, "Is it true that invoices include VAT for EU customers?", "Is it true that invoices include VAT for EU customers?"},
		{"this as a determiner", slack, "Does the Starter plan include this integration?", "connect Slack: Does the Starter plan include this integration?"},
		{"words already asked are not repeated", slack, "Does Slack support it in threads?", "connect: Does Slack support it in threads?"},
		{"chained follow-ups keep the topic", []Turn{
			user("How do I connect Slack?"), assistant("…"),
			user("Does it work with private channels?"), assistant("…"),
		}, "And on mobile?", "connect Slack private channels: And on mobile?"},
		{"the latest user turn wins", []Turn{
			user("How do I connect Slack?"), assistant("…"),
			user("How do I reset my password?"), assistant("…"),
		}, "Does it expire?", "reset password: Does it expire?"},
		{"blank question", slack, "   ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Standalone(tc.history, tc.question); got != tc.want {
				t.Errorf("Standalone(%q) = %q, want %q", tc.question, got, tc.want)
			}
		})
	}
}

func TestStandaloneStaysShort(t *testing.T) {
	var h []Turn
	q := "How do I connect the Slack integration to the Rosterly scheduling workspace for announcements?"
	for i := range 20 {
		h = append(h, user(q), assistant("…"))
		q = fmt.Sprintf("And what about option %d?", i)
	}
	got := Standalone(h, q)
	if n := len(words(got)); n > maxContextWords+6 {
		t.Errorf("after 20 follow-ups the query has %d words: %q", n, got)
	}
}

func ExampleStandalone() {
	history := []Turn{
		{Role: RoleUser, Text: "How do I connect Slack?"},
		{Role: RoleAssistant, Text: "An admin installs the Rosterly app from the Slack directory [1]."},
	}
	fmt.Println(Standalone(history, "Does it work with private channels?"))
	fmt.Println(Standalone(history, "How do I reset my password?"))
	// Output:
	// connect Slack: Does it work with private channels?
	// How do I reset my password?
}
