package parse

import (
	"strconv"
)

// This file is a small reader of PDF syntax, for the two jobs the pdf
// library cannot be trusted with: checking a file's cross-reference
// structure before the library walks it (pdfxref.go), and interpreting
// content streams and font maps under our own limits (pdfcontent.go,
// pdffont.go). It never panics, and nesting is bounded.

// PDF object values as the lexer returns them.
type (
	pdfName    string
	pdfString  string // raw bytes of a literal or hex string
	pdfKeyword string // operators and bare words: "Tj", "obj", "R", "true"
	pdfArray   []any
	pdfDict    map[pdfName]any
	pdfRef     struct{ num, gen int }
)

// Numbers are float64; PDF integers in the ranges that matter (offsets,
// object numbers, counts) are exact in a float64.

const maxPDFNesting = 64

type pdfLexer struct {
	data []byte
	pos  int
}

func isPDFSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// skipSpace skips whitespace and comments.
func (l *pdfLexer) skipSpace() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case isPDFSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// token returns the next token: float64, pdfName, pdfString, pdfKeyword,
// or a delimiter as a pdfKeyword ("[", "]", "<<", ">>", "{", "}"). At the
// end of data it returns nil.
func (l *pdfLexer) token() any {
	l.skipSpace()
	if l.pos >= len(l.data) {
		return nil
	}
	c := l.data[l.pos]
	switch c {
	case '/':
		l.pos++
		return l.name()
	case '(':
		l.pos++
		return l.literalString()
	case '<':
		if l.pos+1 < len(l.data) && l.data[l.pos+1] == '<' {
			l.pos += 2
			return pdfKeyword("<<")
		}
		l.pos++
		return l.hexString()
	case '>':
		l.pos++
		if l.pos < len(l.data) && l.data[l.pos] == '>' {
			l.pos++
			return pdfKeyword(">>")
		}
		return pdfKeyword(">")
	case '[', ']', '{', '}', ')':
		l.pos++
		return pdfKeyword(string(c))
	}
	start := l.pos
	for l.pos < len(l.data) && !isPDFSpace(l.data[l.pos]) && !isPDFDelim(l.data[l.pos]) {
		l.pos++
	}
	word := l.data[start:l.pos]
	if c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') {
		if f, err := strconv.ParseFloat(string(word), 64); err == nil {
			return f
		}
	}
	return pdfKeyword(word)
}

func (l *pdfLexer) name() pdfName {
	var b []byte
	for l.pos < len(l.data) && !isPDFSpace(l.data[l.pos]) && !isPDFDelim(l.data[l.pos]) {
		c := l.data[l.pos]
		l.pos++
		if c == '#' && l.pos+1 < len(l.data) {
			if h, ok := unhex2(l.data[l.pos], l.data[l.pos+1]); ok {
				b = append(b, h)
				l.pos += 2
				continue
			}
		}
		b = append(b, c)
	}
	return pdfName(b)
}

func (l *pdfLexer) literalString() pdfString {
	var b []byte
	depth := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return pdfString(b)
			}
		case '\\':
			if l.pos >= len(l.data) {
				return pdfString(b)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for i := 0; i < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; i++ {
					v = v*8 + int(l.data[l.pos]-'0')
					l.pos++
				}
				c = byte(v)
			default:
				c = e // \( \) \\ and unknown escapes stand for the character
			}
		}
		b = append(b, c)
	}
	return pdfString(b)
}

func (l *pdfLexer) hexString() pdfString {
	var b []byte
	var hi byte
	half := false
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v, ok := unhex1(c)
		if !ok {
			continue
		}
		if half {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		b = append(b, hi<<4)
	}
	return pdfString(b)
}

func unhex1(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex1(a)
	y, ok2 := unhex1(b)
	return x<<4 | y, ok1 && ok2
}

// object reads one complete object: a number, string, name, keyword,
// array, dictionary or "n g R" reference. Arrays and dictionaries nest at
// most maxPDFNesting deep.
func (l *pdfLexer) object(depth int) (any, error) {
	if depth > maxPDFNesting {
		return nil, errPDFSyntax
	}
	tok := l.token()
	switch t := tok.(type) {
	case nil:
		return nil, errPDFSyntax
	case float64:
		return l.maybeRef(t), nil
	case pdfKeyword:
		switch t {
		case "[":
			return l.array(depth)
		case "<<":
			return l.dict(depth)
		}
	}
	return tok, nil
}

// maybeRef turns "n g R" into a pdfRef, or leaves n alone.
func (l *pdfLexer) maybeRef(n float64) any {
	save := l.pos
	if n >= 0 && n == float64(int(n)) {
		if g, ok := l.token().(float64); ok && g >= 0 && g == float64(int(g)) {
			if kw, ok := l.token().(pdfKeyword); ok && kw == "R" {
				return pdfRef{int(n), int(g)}
			}
		}
	}
	l.pos = save
	return n
}

func (l *pdfLexer) array(depth int) (pdfArray, error) {
	var a pdfArray
	for {
		l.skipSpace()
		if l.pos >= len(l.data) {
			return a, errPDFSyntax
		}
		if l.data[l.pos] == ']' {
			l.pos++
			return a, nil
		}
		v, err := l.object(depth + 1)
		if err != nil {
			return a, err
		}
		a = append(a, v)
	}
}

func (l *pdfLexer) dict(depth int) (pdfDict, error) {
	d := pdfDict{}
	for {
		tok := l.token()
		switch t := tok.(type) {
		case nil:
			return d, errPDFSyntax
		case pdfKeyword:
			if t == ">>" {
				return d, nil
			}
			return d, errPDFSyntax
		case pdfName:
			v, err := l.object(depth + 1)
			if err != nil {
				return d, err
			}
			d[t] = v
		default:
			return d, errPDFSyntax
		}
	}
}

// pdfInt returns v as an int if it is a whole number within ±2^53.
func pdfInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int(f), true
}
