// Package index holds the two search indexes of the knowledge base: BM25
// over chunk text (bleve, on disk) and vectors (a contiguous exact scan,
// in memory).
// Both are derived data: bbolt is the source of truth, and each index is
// checked against it at start-up and rebuilt from it when they disagree.
package index

import (
	"strings"

	"llmops/store"
)

// Hit is one search result: a chunk ID and its score under that index.
type Hit struct {
	ID    string
	Score float64
}

// Filter restricts results to chunks whose document matches every field
// set: a category, a product version, and all of the tags; then, when
// they are set, one of AnyCategories and at least one of AnyTags.
type Filter struct {
	Category       string   `json:"category,omitempty"`
	ProductVersion string   `json:"product_version,omitempty"`
	Tags           []string `json:"tags,omitempty"`

	// AnyCategories and AnyTags bound the search to a publishable key's
	// scope. The server sets them from the key, never from a request
	// body (hence no JSON names): fields only ever narrow a filter, so a
	// visitor's own filters cannot reach past the scope.
	AnyCategories []string `json:"-"`
	AnyTags       []string `json:"-"`

	// ExcludeHeld leaves out chunks held by a rag/guard flag (text that
	// addresses the assistant, not yet approved). The server sets it for
	// publishable keys, never from a request body. The indexes do not
	// know flags: the knowledge base applies it to their hits
	// (rag/flags.go) and passes the rest of the filter on.
	ExcludeHeld bool `json:"-"`
}

// normalized lower-cases the category and tags the way EntryOf stores them.
func (f Filter) normalized() Filter {
	f.Category = strings.ToLower(strings.TrimSpace(f.Category))
	f.ProductVersion = strings.TrimSpace(f.ProductVersion)
	f.Tags = store.NormalizeTags(f.Tags)
	f.AnyCategories = store.NormalizeTags(f.AnyCategories) // the same trim, lower-case and de-duplicate
	f.AnyTags = store.NormalizeTags(f.AnyTags)
	return f
}

// Empty reports whether the filter matches everything.
func (f Filter) Empty() bool {
	return f.Category == "" && f.ProductVersion == "" && len(f.Tags) == 0 && len(f.AnyCategories) == 0 && len(f.AnyTags) == 0
}

// Entry is what the indexes need of a chunk: its ID, the text to match and
// the metadata to filter on.
type Entry struct {
	ID             string
	Text           string // title, heading path and chunk text
	Category       string
	ProductVersion string
	Tags           []string
}

// EntryOf builds the index entry of a stored chunk. The title and heading
// path are indexed with the text: a question often names the page or
// section ("how do I connect Slack") rather than words of the paragraph.
func EntryOf(d *store.Document, c *store.Chunk) Entry {
	var b strings.Builder
	b.WriteString(d.Title)
	for _, h := range c.Headings {
		if h != d.Title {
			b.WriteString("\n")
			b.WriteString(h)
		}
	}
	b.WriteString("\n")
	b.WriteString(c.Text)
	return Entry{ID: c.ID, Text: b.String(), Category: strings.ToLower(d.Category),
		ProductVersion: d.ProductVersion, Tags: store.NormalizeTags(d.Tags)}
}
