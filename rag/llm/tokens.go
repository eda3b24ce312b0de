package llm

import (
	"sync"

	"llmops/rag/chunk"
)

// tokenizer is cl100k_base, the tokenizer the rest of the repo counts
// with, loaded on first use.
var tokenizer = sync.OnceValues(chunk.NewTokenizer)

// CountTokens returns the number of cl100k_base tokens in s. Other
// models' tokenizers differ by some percent, which is close enough for
// costs when a server does not report its usage.
func CountTokens(s string) int {
	tok, err := tokenizer()
	if err != nil {
		// The tables are compiled in, so this does not happen; a rough
		// count is still better than none.
		return (len(s) + 3) / 4
	}
	return tok.Count(s)
}

// Framing of OpenAI's chat format, in tokens: each message's role and
// separators, and the priming of the reply.
const (
	tokensPerMessage = 4
	tokensPerReply   = 3
)

// promptTokens counts msgs as OpenAI's chat format does.
func promptTokens(msgs []Message) int {
	n := tokensPerReply
	for _, m := range msgs {
		n += tokensPerMessage + CountTokens(m.Content)
	}
	return n
}
