// Package answer turns retrieved context into a cited answer and checks
// that answer against the context: the offline extractive answerer, the
// groundedness score, citation parsing and the fallback an unsupported
// question gets.
//
// The context of an answer is a []store.ChunkRef in retrieval order; item
// i (0-based) is cited as [i+1] everywhere in this package.
package answer

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"llmops/rag/text"
	"llmops/store"
)

// Answer is what every answerer returns.
type Answer struct {
	// Text is the answer; every run of sentences citing the same items
	// ends with their citation markers, "… [1]" or "… [1][3]" (see
	// render). When Fallback is set it is the fallback message instead.
	Text string `json:"text"`
	// Sentences is the answer split into sentences with the context
	// numbers each cites.
	Sentences []Sentence `json:"sentences,omitempty"`
	// Citations has one entry per distinct cited context item, in order of
	// first use.
	Citations []Citation `json:"citations"`
	// Fallback is set when the context does not support an answer.
	Fallback bool `json:"fallback"`
	// Groundedness is the mean support of the sentences, 0..1 (see Ground).
	// A fallback answer keeps the score of the answer it replaced, so
	// monitoring sees why it fell back.
	Groundedness float64 `json:"groundedness"`
	// Relevance is how directly the answer addresses the question, 0..1
	// (see Relevance). Like Groundedness, a fallback keeps the score of
	// the answer it replaced.
	Relevance float64 `json:"relevance"`
	// relevanceScored: Relevance was scored, so ApplyThreshold holds the
	// answer to DefaultMinRelevance.
	relevanceScored bool
	// Removed counts citations dropped because they pointed outside the
	// context.
	Removed int `json:"removed,omitempty"`
}

// Sentence is one sentence of an answer, without its markers.
type Sentence struct {
	Text    string  `json:"text"`
	Cites   []int   `json:"cites,omitempty"` // context numbers, 1-based
	Support float64 `json:"support"`         // 0..1, set by Ground
	// Item places the sentence in a list item: the item's number, 0 in
	// prose. In a numbered (Ordered) list it is the step's own number
	// ("3." → 3), in a bulleted one a count from 1. The sentences of one
	// item share it; the first opens the item, the others continue it.
	// The text never holds the list marker itself.
	Item    int  `json:"item,omitempty"`
	Ordered bool `json:"ordered,omitempty"`
}

// Citation is one cited context item.
type Citation struct {
	N          int    `json:"n"`
	ChunkID    string `json:"chunk_id"`
	DocumentID string `json:"document_id"`
	Title      string `json:"title"`
	Source     string `json:"source"`
	Snippet    string `json:"snippet"`
	Page       int    `json:"page,omitempty"`
	// SourceURL is the document's public address, when it has one: the
	// only link a help site's visitor may be given.
	SourceURL string `json:"source_url,omitempty"`
	// Held is the reason rag/guard holds the chunk from public answers
	// (its text addresses the assistant), when it does: staff answers may
	// cite it and mark it; widget answers never see it.
	Held string `json:"held,omitempty"`
}

// snippetRunes bounds a citation's snippet: enough to recognise the
// passage in a hover card, short enough for a chat bubble.
const snippetRunes = 240

// render joins sentences into answer text, each followed by its markers.
// Prose sentences stay in one paragraph: an extractive answer is a handful
// of sentences, not a document. List items become a Markdown list, one
// item a line with its later sentences after it, set off from the prose
// by blank lines. A multi-line sentence is a quoted code block and gets a
// fence of its own, with its markers on the line after it. A run of
// sentences of one paragraph, or of items of one list, citing the same
// items carries one marker group, at its end (text.MergeCitationRuns):
// six identical [1] in a row say nothing the last one does not.
func render(sentences []Sentence) string {
	var b strings.Builder
	for i, s := range sentences {
		var prev *Sentence
		if i > 0 {
			prev = &sentences[i-1]
		}
		switch {
		case strings.Contains(s.Text, "\n"):
			b.WriteString("\n\n```\n" + s.Text + "\n```\n" + strings.TrimSpace(markers(s.Cites)) + "\n\n")
			continue
		case s.Item > 0 && prev != nil && prev.Item == s.Item && prev.Ordered == s.Ordered && !strings.Contains(prev.Text, "\n"):
			b.WriteByte(' ') // a later sentence of the same item
		case s.Item > 0:
			switch {
			case b.Len() == 0:
			case prev == nil || prev.Item == 0 || prev.Ordered != s.Ordered || strings.Contains(prev.Text, "\n"):
				b.WriteString("\n\n") // a list opens
			default:
				b.WriteByte('\n')
			}
			if s.Ordered {
				b.WriteString(strconv.Itoa(s.Item) + ". ")
			} else {
				b.WriteString("- ")
			}
		case prev != nil && prev.Item > 0:
			b.WriteString("\n\n") // prose after a list
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "\n"):
			b.WriteByte(' ')
		}
		b.WriteString(s.Text)
		b.WriteString(markers(s.Cites))
	}
	return text.MergeCitationRuns(strings.TrimSpace(b.String()))
}

// markers renders cites as " [1][3]", or "" for none.
func markers(cites []int) string {
	if len(cites) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte(' ')
	for _, n := range cites {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(n))
		b.WriteByte(']')
	}
	return b.String()
}

// citations lists the context items the sentences cite, in order of first
// use. snippet picks the text shown for item n (1-based); nil means the
// start of the chunk.
func citations(sentences []Sentence, chunks []store.ChunkRef, snippet func(n int) string) []Citation {
	var out []Citation
	seen := make(map[int]bool)
	for _, s := range sentences {
		for _, n := range s.Cites {
			if n < 1 || n > len(chunks) || seen[n] {
				continue
			}
			seen[n] = true
			ref := chunks[n-1]
			text := ""
			if snippet != nil {
				text = snippet(n)
			}
			if text == "" {
				text = ref.Chunk.Text
			}
			c := Citation{
				N:          n,
				ChunkID:    ref.Chunk.ID,
				DocumentID: ref.Chunk.DocumentID,
				Snippet:    truncate(strings.Join(strings.Fields(text), " "), snippetRunes),
				Page:       ref.Chunk.Page,
			}
			if ref.Chunk.Flag.Held() {
				c.Held = ref.Chunk.Flag.Reason
			}
			if ref.Document != nil {
				c.Title, c.Source, c.SourceURL = ref.Document.Title, ref.Document.Source, ref.Document.SourceURL
			}
			out = append(out, c)
		}
	}
	return out
}

// truncate shortens s to at most n runes, cutting at a word boundary and
// marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := 0
	for i := range s {
		if runes == n-1 {
			s = s[:i]
			break
		}
		runes++
	}
	if i := strings.LastIndexByte(s, ' '); i > len(s)/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,;:") + "…"
}
