package parse

import (
	"errors"

	"llmops/store"
)

// Errors a person sees are *store.Error values: EINVALID for a file that
// cannot be read, with a message that says why, and ETOOLARGE for a file
// over a limit. The plain errors below never leave the package: each is
// turned into one of those, with context, where it is handled.

var (
	errBinary       = invalidf("unsupported file type (binary data, not text)")
	errNotUTF8      = invalidf("not valid UTF-8 text; save the file as UTF-8 and upload it again")
	errJSONShape    = invalidf(`JSON FAQ must be an array of {"question": "...", "answer": "..."} objects, or an object with that array under "faqs", "items" or "questions"`)
	errPDFEncrypted = invalidf("PDF is encrypted; remove the password and upload again")
)

var (
	// errPDFWork: the PDF library read far more than the file holds, the
	// sign of a structure that loops.
	errPDFWork = errors.New("it needs far more reading than its size explains")
	// errStreamSize: one stream is over its own cap (a font map).
	errStreamSize = errors.New("a font map is implausibly large")
	// errPDFSyntax: the PDF lexer met something it cannot parse.
	errPDFSyntax = errors.New("malformed PDF syntax")
)

// invalidf returns the EINVALID error every parser uses for a file it
// cannot read.
func invalidf(format string, args ...any) error {
	return store.Errorf(store.EINVALID, format, args...)
}

// tooManySections is the error for a file over MaxSections.
func tooManySections(n int) error {
	return store.Errorf(store.ETOOLARGE, "file has more than %d sections; split it into smaller files", n)
}
