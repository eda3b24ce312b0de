package chunk

import (
	"slices"
	"testing"

	"llmops/rag/parse"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig() // short under 20 tokens, long over 385
	tests := []struct {
		name  string
		chunk Chunk
		want  []string
	}{
		{"good", Chunk{Text: "A complete sentence.", Tokens: 100, Kind: parse.KindText}, nil},
		{"short", Chunk{Text: "Hi there.", Tokens: 19, Kind: parse.KindText}, []string{FlagShort}},
		{"not short at half min", Chunk{Text: "Hi there.", Tokens: 20, Kind: parse.KindText}, nil},
		{"long", Chunk{Text: "x", Tokens: 386, Kind: parse.KindCode}, []string{FlagLong}},
		{"not long within ten percent", Chunk{Text: "x", Tokens: 385, Kind: parse.KindCode}, nil},
		{"cut", Chunk{Text: "The employee opens the app and then", Tokens: 100, Kind: parse.KindText}, []string{FlagCut}},
		{"cut after a colon", Chunk{Text: "Line one.\nTo connect, you need:", Tokens: 100, Kind: parse.KindText}, []string{FlagCut}},
		{"short and cut", Chunk{Text: "First line.\nand then the text stops", Tokens: 5}, []string{FlagShort, FlagCut}},
		{"closing quote", Chunk{Text: `He said "Save."`, Tokens: 100, Kind: parse.KindText}, nil},
		{"question", Chunk{Text: "Why?", Tokens: 100, Kind: parse.KindText}, nil},
		{"CJK", Chunk{Text: "\u8fd9\u662f\u53e5\u5b50\u3002", Tokens: 100, Kind: parse.KindText}, nil},
		{"trailing space", Chunk{Text: "Done.\n\n", Tokens: 100, Kind: parse.KindText}, nil},
		{"code", Chunk{Text: "func main() {", Tokens: 100, Kind: parse.KindCode}, nil},
		{"table", Chunk{Text: "| a | b", Tokens: 100, Kind: parse.KindTable}, nil},
		{"qa", Chunk{Text: "Q?\nIt depends", Tokens: 100, Kind: parse.KindQA}, nil},
		{"heading only", Chunk{Text: "Connect Slack", Headings: []string{"Integrations", "connect slack"}, Tokens: 100, Kind: parse.KindText}, nil},
		{"markdown heading", Chunk{Text: "Intro.\n## Connect Slack", Tokens: 100, Kind: parse.KindText}, nil},
		{"short line that is no heading", Chunk{Text: "Connect Slack", Headings: []string{"Setup"}, Tokens: 100, Kind: parse.KindText}, []string{FlagCut}},
		{"list item", Chunk{Text: "Requirements:\n- Owner role\n- Slack admin", Tokens: 100, Kind: parse.KindText}, nil},
		{"numbered item", Chunk{Text: "Steps.\n12. Click Save", Tokens: 100, Kind: parse.KindText}, nil},
		{"table row in text", Chunk{Text: "Plans.\n| Pro | $4 |", Tokens: 100, Kind: parse.KindText}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Flags(tt.chunk, cfg); !slices.Equal(got, tt.want) {
				t.Errorf("Flags(%q, %d tokens) = %q, want %q", tt.chunk.Text, tt.chunk.Tokens, got, tt.want)
			}
		})
	}
}
