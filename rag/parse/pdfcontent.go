package parse

import (
	"bytes"
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// The content-stream interpreter: it follows the text state and the
// transformation matrices well enough to know where each piece of text
// sits, which the library's GetPlainText does not (it ignores Td, so
// lines run together) and its Content does without limits.

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n (apply m, then n).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func translate(tx, ty float64) matrix { return matrix{1, 0, 0, 1, tx, ty} }

// pdfRun is text shown by one operator, in device space.
type pdfRun struct {
	x0, x1, y float64 // start and end of the baseline
	size      float64 // font size as drawn
	text      string
	spaced    bool // a TJ kerning gap wide enough to be a word space came before it
}

// graphicsState is the part of the graphics state that places text.
type graphicsState struct {
	ctm                                            matrix
	font                                           *pdfFont
	fontSize, charSpace, wordSpace, scale, leading float64
	rise                                           float64
}

// Bounds on one page's interpretation.
const (
	maxFormDepth   = 8
	maxFormCalls   = 4096
	maxStateStack  = 256
	maxOperands    = 64
	opsPerCtxCheck = 4096
	tjSpaceKerning = 200 // thousandths of an em: a TJ gap this wide is a word space
)

// contentInterp interprets the content streams of one page.
type contentInterp struct {
	e         *pdfExtractor
	gs        graphicsState
	saved     []graphicsState
	tm, tlm   matrix
	lines     lineBuilder
	spaced    bool
	formCalls int
	active    map[string]bool // the forms being drawn, to stop recursion
	ops       int
}

func newContentInterp(e *pdfExtractor) *contentInterp {
	return &contentInterp{e: e, gs: graphicsState{ctm: identity, scale: 1}, active: map[string]bool{}}
}

// run interprets one content stream with the given resources. depth counts
// nested form XObjects.
func (c *contentInterp) run(data []byte, resources pdf.Value, depth int) error {
	lx := &pdfLexer{data: data}
	var operands []any
	for {
		tok := lx.token()
		switch t := tok.(type) {
		case nil:
			return nil
		case pdfKeyword:
			switch t {
			case "[":
				arr, _ := lx.array(0)
				operands = pushOperand(operands, arr)
				continue
			case "<<":
				d, _ := lx.dict(0)
				operands = pushOperand(operands, d)
				continue
			case "]", ">>", ">", "{", "}", ")":
				continue
			case "BI":
				skipInlineImage(lx)
				operands = operands[:0]
				continue
			}
			if err := c.op(string(t), operands, resources, depth); err != nil {
				return err
			}
			operands = operands[:0]
			if c.ops++; c.ops%opsPerCtxCheck == 0 {
				if err := c.e.ctx.Err(); err != nil {
					return err
				}
			}
		default:
			operands = pushOperand(operands, tok)
		}
	}
}

// pushOperand keeps the last maxOperands operands: no operator takes more,
// and garbage between operators must not pile up.
func pushOperand(ops []any, v any) []any {
	if len(ops) >= maxOperands {
		copy(ops, ops[1:])
		ops = ops[:len(ops)-1]
	}
	return append(ops, v)
}

// skipInlineImage skips "BI ... ID <binary data> EI".
func skipInlineImage(lx *pdfLexer) {
	for {
		tok := lx.token()
		if tok == nil {
			return
		}
		if kw, ok := tok.(pdfKeyword); ok && kw == "ID" {
			break
		}
	}
	data := lx.data[lx.pos:]
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("EI"))
		if i < 0 {
			lx.pos = len(lx.data)
			return
		}
		at := off + i
		before := at == 0 || isPDFSpace(data[at-1])
		after := at+2 >= len(data) || isPDFSpace(data[at+2])
		if before && after {
			lx.pos += at + 2
			return
		}
		off = at + 2
	}
}

func nums(ops []any, n int) ([]float64, bool) {
	if len(ops) < n {
		return nil, false
	}
	out := make([]float64, n)
	for i, v := range ops[len(ops)-n:] {
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		out[i] = f
	}
	return out, true
}

func (c *contentInterp) op(op string, ops []any, resources pdf.Value, depth int) error {
	switch op {
	case "q":
		if len(c.saved) < maxStateStack {
			c.saved = append(c.saved, c.gs)
		}
	case "Q":
		if n := len(c.saved); n > 0 {
			c.gs = c.saved[n-1]
			c.saved = c.saved[:n-1]
		}
	case "cm":
		if v, ok := nums(ops, 6); ok {
			c.gs.ctm = matrix(v).mul(c.gs.ctm)
		}
	case "BT":
		c.tm, c.tlm = identity, identity
	case "Tf":
		if len(ops) >= 2 {
			if name, ok := ops[len(ops)-2].(pdfName); ok {
				c.gs.font = c.e.font(resources, string(name))
			}
			if v, ok := nums(ops, 1); ok {
				c.gs.fontSize = v[0]
			}
		}
	case "Tc":
		if v, ok := nums(ops, 1); ok {
			c.gs.charSpace = v[0]
		}
	case "Tw":
		if v, ok := nums(ops, 1); ok {
			c.gs.wordSpace = v[0]
		}
	case "Tz":
		if v, ok := nums(ops, 1); ok {
			c.gs.scale = v[0] / 100
		}
	case "TL":
		if v, ok := nums(ops, 1); ok {
			c.gs.leading = v[0]
		}
	case "Ts":
		if v, ok := nums(ops, 1); ok {
			c.gs.rise = v[0]
		}
	case "Td":
		if v, ok := nums(ops, 2); ok {
			c.moveText(v[0], v[1])
		}
	case "TD":
		if v, ok := nums(ops, 2); ok {
			c.gs.leading = -v[1]
			c.moveText(v[0], v[1])
		}
	case "Tm":
		if v, ok := nums(ops, 6); ok {
			c.tm, c.tlm = matrix(v), matrix(v)
		}
	case "T*":
		c.moveText(0, -c.gs.leading)
	case "Tj", "'", "\"":
		if op != "Tj" {
			c.moveText(0, -c.gs.leading)
		}
		if op == "\"" {
			if v, ok := nums(ops[:max(len(ops)-1, 0)], 2); ok {
				c.gs.wordSpace, c.gs.charSpace = v[0], v[1]
			}
		}
		if len(ops) > 0 {
			if s, ok := ops[len(ops)-1].(pdfString); ok {
				c.show(string(s))
			}
		}
	case "TJ":
		if len(ops) > 0 {
			if arr, ok := ops[len(ops)-1].(pdfArray); ok {
				c.showArray(arr)
			}
		}
	case "Do":
		if len(ops) > 0 {
			if name, ok := ops[len(ops)-1].(pdfName); ok {
				return c.form(resources, string(name), depth)
			}
		}
	}
	return nil
}

func (c *contentInterp) moveText(tx, ty float64) {
	c.tlm = translate(tx, ty).mul(c.tlm)
	c.tm = c.tlm
}

// show draws a string: it advances the text matrix glyph by glyph, as a
// viewer would, and records the text with where it starts and ends.
func (c *contentInterp) show(s string) {
	font := c.gs.font
	if font == nil {
		font = &pdfFont{codeLen: 1, scale: 0.001} // a stream that shows text before choosing a font
	}
	fs, h := c.gs.fontSize, c.gs.scale
	start := c.tm.mul(c.gs.ctm)
	var text strings.Builder
	font.decode(s, func(g pdfGlyph) {
		text.WriteString(g.text)
		tx := g.width*fs + c.gs.charSpace
		if g.space {
			tx += c.gs.wordSpace
		}
		c.tm = translate(tx*h, 0).mul(c.tm)
	})
	end := c.tm.mul(c.gs.ctm)
	if text.Len() == 0 {
		return
	}
	size := math.Abs(fs) * math.Hypot(start[2], start[3])
	rise := c.gs.rise * math.Hypot(start[2], start[3])
	c.lines.add(pdfRun{
		x0: start[4], x1: end[4], y: start[5] + rise, size: size,
		text: text.String(), spaced: c.spaced,
	})
	c.spaced = false
}

// showArray draws a TJ array: strings, and numbers that move the next
// glyph left (positive) or right (negative) in thousandths of an em.
func (c *contentInterp) showArray(arr pdfArray) {
	for _, v := range arr {
		switch v := v.(type) {
		case pdfString:
			c.show(string(v))
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			c.tm = translate(-v/1000*c.gs.fontSize*c.gs.scale, 0).mul(c.tm)
			if -v >= tjSpaceKerning {
				c.spaced = true
			}
		}
	}
}

// form runs a form XObject, which is a content stream of its own, with
// its matrix and resources.
func (c *contentInterp) form(resources pdf.Value, name string, depth int) error {
	xobj := resources.Key("XObject").Key(name)
	if xobj.Kind() != pdf.Stream || xobj.Key("Subtype").Name() != "Form" {
		return nil
	}
	key := xobj.String() // the stream's dictionary and file offset: unique per stream
	if depth >= maxFormDepth || c.formCalls >= maxFormCalls || c.active[key] {
		return nil // a form that draws itself draws once
	}
	c.formCalls++
	data, err := c.e.formData(xobj, key)
	if err != nil {
		return err
	}
	c.active[key] = true
	defer delete(c.active, key)
	saved, savedLen := c.gs, len(c.saved)
	if m := xobj.Key("Matrix"); m.Len() == 6 {
		var fm matrix
		for i := range fm {
			fm[i] = m.Index(i).Float64()
		}
		c.gs.ctm = fm.mul(c.gs.ctm)
	}
	res := xobj.Key("Resources")
	if res.Kind() != pdf.Dict {
		res = resources
	}
	err = c.run(data, res, depth+1)
	c.gs, c.saved = saved, c.saved[:min(savedLen, len(c.saved))]
	return err
}

// pdfLine is a line of text on a page.
type pdfLine struct {
	text string
	y    float64
	size float64 // the size most of its characters have
}

// lineBuilder joins runs into lines as the page draws them, so memory
// follows the text rather than the number of drawing operations: a run on
// the same baseline continues the line (with a space if there is a gap),
// any other run starts a new one. Draw order is reading order in the PDFs
// people upload far more often than sorting by position would be.
type lineBuilder struct {
	lines        []pdfLine
	cur          strings.Builder
	curY, lastX1 float64
	started      bool
	sizes        map[float64]int // characters per font size in the line
}

func (b *lineBuilder) add(r pdfRun) {
	size := math.Max(r.size, 1)
	switch {
	case !b.started:
		b.started = true
	case math.Abs(r.y-b.curY) > 0.5*size:
		b.finish()
	case r.spaced || r.x0-b.lastX1 > 0.15*size || b.lastX1-r.x0 > 2*size:
		b.cur.WriteByte(' ')
	}
	if b.cur.Len() == 0 {
		b.curY = r.y
	}
	b.cur.WriteString(r.text)
	if b.sizes == nil {
		b.sizes = map[float64]int{}
	}
	b.sizes[math.Round(r.size*2)/2] += len(r.text)
	b.lastX1 = r.x1
}

// finish ends the current line.
func (b *lineBuilder) finish() {
	if text := cleanLine(b.cur.String()); text != "" {
		b.lines = append(b.lines, pdfLine{text: text, y: b.curY, size: dominantSize(b.sizes)})
	}
	b.cur.Reset()
	clear(b.sizes)
}

func dominantSize(sizes map[float64]int) float64 {
	best, bestN := 0.0, -1
	for s, n := range sizes {
		if n > bestN || n == bestN && s > best {
			best, bestN = s, n
		}
	}
	return best
}
