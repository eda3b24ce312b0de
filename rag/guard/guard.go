// Package guard finds text that addresses the assistant rather than the
// reader: a passage that tells a model to ignore its instructions, take on
// another role, reveal its prompt or ask visitors for their password. A
// help-centre page never needs to say such things, and when one does (a
// planted or compromised document) its text must not become a public
// answer, so ingestion flags the chunk and the widget leaves it out until
// an editor approves it.
//
// The checks are heuristics: named rules of regular expressions over
// normalised text, tuned to flag nothing in an ordinary help centre
// (sample-data/) and measured for precision and recall on the
// deepset/prompt-injections set (docs/BENCHMARKS.md). Rules are a table,
// so the Guardrails work can add rules, languages or a classifier behind
// the same Check without touching its callers; raise Version when the
// rules change so stored documents are checked again.
package guard

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version identifies the rule set. The knowledge base stores the version
// its chunks were checked with and checks every chunk again when it is
// older.
const Version = 1

// Finding is one rule that matched a text.
type Finding struct {
	Rule   string `json:"rule"`   // the rule's name, e.g. "override"
	Reason string `json:"reason"` // what the text does, for the document page
	Match  string `json:"match"`  // the matched words, shortened
}

// rule is one heuristic: a name, the reason shown to editors, and the
// patterns (any one matches) over normalised text.
type rule struct {
	name, reason string
	pats         []pattern
	// negated, when set, discards a match whose sentence says it before
	// the match: "never send your password to …" is the advice a help
	// centre gives, not a request.
	negated *regexp.Regexp
}

// pattern is a regular expression with the literals one of which any
// match contains: the expression runs only on text holding one of them,
// which keeps Check near a microsecond per kilobyte of ordinary text
// (Go's regexp would otherwise try each alternation at every offset).
type pattern struct {
	keys []string
	re   *regexp.Regexp
}

// pat builds a pattern from an expression and its keys.
func pat(expr string, keys ...string) pattern {
	return pattern{keys: keys, re: regexp.MustCompile(expr)}
}

// Patterns run over normalise's output: lower case, one space between
// words, zero-width characters removed, line breaks kept (role turns are
// found at the start of a line).
var rules = []rule{
	{
		name:   "override",
		reason: "tells the assistant to ignore or replace its instructions",
		pats: []pattern{
			// "ignore all previous instructions", "disregard the above", "forget everything before that"
			pat(`\b(ignore|disregard|forget|drop|abandon|override|bypass|skip)\b(?: (?:all|any|every|of|the|your|my|these|those|that|what|everything|things|you|have|been|was|were|i|we|told|said|given|previously|prior|earlier|above|before|preceding|foregoing|other|rest|existing|current|original|initial|system|safety|remaining|provided))* (?:previous|prior|earlier|above|preceding|foregoing|before|original|initial|existing|system|safety|programming|programmed|provided) ?(?:instructions?|directions?|directives?|orders?|commands?|rules|guidelines|prompts?|tasks?|assignments?|context|information|content|messages?|text|documents?|articles?|constraints|restrictions|conversation|input|that|this|it)?\b`, "ignore", "disregard", "forget", "drop", "abandon", "override", "bypass", "skip"),
			pat(`\b(ignore|disregard|forget|drop)\b (?:all |any |every |of )*(?:your|the|my|these) (?:instructions|directions|directives|orders|guidelines|rules|programming|assignments|tasks|articles|documents)\b`, "ignore", "disregard", "forget", "drop"),
			pat(`\b(?:forget|ignore) (?:about )?(?:everything|all)\b(?: (?:above|before|else|we discussed|you know|that came before|i said|said|previously))?`, "forget", "ignore"),
			pat(`\b(?:new|updated|changed?) (?:instructions?|tasks?|directives?) (?:follow|are|is)\b`, "instructions follow", "instruction follow", "tasks follow", "task follow", "instructions are", "instruction is", "tasks are", "task is", "directives are", "directive is", "directives follow"),
			pat(`\b(?:change|update|replace) your (?:instructions|rules|guidelines|programming)\b`, "your instructions", "your rules", "your guidelines", "your programming"),
			pat(`\byour (?:new )?(?:instructions|task) (?:are|is) now\b`, "your new", "your instructions", "your task"),
			pat(`\b(?:do not|don't|dont) (?:answer|look|use|follow|rely)\b[^.!?\n]{0,40}\b(?:documents?|articles?|context|instructions|question)\b[^.!?\n]{0,30}\b(?:but|instead|just|only)\b`, "do not", "don't", "dont"),
			pat(`\b(?:answer|respond|reply) (?:by|from|with|using) your own knowledge\b`, "own knowledge"),
			pat(`\bdisregarding (?:the|all|any|your) `, "disregarding"),
			pat(`\b(?:remove|leave|put aside|set aside|erase|delete) (?:all |any )?(?:of )?(?:the |your )?(?:previous|prior|preceding|earlier) (?:tasks|instructions|information|assignments|orders)\b`, "previous", "prior", "preceding", "earlier"),
			pat(`\babandon all your thoughts\b|\brepeat after me\b`, "abandon all", "repeat after"),
			pat(`\b(?:answer|respond|reply) (?:to )?every (?:question|message|prompt) (?:with|by saying)\b|\bevery time you get a question\b`, "every question", "every message", "every prompt", "every time you get"),
			// German
			pat(`\b(?:vergiss|vergessen sie|ignoriere|ignorieren sie|missachte)\b[^.!?\n]{0,40}\b(?:alles|alle|vorherigen|bisherigen|obigen|vorangehenden|anweisungen|aufgaben|aufträge|befehle|instruktionen)\b`, "vergiss", "vergessen", "ignorier", "missachte"),
			pat(`\b(?:obigen|vorherigen|bisherigen) (?:ausführungen|anweisungen|informationen|aufgaben) (?:ignorieren|vergessen)\b|\balle (?:vorangegangenen|vorherigen|bisherigen) (?:aufgaben|anweisungen|befehle)\b|\balles zuvor gesagte\b`, "obigen", "vorherigen", "bisherigen", "vorangegangenen", "zuvor gesagte"),
			pat(`\babweichend (?:zu|von) (?:den )?(?:vorherigen|bisherigen|obigen) (?:instruktionen|anweisungen)\b`, "abweichend"),
			pat(`\b(?:nun|jetzt) folgen (?:neue|weitere) (?:anweisungen|aufgaben)\b`, "folgen"),
			pat(`\balle (?:vorherigen|bisherigen) informationen\b`, "informationen"),
			// Spanish, French, Croatian and Russian forms seen in the wild
			pat(`\b(?:olvida|olvide|olvidar) (?:todo|todas)\b`, "olvid"),
			pat(`\boubliez (?:toutes|tout)\b`, "oubliez"),
			pat(`\bzaboravi sve\b`, "zaboravi"),
			pat(`забудьте все`, "забудьте"),
		},
	},
	{
		name:   "system-note",
		reason: "poses as a message to the assistant (a system note or instruction block)",
		pats: []pattern{
			pat(`\b(?:system|admin|developer|important|urgent|hidden|secret|special)[ _-]?(?:note|notice|message|instructions?|prompt|override|command)\s*[:\-!]`, "note", "notice", "message", "instruction", "prompt", "override", "command"),
			pat(`\b(?:note|message|instructions?|attention) (?:to|for) (?:the )?(?:ai|assistant|chatbot|bot|model|language model|llm|gpt|chatgpt)\b`, " ai", "assistant", "chatbot", " bot", " model", "llm", "gpt"),
			pat(`\b(?:dear|hey|hello|hi|attention|listen) (?:ai|assistant|chatbot|gpt|chatgpt|llm|language model)\b`, " ai", "assistant", "chatbot", "gpt", "llm", "language model"),
			pat(`\bif you are an? (?:ai|assistant|chatbot|language model|llm)\b`, "if you are"),
			pat(`\b(?:ai|assistant|chatbot|llm|model)s? (?:reading|processing|summari[sz]ing) this\b`, "reading this", "processing this", "summarising this", "summarizing this"),
			pat(`\[(?:/?inst|/?sys|system)\]|<<sys>>`, "[inst", "[/inst", "[sys", "[/sys", "[system", "<<sys"),
			pat(`<\|?(?:im_start|im_end|system|endoftext)\|?>`, "im_start", "im_end", "endoftext", "<system>", "<|system|>"),
			pat(`\b(?:additional|further|extra) instruction\s*[:\-]`, "additional instruction", "further instruction", "extra instruction"),
			pat(`={4,} ?end\b|\bend of (?:system )?prompt\b`, "====", "end of"),
		},
	},
	{
		name:   "role-turn",
		reason: "imitates a conversation turn (system:, assistant:, user:)",
		pats: []pattern{
			pat(`(?m)^[ \t>*#-]*(?:system|assistant|human|ai|chatgpt|gpt|bot)\s*:`, "system:", "system :", "assistant:", "assistant :", "human:", "human :", "ai:", "ai :", "gpt:", "gpt :", "bot:", "bot :"),
			pat(`\b(?:human|system|assistant) ?: ?(?:human|system|assistant) ?:`, "human:", "human :", "system:", "system :", "assistant:", "assistant :"),
		},
	},
	{
		name:   "persona",
		reason: "tells the assistant to take on another role or persona",
		pats: []pattern{
			pat(`\byou are now (?:an? |the |my )?(?:\w+ ?){0,3}(?:bot|ai|assistant|gpt|chatgpt|model|dan|character|persona|entity|terminal|interpreter|translator|hacker|jailbroken|unrestricted|free|evil)\b`, "you are now"),
			pat(`\byou are (?:now )?(?:an? |the )?(?:evil|unrestricted|unfiltered|jailbroken|uncensored) (?:ai|assistant|bot|model|version)\b`, "evil", "unrestricted", "unfiltered", "jailbroken", "uncensored"),
			pat(`\b(?:now|from now on|okay|ok)[,.]? you are (?:an? |the )?[a-z]`, "now you are", "now, you are", "now. you are", "ok, you are", "ok. you are", "okay you are", "okay, you are", "okay. you are"),
			pat(`\bfrom now on,? you (?:are|will|must|shall|should|act|respond|answer|reply|speak|play)\b`, "from now on"),
			pat(`\b(?:i want you to|you will|you must|please|now)? ?act as (?:an? |the |my )?(?:\w+[ -]?){0,3}(?:terminal|interpreter|translator|debater|dan|ai|gpt|chatgpt|assistant|character|persona|console|shell|bot|chatbot|entity|entities|expert|guide)\b`, "act as"),
			pat(`\bi want you to act as\b`, "act as"),
			pat(`\b(?:pretend|imagine) (?:that )?you (?:are|were|can|have|could)\b`, "pretend", "imagine"),
			pat(`\b(?:role-?play(?:ing)?|roleplay) as\b|\byou are role-?playing\b|\bstay(?:s)? (?:\w+ ){0,3}in (?:your |their |his |her )?(?:roles?|characters?)\b|\bbleiben (?:\w+ ){0,3}in ihren rollen\b`, "role", "character", "rollen"),
			pat(`\b(?:dan|developer|god|jailbreak) mode\b`, " mode"),
			pat(`\bas an? (?:ai|artificial intelligence|language model|large language model|llm|ai assistant|chatbot)\b[^.!?\n]{0,60}\b(?:you|your)\b`, " ai", "artificial intelligence", "language model", "llm", "chatbot"),
			pat(`\byou,? as an? (?:ai|language model|large language model|llm|chatbot)\b`, " ai", "language model", "llm", "chatbot"),
			pat(`\b(?:respond|answer|reply|talk|speak|write)s? (?:only )?(?:in the style of|like) an? (?:pirate|colonial|gangster)\b|\bim stil(?:e)? (?:eines|einer|eine)\b`, "in the style of", "like a", "im stil"),
			// German
			pat(`\b(?:jetzt|nun|ab jetzt) bist du\b|\bdu bist (?:jetzt |nun )?(?:eine? |der |die |das )?(?:böse |bösartige )?(?:ki|bot|assistent)\b|\bstell dir vor,? du bist\b`, "bist du", "du bist", "stell dir vor"),
			pat(`\bich möchte,? dass (?:sie|du) als\b[^.!?\n]{0,60}\b(?:fungieren|fungierst|agieren|agierst|auftreten|auftrittst)\b`, "möchte"),
		},
	},
	{
		name:   "prompt-leak",
		reason: "asks the assistant to reveal its prompt or instructions",
		pats: []pattern{
			pat(`\b(?:reveal|show|print|display|output|repeat|tell me|give me|share|leak|spell check and display|copy)\b(?: me)?(?: all)?(?: of)? (?:your|the|this|its|full|complete|entire|initial|original|hidden|secret|system)(?: (?:full|complete|entire|initial|original|hidden|secret|system|first))* (?:prompts?|prompt texts?|instructions|system message|rules you were given|context window)\b`, "prompt", "system message", "rules you were", "context window", "your instructions", "the instructions", "hidden instructions", "secret instructions", "system instructions", "initial instructions", "original instructions", "full instructions", "complete instructions", "entire instructions"),
			pat(`\b(?:what|which) (?:are|were) your (?:instructions|rules|system prompt|guidelines)\b`, "are your", "were your"),
			pat(`\b(?:print|output|repeat|display|drucken sie|gib)\b[^.!?\n]{0,20}\b(?:above|obige|previous|vorherige) (?:prompt|eingabeaufforderung|instructions)\b`, "above", "obige", "previous", "vorherige"),
			pat(`\bwhat (?:was|is) written (?:at the beginning of|above|before)\b`, "written"),
			pat(`\b(?:information|text|words) in the prompt\b|\bthis prompt above\b`, "prompt"),
			pat(`\b(?:zeige?|zeigen sie)\b[^.!?\n]{0,30}\bprompt-?texte?\b|\bkopie des (?:vollständigen )?prompt`, "prompt"),
		},
	},
	{
		name:    "phishing",
		reason:  "asks readers or the assistant to send a password, key or other credential",
		negated: regexp.MustCompile(`\b(?:never|not|don't|dont|no one|nobody|won't|will not)\b`),
		pats: []pattern{
			pat(`\b(?:e-?mail|send|forward|reply with|post|paste|submit|share|give|provide|enter|dm|message|text)\b(?: (?:us|me|them|him|her|the|your|their|users?|customers?|visitors?|user's|all|full|current|account|login|admin))* (?:passwords?|passcodes?|passphrases?|credentials|api keys?|secret keys?|access tokens?|2fa codes?|mfa codes?|one-time codes?|verification codes?|pins?|credit card(?: numbers?)?|card numbers?|bank details|social security numbers?|login details|sign-in details)\b[^.!?\n]{0,60}?(?:[a-z0-9._%+-]+@[a-z0-9-]+\.[a-z0-9.-]+|https?://|\bthis (?:address|link|form|number)\b|\bthe (?:address|link|form) below\b|\bwhatsapp\b|\btelegram\b)`, "@", "http", "this address", "this link", "this form", "this number", "address below", "link below", "form below", "whatsapp", "telegram"),
			pat(`\b(?:ask|tell|instruct|remind|request) (?:the )?(?:user|users|customer|customers|visitor|visitors|reader|readers|them) (?:to|for) (?:send|e-?mail|share|provide|give|enter|confirm|verify)?(?: us| you| me)? ?(?:their|your|the) (?:passwords?|credentials|api keys?|2fa codes?|one-time codes?|verification codes?|credit card|card numbers?|login)\b`, "user to", "user for", "users to", "users for", "customer to", "customer for", "customers to", "customers for", "visitor to", "visitor for", "visitors to", "visitors for", "reader to", "reader for", "readers to", "readers for", "them to", "them for"),
			pat(`\b(?:passwords?|credentials|api keys?|2fa codes?|one-time codes?) (?:to|at) [a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`, "@"),
		},
	},
}

// Check returns every rule that matches text, in rule order, at most one
// finding per rule. Nil means the text looks like ordinary content.
func Check(text string) []Finding {
	if text == "" {
		return nil
	}
	norm := normalise(text)
	var out []Finding
	for _, r := range rules {
		if m, ok := r.find(norm); ok {
			out = append(out, Finding{Rule: r.name, Reason: r.reason, Match: shorten(m, 80)})
		}
	}
	return out
}

// find returns the first match of any of r's patterns that its sentence
// does not negate. A pattern runs only on a window around each
// occurrence of one of its keys, not on the whole text: Go's regexp costs
// about the same per byte whether or not anything matches.
func (r rule) find(norm string) (string, bool) {
	for _, p := range r.pats {
		for _, k := range p.keys {
			for off := 0; off < len(norm); {
				i := strings.Index(norm[off:], k)
				if i < 0 {
					break
				}
				lo, hi := window(norm, off+i, len(k))
				for _, loc := range p.re.FindAllStringIndex(norm[lo:hi], -1) {
					if r.negated != nil && r.negated.MatchString(sentenceBefore(norm, lo+loc[0])) {
						continue
					}
					return norm[lo+loc[0] : lo+loc[1]], true
				}
				off = max(hi, off+i+len(k))
			}
		}
	}
	return "", false
}

// reach is how far a pattern's match may extend either side of its key:
// every pattern matches within a sentence or two.
const reach = 240

// window returns the byte range reach bytes either side of norm[i:i+n],
// moved to rune boundaries.
func window(norm string, i, n int) (int, int) {
	lo, hi := max(0, i-reach), min(len(norm), i+n+reach)
	for lo > 0 && !utf8.RuneStart(norm[lo]) {
		lo--
	}
	for hi < len(norm) && !utf8.RuneStart(norm[hi]) {
		hi++
	}
	return lo, hi
}

// sentenceBefore returns the text of norm's sentence before offset i,
// at most reach bytes of it: looking further back made Check quadratic
// on text with many negated matches and no sentence end (1 MiB of
// "never send your password to http …" took seconds).
func sentenceBefore(norm string, i int) string {
	lo := max(0, i-reach)
	start := lo + strings.LastIndexAny(norm[lo:i], ".!?\n") + 1
	return norm[start:i]
}

// Reason joins the findings' reasons for one line on a page: "tells the
// assistant to …; imitates …".
func Reason(fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Reason
	}
	return strings.Join(parts, "; ")
}

// Rules lists the rule names, in the order Check applies them.
func Rules() []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.name
	}
	return out
}

// normalise lower-cases text, drops zero-width and other format characters
// (used to split trigger words invisibly), turns literal "\n" sequences
// into line breaks, straightens quotes, and collapses runs of spaces.
func normalise(s string) string {
	s = strings.ReplaceAll(s, `\n`, "\n")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case r == '\n':
			b.WriteByte('\n')
			space = false
			continue
		case r == '\u2019' || r == '\u2018':
			r = '\''
		case r == '\u201c' || r == '\u201d' || r == '\u201e':
			r = '"'
		}
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// shorten cuts s to at most n runes at a rune boundary.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
