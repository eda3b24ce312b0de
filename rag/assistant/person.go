package assistant

import "regexp"

// asksForPersonRE matches a customer asking to be put through to a
// person: "can I talk to a human", "speak with an agent", "I want a real
// person", "contact support". Such a question escalates the conversation
// whatever the answer, as a fallback does.
var asksForPersonRE = regexp.MustCompile(`(?i)\b(?:(?:talk|speak|chat)(?:\s+(?:to|with))?\s+(?:a\s+|an\s+|some\s*one|somebody|your\s+)?(?:real\s+|live\s+)?(?:human|person|agent|representative|someone|somebody|support(?:\s+team)?|staff)|(?:real|live)\s+(?:human|person|agent)|human\s+(?:agent|being|support)|contact\s+(?:a\s+)?(?:human|person|support|customer\s+service))\b`)

// AsksForPerson reports whether q asks to be put through to a person.
func AsksForPerson(q string) bool { return asksForPersonRE.MatchString(q) }
