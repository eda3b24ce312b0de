package parse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/ledongthuc/pdf"

	"llmops/store"
)

// parsePDF extracts the text of a PDF, one Section per page.
//
// github.com/ledongthuc/pdf reads the file structure (cross-reference
// tables, objects, stream filters, decryption with an empty password); the
// text itself is extracted here, because the library's extraction has no
// limits and loses line breaks. The library is not built for hostile
// input, so it is fenced in:
//
//   - checkPDFStructure rejects the structures that would crash the process
//     rather than fail (huge tables, recursive object streams);
//   - it reads the file through pdfGuard, which fails every read once ctx
//     ends or the reads add up to far more than the file, so no loop in the
//     library can outlive the request;
//   - every call into it runs under recover, and a panic becomes the
//     "truncated or damaged" error;
//   - checkPDFStructure also decodes the object streams, which the library
//     decodes without limits, to nothing through a partReader;
//   - the streams extracted here (page contents, forms, font maps) are
//     decoded through a partReader too, which checks each one's expansion
//     ratio as it is read and charges the file's limit, reserved from
//     lim.Budget before any of them is decoded.
//
// Headings are recognised by font size (lines clearly larger than the body
// text), and header and footer lines repeated on most pages are dropped.
func parsePDF(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	data = trimToPDF(data)
	if err := checkPDFStructure(data, lim.expansion(len(data))); err != nil {
		var xe *expansionError
		if errors.As(err, &xe) {
			return nil, xe.storeError("PDF")
		}
		return nil, pdfDamaged(err)
	}
	guard := newPDFGuard(ctx, data)
	r, err := openPDF(guard, data)
	if err != nil {
		return nil, err
	}
	expansion := lim.expansion(len(data))
	release, err := reserveFor(ctx, lim, expansion, name)
	if err != nil {
		return nil, err
	}
	defer release()
	e := &pdfExtractor{ctx: ctx, r: r, guard: guard, expansion: expansion, fonts: map[string]*pdfFont{}, forms: map[string][]byte{}}
	pageValues, err := e.pages(lim.MaxPages)
	if err != nil {
		return nil, err
	}
	pages := make([]pdfPage, 0, len(pageValues))
	for i, p := range pageValues {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.page = i + 1
		lines, err := e.pageLines(p)
		if err != nil {
			return nil, e.wrap(fmt.Errorf("page %d: %w", i+1, err))
		}
		pages = append(pages, pdfPage{num: i + 1, lines: lines})
	}
	dropRepeatedLines(pages)
	sections := pageSections(pages)
	if len(sections) > lim.MaxSections {
		return nil, tooManySections(lim.MaxSections)
	}
	title, meta := e.info()
	if title == "" {
		title = firstLineOf(pages)
	}
	return &Document{Title: title, Meta: meta, Sections: sections}, nil
}

// trimToPDF cuts bytes a viewer ignores but the library does not: junk
// before the "%PDF-" header (offsets then count from the header), and junk
// after the last "%%EOF" (the library wants it in the final 100 bytes).
func trimToPDF(data []byte) []byte {
	if i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-")); i > 0 {
		data = data[i:]
	}
	if i := bytes.LastIndex(data, []byte("%%EOF")); i >= 0 && len(data)-i > 100 {
		data = data[:i+5]
	}
	return data
}

// pdfDamaged is the error for a file the library cannot read.
func pdfDamaged(err error) error {
	msg := strings.TrimPrefix(err.Error(), "malformed PDF: ")
	return invalidf("PDF is truncated or damaged: %s", truncateRunes(msg, 200))
}

// openPDF opens the file with the library and sorts its failures into
// cancellation, encryption and damage.
func openPDF(guard *pdfGuard, data []byte) (r *pdf.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%v", p)
		}
		if err == nil {
			return
		}
		switch {
		case guard.err != nil && guard.err != errPDFWork:
			err = guard.err
		case bytes.Contains(data, []byte("/Encrypt")):
			err = errPDFEncrypted
		case guard.err != nil:
			err = pdfDamaged(guard.err)
		default:
			err = pdfDamaged(err)
		}
	}()
	return pdf.NewReader(guard, int64(len(data)))
}

// pdfGuard is the io.ReaderAt the library reads the file through. Once ctx
// ends or the reads exceed a budget it fails every read, and the library,
// which reads on every step of every loop, stops with an error.
type pdfGuard struct {
	ctx    context.Context
	data   []byte
	left   int64 // bytes the library may still read (readBudgetFactor)
	read   int64 // bytes it has read: a stream's compressed side
	err    error
	header []byte // replaces the first bytes, see newPDFGuard
}

func newPDFGuard(ctx context.Context, data []byte) *pdfGuard {
	g := &pdfGuard{ctx: ctx, data: data, left: int64(len(data))*readBudgetFactor + readBudgetFloor}
	// The library accepts only "%PDF-1.0" to "%PDF-1.7" followed by a line
	// end. PDF 2.0 files, and headers followed by a space, are readable
	// with the same code: present them as 1.7.
	if len(data) >= 9 && (data[5] != '1' || data[7] > '7' || data[8] != '\n' && data[8] != '\r') &&
		data[5] >= '1' && data[5] <= '2' && data[6] == '.' && data[7] >= '0' && data[7] <= '9' {
		g.header = []byte("%PDF-1.7\n")
	}
	return g
}

func (g *pdfGuard) ReadAt(p []byte, off int64) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if err := g.ctx.Err(); err != nil {
		g.err = err
		return 0, err
	}
	if g.left -= int64(len(p)); g.left < 0 {
		g.err = errPDFWork
		return 0, g.err
	}
	if off < 0 || off >= int64(len(g.data)) {
		return 0, io.EOF
	}
	n := copy(p, g.data[off:])
	g.read += int64(n)
	if off < int64(len(g.header)) {
		copy(p, g.header[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// pdfExtractor holds what one file's extraction shares across pages.
type pdfExtractor struct {
	ctx       context.Context
	r         *pdf.Reader
	guard     *pdfGuard
	expansion *fileExpansion // the bytes decoded, against the file's limit
	page      int            // the page being extracted, for messages
	fonts     map[string]*pdfFont
	forms     map[string][]byte // decoded form XObjects, which pages tend to share
}

// wrap turns an extraction failure into the error to return: the guard's
// own reason first (cancellation above all), then the others.
func (e *pdfExtractor) wrap(err error) error {
	var se *store.Error
	var xe *expansionError
	switch {
	case e.guard.err != nil && e.guard.err != errPDFWork:
		return e.guard.err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &xe):
		return xe.storeError("PDF")
	case errors.As(err, &se):
		return err
	case e.guard.err != nil:
		return pdfDamaged(e.guard.err)
	}
	return pdfDamaged(err)
}

// readStream returns the decoded bytes of a stream, at most limit of them
// (no limit of its own if limit < 0), through a partReader charged to the
// file's expansion. A stream whose compressed data is cut short keeps
// what could be decoded: viewers do the same.
func (e *pdfExtractor) readStream(v pdf.Value, limit int64) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, err = nil, fmt.Errorf("%v", p)
		}
		if e.guard.err != nil {
			data, err = nil, e.guard.err
		}
	}()
	if v.Kind() != pdf.Stream {
		return nil, nil
	}
	// The library reads a stream's raw bytes through the guard, and
	// nothing else while it is read: what the guard reads from here on
	// is the compressed side (and the few objects Reader resolves, such
	// as an indirect /Length, which only make the ratio look smaller).
	// Reader already fills a zlib buffer, so the count starts before it.
	start := e.guard.read
	rc := v.Reader()
	defer rc.Close()
	var r io.Reader = &partReader{r: rc, in: func() int64 { return e.guard.read - start }, file: e.expansion, part: fmt.Sprintf("stream on page %d", e.page)}
	if limit >= 0 {
		r = io.LimitReader(r, limit+1)
	}
	data, err = io.ReadAll(r)
	if xe := (*expansionError)(nil); errors.As(err, &xe) {
		return nil, xe
	}
	if limit >= 0 && int64(len(data)) > limit {
		return nil, errStreamSize
	}
	return data, nil
}

// formData returns the decoded content of a form XObject, decoding (and
// charging the file's expansion for) each one once per file.
func (e *pdfExtractor) formData(v pdf.Value, key string) ([]byte, error) {
	if data, ok := e.forms[key]; ok {
		return data, nil
	}
	data, err := e.readStream(v, -1)
	if err != nil {
		return nil, err
	}
	e.forms[key] = data
	return data, nil
}

// pages walks the page tree and returns the page dictionaries in order.
// The walk is iterative, depth-bounded and remembers the page-tree nodes it
// has seen, so a tree that contains itself ends.
func (e *pdfExtractor) pages(maxPages int) (pages []pdf.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			pages, err = nil, e.wrap(fmt.Errorf("%v", p))
		}
	}()
	type node struct {
		v     pdf.Value
		depth int
	}
	stack := []node{{e.r.Trailer().Key("Root").Key("Pages"), 0}}
	seen := map[string]bool{}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.v.Kind() != pdf.Dict {
			continue
		}
		kids := n.v.Key("Kids")
		if n.v.Key("Type").Name() == "Pages" || kids.Kind() == pdf.Array && n.v.Key("Type").Name() != "Page" {
			id := n.v.String()
			if seen[id] || n.depth >= 64 {
				continue
			}
			seen[id] = true
			for i := kids.Len() - 1; i >= 0; i-- {
				stack = append(stack, node{kids.Index(i), n.depth + 1})
				if len(stack) > 4*maxPages+10_000 {
					return nil, pdfDamaged(errors.New("the page tree is implausibly large"))
				}
			}
			continue
		}
		if pages = append(pages, n.v); len(pages) > maxPages {
			return nil, store.Errorf(store.ETOOLARGE, "PDF has more than %d pages; split it into smaller files", maxPages)
		}
	}
	if e.guard.err != nil {
		return nil, e.wrap(e.guard.err)
	}
	return pages, nil
}

// inherited returns a page attribute, looking up the tree as the standard
// says (Resources may sit on an ancestor). The climb is bounded, unlike
// the library's.
func inherited(page pdf.Value, key string) pdf.Value {
	v := page
	for range 32 {
		if v.Kind() != pdf.Dict {
			break
		}
		if x := v.Key(key); !x.IsNull() {
			return x
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

// pageLines extracts the lines of text of one page.
func (e *pdfExtractor) pageLines(page pdf.Value) (lines []pdfLine, err error) {
	defer func() {
		if p := recover(); p != nil {
			lines, err = nil, fmt.Errorf("%v", p)
		}
	}()
	resources := inherited(page, "Resources")
	contents := page.Key("Contents")
	var streams []pdf.Value
	switch contents.Kind() {
	case pdf.Stream:
		streams = []pdf.Value{contents}
	case pdf.Array:
		for i := 0; i < contents.Len() && i < 1024; i++ {
			streams = append(streams, contents.Index(i))
		}
	}
	// A page's content may be split over several streams, even inside a
	// token; they are interpreted as one.
	var content []byte
	for _, s := range streams {
		data, err := e.readStream(s, -1)
		if err != nil {
			return nil, err
		}
		content = append(append(content, data...), '\n')
	}
	c := newContentInterp(e)
	if err := c.run(content, resources, 0); err != nil {
		return nil, err
	}
	if e.guard.err != nil {
		return nil, e.guard.err
	}
	c.lines.finish()
	return c.lines.lines, nil
}

// font returns the font a resource name refers to, parsing each distinct
// font dictionary once per file. A font that cannot be read decodes as
// Windows-1252 with estimated widths.
func (e *pdfExtractor) font(resources pdf.Value, name string) (f *pdfFont) {
	fallback := &pdfFont{codeLen: 1, scale: 0.001}
	defer func() {
		if recover() != nil {
			f = fallback
		}
	}()
	v := resources.Key("Font").Key(name)
	if v.Kind() != pdf.Dict {
		return fallback
	}
	key := v.String()
	if f, ok := e.fonts[key]; ok {
		return f
	}
	f = e.loadFont(v)
	e.fonts[key] = f
	return f
}

// info reads the title and Meta from the document information dictionary.
func (e *pdfExtractor) info() (title string, meta map[string]string) {
	meta = map[string]string{}
	defer func() {
		if recover() != nil {
			title = ""
		}
	}()
	info := e.r.Trailer().Key("Info")
	for key, field := range map[string]string{"author": "Author", "subject": "Subject", "keywords": "Keywords"} {
		if v := cleanLine(info.Key(field).Text()); v != "" {
			meta[key] = truncateRunes(v, 1000)
		}
	}
	title = cleanLine(info.Key("Title").Text())
	// Word's PDF export titles documents "Microsoft Word - report.docx".
	title = strings.TrimPrefix(title, "Microsoft Word - ")
	if strings.EqualFold(title, "untitled") {
		title = ""
	}
	return title, meta
}

// pdfPage is the extracted text of one page.
type pdfPage struct {
	num   int
	lines []pdfLine
}

// dropRepeatedLines removes running headers and footers: lines among the
// first or last two of a page that recur, digits aside ("Page 3 of 9"), on
// most pages of a document of three or more pages.
func dropRepeatedLines(pages []pdfPage) {
	withText := 0
	for _, p := range pages {
		if len(p.lines) > 0 {
			withText++
		}
	}
	if withText < 3 {
		return
	}
	edge := func(p pdfPage, i int) bool { return i < 2 || i >= len(p.lines)-2 }
	counts := map[string]int{}
	for _, p := range pages {
		seen := map[string]bool{}
		for i, l := range p.lines {
			if k := boilerplateKey(l.text); edge(p, i) && !seen[k] {
				seen[k] = true
				counts[k]++
			}
		}
	}
	threshold := max(3, int(math.Ceil(0.6*float64(withText))))
	for pi := range pages {
		p := &pages[pi]
		kept := p.lines[:0]
		for i, l := range p.lines {
			if edge(*p, i) && counts[boilerplateKey(l.text)] >= threshold {
				continue
			}
			kept = append(kept, l)
		}
		p.lines = kept
	}
}

func boilerplateKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return '#'
		}
		return unicode.ToLower(r)
	}, s)
}

// pageSections makes the sections of a PDF: a new one at every heading
// line, whose Headings is the heading path that line completes, and at
// every page break, so each section has one page. A heading line is not
// part of any section's text: it is in the Headings of the text after
// it, wherever that text is, on the same page or the next, as Markdown
// headings are. So a heading never strands at the end of the text before
// it, and the chunker (rag/chunk) labels every chunk with the heading of
// the text it starts with.
func pageSections(pages []pdfPage) []Section {
	levels := headingLevels(pages)
	var path [7]string
	current := func() []string {
		var out []string
		for _, h := range path {
			if h != "" {
				out = append(out, h)
			}
		}
		return out
	}
	var sections []Section
	var text strings.Builder
	var headings []string
	page := 0
	flush := func() {
		if t := cleanText(text.String()); t != "" {
			sections = append(sections, Section{Headings: headings, Text: t, Page: page, Kind: KindText})
		}
		text.Reset()
	}
	for _, p := range pages {
		flush()
		page, headings = p.num, current()
		prevHeading := 0
		for i, l := range p.lines {
			level := levels[l.size]
			if len([]rune(l.text)) > 150 || !hasLetter(l.text) {
				level = 0
			}
			if level > 0 {
				if prevHeading == level && i > 0 && !paragraphGap(p.lines[i-1], l) {
					path[level] += " " + l.text // a heading wrapped over two lines
				} else {
					flush()
					path[level] = l.text
					for j := level + 1; j < len(path); j++ {
						path[j] = ""
					}
				}
				headings = current()
				prevHeading = level
				continue
			}
			if text.Len() > 0 {
				if prevHeading > 0 || paragraphGap(p.lines[i-1], l) {
					text.WriteString("\n\n")
				} else {
					text.WriteString("\n")
				}
			}
			text.WriteString(l.text)
			prevHeading = 0
		}
	}
	flush()
	return sections
}

// paragraphGap reports a vertical gap between two lines wider than line
// spacing, or a jump up the page (a new column).
func paragraphGap(prev, cur pdfLine) bool {
	lh := math.Max(math.Max(prev.size, cur.size), 1)
	gap := prev.y - cur.y
	return gap > 1.7*lh || gap < -0.5*lh
}

// headingLevels maps the font sizes of heading lines to levels: the body
// size is the size most characters have; sizes at least 15% larger are
// headings, the largest being level 1.
func headingLevels(pages []pdfPage) map[float64]int {
	chars := map[float64]int{}
	for _, p := range pages {
		for _, l := range p.lines {
			chars[l.size] += len(l.text)
		}
	}
	body := dominantSize(chars)
	var sizes []float64
	for s := range chars {
		if body > 0 && s >= body*1.15 {
			sizes = append(sizes, s)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(sizes)))
	levels := map[float64]int{}
	for i, s := range sizes {
		levels[s] = min(i+1, 6)
	}
	return levels
}

func hasLetter(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

func firstLineOf(pages []pdfPage) string {
	for _, p := range pages {
		if len(p.lines) > 0 {
			return p.lines[0].text
		}
	}
	return ""
}
