package parse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"llmops/store"
)

// validPDF is a small, valid PDF to cut up.
func validPDF() []byte {
	return buildPDF("Valid", [][]testLine{{{"F1", 12, "A valid page of text."}}})
}

// randomBytes returns deterministic noise without a known magic number.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[0] = 0x01
	return b
}

// encryptedPDF has a standard security handler whose password is not
// empty; the library cannot open it.
func encryptedPDF() []byte {
	o := strings.Repeat("4f", 32)
	u := strings.Repeat("75", 32)
	return assemblePDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
	}, fmt.Sprintf("/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /O <%s> /U <%s> /P -1084 >> /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] ", o, u))
}

// docxBomb is a DOCX whose document.xml inflates to size bytes of spaces,
// which compress about a thousand to one.
func docxBomb(tb testing.TB, size int) []byte {
	doc := docxBody(`<w:p><w:r><w:t>` + strings.Repeat(" ", size) + `</w:t></w:r></w:p>`)
	return buildZip(tb, map[string]string{"[Content_Types].xml": docxContentTypes, "word/document.xml": doc})
}

func TestBadInput(t *testing.T) {
	half := validPDF()
	half = half[:len(half)/2]
	small := DefaultLimits()
	small.MaxUncompressed = 1 << 20

	tests := []struct {
		name     string
		file     string
		data     []byte
		lim      Limits
		wantCode string
		phrase   string
	}{
		{"empty", "notes.txt", nil, Limits{}, store.EINVALID, "empty file"},
		{"png", "diagram.md", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"), Limits{}, store.EINVALID, "PNG image"},
		{"jpeg", "photo.pdf", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), Limits{}, store.EINVALID, "JPEG image"},
		{"random binary", "blob.txt", randomBytes(4096), Limits{}, store.EINVALID, "unsupported file type"},
		{"legacy doc", "old.doc", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"), Limits{}, store.EINVALID, "legacy Office"},
		{"encrypted pdf", "secret.pdf", encryptedPDF(), Limits{}, store.EINVALID, "PDF is encrypted"},
		{"truncated pdf", "cut.pdf", half, Limits{}, store.EINVALID, "truncated or damaged"},
		{"garbage after header", "junk.pdf", append([]byte("%PDF-1.7\n"), randomBytes(2000)...), Limits{}, store.EINVALID, "truncated or damaged"},
		{"pdf without text", "scan.pdf", buildPDF("", [][]testLine{{}}), Limits{}, store.EINVALID, "is it a scanned PDF?"},
		{"docx zip bomb", "bomb.docx", docxBomb(t, 8<<20), small, store.ETOOLARGE, "DOCX expands past 1 MiB (possible zip bomb)"},
		{"docx path traversal", "evil.docx", buildZip(t, map[string]string{"word/document.xml": docxBody(wordPara("", "hi")), "../evil": "x"}), Limits{}, store.EINVALID, `unsafe path "../evil"`},
		{"docx absolute path", "evil.docx", buildZip(t, map[string]string{"word/document.xml": docxBody(wordPara("", "hi")), "/etc/passwd": "x"}), Limits{}, store.EINVALID, "unsafe path"},
		{"docx backslash", "evil.docx", buildZip(t, map[string]string{"word/document.xml": docxBody(wordPara("", "hi")), `word\..\x`: "x"}), Limits{}, store.EINVALID, "unsafe path"},
		{"docx without document.xml", "empty.docx", buildZip(t, map[string]string{"[Content_Types].xml": docxContentTypes, "word/styles.xml": "<w:styles/>"}), Limits{}, store.EINVALID, "no word/document.xml"},
		{"docx broken xml", "broken.docx", buildZip(t, map[string]string{"word/document.xml": "<w:document><w:body><w:p>"}), Limits{}, store.EINVALID, "DOCX is damaged"},
		{"zip that is not docx", "archive.zip", buildZip(t, map[string]string{"readme.txt": "hello"}), Limits{}, store.EINVALID, "ZIP archive"},
		{"xlsx", "faq.xlsx", buildZip(t, map[string]string{"xl/workbook.xml": "<workbook/>"}), Limits{}, store.EINVALID, "Excel workbook"},
		{"invalid utf-8", "notes.txt", bytes.Repeat([]byte("ab\xff\xfe\xfd"), 100), Limits{}, store.EINVALID, "not valid UTF-8 text"},
		{"nul bytes", "notes.txt", []byte("plain text\x00with a NUL byte"), Limits{}, store.EINVALID, "binary data"},
		{"pdf without its header", "broken.pdf", []byte("\x00\x01garbage\xff\xfe bytes of a truncated download"), Limits{}, store.EINVALID, "damaged PDF"},
		{"docx that is not a zip", "broken.docx", []byte("\x00\x01garbage\xff\xfe"), Limits{}, store.EINVALID, "damaged DOCX"},
		{"csv without faq columns", "people.csv", []byte("name,email\nAda,ada@example.com\n"), Limits{}, store.EINVALID, "question and answer columns (found: name, email)"},
		{"csv with a broken quote", "faq.csv", []byte("question,answer\n\"How?,\"Like \"\"this\n"), Limits{}, store.EINVALID, "CSV is malformed"},
		{"json of the wrong shape", "faq.json", []byte(`{"users": [{"name": "Ada"}]}`), Limits{}, store.EINVALID, "JSON FAQ must be an array"},
		{"json array without faq fields", "faq.json", []byte(`[{"name": "Ada"}]`), Limits{}, store.EINVALID, "JSON FAQ must be an array"},
		{"json syntax error", "faq.json", []byte(`[{"question": "Why?", "answer": }]`), Limits{}, store.EINVALID, "not valid JSON"},
		{"markdown without text", "empty.md", []byte("---\ntitle: Empty\n---\n\n<!-- nothing -->\n"), Limits{}, store.EINVALID, "no text found in empty.md"},
		{"svg", "logo.html", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), Limits{}, store.EINVALID, "SVG image"},
		{"too large", "big.txt", bytes.Repeat([]byte("a"), 2<<20), Limits{MaxBytes: 1 << 20}, store.ETOOLARGE, "file is 2 MiB; the limit is 1 MiB"},
		{"too many sections", "many.md", []byte(strings.Repeat("# H\n\ntext\n\n", 20)), Limits{MaxSections: 10}, store.ETOOLARGE, "more than 10 sections"},
		{"too many pages", "long.pdf", buildPDF("Long", [][]testLine{{{"F1", 10, "one"}}, {{"F1", 10, "two"}}, {{"F1", 10, "three"}}}), Limits{MaxPages: 2}, store.ETOOLARGE, "more than 2 pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Parse(testCtx(t), tt.file, tt.data, tt.lim)
			if err == nil {
				t.Fatalf("Parse succeeded with %d sections; want an error containing %q", len(doc.Sections), tt.phrase)
			}
			var se *store.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *store.Error", err, err)
			}
			if se.Code != tt.wantCode {
				t.Errorf("code = %q, want %q (%v)", se.Code, tt.wantCode, err)
			}
			if !strings.Contains(se.Message, tt.phrase) {
				t.Errorf("message %q does not contain %q", se.Message, tt.phrase)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, data := range map[string][]byte{"a.md": []byte("# Hi\n\ntext"), "a.pdf": validPDF()} {
		if _, err := Parse(ctx, name, data, DefaultLimits()); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
}

// TestHTMLHugeScript checks that a huge inline script is skipped without
// being tokenized or copied: parsing it allocates a small fraction of its
// size (a tokenizer would buffer it whole, then copy it into a string),
// and its text must not show. Counting bytes, not seconds, keeps the
// check the same on a busy machine.
func TestHTMLHugeScript(t *testing.T) {
	const size = 16 << 20
	line := "var tracker = {id: 'SCRIPT-TEXT', n: 1 < 2 && 3 > 2}; // analytics\n"
	data := slices.Concat(
		[]byte("<!doctype html><html><head><title>Big</title><script>"),
		bytes.Repeat([]byte(line), size/len(line)),
		[]byte("</script></head><body><main><h1>Big</h1><p>The real article.</p></main></body></html>"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	doc, err := Parse(testCtx(t), "big.html", data, Limits{MaxBytes: 128 << 20})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
		t.Errorf("parsing %d MB of script allocated %d KB, want under %d KB", size>>20, alloc>>10, size/8>>10)
	}
	all := checkSections(t, doc)
	if strings.Contains(all, "SCRIPT-TEXT") || !strings.Contains(all, "The real article.") {
		t.Errorf("got %q, want only the article text", all)
	}
}

// TestHostilePDF feeds structures that make a naive reader of
// ledongthuc/pdf loop forever or exhaust memory. Each must end, quickly,
// with an error or with text.
func TestHostilePDF(t *testing.T) {
	page := "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
	content := pdfStream("", "BT /F1 12 Tf 72 700 Td (Still readable.) Tj ET")
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	bomb := make([]byte, 4<<20)
	for i := range bomb {
		bomb[i] = " (x) Tj"[i%7]
	}
	small := DefaultLimits()
	small.MaxUncompressed = 1 << 20

	tests := []struct {
		name  string
		data  []byte
		lim   Limits
		check func(t *testing.T, doc *Document, err error)
	}{
		{
			name:  "page tree that contains itself",
			data:  assemblePDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page, content, font}, ""),
			check: wantText("Still readable."),
		},
		{
			name: "resources inherited from a parent cycle",
			data: assemblePDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 2 0 R >>",
				"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", content, font}, ""),
			check: wantText("Still readable."),
		},
		{
			name:  "xref section declaring four billion objects",
			data:  bytes.Replace(validPDF(), []byte("xref\n0 "), []byte("xref\n4000000000 "), 1),
			check: wantError(store.EINVALID, "truncated or damaged"),
		},
		{
			name:  "xref /Prev pointing at itself",
			data:  selfPrevPDF(),
			check: wantNoHang,
		},
		{
			name: "decompression bomb in a content stream",
			data: assemblePDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page,
				flateStream("", bomb), font}, ""),
			lim:   small,
			check: wantError(store.ETOOLARGE, "PDF expands past 1 MiB"),
		},
		{
			name: "ToUnicode map declaring 10^11 entries",
			data: assemblePDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, content,
				"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
				pdfStream("", "1 begincodespacerange <00> <FF> endcodespacerange 99999999999 beginbfchar <41> <0041> endbfchar")}, ""),
			check: wantText("Still readable."),
		},
		{
			name: "form XObject that draws itself",
			data: assemblePDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
				"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << /X 6 0 R >> >> >>",
				pdfStream("", "BT /F1 12 Tf 72 700 Td (Page text.) Tj ET /X Do"), font,
				pdfStream("/Type /XObject /Subtype /Form /Resources << /Font << /F1 5 0 R >> /XObject << /X 6 0 R >> >>", "BT /F1 12 Tf 72 600 Td (Form text.) Tj ET /X Do")}, ""),
			check: wantText("Form text."),
		},
		{
			name:  "a sound cross-reference stream",
			data:  xrefStreamPDF(nil),
			check: wantText("Via an xref stream."),
		},
		{
			name:  "object stream stored in itself",
			data:  xrefStreamPDF(map[int][3]int{6: {2, 6, 0}}),
			check: wantError(store.EINVALID, "object stream 6 is itself inside an object stream"),
		},
		{
			name:  "object stream stored in another object stream",
			data:  xrefStreamPDF(map[int][3]int{6: {2, 7, 0}, 7: {2, 6, 0}}),
			check: wantError(store.EINVALID, "is itself inside an object stream"),
		},
		{
			name:  "xref stream declaring four billion objects",
			data:  bytes.Replace(xrefStreamPDF(nil), []byte("/Size 8"), []byte("/Size 4000000000"), 1),
			check: wantError(store.EINVALID, "declares objects"),
		},
		{
			name:  "PNG predictor with four billion columns",
			data:  bytes.Replace(validPDF(), []byte("<<  /Length"), []byte("<< /DecodeParms << /Predictor 12 /Columns 4000000000 >> /Length"), 1),
			check: wantError(store.EINVALID, "/Columns 4000000000 is out of range"),
		},
		{
			name: "object stream claiming 10^11 objects",
			data: assemblePDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, content, font,
				pdfStream("/Type /ObjStm /N 99999999999 /First 4", "9 0 << >>")}, ""),
			check: wantError(store.EINVALID, "/N 99999999999 is out of range"),
		},
		{
			name:  "PDF 2.0 header",
			data:  append([]byte("%PDF-2.0"), validPDF()[8:]...),
			check: wantText("A valid page of text."),
		},
		{
			name:  "junk before the header and after the end",
			data:  append(append([]byte("Content-Type: application/pdf\r\n\r\n"), validPDF()...), bytes.Repeat([]byte("\x00junk"), 100)...),
			check: wantText("A valid page of text."),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := tt.lim
			if lim == (Limits{}) {
				lim = DefaultLimits()
			}
			start := time.Now()
			doc, err := Parse(testCtx(t), "hostile.pdf", tt.data, lim)
			if elapsed := time.Since(start); elapsed > slowParse {
				t.Errorf("took %v", elapsed)
			}
			tt.check(t, doc, err)
		})
	}
}

// xrefStreamPDF is a one-page PDF whose cross-reference table is a
// stream (uncompressed, W [1 4 2]). extra adds entries: object number →
// {type, field 2, field 3}; type 2 means "object field2 is stored in
// object stream field 2 at index field 3". The catalog's /Extra points at
// object 6, so the reader resolves it.
func xrefStreamPDF(extra map[int][3]int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R /Extra 6 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		pdfStream("", "BT /F1 12 Tf 72 700 Td (Via an xref stream.) Tj ET"),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	offsets := map[int]int{}
	for i, obj := range objects {
		offsets[i+1] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	const size = 8
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
		case offsets[num] > 0:
			entry(1, offsets[num], 0)
		case num == size-1 && extra[num] == [3]int{}:
			entry(1, xrefAt, 0) // the xref stream itself
		default:
			e := extra[num]
			entry(e[0], e[1], e[2])
		}
	}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		size-1, size, rows.Len(), rows.Bytes())
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xrefAt)
	return b.Bytes()
}

// selfPrevPDF is a valid PDF whose trailer says the previous
// cross-reference section is the same one.
func selfPrevPDF() []byte {
	data := validPDF()
	start := bytes.LastIndex(data, []byte("startxref\n")) + len("startxref\n")
	off := strings.TrimSpace(string(data[start:bytes.LastIndex(data, []byte("%%EOF"))]))
	return bytes.Replace(data, []byte("/Root 1 0 R "), []byte("/Root 1 0 R /Prev "+off+" "), 1)
}

func wantText(s string) func(*testing.T, *Document, error) {
	return func(t *testing.T, doc *Document, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if all := checkSections(t, doc); !strings.Contains(all, s) {
			t.Errorf("text %q does not contain %q", all, s)
		}
	}
}

func wantError(code, phrase string) func(*testing.T, *Document, error) {
	return func(t *testing.T, doc *Document, err error) {
		t.Helper()
		var se *store.Error
		if !errors.As(err, &se) || se.Code != code || !strings.Contains(se.Message, phrase) {
			t.Errorf("err = %v, want a %s error containing %q", err, code, phrase)
		}
	}
}

// wantNoHang accepts any outcome that is a document with text or a coded
// error: the point is that Parse returned.
func wantNoHang(t *testing.T, doc *Document, err error) {
	t.Helper()
	var se *store.Error
	if err != nil && !errors.As(err, &se) {
		t.Errorf("err = %v (%T), want a *store.Error", err, err)
	}
	if err == nil {
		checkSections(t, doc)
	}
}
