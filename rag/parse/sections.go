package parse

import (
	"context"
	"strings"
)

// sectionBuilder turns the headings and blocks a parser meets, in document
// order, into Sections. Text blocks under one heading path join into one
// Section; each code block and table becomes a Section of its own under the
// same path, so a chunker never splits them from their heading.
//
// It also enforces MaxSections and checks ctx once per Section, the unit of
// work of the structured formats. After the first error every call is a
// no-op and done returns the error.
type sectionBuilder struct {
	ctx context.Context
	max int
	// levels holds the current heading at each level: 0 is a document-title
	// style (DOCX "Title"), 1–6 are h1–h6.
	levels   [7]string
	parts    []string
	tight    []bool // a tight part (a list item) joins its tight neighbours with one newline
	sections []Section
	err      error
}

func newSectionBuilder(ctx context.Context, lim Limits) *sectionBuilder {
	return &sectionBuilder{ctx: ctx, max: lim.MaxSections}
}

// heading starts a new heading path: level replaces the heading at that
// level and clears the deeper ones.
func (b *sectionBuilder) heading(level int, text string) {
	text = cleanLine(text)
	if b.err != nil || text == "" {
		return
	}
	b.flush()
	level = min(max(level, 0), len(b.levels)-1)
	b.levels[level] = text
	for i := level + 1; i < len(b.levels); i++ {
		b.levels[i] = ""
	}
}

// path returns a copy of the current heading path, outermost first, or nil
// before the first heading.
func (b *sectionBuilder) path() []string {
	var p []string
	for _, h := range b.levels {
		if h != "" {
			p = append(p, h)
		}
	}
	return p
}

// paragraph adds a block of prose.
func (b *sectionBuilder) paragraph(text string) {
	if text = cleanText(text); text != "" && b.err == nil {
		b.parts = append(b.parts, text)
		b.tight = append(b.tight, false)
	}
}

// listItem adds one list line: indent, marker ("-" or "3."), then the text.
func (b *sectionBuilder) listItem(indent int, marker, text string) {
	if text = cleanLine(text); text != "" && b.err == nil {
		b.parts = append(b.parts, strings.Repeat("  ", indent)+marker+" "+text)
		b.tight = append(b.tight, true)
	}
}

// code adds a code block as its own Section.
func (b *sectionBuilder) code(text string) {
	if text = cleanCode(text); text != "" && b.err == nil {
		b.flush()
		b.add(Section{Headings: b.path(), Text: text, Kind: KindCode})
	}
}

// table adds a table as its own Section, one "a | b | c" line per row.
func (b *sectionBuilder) table(rows [][]string) {
	if b.err != nil {
		return
	}
	var lines []string
	for _, row := range rows {
		cells := make([]string, len(row))
		empty := true
		for i, c := range row {
			cells[i] = cleanLine(c)
			empty = empty && cells[i] == ""
		}
		if !empty {
			lines = append(lines, strings.Join(cells, " | "))
		}
	}
	if len(lines) > 0 {
		b.flush()
		b.add(Section{Headings: b.path(), Text: strings.Join(lines, "\n"), Kind: KindTable})
	}
}

// flush closes the text Section being built, if it has any text.
func (b *sectionBuilder) flush() {
	if len(b.parts) == 0 {
		return
	}
	var text strings.Builder
	for i, p := range b.parts {
		if i > 0 {
			if b.tight[i] && b.tight[i-1] {
				text.WriteString("\n")
			} else {
				text.WriteString("\n\n")
			}
		}
		text.WriteString(p)
	}
	b.parts, b.tight = b.parts[:0], b.tight[:0]
	b.add(Section{Headings: b.path(), Text: text.String(), Kind: KindText})
}

// add appends s, enforcing MaxSections and checking ctx.
func (b *sectionBuilder) add(s Section) {
	if b.err != nil {
		return
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return
	}
	if len(b.sections) >= b.max {
		b.err = tooManySections(b.max)
		return
	}
	b.sections = append(b.sections, s)
}

// done flushes the last Section and returns them all, or the first error.
func (b *sectionBuilder) done() ([]Section, error) {
	b.flush()
	if b.err != nil {
		return nil, b.err
	}
	return b.sections, nil
}
