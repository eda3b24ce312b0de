package pii

import (
	"math"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Each finder appends its validated matches to ms. A finder whose
// expression cannot match without some literal (an '@', a ':') first
// checks for it, which keeps ordinary text cheap.

var emailRe = regexp.MustCompile(`[\p{L}\p{N}][\p{L}\p{N}._%+\-]*@[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*\.\p{L}{2,}`)

func findEmails(text string, ms []match) []match {
	if !strings.Contains(text, "@") {
		return ms
	}
	for _, loc := range emailRe.FindAllStringIndex(text, -1) {
		ms = append(ms, match{Email, loc[0], loc[1]})
	}
	return ms
}

// Cards: 13 to 19 digits, optionally grouped by spaces or dashes.
var cardRe = regexp.MustCompile(`\b\d(?:[ \-]?\d){12,18}\b`)

func findCards(text string, ms []match) []match {
	for _, loc := range cardRe.FindAllStringIndex(text, -1) {
		// A longer run may hold a card followed by other digits.
		s := loc[0]
		if end, ok := longestValid(text, s, loc[1], func(end int) bool {
			d := digits(text[s:end])
			return len(d) >= 13 && len(d) <= 19 && luhn(d) && cardPrefix(d) && !embedded(text, s, end)
		}); ok {
			ms = append(ms, match{Card, s, end})
		}
	}
	return ms
}

// longestValid tries the ends of text[s:e] at each separator (a space or
// a hyphen), longest first, and returns the first that valid accepts.
func longestValid(text string, s, e int, valid func(end int) bool) (int, bool) {
	for end := e; end > s; {
		if valid(end) {
			return end, true
		}
		end = strings.LastIndexAny(text[s:end], " -")
		if end < 0 {
			break
		}
		end += s
	}
	return 0, false
}

// cardPrefix reports whether d starts like a card a network issues
// (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro).
func cardPrefix(d string) bool {
	switch d[0] {
	case '4', '5', '6', '2':
		return true
	case '3':
		return d[1] == '4' || d[1] == '7' || d[1] == '5' || d[1] == '0' || d[1] == '6' || d[1] == '8'
	}
	return false
}

// luhn checks the Luhn checksum of a string of digits.
func luhn(d string) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// embedded reports whether text[s:e] is part of a longer token: a digit
// or letter glued on either side, or a dotted continuation (1.2.3.4.5).
func embedded(text string, s, e int) bool {
	if s > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:s])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return true
		}
		if (r == '.' || r == '-' || r == '/') && s > 1 && isAlnum(text[s-2]) {
			return true
		}
	}
	if e < len(text) {
		r, _ := utf8.DecodeRuneInString(text[e:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return true
		}
		if (r == '.' || r == '-' || r == '/') && e+1 < len(text) && isDigit(text[e+1]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// IBAN: a country code, two check digits and 11 to 30 letters or digits,
// printed in groups of four or not at all.
var ibanRe = regexp.MustCompile(`(?i)\b[a-z]{2}\d{2}(?:[ \-]?[a-z0-9]){11,32}\b`)

// ibanLength is the length of each country's IBAN (ISO 13616 registry).
var ibanLength = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

func findIBANs(text string, ms []match) []match {
	for _, loc := range ibanRe.FindAllStringIndex(text, -1) {
		// The expression may run into the next word ("… 00 THANKS").
		s := loc[0]
		if end, ok := longestValid(text, s, loc[1], func(end int) bool { return validIBAN(text[s:end]) }); ok {
			ms = append(ms, match{IBAN, s, end})
		}
	}
	return ms
}

// validIBAN checks the length for the country and the mod-97 checksum.
func validIBAN(s string) bool {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(s))
	if n, ok := ibanLength[s[:2]]; !ok || n != len(s) {
		return false
	}
	// Move the first four characters to the end, letters to 10..35, and
	// take the number mod 97 a digit at a time.
	r := s[4:] + s[:4]
	m := 0
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= '0' && c <= '9':
			m = (m*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			m = (m*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return m == 1
}

// SSN: 123-45-6789 or 123 45 6789; nine bare digits only after a cue.
var (
	ssnRe     = regexp.MustCompile(`\b\d{3}([ \-])\d{2}([ \-])\d{4}\b`)
	ssnBareRe = regexp.MustCompile(`\b\d{9}\b`)
	ssnCue    = regexp.MustCompile(`(?i)\b(?:ssn|social security(?: number| no\.?| #)?|ss#|tin|itin)\b`)
)

func findSSNs(text string, ms []match) []match {
	for _, m := range ssnRe.FindAllStringSubmatchIndex(text, -1) {
		if text[m[2]:m[3]] != text[m[4]:m[5]] || embedded(text, m[0], m[1]) {
			continue // "123-45 6789" mixes separators: not printed as an SSN
		}
		if validSSN(digits(text[m[0]:m[1]])) {
			ms = append(ms, match{SSN, m[0], m[1]})
		}
	}
	for _, loc := range ssnBareRe.FindAllStringIndex(text, -1) {
		if validSSN(text[loc[0]:loc[1]]) && !embedded(text, loc[0], loc[1]) && ssnCue.MatchString(text[max(0, loc[0]-40):loc[0]]) {
			ms = append(ms, match{SSN, loc[0], loc[1]})
		}
	}
	return ms
}

// validSSN applies the SSA's rules: no area 000, 666 or 900-999, no group
// 00, no serial 0000.
func validSSN(d string) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

// IP addresses: dotted quads, and IPv6 in any of its written forms.
var (
	ipv4Re = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	ipv6Re = regexp.MustCompile(`(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|(?:%[0-9a-z]+)?)`)
)

func findIPs(text string, ms []match) []match {
	if strings.Contains(text, ".") {
		for _, loc := range ipv4Re.FindAllStringIndex(text, -1) {
			if a, err := netip.ParseAddr(text[loc[0]:loc[1]]); err == nil && a.Is4() && !embedded(text, loc[0], loc[1]) {
				ms = append(ms, match{IP, loc[0], loc[1]})
			}
		}
	}
	if strings.Count(text, ":") >= 2 {
		for _, loc := range ipv6Re.FindAllStringIndex(text, -1) {
			s := text[loc[0]:loc[1]]
			// A bare "::" or a clock time is not an address; one needs a
			// "::" or all eight groups.
			if len(s) < 3 || (!strings.Contains(s, "::") && strings.Count(s, ":") < 7) {
				continue
			}
			if a, err := netip.ParseAddr(s); err == nil && a.Is6() && !gluedWord(text, loc[0], loc[1]) {
				ms = append(ms, match{IP, loc[0], loc[1]})
			}
		}
	}
	return ms
}

// gluedWord reports a letter or digit right next to text[s:e].
func gluedWord(text string, s, e int) bool {
	if s > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:s])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	if e < len(text) {
		r, _ := utf8.DecodeRuneInString(text[e:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// Secrets: tokens with the prefixes providers give their keys, checked
// for entropy so "sk-your-key-here" in documentation stays; a long random
// token right after "api key", "token", "secret" or "password" too.
var (
	secretRe = regexp.MustCompile(`\b(?:sk-(?:proj-|ant-|live-)?[A-Za-z0-9_\-]{20,}|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|(?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|glpat-[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}|eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})`)
	pemRe    = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[A-Za-z0-9+/=\s]*?-----END [A-Z ]*PRIVATE KEY-----`)
	cuedRe   = regexp.MustCompile(`(?i)\b(?:api[ _\-]?key|access[ _\-]?key|secret(?:[ _\-]?key)?|token|password|passwd|pwd|bearer)\b["']?\s*(?:is|=|:|was)?\s*["']?([A-Za-z0-9_\-+/=.]{20,200})`)
)

func findSecrets(text string, ms []match) []match {
	for _, loc := range secretRe.FindAllStringIndex(text, -1) {
		tok := text[loc[0]:loc[1]]
		if body := tok[strings.IndexAny(tok, "-_.")+1:]; entropy(body) >= 3.0 {
			ms = append(ms, match{Secret, loc[0], loc[1]})
		}
	}
	if strings.Contains(text, "-----BEGIN") {
		for _, loc := range pemRe.FindAllStringIndex(text, -1) {
			ms = append(ms, match{Secret, loc[0], loc[1]})
		}
	}
	for _, m := range cuedRe.FindAllStringSubmatchIndex(text, -1) {
		tok := text[m[2]:m[3]]
		if entropy(tok) >= 3.5 && hasDigitAndLetter(tok) {
			ms = append(ms, match{Secret, m[2], m[3]})
		}
	}
	return ms
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var n [256]int
	for i := 0; i < len(s); i++ {
		n[s[i]]++
	}
	h := 0.0
	for _, c := range n {
		if c > 0 {
			p := float64(c) / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h
}

func hasDigitAndLetter(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.IndexFunc(s, unicode.IsLetter) >= 0
}

// Phones: an optional + or 00 and country code, then groups of digits
// split by spaces, dots, dashes, slashes or brackets. A run of digits is
// a phone number only when it is written like one (a leading +, 00 or
// bracket) or a cue word comes right before it; dates, card and order
// numbers are not.
var (
	phoneRe  = regexp.MustCompile(`(?:\+|\b00|\(|\b)\d[\d \-./()]{5,22}\d\b`)
	phoneCue = regexp.MustCompile(`(?i)(?:phone|tel|telephone|mobile|cell|call|calling|reach me|text me|sms|whatsapp|fax|number|nummer|telefon|handy|rufnummer|téléphone|tél|portable|numéro|teléfono|móvil|llámame|celular|telefone|telefono|cellulare|numero|телефон|номер|電話|電話番号)\W{0,12}(?:(?:on|at|is|am|ist|est|es|é|unter|au|al)\W{1,3})?$`)
	dateLike = regexp.MustCompile(`^\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}$`)
)

func findPhones(text string, ms []match) []match {
	for _, loc := range phoneRe.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		// Trim a trailing bracket pair's half and separators.
		raw := text[s:e]
		d := digits(raw)
		if len(d) < 7 || len(d) > 15 || dateLike.MatchString(raw) || embedded(text, s, e) {
			continue
		}
		if strings.Count(raw, "(") != strings.Count(raw, ")") {
			if raw[0] == '(' {
				continue
			}
		}
		intl := raw[0] == '+' || strings.HasPrefix(raw, "00")
		cued := phoneCue.MatchString(text[max(0, s-40):s])
		grouped := strings.ContainsAny(raw, " -./()") && len(d) >= 9
		if raw[0] == '(' && len(d) >= 10 {
			grouped = true
		}
		if !intl && !cued && !(grouped && phoneShaped(raw)) {
			continue
		}
		if !intl && len(d) < 8 && !cued {
			continue
		}
		ms = append(ms, match{Phone, s, e})
	}
	return ms
}

// phoneShaped reports whether an uncued run of digit groups is laid out
// like a national phone number: 3 to 6 groups, none longer than 5 digits
// after the first, and not a dotted version or decimal.
func phoneShaped(raw string) bool {
	groups := strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' })
	if len(groups) < 2 || len(groups) > 6 {
		return false
	}
	if strings.Count(raw, ".") > 0 && strings.ContainsAny(raw, " -") {
		return false
	}
	for _, g := range groups[1:] {
		// "030 12345678": a national number with its area code apart.
		if len(g) > 5 && !(len(groups) == 2 && raw[0] == '0' && len(g) <= 8) {
			return false
		}
	}
	// A leading 0 or a bracketed area code is how national numbers are
	// written; a US-style 3-3-4 split too.
	if raw[0] == '0' || raw[0] == '(' {
		return true
	}
	return len(groups) == 3 && len(groups[0]) == 3 && len(groups[1]) == 3 && len(groups[2]) == 4
}
