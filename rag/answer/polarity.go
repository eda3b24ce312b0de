package answer

import (
	"strings"

	"llmops/rag/text"
)

// Support questions are mostly about an action, and the action has an
// opposite the same article documents next to it: "how do I leave kiosk
// mode?" shares every content word with the steps that start it, and
// "can I renew?" with the paragraph on cancelling. Word overlap cannot
// tell them apart; the verb's direction can. A pole is one side of such
// a pair, written as the verbs (and verb phrases) that say it. A text
// agrees with a question when it has one of the question's poles, and
// opposes it when it has only the other side of the pair.
//
// The lexicon is the common verbs of software help and support, not the
// vocabulary of one product: the same pairs decide on any help centre.
// Verbs questions use for other things are left out: "show me how…",
// "the following".

// polePair holds the two sides of an action and its opposite.
type polePair struct{ a, b []string }

var polePairs = []polePair{
	{[]string{"start", "begin", "launch"}, []string{"leave", "exit", "quit", "stop"}},
	{[]string{"cancel", "terminate", "unsubscribe", "get out of"}, []string{"renew", "resubscribe", "reactivate", "extend"}},
	{[]string{"enable", "turn on", "switch on", "activate", "opt in"}, []string{"disable", "turn off", "switch off", "deactivate", "opt out"}},
	{[]string{"add", "create"}, []string{"remove", "delete"}},
	{[]string{"invite"}, []string{"uninvite"}},
	{[]string{"connect", "link", "pair"}, []string{"disconnect", "unlink", "unpair"}},
	{[]string{"lock", "suspend", "ban"}, []string{"unlock", "unsuspend", "unban"}},
	{[]string{"archive"}, []string{"unarchive", "restore"}},
	{[]string{"import"}, []string{"export"}},
	{[]string{"upgrade"}, []string{"downgrade"}},
	{[]string{"sign in", "log in", "login", "signin"}, []string{"sign out", "log out", "logout", "signout"}},
	{[]string{"clock in", "punch in"}, []string{"clock out", "punch out"}},
	{[]string{"install"}, []string{"uninstall"}},
	{[]string{"publish"}, []string{"unpublish"}},
	{[]string{"allow", "permit", "unblock"}, []string{"deny", "forbid", "prevent", "block"}},
	{[]string{"approve", "accept"}, []string{"reject", "decline"}},
	{[]string{"increase", "raise"}, []string{"decrease", "reduce", "lower"}},
	{[]string{"pause"}, []string{"unpause", "resume"}},
	{[]string{"mute"}, []string{"unmute"}},
	{[]string{"assign"}, []string{"unassign"}},
	{[]string{"upload"}, []string{"download"}},
}

// pole is one side of a polePair: 2i for a, 2i+1 for b.
type pole int

func (p pole) opposite() pole { return p ^ 1 }

// poleIndex maps each phrase, as space-joined stems, to its pole.
var poleIndex, maxPolePhrase = func() (map[string]pole, int) {
	m := make(map[string]pole)
	longest := 1
	for i, pr := range polePairs {
		for side, phrases := range [2][]string{pr.a, pr.b} {
			for _, ph := range phrases {
				var stems []string
				for _, w := range strings.Fields(ph) {
					stems = append(stems, text.Stem(w))
				}
				key := strings.Join(stems, " ")
				if _, dup := m[key]; !dup {
					m[key] = pole(2*i + side)
				}
				longest = max(longest, len(stems))
			}
		}
	}
	return m, longest
}()

// poleSet is the poles a text states.
type poleSet map[pole]bool

// poles returns the poles of text: every phrase of the lexicon it
// contains, longest match first, so "turn on" is not read as "turn" and
// "clock out" not as "out". A negated action is still that action: "data
// never leaves the EU" answers "does data leave the EU?".
func poles(s string) poleSet {
	ps, _ := polesAndPhrases(s)
	return ps
}

// polesAndPhrases is poles, with the lexicon phrases found (as stems).
func polesAndPhrases(s string) (poleSet, []string) {
	ws := words(s)
	out := poleSet{}
	var phrases []string
	for i := 0; i < len(ws); i++ {
		for n := min(maxPolePhrase, len(ws)-i); n >= 1; n-- {
			stems := make([]string, n)
			for k := range n {
				stems[k] = ws[i+k].stem
			}
			key := strings.Join(stems, " ")
			p, ok := poleIndex[key]
			if !ok {
				continue
			}
			phrases = append(phrases, key)
			out[p] = true
			i += n - 1
			break
		}
	}
	return out, phrases
}

// says reports whether ps states the pole of stem t, a one-word phrase of
// the lexicon: a question's action verb, which a text may say in other
// words (exit for leave).
func (ps poleSet) says(t string) bool {
	p, ok := poleIndex[t]
	return ok && ps[p]
}

// agrees reports whether ps states a pole of q.
func (q poleSet) agrees(ps poleSet) bool {
	for p := range q {
		if ps[p] {
			return true
		}
	}
	return false
}

// opposes reports whether ps states the opposite of a pole of q and none
// of q's own: the text is about the other direction of the action.
func (q poleSet) opposes(ps poleSet) bool {
	if len(q) == 0 || q.agrees(ps) {
		return false
	}
	for p := range q {
		if ps[p.opposite()] && !q[p.opposite()] {
			return true
		}
	}
	return false
}
