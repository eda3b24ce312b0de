package parse

import (
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// pdfFont turns the bytes a PDF shows into text and glyph widths.
//
// The library's own font decoding parses /ToUnicode maps with counts it
// takes on trust (a map declaring 10^11 entries allocates them) and looks
// each code up linearly. So ToUnicode maps are read here, bounded and
// indexed; the library is used only for the simple-font encodings, which
// never read a stream.
type pdfFont struct {
	cmap    *toUnicodeMap    // nil if the font has none
	enc     pdf.TextEncoding // simple fonts without a map entry; nil means Windows-1252
	codeLen int              // bytes per code when the map does not say: 1, or 2 for composite fonts
	widths  glyphWidths
	scale   float64 // glyph space to text space: 1/1000, or FontMatrix[0] for Type3 fonts
	// undecodable fonts have codes with no known meaning (a composite font
	// without a ToUnicode map); their text would be noise, so none is kept.
	undecodable bool
}

// pdfGlyph is one decoded code.
type pdfGlyph struct {
	text  string
	width float64 // advance in text space per unit of font size
	space bool    // the single-byte code 32, which word spacing applies to
}

// Limits on what one font may cost.
const (
	maxCMapEntries  = 200_000
	maxDifferences  = 512
	maxWidthEntries = 65_536
)

// loadFont reads the font dictionary v.
func (e *pdfExtractor) loadFont(v pdf.Value) *pdfFont {
	f := &pdfFont{codeLen: 1, scale: 0.001}
	subtype := v.Key("Subtype").Name()
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		if data, err := e.readStream(tu, maxToUnicodeBytes); err == nil {
			f.cmap = parseToUnicode(data)
		}
	}
	switch subtype {
	case "Type0":
		f.codeLen = 2
		desc := v.Key("DescendantFonts").Index(0)
		f.widths = cidWidths(desc)
		if f.cmap == nil {
			encoding := v.Key("Encoding").Name()
			if strings.HasSuffix(encoding, "UCS2-H") || strings.HasSuffix(encoding, "UTF16-H") {
				f.enc = utf16Encoding{}
			} else {
				f.undecodable = true
			}
		}
	default:
		if subtype == "Type3" {
			if m := v.Key("FontMatrix"); m.Len() == 6 && m.Index(0).Float64() != 0 {
				f.scale = m.Index(0).Float64()
			}
		}
		f.widths = simpleWidths(v)
		f.enc = simpleEncoding(v)
	}
	return f
}

// simpleEncoding returns the library's decoder for the encodings it reads
// without touching a stream, or nil for Windows-1252, which is what
// WinAnsiEncoding and the common unnamed cases amount to.
func simpleEncoding(v pdf.Value) pdf.TextEncoding {
	enc := v.Key("Encoding")
	switch enc.Kind() {
	case pdf.Name:
		if enc.Name() != "MacRomanEncoding" {
			return nil
		}
	case pdf.Dict:
		if d := enc.Key("Differences"); d.Kind() != pdf.Array || d.Len() > maxDifferences {
			return nil
		}
	default:
		return nil
	}
	// For these two kinds of encoding the library builds a byte table and
	// never reaches for the font's ToUnicode stream.
	font := pdf.Font{V: v}
	return font.Encoder()
}

// utf16Encoding decodes the UCS-2 CMaps of composite fonts.
type utf16Encoding struct{}

func (utf16Encoding) Decode(raw string) string { return decodeUTF16BE(raw) }

func decodeUTF16BE(raw string) string {
	if len(raw)%2 != 0 {
		return decodeLatin(raw)
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	return string(utf16.Decode(units))
}

func decodeLatin(raw string) string {
	return string(decodeWindows1252([]byte(raw)))
}

// decode calls emit for each code in raw.
func (f *pdfFont) decode(raw string, emit func(pdfGlyph)) {
	if f.undecodable {
		return
	}
	for len(raw) > 0 {
		n := f.codeLength(raw)
		code := raw[:n]
		raw = raw[n:]
		g := pdfGlyph{space: n == 1 && code[0] == ' '}
		c := codeValue(code)
		text, ok := "", false
		if f.cmap != nil {
			text, ok = f.cmap.lookup(n, c)
		}
		switch {
		case ok:
		case f.enc != nil:
			text = f.enc.Decode(code)
		case n == 1:
			text = decodeLatin(code)
		}
		g.text = text
		if w, ok := f.widths.lookup(c); ok {
			g.width = w * f.scale
		} else if f.widths.dflt > 0 {
			g.width = f.widths.dflt * f.scale
		} else {
			g.width = estimateWidth(text)
		}
		emit(g)
	}
}

// estimateWidth guesses an advance for a glyph of a font without widths
// (the standard 14 fonts may omit them): half an em, a quarter for spaces.
func estimateWidth(text string) float64 {
	if strings.TrimSpace(text) == "" {
		return 0.25
	}
	return 0.5 * float64(len([]rune(text)))
}

// codeLength returns how many bytes the next code takes.
func (f *pdfFont) codeLength(raw string) int {
	if f.cmap != nil {
		if n := f.cmap.codeLength(raw); n > 0 {
			return n
		}
	}
	return min(f.codeLen, len(raw))
}

func codeValue(code string) uint32 {
	var v uint32
	for i := 0; i < len(code); i++ {
		v = v<<8 | uint32(code[i])
	}
	return v
}

// toUnicodeMap is a parsed /ToUnicode CMap.
type toUnicodeMap struct {
	spaces [5][][2]uint32 // codespace ranges by code length 1–4
	chars  map[uint64]string
	ranges []cmapRange // sorted by (n, lo)
}

type cmapRange struct {
	n      int
	lo, hi uint32
	dst    []uint16 // UTF-16 of the first code; later codes add to the last unit
	list   []string // or one string per code
}

func cmapKey(n int, code uint32) uint64 { return uint64(n)<<32 | uint64(code) }

// parseToUnicode reads the codespace, bfchar and bfrange sections of a
// CMap, ignoring the counts it declares. It returns nil if nothing is
// mapped.
func parseToUnicode(data []byte) *toUnicodeMap {
	m := &toUnicodeMap{chars: map[uint64]string{}}
	lx := &pdfLexer{data: data}
	entries := 0
	for entries < maxCMapEntries {
		tok := lx.token()
		if tok == nil {
			break
		}
		kw, ok := tok.(pdfKeyword)
		if !ok {
			continue
		}
		switch kw {
		case "begincodespacerange":
			entries += m.readCodespace(lx)
		case "beginbfchar":
			entries += m.readBFChar(lx)
		case "beginbfrange":
			entries += m.readBFRange(lx)
		}
	}
	if len(m.chars) == 0 && len(m.ranges) == 0 {
		return nil
	}
	sort.Slice(m.ranges, func(i, j int) bool {
		a, b := m.ranges[i], m.ranges[j]
		if a.n != b.n {
			return a.n < b.n
		}
		return a.lo < b.lo
	})
	return m
}

// readOperands reads objects until the keyword end (or any keyword, or
// the end of data), at most max of them.
func readOperands(lx *pdfLexer, end pdfKeyword, max int) []any {
	var ops []any
	for len(ops) < max {
		save := lx.pos
		v, err := lx.object(0)
		if err != nil {
			return ops
		}
		if kw, ok := v.(pdfKeyword); ok {
			if kw != end {
				lx.pos = save
			}
			return ops
		}
		ops = append(ops, v)
	}
	return ops
}

func (m *toUnicodeMap) readCodespace(lx *pdfLexer) int {
	ops := readOperands(lx, "endcodespacerange", 2*maxCMapEntries)
	for i := 0; i+1 < len(ops); i += 2 {
		lo, ok1 := ops[i].(pdfString)
		hi, ok2 := ops[i+1].(pdfString)
		if ok1 && ok2 && len(lo) == len(hi) && len(lo) >= 1 && len(lo) <= 4 {
			m.spaces[len(lo)] = append(m.spaces[len(lo)], [2]uint32{codeValue(string(lo)), codeValue(string(hi))})
		}
	}
	return len(ops) / 2
}

func (m *toUnicodeMap) readBFChar(lx *pdfLexer) int {
	ops := readOperands(lx, "endbfchar", 2*maxCMapEntries)
	for i := 0; i+1 < len(ops); i += 2 {
		src, ok := ops[i].(pdfString)
		if !ok || len(src) < 1 || len(src) > 4 {
			continue
		}
		if dst, ok := cmapDst(ops[i+1]); ok {
			m.chars[cmapKey(len(src), codeValue(string(src)))] = dst
		}
	}
	return len(ops) / 2
}

func (m *toUnicodeMap) readBFRange(lx *pdfLexer) int {
	ops := readOperands(lx, "endbfrange", 3*maxCMapEntries)
	for i := 0; i+2 < len(ops); i += 3 {
		lo, ok1 := ops[i].(pdfString)
		hi, ok2 := ops[i+1].(pdfString)
		if !ok1 || !ok2 || len(lo) != len(hi) || len(lo) < 1 || len(lo) > 4 {
			continue
		}
		r := cmapRange{n: len(lo), lo: codeValue(string(lo)), hi: codeValue(string(hi))}
		if r.hi < r.lo {
			continue
		}
		switch d := ops[i+2].(type) {
		case pdfString:
			r.dst = utf16Units(string(d))
		case pdfArray:
			for _, x := range d {
				s, _ := cmapDst(x)
				r.list = append(r.list, s)
			}
		default:
			continue
		}
		m.ranges = append(m.ranges, r)
	}
	return len(ops) / 3
}

// cmapDst decodes a bfchar destination: UTF-16BE bytes, or a glyph name.
func cmapDst(v any) (string, bool) {
	switch d := v.(type) {
	case pdfString:
		return decodeUTF16BE(string(d)), true
	case pdfName:
		return string(d), len(d) == 1
	}
	return "", false
}

func utf16Units(s string) []uint16 {
	if len(s)%2 != 0 {
		s = "\x00" + s
	}
	u := make([]uint16, len(s)/2)
	for i := range u {
		u[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return u
}

// codeLength returns the length of the codespace range the start of raw
// falls in, or 0 if none does.
func (m *toUnicodeMap) codeLength(raw string) int {
	for n := 1; n <= 4 && n <= len(raw); n++ {
		c := codeValue(raw[:n])
		for _, r := range m.spaces[n] {
			if c >= r[0] && c <= r[1] {
				return n
			}
		}
	}
	return 0
}

func (m *toUnicodeMap) lookup(n int, code uint32) (string, bool) {
	if s, ok := m.chars[cmapKey(n, code)]; ok {
		return s, true
	}
	// The last range starting at or before code.
	i := sort.Search(len(m.ranges), func(i int) bool {
		r := m.ranges[i]
		return r.n > n || r.n == n && r.lo > code
	}) - 1
	if i < 0 || m.ranges[i].n != n || code > m.ranges[i].hi {
		return "", false
	}
	r := m.ranges[i]
	off := code - r.lo
	if r.list != nil {
		if int(off) < len(r.list) {
			return r.list[off], true
		}
		return "", false
	}
	if len(r.dst) == 0 {
		return "", false
	}
	u := append([]uint16(nil), r.dst...)
	u[len(u)-1] += uint16(off)
	return string(utf16.Decode(u)), true
}

// glyphWidths holds advances in glyph space, by code or CID.
type glyphWidths struct {
	ranges []widthRange // sorted by lo
	dflt   float64      // default width (/DW of composite fonts), 0 if unknown
}

type widthRange struct {
	lo, hi uint32
	w      float64   // one width for the whole range
	list   []float64 // or one per code
}

func (g glyphWidths) lookup(code uint32) (float64, bool) {
	i := sort.Search(len(g.ranges), func(i int) bool { return g.ranges[i].lo > code }) - 1
	if i < 0 || code > g.ranges[i].hi {
		return 0, false
	}
	r := g.ranges[i]
	if r.list != nil {
		return r.list[code-r.lo], true
	}
	return r.w, true
}

// simpleWidths reads /FirstChar and /Widths.
func simpleWidths(v pdf.Value) glyphWidths {
	arr := v.Key("Widths")
	n := min(arr.Len(), maxWidthEntries)
	first := v.Key("FirstChar").Int64()
	if n == 0 || first < 0 || first > 1<<16 {
		return glyphWidths{}
	}
	list := make([]float64, n)
	for i := range list {
		list[i] = arr.Index(i).Float64()
	}
	return glyphWidths{ranges: []widthRange{{lo: uint32(first), hi: uint32(first) + uint32(n) - 1, list: list}}}
}

// cidWidths reads /W and /DW of a CIDFont: entries "c [w1 w2 ...]" and
// "cfirst clast w".
func cidWidths(desc pdf.Value) glyphWidths {
	g := glyphWidths{dflt: 1000}
	if dw := desc.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
		g.dflt = dw.Float64()
	}
	w := desc.Key("W")
	total := 0
	for i := 0; i < w.Len() && total < maxWidthEntries; {
		first := w.Index(i)
		if first.Kind() != pdf.Integer || first.Int64() < 0 {
			break
		}
		lo := uint32(first.Int64())
		next := w.Index(i + 1)
		if next.Kind() == pdf.Array {
			list := make([]float64, min(next.Len(), maxWidthEntries-total))
			for j := range list {
				list[j] = next.Index(j).Float64()
			}
			if len(list) > 0 {
				g.ranges = append(g.ranges, widthRange{lo: lo, hi: lo + uint32(len(list)) - 1, list: list})
			}
			total += len(list) + 1
			i += 2
			continue
		}
		last := next.Int64()
		if next.Kind() != pdf.Integer || last < first.Int64() {
			break
		}
		g.ranges = append(g.ranges, widthRange{lo: lo, hi: uint32(last), w: w.Index(i + 2).Float64()})
		total++
		i += 3
	}
	sort.Slice(g.ranges, func(i, j int) bool { return g.ranges[i].lo < g.ranges[j].lo })
	return g
}
