package parse

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"regexp"
	"strconv"
	"strings"

	"llmops/store"
)

// parseDOCX reads a Word document: the body of word/document.xml, with
// headings from paragraph styles (resolved through word/styles.xml, so
// localised style names work) and tables as table Sections; the title and
// Meta from docProps/core.xml.
//
// The zip is hostile until proven otherwise: paths that could escape a
// directory are refused, and every part is decompressed here, from its raw
// bytes, through a partReader: the ratio of what it produced to what it
// consumed is checked as it goes, and every byte counts against the
// file's limit, whatever sizes the zip headers claim. The limit is
// reserved from lim.Budget before anything is decompressed.
func parseDOCX(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	if n := bytes.Count(data, []byte("PK\x01\x02")); n > maxDOCXEntries {
		return nil, invalidf("DOCX has more than %d parts; it is not a normal Word document", maxDOCXEntries)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, invalidf("DOCX is damaged: not a readable ZIP archive (%v)", err)
	}
	if zr == nil {
		return nil, invalidf("DOCX is damaged: not a readable ZIP archive")
	}
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		if !safeZipPath(f.Name) {
			return nil, invalidf("DOCX has an unsafe path %q; refusing it", truncateRunes(f.Name, 100))
		}
		parts[strings.ToLower(f.Name)] = f
	}
	doc := parts["word/document.xml"]
	if doc == nil {
		return nil, invalidf("DOCX has no word/document.xml; is it really a Word document?")
	}
	expansion := lim.expansion(len(data))
	release, err := reserveFor(ctx, lim, expansion, name)
	if err != nil {
		return nil, err
	}
	defer release()

	styles := docxStyles{}
	if f := parts["word/styles.xml"]; f != nil {
		if err := readZipXML(f, expansion, styles.read); err != nil {
			return nil, err
		}
	}
	var core docxCore
	if f := parts["docprops/core.xml"]; f != nil {
		if err := readZipXML(f, expansion, core.read); err != nil {
			return nil, err
		}
	}
	w := &docxWalker{b: newSectionBuilder(ctx, lim), styles: styles}
	if err := readZipXML(doc, expansion, w.read); err != nil {
		return nil, err
	}
	sections, err := w.b.done()
	if err != nil {
		return nil, err
	}
	title := core.meta["title"]
	if title == "" {
		title = w.title
	}
	delete(core.meta, "title")
	return &Document{Title: title, Meta: core.meta, Sections: sections}, nil
}

// safeZipPath rejects entry names that could escape the directory they are
// extracted to: absolute paths, drive letters, backslashes and ".." parts.
// We never extract, but a file that carries such names was made to attack
// someone, and is refused whole.
func safeZipPath(name string) bool {
	if name == "" || strings.ContainsRune(name, '\\') || strings.HasPrefix(name, "/") {
		return false
	}
	if len(name) >= 2 && name[1] == ':' {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// openZipEntry returns the decompressed bytes of f, read from its raw
// bytes through a partReader charged to expansion. Only the methods Word
// writes are supported. The declared size and CRC are checked as
// archive/zip would, but never trusted to bound anything.
func openZipEntry(f *zip.File, expansion *fileExpansion) (io.ReadCloser, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, invalidf("DOCX is damaged: cannot open %s (%v)", f.Name, err)
	}
	in := &countingReader{r: raw}
	var r io.ReadCloser
	switch f.Method {
	case zip.Store:
		r = io.NopCloser(in)
	case zip.Deflate:
		r = flate.NewReader(in)
	default:
		return nil, invalidf("DOCX is damaged: %s uses compression method %d, which Word does not write", f.Name, f.Method)
	}
	declared := int64(min(f.UncompressedSize64, 1<<62))
	return &zipEntryReader{
		r:        &partReader{r: r, in: in.count, file: expansion, part: f.Name},
		c:        r,
		name:     f.Name,
		declared: declared,
		crc:      crc32.NewIEEE(),
		wantCRC:  f.CRC32,
	}, nil
}

// zipEntryReader holds a zip entry to its header: an entry that holds
// more than it declares is refused the moment it does, one that holds
// less or fails its checksum at its end.
type zipEntryReader struct {
	r        io.Reader
	c        io.Closer
	name     string
	declared int64
	n        int64
	crc      hash.Hash32
	wantCRC  uint32
}

func (z *zipEntryReader) Read(p []byte) (int, error) {
	if left := z.declared + 1 - z.n; int64(len(p)) > left {
		p = p[:max(left, 0)]
	}
	n, err := z.r.Read(p)
	z.n += int64(n)
	z.crc.Write(p[:n])
	switch {
	case z.n > z.declared:
		return n, invalidf("DOCX %s holds more than the %s its header declares; refusing it", z.name, formatSize(z.declared))
	case err == io.EOF && z.n < z.declared:
		return n, invalidf("DOCX is damaged: %s is shorter than its header declares", z.name)
	case err == io.EOF && z.wantCRC != 0 && z.crc.Sum32() != z.wantCRC:
		return n, invalidf("DOCX is damaged: %s fails its checksum", z.name)
	}
	return n, err
}

func (z *zipEntryReader) Close() error { return z.c.Close() }

// readZipXML opens an entry and hands an XML decoder over its bytes to
// read, turning failures into messages for people.
func readZipXML(f *zip.File, expansion *fileExpansion, read func(*xml.Decoder) error) error {
	rc, err := openZipEntry(f, expansion)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	dec.Strict = false
	dec.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("unsupported XML encoding %q", charset)
	}
	err = read(dec)
	var se *store.Error
	var xe *expansionError
	switch {
	case err == nil || errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &xe):
		return xe.storeError("DOCX")
	}
	return invalidf("DOCX is damaged: %s: %v", f.Name, err)
}

// docxStyle is what a paragraph style says about headings and lists.
type docxStyle struct {
	name    string
	basedOn string
	outline int // outline level 1–9 from the style, 0 if none
	list    bool
}

// docxStyles maps style IDs to styles.
type docxStyles map[string]*docxStyle

func (s docxStyles) read(dec *xml.Decoder) error {
	var cur *docxStyle
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "style":
			cur = &docxStyle{}
			if id := attr(el, "styleId"); id != "" && attr(el, "type") == "paragraph" {
				s[id] = cur
			}
		case "name":
			if cur != nil {
				cur.name = strings.ToLower(attr(el, "val"))
			}
		case "basedOn":
			if cur != nil {
				cur.basedOn = attr(el, "val")
			}
		case "outlineLvl":
			if cur != nil {
				cur.outline = outlineLevel(attr(el, "val"))
			}
		case "numPr":
			if cur != nil {
				cur.list = true
			}
		}
	}
}

var headingName = regexp.MustCompile(`^heading\s*([1-9])$`)

// level returns the heading level of a style ID: 0 for a title, 1–6 for
// headings, -1 for body text. It follows basedOn a few steps, since custom
// heading styles are usually based on the built-in ones.
func (s docxStyles) level(id string) int {
	for range 8 {
		st := s[id]
		name := strings.ToLower(id)
		if st != nil && st.name != "" {
			name = st.name
		}
		if name == "title" {
			return 0
		}
		if m := headingName.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[1])
			return min(n, 6)
		}
		if st == nil {
			return -1
		}
		if st.outline > 0 {
			return min(st.outline, 6)
		}
		if st.basedOn == "" {
			return -1
		}
		id = st.basedOn
	}
	return -1
}

func (s docxStyles) isList(id string) bool {
	st := s[id]
	return st != nil && st.list
}

// outlineLevel converts w:outlineLvl (0-based; 9 means body text) to a
// heading level, 0 for none.
func outlineLevel(val string) int {
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || n >= 9 {
		return 0
	}
	return n + 1
}

// docxCore reads the Dublin Core properties of docProps/core.xml.
type docxCore struct {
	meta map[string]string
}

// coreFields maps core.xml elements to Meta keys.
var coreFields = map[string]string{
	"title": "title", "subject": "subject", "creator": "author", "keywords": "keywords",
	"description": "description", "category": "category", "language": "language",
}

func (c *docxCore) read(dec *xml.Decoder) error {
	c.meta = map[string]string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		key, ok := coreFields[el.Name.Local]
		if !ok {
			continue
		}
		var v string
		if err := dec.DecodeElement(&v, &el); err != nil {
			return err
		}
		if v = cleanLine(v); v != "" {
			c.meta[key] = v
		}
	}
}

func attr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// docxWalker streams word/document.xml into a sectionBuilder.
type docxWalker struct {
	b      *sectionBuilder
	styles docxStyles
	title  string // the first Title-styled paragraph

	paras  []*docxPara // open paragraphs; text boxes nest them
	run    int         // open runs (w:r)
	inText bool        // inside w:t
	table  int         // open tables; only the outermost makes rows
	rows   [][]string
	row    []string
	cell   []string
	skip   int // depth inside subtrees whose text is not content
}

type docxPara struct {
	text    strings.Builder
	style   string
	outline int // outline level 1–9 set on the paragraph itself
	list    bool
	indent  int // list level (w:ilvl)
}

// docxSkipped hold text that is not the document's visible content:
// deleted and moved-away revisions, field instructions, the previous
// formatting of tracked changes, and the fallback copy of content that Word
// writes twice for old readers.
var docxSkipped = map[string]bool{
	"del": true, "moveFrom": true, "instrText": true, "delText": true, "Fallback": true,
	"pPrChange": true, "rPrChange": true,
}

func (w *docxWalker) read(dec *xml.Decoder) error {
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := w.b.ctx.Err(); err != nil {
				return err
			}
		}
		if w.b.err != nil {
			return w.b.err
		}
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			w.start(el)
		case xml.EndElement:
			w.end(el.Name.Local)
		case xml.CharData:
			if w.skip == 0 && len(w.paras) > 0 && w.inText {
				w.paras[len(w.paras)-1].text.Write(el)
			}
		}
	}
}

func (w *docxWalker) start(el xml.StartElement) {
	local := el.Name.Local
	if docxSkipped[local] {
		w.skip++
		return
	}
	if w.skip > 0 {
		return
	}
	var p *docxPara
	if len(w.paras) > 0 {
		p = w.paras[len(w.paras)-1]
	}
	switch local {
	case "p":
		w.paras = append(w.paras, &docxPara{})
	case "r":
		w.run++
	case "t":
		w.inText = p != nil
	case "pStyle":
		if p != nil {
			p.style = attr(el, "val")
		}
	case "outlineLvl":
		if p != nil {
			p.outline = outlineLevel(attr(el, "val"))
		}
	case "numPr":
		if p != nil {
			p.list = true
		}
	case "ilvl":
		if p != nil {
			n, _ := strconv.Atoi(attr(el, "val"))
			p.indent = min(max(n, 0), 8)
		}
	case "tab":
		if w.run > 0 && p != nil {
			p.text.WriteByte('\t')
		}
	case "br", "cr":
		if w.run > 0 && p != nil {
			p.text.WriteByte('\n')
		}
	case "noBreakHyphen":
		if w.run > 0 && p != nil {
			p.text.WriteByte('-')
		}
	case "tbl":
		if w.table++; w.table == 1 {
			w.rows = nil
		}
	case "tr":
		if w.table == 1 {
			w.row = nil
		}
	case "tc":
		if w.table == 1 {
			w.cell = nil
		}
	}
}

func (w *docxWalker) end(local string) {
	if docxSkipped[local] {
		w.skip = max(w.skip-1, 0)
		return
	}
	if w.skip > 0 {
		return
	}
	switch local {
	case "t":
		w.inText = false
	case "r":
		w.run = max(w.run-1, 0)
	case "p":
		if n := len(w.paras); n > 0 {
			p := w.paras[n-1]
			w.paras = w.paras[:n-1]
			w.paragraph(p)
		}
	case "tc":
		if w.table == 1 {
			w.row = append(w.row, strings.Join(w.cell, " "))
		}
	case "tr":
		if w.table == 1 {
			w.rows = append(w.rows, w.row)
		}
	case "tbl":
		if w.table--; w.table == 0 {
			w.b.table(w.rows)
			w.rows = nil
		}
	}
}

// paragraph hands a finished paragraph to its table cell, or to the
// builder as a heading, list item or prose.
func (w *docxWalker) paragraph(p *docxPara) {
	text := p.text.String()
	if w.table > 0 {
		if t := cleanLine(text); t != "" {
			w.cell = append(w.cell, t)
		}
		return
	}
	level := -1
	if p.outline > 0 {
		level = min(p.outline, 6)
	} else if p.style != "" {
		level = w.styles.level(p.style)
	}
	switch {
	case level == 0:
		if w.title == "" {
			w.title = cleanLine(text)
		}
		w.b.heading(0, text)
	case level > 0:
		w.b.heading(level, text)
	case p.list || w.styles.isList(p.style):
		w.b.listItem(p.indent, "-", text)
	default:
		w.b.paragraph(text)
	}
}
