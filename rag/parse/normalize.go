package parse

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeText turns the bytes of a text-based file (plain text, Markdown,
// CSV, JSON, HTML) into a UTF-8 string, or returns an EINVALID error that
// says why it cannot. The policy:
//
//   - A UTF-8 byte-order mark is dropped; UTF-16 with a byte-order mark (what
//     Windows tools call "Unicode") is decoded.
//   - Data with NUL bytes, or where more than 10% of the bytes are control
//     characters, is binary: an error.
//   - Valid UTF-8 is used as is.
//   - If the file has real multi-byte UTF-8 sequences, it is UTF-8 with some
//     damaged bytes: those become U+FFFD, unless they are more than 10% of
//     the file, which is then refused as not UTF-8.
//   - If it has none, it is a legacy 8-bit file. Up to 30% of bytes above
//     ASCII is a Western European language (French runs at a few percent),
//     decoded as Windows-1252 (a superset of Latin-1 and the web's default),
//     so "café" stays "café" rather than becoming "caf\uFFFD". More is
//     another script in an encoding we cannot guess: refused as not UTF-8.
func decodeText(data []byte) (string, error) {
	b, err := decodeTextBytes(data)
	return string(b), err
}

// decodeTextBytes is decodeText without the copy: valid UTF-8 input comes
// back as is, sharing data's memory.
func decodeTextBytes(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		data = data[len(utf8BOM):]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeUTF16(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data[2:], true)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errBinary
	}
	var controls, invalid, multibyte int
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if isControlByte(c) {
				controls++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			invalid++
		} else {
			multibyte++
		}
		i += size
	}
	switch {
	case controls*10 > len(data):
		return nil, errBinary
	case invalid == 0:
		return data, nil
	case multibyte > 0 && invalid*10 > len(data), multibyte == 0 && invalid*10 > len(data)*3:
		return nil, errNotUTF8
	case multibyte > 0:
		return bytes.ToValidUTF8(data, []byte("\uFFFD")), nil
	}
	return decodeWindows1252(data), nil
}

// isControlByte reports the C0 controls that do not occur in text files.
func isControlByte(c byte) bool {
	switch c {
	case '\t', '\n', '\r', '\f', '\v', 0x1B: // ESC appears in ANSI-coloured logs
		return false
	}
	return c < 0x20 || c == 0x7F
}

func decodeUTF16(data []byte, bigEndian bool) ([]byte, error) {
	if len(data)%2 != 0 {
		data = data[:len(data)-1]
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	runes := utf16.Decode(units)
	controls := 0
	for _, r := range runes {
		if r == 0 {
			return nil, errBinary
		}
		if r < utf8.RuneSelf && isControlByte(byte(r)) {
			controls++
		}
	}
	if controls*10 > len(runes) {
		return nil, errBinary
	}
	return []byte(string(runes)), nil
}

// windows1252High maps the bytes 0x80–0x9F, where Windows-1252 differs from
// Latin-1. The five undefined bytes map to U+FFFD.
var windows1252High = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}

func decodeWindows1252(data []byte) []byte {
	b := bytes.NewBuffer(make([]byte, 0, len(data)+len(data)/8))
	for _, c := range data {
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			b.WriteRune(windows1252High[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.Bytes()
}

// cleanText normalises extracted prose: Windows and old-Mac line ends become
// "\n", invisible and control characters go, runs of spaces and tabs collapse
// to one space, lines are trimmed, and more than one blank line in a row
// collapses to one. Newlines are kept: they separate lines and paragraphs.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true // drops leading blank lines
	for _, line := range lines {
		line = cleanLine(line)
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, line)
		blank = false
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// cleanLine is cleanText for one line: every kind of whitespace (newlines
// included) collapses to one space, and the result is trimmed.
func cleanLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			// Kept: it marks a damaged byte, which a reader should see.
		case unicode.IsSpace(r) || r == '\u200B':
			space = b.Len() > 0
			continue
		case r == '\u00AD' || r == '\uFEFF' || r == '\u200C' || r == '\u200D' || r == '\u2060':
			continue // soft hyphen and zero-width marks
		case unicode.IsControl(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if lig, ok := ligatures[r]; ok {
			b.WriteString(lig)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ligatures are the presentation forms PDF fonts emit for "fi", "fl"...;
// searching for "financial" must find "ﬁnancial".
var ligatures = map[rune]string{
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "st", 'ﬆ': "st",
}

// cleanCode normalises a code block: line ends and trailing spaces, but
// never indentation or runs of spaces, which carry meaning in code.
func cleanCode(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRightFunc(strings.Map(dropControl, line), unicode.IsSpace)
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

func dropControl(r rune) rune {
	if r != '\t' && unicode.IsControl(r) {
		return -1
	}
	return r
}

// truncateRunes cuts s to at most n runes, at a rune boundary.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
