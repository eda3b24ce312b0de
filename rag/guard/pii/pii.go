// Package pii finds personal data in text — e-mail addresses, phone
// numbers, payment cards, IBANs, US social security numbers, IP
// addresses, API-key-like secrets, postal addresses and person names —
// and replaces it with typed placeholders (<EMAIL_1>).
//
// Structured types are found by regular expressions and then validated
// (Luhn for cards, mod-97 for IBANs, the SSA's rules for SSNs, net/netip
// for addresses, character entropy for secrets), so a number that only
// looks like one is left alone. Names and postal addresses have no
// checksum: they are heuristics (a gazetteer of first names, titles,
// cue phrases, street words) measured on a labelled set
// (docs/BENCHMARKS.md, `llmops bench guardrails`).
//
// Go's regexp is RE2: every expression runs in time linear in the text,
// and every other pass here is one scan, so Detect is linear in its input
// whatever the input (FuzzDetect feeds it adversarial strings).
package pii

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Type is a kind of personal data, as the check API names it.
type Type string

// The types Detect finds.
const (
	Email   Type = "EMAIL"
	Phone   Type = "PHONE"
	Card    Type = "CARD"
	IBAN    Type = "IBAN"
	SSN     Type = "SSN"
	IP      Type = "IP"
	Secret  Type = "SECRET"
	Person  Type = "PERSON"
	Address Type = "ADDRESS"
)

// Types lists every type, in the order overlapping findings are preferred:
// a secret or e-mail address wins over the name or number inside it.
var Types = []Type{Secret, Email, IBAN, Card, SSN, IP, Phone, Address, Person}

func priority(t Type) int { return slices.Index(Types, t) }

// Span is one finding. Start and End are rune offsets into the text
// (End exclusive), as the check API reports them.
type Span struct {
	Type  Type `json:"type"`
	Start int  `json:"start"`
	End   int  `json:"end"`
}

// match is a finding in byte offsets, before overlaps are resolved.
type match struct {
	typ        Type
	start, end int
}

// Detect returns the personal data in text, ordered by position, with no
// two spans overlapping (the higher-priority type, then the longer span,
// wins).
func Detect(text string) []Span {
	ms := detect(text)
	out := make([]Span, len(ms))
	// One walk turns byte offsets into rune offsets: the matches are in
	// order and do not overlap.
	pos, runes := 0, 0
	for i, m := range ms {
		runes += utf8.RuneCountInString(text[pos:m.start])
		start := runes
		runes += utf8.RuneCountInString(text[m.start:m.end])
		pos = m.end
		out[i] = Span{Type: m.typ, Start: start, End: runes}
	}
	return out
}

// detect finds, validates and resolves matches in byte offsets.
func detect(text string) []match {
	if text == "" {
		return nil
	}
	var ms []match
	ms = findSecrets(text, ms)
	ms = findEmails(text, ms)
	ms = findIBANs(text, ms)
	ms = findCards(text, ms)
	ms = findSSNs(text, ms)
	ms = findIPs(text, ms)
	ms = findPhones(text, ms)
	ms = findAddresses(text, ms)
	ms = findPersons(text, ms)
	return resolve(ms)
}

// resolve keeps the best of overlapping matches: higher priority, then
// longer, then earlier.
func resolve(ms []match) []match {
	if len(ms) < 2 {
		return ms
	}
	slices.SortStableFunc(ms, func(a, b match) int {
		return cmp.Or(cmp.Compare(priority(a.typ), priority(b.typ)), cmp.Compare(b.end-b.start, a.end-a.start), cmp.Compare(a.start, b.start))
	})
	var kept []match
	for _, m := range ms {
		// kept is sorted by start: binary search for the neighbours.
		i, _ := slices.BinarySearchFunc(kept, m.start, func(k match, s int) int { return cmp.Compare(k.start, s) })
		if i > 0 && kept[i-1].end > m.start {
			continue
		}
		if i < len(kept) && kept[i].start < m.end {
			continue
		}
		kept = slices.Insert(kept, i, m)
	}
	return kept
}

// Redact replaces each span of text with a typed placeholder: <EMAIL_1>,
// <EMAIL_2>, <PHONE_1>… numbered per type in order of first appearance;
// the same value gets the same placeholder throughout the text. spans
// must come from Detect(text).
func Redact(text string, spans []Span) string {
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	seen := map[string]string{}
	count := map[Type]int{}
	pos, runes := 0, 0 // byte and rune offset of the text written so far
	for _, s := range spans {
		start := advance(text, pos, s.Start-runes)
		end := advance(text, start, s.End-s.Start)
		b.WriteString(text[pos:start])
		value := text[start:end]
		key := string(s.Type) + "\x00" + value
		ph, ok := seen[key]
		if !ok {
			count[s.Type]++
			ph = fmt.Sprintf("<%s_%d>", s.Type, count[s.Type])
			seen[key] = ph
		}
		b.WriteString(ph)
		pos, runes = end, s.End
	}
	b.WriteString(text[pos:])
	return b.String()
}

// advance returns the byte offset n runes after byte offset i.
func advance(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// RedactText detects and redacts in one call, returning the redacted text
// and the spans (rune offsets into the original).
func RedactText(text string) (string, []Span) {
	spans := Detect(text)
	return Redact(text, spans), spans
}

// Counts tallies spans per type.
func Counts(spans []Span) map[Type]int {
	out := map[Type]int{}
	for _, s := range spans {
		out[s.Type]++
	}
	return out
}
