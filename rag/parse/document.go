// Package parse turns uploaded files (Markdown, HTML, PDF, DOCX, plain
// text, CSV/JSON FAQs) into a Document: a title, metadata and sections that
// keep their heading path and page. Parsers never panic on bad input and
// cap the memory and time they use; a file they cannot read fails alone
// with a message a person can act on.
package parse

// Format is a detected file type.
type Format string

const (
	Markdown Format = "markdown"
	HTML     Format = "html"
	PDF      Format = "pdf"
	DOCX     Format = "docx"
	Text     Format = "text"
	CSV      Format = "csv"  // FAQ: question/answer columns
	JSON     Format = "json" // FAQ: array of {question, answer}
)

// Section kinds.
const (
	KindText  = "text"
	KindCode  = "code"  // a fenced or indented code block, kept whole
	KindTable = "table" // a table rendered as text rows
	KindQA    = "qa"    // one FAQ question and its answer
)

// Section is a run of text under one heading path.
type Section struct {
	// Headings is the heading path, outermost first, e.g.
	// ["Connect Slack", "Troubleshooting", "Messages do not arrive"].
	Headings []string
	Text     string
	Page     int    // 1-based page for PDFs, 0 otherwise
	Kind     string // KindText, KindCode, KindTable or KindQA
}

// Document is a parsed file.
type Document struct {
	Title  string
	Format Format
	// Meta holds metadata found in the file itself: front matter keys and
	// HTML <meta name=...> tags, lower-cased (category, product_version,
	// last_updated, tags as a comma-separated list, source_url, ...).
	Meta     map[string]string
	Sections []Section
}
