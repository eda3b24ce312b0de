package parse

import (
	"context"
	"fmt"
	"path"
	"runtime/debug"
	"strings"

	"llmops/store"
)

// Parse detects the format of data and parses it. name is the uploaded file
// name; it picks the format only when the content has no clear signature and
// gives the title when the file has none. ctx is checked between units of
// work (pages, sections); cancellation returns ctx.Err().
//
// Every other error is a *store.Error: EINVALID for a file that cannot be
// read (the message says why, for a person), ETOOLARGE for one that is
// over a limit. A bug in a parser (a panic) is a plain error, which callers
// report as internal.
//
// A DOCX or PDF parse first reserves what its file may decompress to from
// lim.Budget (the process's by default), waiting while other parses hold
// it (EUNAVAILABLE if ctx's deadline passes meanwhile), and every part it
// decompresses is stopped as soon as it breaks MaxExpansionRatio or the
// file's limit (see limits.go).
func Parse(ctx context.Context, name string, data []byte, lim Limits) (doc *Document, err error) {
	// The parsers are fuzzed not to panic; if one still does, the file
	// fails alone with an internal error (logged by the caller, shown to
	// no one) instead of taking the process down.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("parse %s: panic: %v\n%s", displayName(name), r, debug.Stack())
		}
	}()
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, TooLarge(int64(len(data)), lim.MaxBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	format, err := Detect(name, data)
	if err != nil {
		return nil, err
	}
	return parseAs(ctx, format, name, data, lim)
}

// TooLarge is the ETOOLARGE error for a file of size bytes over a limit
// of limit bytes, so a file refused before it is read (rag.ReadRegularFile)
// reads the same as one Parse refuses.
func TooLarge(size, limit int64) error {
	return store.Errorf(store.ETOOLARGE, "file is %s; the limit is %s", formatSize(size), formatSize(limit))
}

// parseAs parses data as the given format.
func parseAs(ctx context.Context, format Format, name string, data []byte, lim Limits) (*Document, error) {
	var doc *Document
	var err error
	switch format {
	case Markdown:
		doc, err = parseMarkdown(ctx, name, data, lim)
	case HTML:
		doc, err = parseHTML(ctx, name, data, lim)
	case PDF:
		doc, err = parsePDF(ctx, name, data, lim)
	case DOCX:
		doc, err = parseDOCX(ctx, name, data, lim)
	case CSV:
		doc, err = parseCSV(ctx, name, data, lim)
	case JSON:
		doc, err = parseJSON(ctx, name, data, lim)
	default:
		doc, err = parseText(ctx, name, data, lim)
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return finish(doc, name, format)
}

// finish fills what every parser leaves to the end: the format, a title,
// non-nil Meta, and the rule that a document has text.
func finish(doc *Document, name string, format Format) (*Document, error) {
	doc.Format = format
	if doc.Meta == nil {
		doc.Meta = map[string]string{}
	}
	doc.Title = truncateRunes(cleanLine(doc.Title), maxTitleRunes)
	if doc.Title == "" {
		doc.Title = fileStem(name)
	}
	kept := doc.Sections[:0]
	for _, s := range doc.Sections {
		if strings.TrimSpace(s.Text) != "" {
			kept = append(kept, s)
		}
	}
	doc.Sections = kept
	if len(doc.Sections) == 0 {
		if format == PDF {
			return nil, store.Errorf(store.EINVALID, "no text found in %s (is it a scanned PDF?)", displayName(name))
		}
		return nil, store.Errorf(store.EINVALID, "no text found in %s", displayName(name))
	}
	return doc, nil
}

// maxTitleRunes keeps a runaway title (a whole paragraph used as a PDF
// title, say) from flooding every list that shows it.
const maxTitleRunes = 200

// fileStem returns the base name of name without its extension, the title
// of last resort.
func fileStem(name string) string {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	if base == "." || base == "/" {
		return "Untitled"
	}
	if ext := path.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	if base = cleanLine(base); base == "" {
		return "Untitled"
	}
	return base
}

// displayName is the file name as it appears in messages.
func displayName(name string) string {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	if base == "." || base == "/" || base == "" {
		return "the file"
	}
	return truncateRunes(base, 80)
}

// formatSize renders a byte count for people: "300 MiB", "1.5 MiB", "12 KiB".
func formatSize(n int64) string {
	const kib, mib, gib = 1 << 10, 1 << 20, 1 << 30
	unit := func(v int64, size int64, name string) string {
		if v%size == 0 || v >= 10*size {
			return fmt.Sprintf("%d %s", v/size, name)
		}
		return fmt.Sprintf("%.1f %s", float64(v)/float64(size), name)
	}
	switch {
	case n >= gib:
		return unit(n, gib, "GiB")
	case n >= mib:
		return unit(n, mib, "MiB")
	case n >= kib:
		return unit(n, kib, "KiB")
	}
	return fmt.Sprintf("%d bytes", n)
}
