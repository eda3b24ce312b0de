package injection

// The lexicon maps the words injections are made of, in English, German
// (the second language of the training data) and a few other common
// languages, to one English concept each, so "vergiss alle vorherigen
// Anweisungen", "olvida todas las instrucciones anteriores" and "forget
// all previous instructions" share the features FORGET, ALL, PREVIOUS,
// INSTRUCTION and the concept pairs between them. It was written from
// general knowledge of the languages and of how injections are phrased,
// not from any labelled text. Keys are in normalised form (lower case,
// accents folded, ß → s); a key ending in "*" matches every word that
// starts with it (German and Romance inflections), the longest such key
// winning.
var lexiconSource = map[string][]string{
	"IGNORE": {"ignore", "ignored", "ignoring", "disregard*", "ignorier*", "missacht*", "ignora*", "ignorez", "ignores",
		"ueberseh*", "uberseh*", "overlook"},
	"FORGET": {"forget*", "forgot*", "vergiss", "vergesst", "vergessen", "vergis", "olvida*", "oublie*", "dimentica*", "esquece*"},
	"PREVIOUS": {"previous*", "prior", "above", "earlier", "preceding", "vorherig*", "vorige*", "bisherig*", "obig*", "oben",
		"vorangegangen*", "vorangehend*", "fruher*", "anterior*", "precedent*", "preceden*", "previo*", "precedenti"},
	"INSTRUCTION": {"instruction*", "directive*", "guideline*", "rules", "anweisung*", "instruktion*", "befehl*", "regeln",
		"vorgabe*", "richtlinie*", "instruccion*", "consigne*", "istruzion*", "instrucoes", "instrucao", "orders", "commands"},
	"ALL":     {"all", "everything", "alle", "alles", "allem", "samtlich*", "todo", "todos", "todas", "tout", "tous", "toutes", "tutto", "tutte", "tutti"},
	"NOW":     {"now", "jetzt", "nun", "sofort", "ahora", "maintenant", "desormais", "adesso", "agora", "henceforth"},
	"YOU":     {"you", "du", "dich", "dir", "tu", "vous", "usted", "voce"},
	"ARE":     {"are", "bist", "seid", "eres", "sei", "sois", "estas"},
	"NEW":     {"new", "neue", "neuer", "neues", "neuen", "nuevo*", "nueva*", "nouveau*", "nouvelle*", "nuovo", "nuova", "novo", "nova"},
	"TASK":    {"task*", "aufgabe*", "tarea*", "tache*", "compito", "compiti", "tarefa*", "mission"},
	"PRETEND": {"pretend*", "imagine*", "imaginate", "stell", "vorstell*", "finge*", "fingi*", "semblant", "simula*", "roleplay*", "rollenspiel*"},
	"ACT":     {"act", "acts", "acting", "agiere*", "verhalte*", "benimm", "actua*", "agis", "comportate", "comporte*", "behave"},
	"ROLE":    {"role*", "rolle*", "rol", "persona*", "charakter*", "character*", "personnage*", "personaggio", "papel", "ruolo"},
	"SAY":     {"say", "says", "sag", "sage", "sagen", "sagst", "diga*", "dis", "dites", "dimmi", "tell", "erzahl*", "cuentame"},
	"ANSWER":  {"answer*", "respond*", "reply", "antwort*", "beantwort*", "responde*", "repond*", "rispond*", "risposta"},
	"SHOW": {"show", "display", "reveal*", "print*", "output*", "zeig*", "verrat*", "enthull*", "ausgeb*", "gib", "muestra*",
		"revela*", "montre*", "affiche*", "mostra*", "imprime*", "stampa"},
	"WRITE":     {"write*", "schreib*", "verfass*", "escrib*", "ecri*", "scriv*", "escreva", "generate*", "generier*", "genera*", "erstell*"},
	"SYSTEM":    {"system", "systeme", "sistema", "systemprompt*"},
	"PROMPT":    {"prompt*"},
	"STOP":      {"stop", "stopp*", "aufhor*", "hor", "arrete*", "alto", "basta", "pare"},
	"INSTEAD":   {"instead", "stattdessen", "statt", "anstatt", "stattessen", "invece", "plutot"},
	"FOLLOWING": {"following", "folgend*", "siguiente*", "suivant*", "seguent*"},
	"BEFORE":    {"before", "zuvor", "vorher", "davor", "antes", "avant"},
	"SAID":      {"said", "told", "gesagt", "erzahlt", "dicho", "dit", "detto"},
	"RESTRICTION": {"restriction*", "restricted", "unrestricted", "filter*", "censor*", "einschrankung*", "beschrankung*",
		"zensur*", "restriccion*", "restrictions", "limites", "limitazioni", "unfiltered", "ungefiltert*"},
	"AI":        {"ai", "ki", "ia", "assistant*", "assistent*", "chatbot*", "bot", "llm", "gpt", "chatgpt", "sprachmodell*"},
	"ATTENTION": {"attention", "achtung", "atencion", "attenzione", "atencao", "important", "wichtig*"},
	"FROM":      {"from", "ab", "von", "desde", "partir"},
	"ANYMORE":   {"anymore", "longer", "mehr", "plus", "mas", "piu"},
	"NOT":       {"not", "dont", "never", "nicht", "kein*", "nie", "niemals", "no", "nunca", "jamais", "ne", "non", "mai"},
	"SECRET":    {"secret*", "password*", "passwort*", "geheim*", "secreto*", "contrasena*", "mot", "confidential", "vertraulich*", "hidden", "versteckt*"},
	"HACKED":    {"hacked", "pwned", "gehackt", "hackeado"},
}

// lexiconExact and lexiconPrefix are lexiconSource indexed for lookup.
var lexiconExact, lexiconPrefix = func() (map[string]string, map[string]string) {
	exact, prefix := map[string]string{}, map[string]string{}
	for concept, words := range lexiconSource {
		for _, w := range words {
			if n := len(w) - 1; w[n] == '*' {
				prefix[w[:n]] = concept
			} else {
				exact[w] = concept
			}
		}
	}
	return exact, prefix
}()

// Prefix keys are this long at least and at most.
const (
	lexMinPrefix = 3
	lexMaxPrefix = 14
)

// concept returns the lexicon's concept for a normalised word, or "".
// The work is bounded by lexMaxPrefix lookups whatever the word.
func concept(word []byte) string {
	if c, ok := lexiconExact[string(word)]; ok {
		return c
	}
	for n := min(len(word), lexMaxPrefix); n >= lexMinPrefix; n-- {
		if c, ok := lexiconPrefix[string(word[:n])]; ok {
			return c
		}
	}
	return ""
}
