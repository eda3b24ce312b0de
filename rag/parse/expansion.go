package parse

import (
	"fmt"
	"io"

	"llmops/store"
)

// fileExpansion counts the bytes one file has decompressed, all its parts
// together, against its limit (see Limits.expansion).
type fileExpansion struct {
	used, limit int64
	byRatio     bool // the limit comes from the file's size, not MaxUncompressed
}

// partReader reads the decompressed bytes of one part of a file (a zip
// entry, a PDF stream) and stops them as soon as they break a limit:
//
//   - the part has expanded past ExpansionCheckAfter and to more than
//     MaxExpansionRatio times the compressed bytes consumed so far;
//   - the file has decompressed more than its limit.
//
// Reads are cut short at ExpansionCheckAfter and at one byte past the
// file's limit, so a refusal happens exactly there, within the first
// megabytes of a bomb rather than after it has filled memory.
type partReader struct {
	r    io.Reader    // the decompressed bytes
	in   func() int64 // compressed bytes consumed so far
	file *fileExpansion
	part string // for messages: "word/document.xml", "stream on page 3"
	out  int64
	err  error
}

func (p *partReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.file.used > p.file.limit {
		// An earlier part broke the file limit and its error was
		// swallowed (a font map that could not be read); stop here too.
		p.err = p.stop(overFile)
		return 0, p.err
	}
	next := p.file.limit - p.file.used + 1
	if p.out < ExpansionCheckAfter {
		next = min(next, ExpansionCheckAfter-p.out)
	}
	if int64(len(b)) > next {
		b = b[:next]
	}
	n, err := p.r.Read(b)
	p.out += int64(n)
	p.file.used += int64(n)
	switch {
	case p.file.used > p.file.limit:
		p.err = p.stop(overFile)
	case p.out >= ExpansionCheckAfter && p.out > MaxExpansionRatio*p.in():
		p.err = p.stop(overRatio)
	}
	if p.err != nil {
		return n, p.err
	}
	return n, err
}

func (p *partReader) stop(reason expansionReason) *expansionError {
	return &expansionError{reason: reason, part: p.part, at: p.out, limit: p.file.limit, byRatio: p.file.byRatio}
}

type expansionReason int

const (
	overRatio expansionReason = iota + 1 // one part past MaxExpansionRatio
	overFile                             // the whole file past its limit
)

// expansionError is a decompression stopped by a partReader. It never
// leaves the package: storeError turns it into the message people see.
type expansionError struct {
	reason  expansionReason
	part    string
	at      int64 // bytes the part had expanded to
	limit   int64 // the file's limit
	byRatio bool
}

func (e *expansionError) Error() string {
	if e.reason == overRatio {
		return fmt.Sprintf("%s expands more than %d× (stopped at %d bytes)", e.part, MaxExpansionRatio, e.at)
	}
	return fmt.Sprintf("expands past %d bytes (stopped in %s)", e.limit, e.part)
}

// storeError returns the ETOOLARGE error for a file of the given format
// ("DOCX", "PDF"), e.g. "DOCX word/document.xml expands more than 100×
// (stopped at 4 MiB)".
func (e *expansionError) storeError(format string) error {
	bomb := "decompression bomb"
	if format == "DOCX" {
		bomb = "zip bomb"
	}
	switch {
	case e.reason == overRatio:
		return store.Errorf(store.ETOOLARGE, "%s %s expands more than %d× (stopped at %s)", format, e.part, MaxExpansionRatio, formatSize(e.at))
	case e.byRatio:
		return store.Errorf(store.ETOOLARGE, "%s expands past %s, more than %d× its size (possible %s)", format, formatSize(e.limit), MaxExpansionRatio, bomb)
	}
	return store.Errorf(store.ETOOLARGE, "%s expands past %s (possible %s)", format, formatSize(e.limit), bomb)
}

// countingReader counts the bytes read through it: the compressed side of
// a partReader.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) count() int64 { return c.n }
