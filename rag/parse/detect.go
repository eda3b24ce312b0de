package parse

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"
)

// sniffLen is how much of a text file Detect reads to find its format.
const sniffLen = 64 << 10

// Detect returns the format of a file: from its content first (magic bytes,
// then the cues of each text format) and from the extension of name only
// when the content is plain text without cues. Binary content of another
// kind, or no content, is an EINVALID error naming what the file looks like.
func Detect(name string, data []byte) (Format, error) {
	if len(data) == 0 {
		return "", invalidf("empty file")
	}
	if format, err, known := detectBinary(name, data); known {
		return format, err
	}
	head := data[:min(len(data), sniffLen)]
	ext := strings.ToLower(path.Ext(name))
	text, err := decodeText(head)
	if err != nil {
		// Named as a format we read but without its signature: say it is
		// damaged rather than unsupported.
		switch ext {
		case ".pdf":
			return "", invalidf("damaged PDF: the file does not start like a PDF (no %%PDF header); export it again")
		case ".docx":
			return "", invalidf("damaged DOCX: the file is not a Word document archive; save it again as .docx")
		}
		return "", err
	}
	trimmed := strings.TrimLeft(text, " \t\r\n")
	lower := strings.ToLower(trimmed[:min(len(trimmed), 1024)])
	switch {
	case strings.HasPrefix(lower, "<!doctype html"), strings.HasPrefix(lower, "<html"),
		strings.HasPrefix(lower, "<?xml") && strings.Contains(lower, "<html"):
		return HTML, nil
	case strings.HasPrefix(lower, "<svg"), strings.HasPrefix(lower, "<?xml") && strings.Contains(lower, "<svg"):
		return "", invalidf("unsupported file type (looks like an SVG image)")
	case strings.HasPrefix(lower, "<?xml"):
		return "", invalidf("unsupported file type (looks like an XML file)")
	case (strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[")) && (ext == ".json" || json.Valid(bytes.TrimPrefix(data, utf8BOM))):
		return JSON, nil
	case isFAQHeader(firstLine(trimmed)):
		return CSV, nil
	case hasMarkdownCues(trimmed):
		return Markdown, nil
	case looksLikeHTML(lower) && !isMarkdownExt(ext):
		return HTML, nil
	}
	switch {
	case isMarkdownExt(ext):
		return Markdown, nil
	case ext == ".html" || ext == ".htm" || ext == ".xhtml":
		return HTML, nil
	case ext == ".csv" || ext == ".tsv":
		return CSV, nil
	case ext == ".json":
		return JSON, nil
	}
	return Text, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func isMarkdownExt(ext string) bool {
	switch ext {
	case ".md", ".markdown", ".mdown", ".mkd", ".mdx":
		return true
	}
	return false
}

// signature is the magic prefix of a binary format we do not read.
type signature struct {
	offset int
	magic  string
	what   string
}

var signatures = []signature{
	{0, "\x89PNG\r\n\x1a\n", "looks like a PNG image"},
	{0, "\xFF\xD8\xFF", "looks like a JPEG image"},
	{0, "GIF87a", "looks like a GIF image"},
	{0, "GIF89a", "looks like a GIF image"},
	{8, "WEBP", "looks like a WebP image"},
	{0, "II*\x00", "looks like a TIFF image"},
	{0, "MM\x00*", "looks like a TIFF image"},
	{4, "ftyp", "looks like a video or audio file"},
	{0, "ID3", "looks like an MP3 file"},
	{0, "OggS", "looks like an Ogg media file"},
	{0, "\x1F\x8B", "looks like gzip-compressed data; unpack it first"},
	{0, "7z\xBC\xAF\x27\x1C", "looks like a 7-Zip archive"},
	{0, "Rar!\x1A\x07", "looks like a RAR archive"},
	{0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "looks like a legacy Office 97-2003 file; save it as .docx or PDF"},
	{0, "{\\rtf", "looks like an RTF document; save it as .docx or PDF"},
	{0, "%!PS", "looks like a PostScript file; convert it to PDF"},
	{0, "SQLite format 3\x00", "looks like an SQLite database"},
	{0, "\x7FELF", "looks like a program"},
	{0, "wOFF", "looks like a font file"},
	{0, "wOF2", "looks like a font file"},
}

// detectBinary recognises PDF, DOCX and the binary formats we refuse.
// known is false for anything else, which may be text.
func detectBinary(name string, data []byte) (format Format, err error, known bool) {
	if bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return PDF, nil, true
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")) {
		format, err = detectZip(name, data)
		return format, err, true
	}
	for _, s := range signatures {
		if len(data) >= s.offset+len(s.magic) && string(data[s.offset:s.offset+len(s.magic)]) == s.magic {
			return "", invalidf("unsupported file type (%s)", s.what), true
		}
	}
	return "", nil, false
}

// detectZip tells a Word document from the other zip-based formats by the
// part names, which are stored uncompressed in the archive; parseDOCX does
// the real checks.
func detectZip(name string, data []byte) (Format, error) {
	has := func(s string) bool { return bytes.Contains(data, []byte(s)) }
	switch {
	case has("word/document.xml"):
		return DOCX, nil
	case has("xl/workbook"):
		return "", invalidf("unsupported file type (looks like an Excel workbook; export the FAQ sheet as CSV)")
	case has("ppt/presentation"):
		return "", invalidf("unsupported file type (looks like a PowerPoint presentation; export it as PDF)")
	case has("application/vnd.oasis.opendocument"):
		return "", invalidf("unsupported file type (looks like an OpenDocument file; save it as .docx)")
	case has("application/epub+zip"):
		return "", invalidf("unsupported file type (looks like an EPUB e-book)")
	case strings.EqualFold(path.Ext(name), ".docx"):
		return "", invalidf("DOCX has no word/document.xml; is it really a Word document?")
	}
	return "", invalidf("unsupported file type (looks like a ZIP archive)")
}

// hasMarkdownCues reports YAML front matter, an ATX heading ("# Title") or a
// code fence, the marks of Markdown that plain prose does not have.
func hasMarkdownCues(text string) bool {
	if _, _, ok := splitFrontMatter(text); ok {
		return true
	}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimLeft(line, " ")
		if len(line)-len(trimmed) > 3 {
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			return true
		}
		if level := atxLevel(trimmed); level > 0 {
			return true
		}
	}
	return false
}

// atxLevel returns the level of an ATX heading line, or 0.
func atxLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n == len(line) || (line[n] != ' ' && line[n] != '\t') {
		return 0
	}
	if strings.TrimSpace(line[n:]) == "" {
		return 0
	}
	return n
}

// looksLikeHTML reports text that starts with a common HTML tag: a fragment
// saved without <html>.
func looksLikeHTML(lower string) bool {
	if !strings.HasPrefix(lower, "<") {
		return false
	}
	for _, tag := range []string{"<head", "<body", "<meta", "<title", "<div", "<p>", "<p ", "<h1", "<h2", "<article", "<main", "<section", "<table", "<ul", "<!--"} {
		if strings.HasPrefix(lower, tag) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimRight(s[:i], "\r")
	}
	return s
}
