package parse

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"sort"
	"strings"
	"testing"
	"time"
)

// This file builds PDF and DOCX files for tests, so every fixture and
// hostile input is readable source rather than an opaque blob.

// assemblePDF writes a PDF 1.4 file from object bodies (object i+1 is
// objects[i]) with a correct cross-reference table, like
// sample-data/tools/make_pdfs.py. trailer adds entries to the trailer.
func assemblePDF(objects []string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects)+1)
	for i, obj := range objects {
		offsets[i+1] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailer, xref)
	return b.Bytes()
}

// pdfStream returns a stream object body.
func pdfStream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// flateStream returns a FlateDecode stream object body.
func flateStream(dict string, data []byte) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	return pdfStream(dict+" /Filter /FlateDecode", z.String())
}

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}

// testLine is one line a test page draws: text at a font size, using font
// F1 (Helvetica), F2 (Helvetica-Bold) or raw content-stream operators.
type testLine struct {
	font string // "F1", "F2"; "raw" means text is content-stream operators
	size int
	text string
}

// buildPDF writes a PDF with an /Info title (if any) whose pages draw the
// given lines top-down with Td. Fonts: F1 Helvetica, F2 Helvetica-Bold
// (WinAnsi, no widths, as many generators write the standard 14 fonts) and
// F3, a composite font with a ToUnicode map (codes 0001–0005 → "Hello").
func buildPDF(title string, pages [][]testLine) []byte {
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"", // the page tree, filled in below
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type0 /BaseFont /TestSans /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 600 /W [1 [720 560 280]] >>",
		pdfStream("", "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"+
			"2 beginbfchar\n<0001> <0048>\n<0005> <006F>\nendbfchar\n1 beginbfrange\n<0002> <0004> [<0065> <006C> <006C>]\nendbfrange\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"),
	}
	trailer := ""
	if title != "" {
		objects = append(objects, fmt.Sprintf("<< /Title (%s) /Author (Rosterly Docs Team) >>", pdfEscape(title)))
		trailer = fmt.Sprintf("/Info %d 0 R ", len(objects))
	}
	var kids []string
	for _, lines := range pages {
		var content strings.Builder
		y := 740
		for _, l := range lines {
			switch {
			case l.font == "raw":
				y -= 14
				content.WriteString(strings.ReplaceAll(l.text, "{y}", fmt.Sprint(y)) + "\n")
				y -= l.size - 14
			case l.text == "":
				y -= 14
			default:
				y -= l.size + 4
				fmt.Fprintf(&content, "BT /%s %d Tf 72 %d Td (%s) Tj ET\n", l.font, l.size, y, pdfEscape(l.text))
			}
		}
		objects = append(objects, pdfStream("", content.String()))
		objects = append(objects, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>", len(objects)))
		kids = append(kids, fmt.Sprintf("%d 0 R", len(objects)))
	}
	objects[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >> >>",
		strings.Join(kids, " "), len(kids))
	return assemblePDF(objects, trailer)
}

// samplePDF is the PDF fixture: headings by size, a footer on every page,
// kerning in a TJ array, T* line moves, a WinAnsi "é" and the composite
// font.
func samplePDF() []byte {
	footer := func(n int) testLine {
		return testLine{"F1", 8, fmt.Sprintf("Kiosk Handbook | Page %d of 3 | (c) 2026 Rosterly Inc.", n)}
	}
	body := func(s string) testLine { return testLine{"F1", 10, s} }
	return buildPDF("Kiosk Handbook", [][]testLine{
		{
			{"F2", 18, "Kiosk Handbook"},
			{},
			body("This handbook explains how stores run Rosterly kiosks."),
			body("It is written for store managers."),
			{},
			{"F2", 13, "1. Pairing a tablet"},
			body("Open Settings and choose Time clock, then Kiosks."),
			{"raw", 14, "BT /F1 10 Tf 72 {y} Td [(Enter the)-333(pairing)-250(co)15(de on the tablet.)] TJ ET"},
			footer(1),
		},
		{
			{"F2", 13, "2. Daily use"},
			{"raw", 28, "BT /F1 10 Tf 14 TL 72 {y} Td (Employees type their PIN.) Tj T* (The caf\\351 kiosk prints a receipt.) Tj ET"},
			{},
			{},
			body("Managers review punches every evening."),
			footer(2),
		},
		{
			{"F2", 13, "3. Greetings"},
			{"raw", 14, "BT /F3 10 Tf 72 {y} Td <00010002000300040005> Tj ET"},
			footer(3),
		},
	})
}

// docxTime fixes zip timestamps so built DOCX files are byte-for-byte
// reproducible.
var docxTime = time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC)

// buildZip writes a zip with the given entries in name order.
func buildZip(tb testing.TB, entries map[string]string) []byte {
	tb.Helper()
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: docxTime})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(entries[name])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

const docxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`

// docxBody wraps body XML in a word/document.xml.
func docxBody(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>` +
		body + `</w:body></w:document>`
}

// wordPara returns a paragraph with a style (or none) and one run of text.
func wordPara(style, text string) string {
	ppr := ""
	if style != "" {
		ppr = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + ppr + `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// buildDOCX writes a minimal Word document with the given body.
func buildDOCX(tb testing.TB, body string, extra map[string]string) []byte {
	entries := map[string]string{
		"[Content_Types].xml": docxContentTypes,
		"word/document.xml":   docxBody(body),
	}
	for k, v := range extra {
		entries[k] = v
	}
	return buildZip(tb, entries)
}

// sampleDOCX is the DOCX fixture: core properties, a localised heading
// style found through styles.xml, a title, lists, a table, a tab and a
// break, and revision marks and fallback content that must not show.
func sampleDOCX(tb testing.TB) []byte {
	styles := `<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>
<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>
<w:style w:type="paragraph" w:styleId="StepHeading"><w:name w:val="Step Heading"/><w:basedOn w:val="Heading2"/></w:style>
<w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
</w:styles>`
	core := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Kiosk Rollout Report</dc:title><dc:creator>Ops Team</dc:creator><cp:keywords>kiosk, rollout</cp:keywords></cp:coreProperties>`
	body := wordPara("Title", "Kiosk Rollout Report — Q2") +
		wordPara("", "This report covers the kiosk rollout in the second quarter.") +
		wordPara("berschrift1", "Results") +
		`<w:p><w:r><w:t>Stores live:</w:t></w:r><w:r><w:tab/><w:t>12</w:t></w:r><w:r><w:br/><w:t>Tablets paired:</w:t><w:tab/><w:t>31</w:t></w:r></w:p>` +
		`<w:p><w:r><w:t xml:space="preserve">Punches </w:t></w:r><w:del><w:r><w:delText>were not</w:delText></w:r></w:del><w:ins><w:r><w:t>were</w:t></w:r></w:ins><w:r><w:t xml:space="preserve"> synced within </w:t></w:r>` +
		`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> MERGEFIELD hours </w:instrText></w:r><w:r><w:t>24</w:t></w:r><w:r><w:t xml:space="preserve"> hours.</w:t></w:r></w:p>` +
		wordPara("Heading2", "Open issues") +
		wordPara("ListBullet", "Two tablets needed a PIN reset.") +
		`<w:p><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Both at the Harbor Street store.</w:t></w:r></w:p>` +
		wordPara("StepHeading", "Store status") +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Store</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Kiosks</w:t></w:r></w:p></w:tc></w:tr>` +
		`<w:tr><w:tc><w:p><w:r><w:t>Harbor Street</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>3</w:t></w:r></w:p><w:p><w:r><w:t>(1 spare)</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
		`<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:t>Shown once.</w:t></mc:Choice><mc:Fallback><w:t>Shown once.</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>`
	return buildDOCX(tb, body, map[string]string{"word/styles.xml": styles, "docProps/core.xml": core})
}

// bombSize is what the decompression bombs expand to.
const bombSize = 1 << 30

// repeatedDeflate is a raw DEFLATE stream and what zip and zlib want to
// know about its expansion.
type repeatedDeflate struct {
	raw   []byte
	size  int64  // bytes it inflates to
	crc   uint32 // CRC-32 of those bytes, for a zip header
	adler uint32 // Adler-32 of them, for a zlib trailer
}

// deflateRepeat returns a raw DEFLATE stream that inflates to prefix, then
// unit repeated, then suffix: size bytes in all, rounded up to a whole
// megabyte of units. The expanded bytes are never held, nor compressed
// one by one: a megabyte of units is compressed once, with the 32 KiB of
// units before it as the dictionary, and those compressed blocks are
// written again and again. That is valid DEFLATE because every copy
// starts after the same 32 KiB of history, and it builds a 1 GiB bomb in
// about a second, even under -race (compressing 1 GiB through a
// flate.Writer takes over two minutes there).
func deflateRepeat(prefix, unit, suffix string, size int64) repeatedDeflate {
	const window = 32 << 10 // DEFLATE's history
	block := strings.Repeat(unit, max((1<<20)/len(unit), window/len(unit)+1))
	dict := []byte(block[len(block)-window:])
	n := max((size-int64(len(prefix)+len(suffix))+int64(len(block))-1)/int64(len(block)), 1)

	var out bytes.Buffer
	// The prefix and the first block, flushed to a byte boundary: from
	// here on the history ends with a whole block.
	first, _ := flate.NewWriter(&out, flate.BestCompression)
	first.Write([]byte(prefix))
	first.Write([]byte(block))
	first.Flush()
	// One block after a block, compressed once, written n-1 times.
	var again bytes.Buffer
	w, _ := flate.NewWriterDict(&again, flate.BestCompression, dict)
	w.Write([]byte(block))
	w.Flush()
	for range n - 1 {
		out.Write(again.Bytes())
	}
	// The suffix in the final block.
	last, _ := flate.NewWriterDict(&out, flate.BestCompression, dict)
	last.Write([]byte(suffix))
	last.Close()

	d := repeatedDeflate{raw: out.Bytes(), size: int64(len(prefix)) + n*int64(len(block)) + int64(len(suffix))}
	d.crc = crc32.ChecksumIEEE([]byte(prefix))
	for range n {
		d.crc = crc32.Update(d.crc, crc32.IEEETable, []byte(block))
	}
	d.crc = crc32.Update(d.crc, crc32.IEEETable, []byte(suffix))
	d.adler = adler32.Checksum([]byte(prefix))
	blockAdler := adler32.Checksum([]byte(block))
	for range n {
		d.adler = adler32Combine(d.adler, blockAdler, int64(len(block)))
	}
	d.adler = adler32Combine(d.adler, adler32.Checksum([]byte(suffix)), int64(len(suffix)))
	return d
}

// adler32Combine returns the Adler-32 of A+B from those of A and B and
// the length of B (zlib's adler32_combine), so a gigabyte's checksum costs
// a thousand steps instead of a gigabyte's reading.
func adler32Combine(a, b uint32, lenB int64) uint32 {
	const base = 65521
	rem := uint64(lenB % base)
	s1 := uint64(a & 0xffff)
	s2 := rem * s1 % base
	s1 += uint64(b&0xffff) + base - 1
	s2 += uint64(a>>16) + uint64(b>>16) + base - rem
	return uint32((s2%base)<<16 | s1%base)
}

// zlibStream wraps a raw DEFLATE stream as zlib, as a PDF's FlateDecode
// wants it.
func zlibStream(d repeatedDeflate) []byte {
	z := append([]byte{0x78, 0xda}, d.raw...)
	return binary.BigEndian.AppendUint32(z, d.adler)
}

// repeatedPart is a zip entry of prefix, unit repeated, suffix: about
// size bytes, built by deflateRepeat. declared, if not nil, maps the true
// size to the one the entry's header declares.
type repeatedPart struct {
	name, prefix, unit, suffix string
	size                       int64
	declared                   func(int64) int64
}

// buildRepeatedZip writes a zip of [Content_Types].xml and parts.
func buildRepeatedZip(parts ...repeatedPart) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "[Content_Types].xml", Method: zip.Deflate, Modified: docxTime})
	w.Write([]byte(docxContentTypes))
	for _, p := range parts {
		d := deflateRepeat(p.prefix, p.unit, p.suffix, p.size)
		size := d.size
		if p.declared != nil {
			size = p.declared(size)
		}
		w, _ = zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: docxTime,
			CRC32: d.crc, CompressedSize64: uint64(len(d.raw)), UncompressedSize64: uint64(size)})
		w.Write(d.raw)
	}
	zw.Close()
	return b.Bytes()
}

// bombDOCX is a DOCX of about 1 MB whose word/document.xml inflates to
// 1 GiB: one paragraph of spaces. declared, if not nil, maps the true
// size to the one the entry's header declares.
func bombDOCX(declared func(int64) int64) []byte {
	prefix, suffix, _ := strings.Cut(docxBody(`<w:p><w:r><w:t>`+"\x00"+`</w:t></w:r></w:p>`), "\x00")
	return buildRepeatedZip(repeatedPart{"word/document.xml", prefix, " ", suffix, bombSize, declared})
}

// bombPDF is a one-page PDF of about 1 MB whose content stream inflates
// to 1 GiB of text operators.
func bombPDF() []byte {
	z := zlibStream(deflateRepeat("BT /F1 12 Tf 72 700 Td ", "(x) Tj ", " ET", bombSize))
	return assemblePDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		pdfStream("/Filter /FlateDecode", string(z)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}, "")
}

// objStmBombPDF is a one-page PDF of about 1 MB with a cross-reference
// stream and an object stream (object 7, its /Length indirect in object
// 8) that inflates to 1 GiB: the page's font, object 5, is stored in it
// with a 1 GiB string, which the pdf library's lexer would hold whole.
func objStmBombPDF() []byte {
	z := zlibStream(deflateRepeat("5 0 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Padding (", "a", ") >>", bombSize))
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	offsets := map[int]int{}
	obj := func(num int, body string) {
		offsets[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(3, "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	obj(4, pdfStream("", "BT /F1 12 Tf 72 700 Td (Text.) Tj ET"))
	obj(7, fmt.Sprintf("<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 8 0 R >>\nstream\n%s\nendstream", z))
	obj(8, fmt.Sprint(len(z)))
	const size = 10
	var rows bytes.Buffer
	entry := func(typ, f2, f3 int) {
		rows.WriteByte(byte(typ))
		rows.Write([]byte{byte(f2 >> 24), byte(f2 >> 16), byte(f2 >> 8), byte(f2)})
		rows.Write([]byte{byte(f3 >> 8), byte(f3)})
	}
	xrefAt := b.Len()
	for num := range size {
		switch {
		case num == 0:
			entry(0, 0, 65535)
		case num == 5:
			entry(2, 7, 0)
		case num == 6:
			entry(0, 0, 0)
		case num == 9:
			entry(1, xrefAt, 0)
		default:
			entry(1, offsets[num], 0)
		}
	}
	fmt.Fprintf(&b, "9 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		size, rows.Len(), rows.Bytes())
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xrefAt)
	return b.Bytes()
}
