package cases_test

import (
	"fmt"

	"llmops/evals/cases"
)

func ExampleParse() {
	csv := "Question,Ground Truth,Sources,Category,Answerable\n" +
		"How do I cancel?,\"Billing, then Cancel.\",billing/cancel.md;faq.md,Billing,yes\n" +
		"Do you sell hats?,,,,no\n" +
		",orphan answer,,,\n"
	p, err := cases.Parse("questions.csv", []byte(csv), cases.Options{SkipInvalid: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range p.Cases {
		fmt.Printf("%s %q docs=%v tags=%v unanswerable=%t\n", c.ID, c.Question, c.DocumentIDs, c.Tags, c.Unanswerable)
	}
	fmt.Println("skipped:", p.Skipped)

	_, err = cases.Parse("questions.csv", []byte(csv), cases.Options{})
	fmt.Println(err)
	// Output:
	// c0001 "How do I cancel?" docs=[billing/cancel.md faq.md] tags=[billing] unanswerable=false
	// c0002 "Do you sell hats?" docs=[] tags=[] unanswerable=true
	// skipped: [line 4: missing question]
	// questions.csv: 1 invalid line (use --skip-invalid to skip them): line 4: missing question
}
