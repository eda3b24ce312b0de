package assistant

import "testing"

func TestAsksForPerson(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		"Can I talk to a human?":                  true,
		"I want to speak with an agent please":    true,
		"let me chat with someone":                true,
		"Is there a real person I can reach?":     true,
		"how do I contact support":                true,
		"speak to your support team":              true,
		"How do I reset my password?":             false,
		"Does the API support human-readable IDs": false,
		"What does the agent config file hold?":   false,
		"Can a person share one account?":         false,
	} {
		if got := AsksForPerson(q); got != want {
			t.Errorf("AsksForPerson(%q) = %v, want %v", q, got, want)
		}
	}
}
