package pii

import (
	_ "embed"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// names.txt is the gazetteer: common first names across the languages
// support messages arrive in, one a line. A name marked with a trailing
// '*' is also an ordinary word (May, Will, Grace) and counts only with a
// surname after it.
//
//go:embed names.txt
var namesTxt string

var (
	firstNames = map[string]bool{} // name → ambiguous
)

func init() {
	for _, line := range strings.Split(namesTxt, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		amb := strings.HasSuffix(line, "*")
		firstNames[strings.TrimSuffix(line, "*")] = amb
	}
}

// notSurname are capitalised words that follow a first name without being
// part of the name: "Thanks Anna Support", "Maria Monday".
var notSurname = setOf("I", "The", "A", "An", "And", "Or", "But", "So", "Thanks", "Thank", "Hi", "Hello", "Hey", "Dear", "Please",
	"Support", "Team", "Customer", "Service", "Sales", "Billing", "Admin", "Account", "Rosterly", "Inc", "Ltd", "GmbH", "LLC", "Corp",
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "June",
	"July", "August", "September", "October", "November", "December", "Yes", "No", "OK", "Okay", "Is", "Was", "Can", "Could", "Would",
	"Will", "Should", "Did", "Does", "Do", "Has", "Have", "Here", "There", "This", "That", "We", "You", "He", "She", "They", "It", "My",
	"Our", "Your", "Their", "From", "To", "In", "On", "At", "For", "With", "Und", "Oder", "Et", "Ou", "Y", "O", "E", "Mit", "Von", "De",
	"Le", "La", "Les", "Der", "Die", "Das", "El", "Los", "Las", "Il", "Lo", "Gli", "Het", "Een", "Danke", "Merci", "Gracias", "Grazie",
	"Obrigado", "Obrigada", "Bedankt", "Hallo", "Bonjour", "Hola", "Ciao", "Olá", "Who", "What", "When", "Where", "Why", "How", "Which",
	"Regards", "Best", "Cheers", "Kind", "Sincerely", "Met", "Saludos", "Cordialement", "Viele", "Atenciosamente", "Cordiali", "Groeten",
	"Pozdrawiam", "Atentamente", "Mvh", "Br", "Street", "Avenue", "Road", "Paris", "London", "Berlin", "Madrid", "Rome", "Lisbon",
	"Amsterdam", "Vienna", "Zurich", "Munich", "Lyon", "Milan", "API", "SSO", "CSV", "PDF", "URL", "IBAN", "SSN", "IP", "ID", "PM", "AM")

// Particles that may sit inside a surname: "Ludwig van Beethoven",
// "María de la Cruz".
var particles = setOf("van", "von", "de", "der", "den", "del", "della", "di", "da", "das", "dos", "du", "la", "le", "ten", "ter", "bin", "ibn", "al", "el", "zu", "y")

// Titles before a name: the name after them counts even when it is not in
// the gazetteer.
var titles = setOf("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Herr", "Frau", "Hr", "Fr", "Mme", "Mlle", "Monsieur", "Madame",
	"Sr", "Sra", "Srta", "Señor", "Señora", "Don", "Doña", "Sig", "Sig.ra", "Signor", "Signora", "Dott", "Dhr", "Mevr", "Pan", "Pani", "Sir", "Dame", "Lady", "Lord")

// Cue phrases after which the next capitalised words are a name, in
// lower case: they are found with strings.Index in an ASCII-lowered copy
// of the text (a regular expression with case folding over fifty
// alternatives cost more than everything else Detect does).
var nameCues = []string{
	"my name is", "my name's", "name:", "this is", "i am", "i'm", "it's", "speaking with", "spoke (?:to",
	"with)", "talked (?:to", "with)", "colleague", "manager", "assistant", "contact person", "ask for",
	"je m'appelle", "je suis", "ich heiße", "ich heisse", "mein name ist", "ich bin", "me llamo",
	"mi nombre es", "soy", "mi chiamo", "sono", "meu nome é", "eu sou", "mijn naam is", "ik ben", "меня зовут",
	"nazywam się", "jag heter", "jeg hedder", "jeg heter",
}

// Sign-offs after which a line holding a name or two is the sender's.
var signOffs = []string{
	"thanks", "thank you", "regards", "best", "cheers", "sincerely", "br", "kind regards", "best wishes",
	"cordialement", "merci", "grüße", "gruß", "grüsse", "viele grüße", "mit freundlichen grüßen", "saludos",
	"atentamente", "gracias", "cordiali saluti", "saluti", "grazie", "obrigado", "obrigada", "atenciosamente",
	"groeten", "met vriendelijke groet", "pozdrawiam", "hälsningar", "mvh", "с уважением", "спасибо",
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// word is one token of the text: a run of letters (with inner ' - .
// kept: O'Brien, Jean-Luc, Sig.ra) and its byte range.
type word struct {
	s          string
	start, end int
}

// words splits text into letter words in one pass.
func words(text string) []word {
	var out []word
	start := -1
	for i, r := range text {
		letter := unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)
		inner := (r == '\'' || r == '’' || r == '-') && start >= 0
		switch {
		case letter || inner:
			if start < 0 {
				start = i
			}
		case start >= 0:
			out = append(out, trimWord(text, start, i))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, trimWord(text, start, len(text)))
	}
	return out
}

func trimWord(text string, s, e int) word {
	for e > s && (text[e-1] == '\'' || text[e-1] == '-') {
		e--
	}
	if e > s && strings.HasSuffix(text[s:e], "’") {
		e -= len("’")
	}
	return word{text[s:e], s, e}
}

// capitalised: an upper-case letter followed by at least one lower-case
// one (all-caps words are acronyms more often than names).
func capitalised(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) || n >= len(w) {
		return false
	}
	rest := w[n:]
	return strings.IndexFunc(rest, unicode.IsLower) >= 0
}

// onlySpaceBetween reports whether only spaces (one line) separate two
// words, so a name never spans a sentence or a line.
func onlySpaceBetween(text string, a, b word) bool {
	gap := text[a.end:b.start]
	return gap != "" && strings.Trim(gap, " \u00a0") == ""
}

// lowerASCII lower-cases ASCII letters only, so byte offsets stay those
// of s.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// cueEnds returns the byte offsets where a name may start after one of
// phrases: the phrase starts a word and is followed by what after
// accepts, which returns the offset after it or -1.
func cueEnds(lower string, phrases []string, after func(s string, i int) int) map[int]bool {
	out := map[int]bool{}
	for _, ph := range phrases {
		for off := 0; off < len(lower); {
			i := strings.Index(lower[off:], ph)
			if i < 0 {
				break
			}
			i += off
			off = i + len(ph)
			if i > 0 {
				r, _ := utf8.DecodeLastRuneInString(lower[:i])
				if unicode.IsLetter(r) {
					continue
				}
			}
			if e := after(lower, i+len(ph)); e >= 0 {
				out[e] = true
			}
		}
	}
	return out
}

// afterCue accepts one or more spaces (a line break too).
func afterCue(s string, i int) int {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// afterSignOff accepts "Thanks,\n", "Thanks!\n\n", "Thanks, " and
// "Thanks - ".
func afterSignOff(s string, i int) int {
	j := i
	if j < len(s) && (s[j] == ',' || s[j] == '!' || s[j] == '.') {
		j++
	}
	k := j
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	if k < len(s) && (s[k] == '\n' || s[k] == '\r') {
		for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			k++
		}
		return k
	}
	if j > i && s[i] == ',' && k > j {
		return k
	}
	if k > j && k < len(s) && s[k] == '-' {
		for k < len(s) && s[k] == '-' {
			k++
		}
		for k < len(s) && s[k] == ' ' {
			k++
		}
		return k
	}
	return -1
}

func findPersons(text string, ms []match) []match {
	ws := words(text)
	lower := lowerASCII(text)
	cues, signs := cueEnds(lower, nameCues, afterCue), cueEnds(lower, signOffs, afterSignOff)
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if !capitalised(w.s) {
			// Chat is often typed in lower case: "hi, it's anna". A
			// gazetteer name counts in lower case right after a cue.
			if amb, ok := firstNames[titleCase(w.s)]; ok && !amb && cues[w.start] {
				ms = append(ms, match{Person, w.start, w.end})
			}
			continue
		}
		amb, known := firstNames[w.s]
		prev := ""
		if i > 0 && onlySpaceOrDot(text, ws[i-1], w) {
			prev = ws[i-1].s
		}
		titled := titles[prev] && !notSurname[w.s]
		cued := cues[w.start] && !notSurname[w.s]
		signed := signs[w.start] && !notSurname[w.s]
		if !known && !titled && !cued && !signed {
			continue
		}
		// Extend over surname words: capitalised, or a particle followed
		// by one.
		j := i
		for j+1 < len(ws) && j-i < 3 && onlySpaceBetween(text, ws[j], ws[j+1]) {
			n := ws[j+1]
			if capitalised(n.s) && !notSurname[n.s] {
				j++
				continue
			}
			if particles[n.s] && j+2 < len(ws) && onlySpaceBetween(text, n, ws[j+2]) && capitalised(ws[j+2].s) {
				j += 2
				continue
			}
			break
		}
		if known && amb && j == i && !titled && !cued && !signed {
			continue
		}
		if known && !titled && !cued && !signed && j == i && sentenceStart(text, w.start) && notSurname[w.s] {
			continue
		}
		if notSurname[w.s] && j == i {
			continue
		}
		ms = append(ms, match{Person, w.start, ws[j].end})
		i = j
	}
	return ms
}

// titleCase upper-cases the first letter of a lower-case word.
func titleCase(w string) string {
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsLower(r) {
		return ""
	}
	return string(unicode.ToUpper(r)) + w[n:]
}

// onlySpaceOrDot: "Mr. Smith", "Dr Jones".
func onlySpaceOrDot(text string, a, b word) bool {
	gap := text[a.end:b.start]
	return gap == " " || gap == ". " || gap == "." || gap == "\u00a0"
}

// sentenceStart reports whether offset i starts a sentence or the text.
func sentenceStart(text string, i int) bool {
	before := strings.TrimRight(text[:i], " \t")
	return before == "" || strings.HasSuffix(before, ".") || strings.HasSuffix(before, "!") || strings.HasSuffix(before, "?") || strings.HasSuffix(before, "\n")
}

// Postal addresses: a house number and street words ending in a street
// type ("221B Baker Street", "1600 Amphitheatre Pkwy"), a street type
// first ("12 rue de la Paix", "Calle Mayor 5"), or a German/Dutch compound
// ("Hauptstraße 5"); then an optional unit, postcode and city.
var (
	streetType = `(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Parkway|Pkwy|Terrace|Square|Sq|Close|Crescent|Highway|Hwy|Circle|Cir|Trail|Row|Hill|Gardens|Mews|Walk)`
	unit       = `(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|#)\.? ?#?[0-9A-Za-z\-]{1,6})?`
	cityTail   = `(?:,? ?\n?(?:[A-Z]{1,2}-)?\d{4,5}(?:-\d{4})? [\p{Lu}][\p{L}\-]+(?: [\p{Lu}][\p{L}\-]+){0,2}|,? [\p{Lu}][\p{L}\-]+,? [A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|,? [\p{Lu}][\p{L}\-]+(?: [\p{Lu}][\p{L}\-]+){0,2}(?:,? [A-Z]{2})?(?: \d{5}(?:-\d{4})?)?)?`
	addressRe  = regexp.MustCompile(`\b\d{1,5}[A-Za-z]?,? (?:[\p{Lu}][\p{L}'’\-]*\.? ){1,4}` + streetType + `\b\.?` + unit + cityTail +
		`|\b\d{1,5}[a-z]?,? (?i:rue|avenue|av\.|boulevard|bd|chemin|allée|place|impasse|quai|via|viale|piazza|corso|calle|avenida|av|travessa|rua|largo|paseo|plaza|carrer)(?-i) (?:[\p{L}'’\-]+ ){0,4}[\p{Lu}][\p{L}'’\-]+` + unit + cityTail +
		`|\b(?i:rue|via|viale|piazza|corso|calle|avenida|rua|paseo|plaza|carrer|ulica|ul\.)(?-i) (?:[\p{L}'’\-]+ ){0,4}[\p{Lu}][\p{L}'’\-]+,? \d{1,5}[a-z]?` + unit + cityTail +
		`|\b[\p{Lu}][\p{L}\-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|laan|straat|gracht|plein|kade|vej|gatan|gata|veien)\.? \d{1,4}[a-z]?` + unit + cityTail)
)

func findAddresses(text string, ms []match) []match {
	// Every form holds a house number.
	if !strings.ContainsAny(text, "0123456789") {
		return ms
	}
	for _, loc := range addressRe.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		for e > s && (text[e-1] == ',' || text[e-1] == ' ' || text[e-1] == '\n') {
			e--
		}
		ms = append(ms, match{Address, s, e})
	}
	return ms
}
