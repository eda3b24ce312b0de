package retrieve

import (
	"strings"
)

// Turn is one message of a conversation.
type Turn struct {
	Role string // RoleUser or RoleAssistant
	Text string
}

// Roles of a Turn.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// maxContextWords bounds what a rewrite carries over, so a long chain of
// follow-ups does not snowball into one huge query.
const maxContextWords = 8

// Standalone rewrites a follow-up question into one that can be searched
// on its own, offline: when question leans on the conversation (a pronoun
// such as "it" or "they", a bare "and …" / "what about …", or a few words
// only), the key words of the previous user question — itself made
// standalone first — are put before it. Any other question comes back
// unchanged, as does one with no earlier user turn.
//
//	history: "How do I connect Slack?"   question: "Does it work with private channels?"
//	→ "connect Slack: Does it work with private channels?"
func Standalone(history []Turn, question string) string {
	return standalone(history, question, maxChain)
}

// maxChain is how many follow-ups back a rewrite looks: a topic further
// back than that has most likely changed.
const maxChain = 5

func standalone(history []Turn, question string, depth int) string {
	question = strings.TrimSpace(question)
	if question == "" {
		return ""
	}
	last := -1
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role == RoleUser && strings.TrimSpace(history[i].Text) != "" {
			last = i
			break
		}
	}
	if last < 0 || depth == 0 || !isFollowUp(question) {
		return question
	}
	prev := standalone(history[:last], history[last].Text, depth-1)
	key := keyWords(prev, question)
	if len(key) == 0 {
		return question
	}
	return strings.Join(key, " ") + ": " + question
}

// followUpStarts open a question that continues the previous one.
var followUpStarts = []string{"and", "also", "or", "but", "what about", "how about", "what if", "same for", "same with", "then"}

// pronouns that point back at something named earlier. "it" and the
// demonstratives are handled apart: "is it possible", "this month", "true
// that" point at nothing.
var anaphora = map[string]bool{
	"its": true, "they": true, "them": true, "their": true, "theirs": true,
	"he": true, "she": true, "him": true, "her": true, "one": true, "ones": true,
}

// temporal follows a "this" that names a time, not something said before.
var temporal = map[string]bool{
	"week": true, "month": true, "year": true, "quarter": true, "morning": true, "afternoon": true,
	"evening": true, "weekend": true, "time": true, "period": true, "cycle": true,
}

// dummyIt follows an "it" that points at nothing: "is it possible to …".
var dummyIt = map[string]bool{
	"possible": true, "true": true, "safe": true, "ok": true, "okay": true, "normal": true,
	"necessary": true, "required": true, "worth": true, "likely": true, "better": true,
	"easy": true, "hard": true, "free": true,
}

// pronounBefore precedes a "that"/"this" used as a pronoun: "does that
// …", "about this", "do that".
var pronounBefore = map[string]bool{
	"does": true, "do": true, "did": true, "is": true, "was": true, "will": true, "would": true,
	"can": true, "could": true, "should": true, "about": true, "for": true, "with": true,
	"of": true, "on": true, "to": true, "in": true, "like": true, "how": true, "why": true,
	"what": true, "where": true, "when": true, "undo": true, "change": true, "cancel": true,
	"fix": true, "use": true, "get": true, "set": true, "turn": true, "and": true,
}

// isFollowUp reports whether q needs the conversation to be understood.
func isFollowUp(q string) bool {
	lower := strings.ToLower(q)
	for _, s := range followUpStarts {
		if rest, ok := strings.CutPrefix(lower, s); ok && (rest == "" || !isLetter(rest[0])) {
			return true
		}
	}
	ws := words(q)
	// A fragment: "Pricing?", "On Android?", "Annual billing?". "How do I
	// reset my password?" has as few topic words but is a whole question.
	if n := contentWords(q); n <= 1 || n <= 2 && len(ws) <= 3 {
		return true
	}
	for i, w := range ws {
		next := ""
		if i+1 < len(ws) {
			next = ws[i+1]
		}
		switch w {
		case "it":
			// "is it possible to …", "it is …": no referent.
			if !dummyIt[next] && next != "is" && next != "s" {
				return true
			}
		case "this", "these", "those":
			if !temporal[next] {
				return true
			}
		case "that":
			// A pronoun at either end or after a verb or preposition
			// ("does that …", "about that"); "true that …" and "shifts that
			// overlap" are a conjunction and a relative.
			if i == 0 || next == "" || pronounBefore[ws[i-1]] {
				return true
			}
		default:
			if anaphora[w] {
				return true
			}
		}
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// genericWords are content words that say nothing about the topic of a
// support question.
var genericWords = map[string]bool{
	"please": true, "thanks": true, "thank": true, "hi": true, "hello": true, "need": true,
	"want": true, "know": true, "tell": true, "help": true, "like": true, "get": true,
	"use": true, "make": true, "way": true, "possible": true, "able": true, "happens": true,
	"happen": true, "work": true, "works": true, "still": true, "really": true, "anyone": true,
	"something": true, "anything": true, "one": true, "ones": true, "else": true, "question": true,
	"much": true, "many": true,
}

// keyWords are the words of prev that name its topic: content words in
// their original spelling and order, without generic ones and without
// those the new question already has. At most maxContextWords, the last
// ones (the standalone form of prev puts older context first).
func keyWords(prev, question string) []string {
	have := map[string]bool{}
	for _, w := range words(question) {
		have[w] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, raw := range strings.FieldsFunc(prev, func(r rune) bool {
		return !(r == '\'' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127)
	}) {
		raw = strings.Trim(raw, "'-.")
		ws := words(raw)
		if len(ws) == 0 {
			continue
		}
		lw := strings.Join(ws, " ")
		useful := false
		for _, w := range ws {
			useful = useful || len(w) > 1 && !isStopWord(w) && !genericWords[w] && !have[w]
		}
		if !useful || seen[lw] {
			continue
		}
		seen[lw] = true
		out = append(out, raw)
	}
	if len(out) > maxContextWords {
		out = out[len(out)-maxContextWords:]
	}
	return out
}
