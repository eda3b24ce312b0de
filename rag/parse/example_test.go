package parse_test

import (
	"context"
	"fmt"

	"llmops/rag/parse"
)

func ExampleParse() {
	md := []byte("---\ntitle: Connect Slack\ntags: [slack, chat]\n---\n# Connect Slack\n\nPost schedules to Slack.\n\n## Disconnect\n\nGo to **Settings → Integrations**.\n")
	doc, err := parse.Parse(context.Background(), "connect-slack.md", md, parse.DefaultLimits())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Title, doc.Format, doc.Meta["tags"])
	for _, s := range doc.Sections {
		fmt.Printf("%q %s: %s\n", s.Headings, s.Kind, s.Text)
	}
	// Output:
	// Connect Slack markdown slack,chat
	// ["Connect Slack"] text: Post schedules to Slack.
	// ["Connect Slack" "Disconnect"] text: Go to Settings → Integrations.
}

func ExampleDetect() {
	for _, f := range []struct{ name, data string }{
		{"notes.txt", "%PDF-1.7\n"},
		{"faq.txt", "Question,Answer\nWhy?,Because.\n"},
		{"logo.png", "\x89PNG\r\n\x1a\n"},
	} {
		format, err := parse.Detect(f.name, []byte(f.data))
		fmt.Println(f.name, format, err)
	}
	// Output:
	// notes.txt pdf <nil>
	// faq.txt csv <nil>
	// logo.png  unsupported file type (looks like a PNG image)
}
