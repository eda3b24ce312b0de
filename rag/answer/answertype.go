package answer

import (
	"regexp"
	"strings"
)

// answerType is the kind of thing a question asks for, read from its
// question words: "how often" wants a frequency, "how long" a duration,
// "where" a place in the app. The sentence that answers states that kind
// of thing, which the question's own words rarely share ("How often are
// new hires pulled in?" — "employee data is synced every night at
// 02:00").
type answerType int

const (
	anyAnswer answerType = iota
	wantFrequency
	wantDuration
	wantMoney
	wantVersion
	wantPlace
	// wantAction: a how-to question wants an instruction ("Go to
	// Settings → General → Transfer ownership"), not a sentence that
	// repeats its premise ("If the Owner has left the company…").
	wantAction
	// wantReason: "why" wants a cause or a condition ("…still needs
	// approval if it would put the employee into overtime").
	wantReason
	// wantLimit: "what's the largest…", "is there a limit" want a
	// bound with its figure ("maximum 200", "up to 5 addresses").
	wantLimit
	// wantDefinition: "what does 402 mean?" wants the line that defines
	// the thing, which opens with it ("402 | payment_required | The
	// workspace is read-only…"), not a sentence that mentions it in
	// passing (see question.defines).
	wantDefinition
)

// typeBonus goes to a sentence that states the kind of thing the question
// asks for (see answerType), on top of numberBonus.
const typeBonus = 0.2

// questionType reads the answer type from a lower-cased question.
func questionType(lower string) answerType {
	has := func(ws ...string) bool {
		for _, w := range ws {
			if strings.Contains(lower, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("how often", "how frequently", "how many times"):
		return wantFrequency
	case has("how long", "how soon", "how quickly", "how far into", "how far ahead", "how far in advance", "how far back", "how much notice", "how much time"):
		return wantDuration
	case has("how much", "cost", "price", "pricing", "fee ", "fees"):
		return wantMoney
	case has("which release", "which version", "what version", "what release", "since when", "first appear"):
		return wantVersion
	case definitionRe.MatchString(lower):
		return wantDefinition
	case has("largest", "maximum", "biggest", "smallest", "minimum", "shortest", "longest", "fewest", "at most", "at least", "limit", "how many", "how big", "how large"):
		return wantLimit
	case strings.HasPrefix(lower, "where") || has(" where ", "which menu", "which page", "which setting", "what setting"):
		return wantPlace
	case isProcedural(lower):
		return wantAction
	case strings.HasPrefix(lower, "why") || has(" why ", " why?", "what causes", "how come", "what went wrong"):
		return wantReason
	}
	return anyAnswer
}

var (
	frequencyRe  = regexp.MustCompile(`\b(every|each|daily|hourly|nightly|weekly|monthly|yearly|annually|once|twice|times (a|per)|per (second|minute|hour|day|night|week|month|year))\b`)
	durationRe   = regexp.MustCompile(`\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a|an)[ -](second|minute|hour|day|business day|week|month|year)s?\b|\b(immediately|instantly|right away)\b`)
	moneyRe      = regexp.MustCompile(`[$€£]\s?\d|\b\d[\d,.]*\s?(usd|eur|gbp|dollars?|euros?|cents?)\b|\bfree\b|\bno (extra )?(cost|charge)\b`)
	versionRe    = regexp.MustCompile(`\b(v?\d+\.\d+(\.\d+)?)\b|\b(released|introduced|since)\b`)
	placeRe      = regexp.MustCompile(`→|->|\b(settings|profile|menu|page|tab|toolbar|under)\b`)
	reasonRe     = regexp.MustCompile(`\b(because|if|unless|since|due to|so that|as long as|until|only when|otherwise|when)\b`)
	limitRe      = regexp.MustCompile(`\b(maximum|minimum|max|min|at most|at least|up to|no more than|not more than|limit(ed)?( of| to)?|above|below|exceeds?|more than|fewer than|less than)\b`)
	digitRe      = regexp.MustCompile(`\d`)
	definitionRe = regexp.MustCompile(`\bwhat (does|do) (.+) (mean|stand for)\b|\bwhat is meant by\b|\bmeaning of\b`)
	actionRe     = regexp.MustCompile(`→|->|^(go|click|open|select|choose|tap|enter|type|use|add|set|turn|switch|contact|email|ask)\b|\b(go to|click|tap)\b`)
)

// states reports whether a sentence states what t asks for.
func (t answerType) states(s string) bool {
	lower := strings.ToLower(s)
	switch t {
	case wantFrequency:
		return frequencyRe.MatchString(lower)
	case wantDuration:
		return durationRe.MatchString(lower)
	case wantMoney:
		return moneyRe.MatchString(lower)
	case wantVersion:
		return versionRe.MatchString(lower)
	case wantPlace:
		return placeRe.MatchString(lower)
	case wantAction:
		return actionRe.MatchString(lower)
	case wantReason:
		return reasonRe.MatchString(lower)
	case wantLimit:
		return limitRe.MatchString(lower) && digitRe.MatchString(lower)
	}
	return false
}
