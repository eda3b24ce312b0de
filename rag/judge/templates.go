package judge

import (
	"fmt"
	"strings"
	"text/template"
)

// The prompt templates, by name@version. A template's text never changes
// under its name: a change is a new version, so cached judgements and
// recorded runs keep meaning what they meant.
const (
	TemplateFaithfulness = "judge-faithfulness@1"
	TemplateSupport      = "judge-support@1"
	TemplateRelevancy    = "judge-relevancy@1"
	TemplateCorrectness  = "judge-correctness@1"
	TemplateRefusal      = "judge-refusal@1"
)

// Bounds on what one prompt quotes, in bytes: a passage (the support for
// a sentence is rarely further in), and a question, answer or reference.
const (
	maxPassage = 4000
	maxText    = 8000
)

// verdictRules is how the per-sentence templates grade a sentence.
const verdictRules = `- "supported": everything the sentence claims is stated in, or directly follows from, %[1]s;
- "partial": some of it is supported and some is not;
- "not supported": %[1]s do not say it, or contradict it.
Judge only against the passages, not against what you know. A sentence that claims nothing (a greeting, a pointer to the sources) is "supported".`

// verdictReply asks for the per-sentence verdicts.
const verdictReply = `Reply with only a JSON object holding one verdict per sentence, in order, for sentences 1 to {{len .Sentences}}, like:
{"verdicts": [{"i": 1, "verdict": "supported"}, {"i": 2, "verdict": "partial"}, {"i": 3, "verdict": "not supported"}]}`

// scoreReply asks for one score.
const scoreReply = `Reply with only a JSON object, the score first, like:
{"score": 0.8, "reason": "one short sentence"}`

var templateText = map[string]string{
	TemplateFaithfulness: `You check whether an answer is faithful to the passages retrieved for it. For each numbered sentence of the answer, decide whether the passages, taken together, support it:
` + fmt.Sprintf(verdictRules, "the passages") + `

Question: {{text .Question}}

Passages:
{{range $i, $p := .Contexts}}
[P{{inc $i}}] {{passage $p}}
{{end}}
Sentences of the answer:
{{range $i, $s := .Sentences}}{{inc $i}}. {{line $s}}
{{end}}
` + verdictReply,

	TemplateSupport: `You check answers written from source passages. For each numbered sentence, decide whether the passages it cites support it:
` + fmt.Sprintf(verdictRules, "its cited passages") + ` Passages a sentence does not cite do not count for it.

Passages:
{{range $i, $p := .Passages}}
[P{{inc $i}}] {{passage $p}}
{{end}}
Sentences:
{{range $i, $s := .Sentences}}{{inc $i}}. {{line $s.Text}}
   cites: {{range $k, $c := $s.Cites}}{{if $k}}, {{end}}P{{$c}}{{end}}
{{end}}
` + verdictReply,

	TemplateRelevancy: `You rate how directly an answer addresses a question, from 0 to 1:
- 1: it answers exactly what was asked;
- 0.5: it is on topic but answers only part of the question, or mostly something nearby;
- 0: it does not address the question, or it declines or says it does not know.
Rate only whether it addresses the question, not whether it is true.

Question: {{text .Question}}

Answer:
{{text .Answer}}

` + scoreReply,

	TemplateCorrectness: `You grade an answer against a reference answer to the same question, from 0 to 1:
- 1: it states every key fact of the reference and contradicts none;
- between: the share of the reference's key facts it states, lowered for each claim that contradicts the reference;
- 0: it states none of them, or contradicts the reference.
Wording does not matter, only facts. Extra detail that does not contradict the reference does not lower the score.

Question: {{text .Question}}

Reference answer:
{{text .Reference}}

Answer to grade:
{{text .Answer}}

` + scoreReply,

	TemplateRefusal: `You decide whether an answer declines to answer a question: it says it cannot help, that it does not know, or that the documentation or sources do not cover the question, instead of answering it. An answer that answers, even with a caveat or only in part, is not a refusal.

Question: {{text .Question}}

Answer:
{{text .Answer}}

Reply with only a JSON object, like:
{"refusal": true, "reason": "one short sentence"}`,
}

// Template returns the text of the prompt template name ("judge-relevancy@1"),
// a Go text/template over the metric's inputs.
func Template(name string) (string, bool) {
	t, ok := templateText[name]
	return t, ok
}

var templates = parseTemplates()

var funcs = template.FuncMap{
	"inc":     func(i int) int { return i + 1 },
	"passage": func(s string) string { return clip(s, maxPassage) },
	"text":    func(s string) string { return clip(s, maxText) },
	"line":    func(s string) string { return strings.Join(strings.Fields(s), " ") },
}

func parseTemplates() map[string]*template.Template {
	out := make(map[string]*template.Template, len(templateText))
	for name, text := range templateText {
		out[name] = template.Must(template.New(name).Funcs(funcs).Parse(text))
	}
	return out
}

// render fills in the template name with input.
func render(name string, input any) (string, error) {
	t, ok := templates[name]
	if !ok {
		return "", fmt.Errorf("no judge template %q", name)
	}
	var b strings.Builder
	if err := t.Execute(&b, input); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// clip shortens s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Funcs is the function map the judge templates use (inc, passage, text,
// line), for the prompt registry's checks of new versions.
func Funcs() template.FuncMap { return funcs }

// TemplateInput names the variables template name (a name@version) is
// rendered with, and returns a sample input holding them, so the prompt
// registry can check that a new version uses only those and executes.
func TemplateInput(name string) (vars []string, sample any, ok bool) {
	switch name {
	case TemplateFaithfulness:
		return []string{"Question", "Sentences", "Contexts"},
			faithfulnessInput{Question: "q", Sentences: []string{"s"}, Contexts: []string{"c"}}, true
	case TemplateSupport:
		return []string{"Passages", "Sentences"},
			supportInput{Passages: []string{"p"}, Sentences: []citedSentence{{Text: "s", Cites: []int{1}}}}, true
	case TemplateRelevancy, TemplateRefusal:
		return []string{"Question", "Answer"}, answerInput{Question: "q", Answer: "a"}, true
	case TemplateCorrectness:
		return []string{"Question", "Answer", "Reference"}, answerInput{Question: "q", Answer: "a", Reference: "r"}, true
	}
	return nil, nil, false
}
