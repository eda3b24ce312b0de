package parse

import (
	"bytes"
	"io"
)

// rawTextFilter is an io.Reader over an HTML page that leaves out what the
// parser drops anyway before the tokenizer ever sees it: the contents of
// script, style and the other raw-text elements, and comments. The start
// and end tags stay, so element nesting is unchanged.
//
// Why: x/net/html's tokenizer buffers a whole token, so 50 MB of inline
// <script> would cost 50 MB of buffer and a 50 MB string, only to be thrown
// away. Skipping it here costs one bytes.Index pass and no memory.
type rawTextFilter struct {
	data    []byte
	pos     int
	pending []byte
}

// skippedRawText are the raw-text elements whose contents are dropped. The
// tokenizer reads each of them up to its matching end tag; so does the
// filter. title and textarea are RCDATA: passed through whole, so a
// "<script" inside a title is not mistaken for a tag.
var skippedRawText = map[string]bool{
	"script": true, "style": true, "noscript": true, "iframe": true,
	"noembed": true, "noframes": true, "xmp": true, "textarea": true,
}

func newRawTextFilter(data []byte) *rawTextFilter {
	return &rawTextFilter{data: data}
}

func (f *rawTextFilter) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(f.pending) == 0 {
			if f.pos >= len(f.data) {
				break
			}
			f.pending = f.next()
			continue
		}
		c := copy(p[n:], f.pending)
		f.pending = f.pending[c:]
		n += c
	}
	if n == 0 && f.pos >= len(f.data) && len(f.pending) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// next returns the next piece of output and advances pos past it. Every
// call advances pos by at least one byte.
func (f *rawTextFilter) next() []byte {
	start := f.pos
	rest := f.data[start:]
	lt := bytes.IndexByte(rest, '<')
	switch {
	case lt < 0:
		f.pos = len(f.data)
		return rest
	case lt > 0:
		f.pos += lt
		return rest[:lt]
	case bytes.HasPrefix(rest, []byte("<!--")):
		end := bytes.Index(rest[4:], []byte("-->"))
		if end < 0 {
			f.pos = len(f.data)
		} else {
			f.pos += 4 + end + 3
		}
		return nil
	}
	name, tagEnd := startTag(rest)
	if name == "" {
		f.pos++
		return rest[:1]
	}
	f.pos += tagEnd
	selfClosing := tagEnd >= 2 && rest[tagEnd-2] == '/'
	switch {
	case name == "plaintext":
		f.pos = len(f.data) // everything after <plaintext> is its text
	case skippedRawText[name] && !selfClosing:
		f.pos += endTagIndex(f.data[f.pos:], name)
	case name == "title":
		f.pos += endTagIndex(f.data[f.pos:], name)
		return f.data[start:f.pos]
	}
	return rest[:tagEnd]
}

// startTag parses the start tag at the beginning of s ("<name ...>") and
// returns its lower-cased name and length, honouring quoted attribute
// values. name is empty if s does not start with a start tag.
func startTag(s []byte) (name string, length int) {
	i := 1
	for i < len(s) && isASCIIAlnum(s[i]) {
		i++
	}
	if i == 1 || !isASCIILetter(s[1]) {
		return "", 0
	}
	name = string(bytes.ToLower(s[1:i]))
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			if j := lastNonSpace(s[:i]); j >= 0 && s[j] == '=' {
				quote = c
			}
		case c == '>':
			return name, i + 1
		}
	}
	return name, len(s)
}

// endTagIndex returns the index of the end tag "</name" (any case, followed
// by whitespace, "/" or ">") in s, or len(s) if there is none: the
// tokenizer, too, reads a raw-text element to the end of the input then.
func endTagIndex(s []byte, name string) int {
	for off := 0; ; {
		i := bytes.Index(s[off:], []byte("</"))
		if i < 0 {
			return len(s)
		}
		at := off + i
		tag := s[at+2:]
		if len(tag) >= len(name) && bytes.EqualFold(tag[:len(name)], []byte(name)) {
			if len(tag) == len(name) {
				return at
			}
			switch tag[len(name)] {
			case ' ', '\t', '\n', '\f', '\r', '/', '>':
				return at
			}
		}
		off = at + 2
	}
}

func lastNonSpace(s []byte) int {
	for j := len(s) - 1; j >= 0; j-- {
		switch s[j] {
		case ' ', '\t', '\n', '\r', '\f':
			continue
		}
		return j
	}
	return -1
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isASCIIAlnum(c byte) bool { return isASCIILetter(c) || c >= '0' && c <= '9' }
