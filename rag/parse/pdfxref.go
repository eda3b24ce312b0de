package parse

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// checkPDFStructure looks for the few ways a PDF can make
// github.com/ledongthuc/pdf crash the process rather than fail, before the
// library sees the file. A panic we can recover from; these we cannot:
//
//   - cross-reference sections or streams that declare object numbers in
//     the billions, which the library allocates a table for (out of memory);
//   - an object stream listed as stored inside an object stream, which
//     sends the library's resolver into endless recursion (stack overflow);
//   - a /W field width or a PNG-predictor /Columns so large the library's
//     buffer allocation cannot succeed;
//   - an object stream whose /N count makes the library loop billions of
//     times without reading;
//   - an object stream that decompresses to gigabytes: the library decodes
//     object streams without limits, and its lexer holds a whole token (a
//     string, a dictionary) in memory. Each one is decoded here, to
//     nothing, through a partReader charged to expansion, and a bomb is
//     returned as an *expansionError.
//
// It walks the cross-reference chain the way the library does. Anything it
// cannot make sense of is left for the library to reject with an error.
func checkPDFStructure(data []byte, expansion *fileExpansion) error {
	if err := checkDeclaredCounts(data); err != nil {
		return err
	}
	start, ok := findStartXref(data)
	if !ok {
		return nil
	}
	maxObjects := min(len(data)/4+65536, 2_000_000)
	x := &xrefCheck{data: data, maxObjects: maxObjects, entries: map[int]xrefEntry{}}
	seen := map[int]bool{}
	for off := start; off >= 0; {
		if seen[off] || len(seen) >= 1000 {
			return errors.New("the cross-reference chain loops")
		}
		seen[off] = true
		next, err := x.section(off)
		if err != nil {
			return err
		}
		off = next
	}
	for num, e := range x.entries {
		if e.typ != 2 {
			continue
		}
		if c, ok := x.entries[e.container]; ok && c.typ == 2 || e.container == num {
			return fmt.Errorf("object stream %d is itself inside an object stream", e.container)
		}
	}
	return x.checkObjectStreams(expansion)
}

// checkObjectStreams decodes every object stream an entry points into, in
// object-number order, to nothing, and returns the first expansion error.
// A stream it cannot find or decode is left for the library to judge.
func (x *xrefCheck) checkObjectStreams(expansion *fileExpansion) error {
	var containers []int
	for _, e := range x.entries {
		if e.typ == 2 {
			containers = append(containers, e.container)
		}
	}
	slices.Sort(containers)
	containers = slices.Compact(containers)
	decoded := map[int]bool{} // by offset: many numbers may name one stream
	for _, num := range containers {
		off, ok := x.offset(num)
		if !ok || decoded[off] {
			continue
		}
		decoded[off] = true
		if err := x.checkObjectStream(num, off, expansion); err != nil {
			return err
		}
	}
	return nil
}

func (x *xrefCheck) checkObjectStream(num, off int, expansion *fileExpansion) error {
	lx := &pdfLexer{data: x.data, pos: off}
	_, ok1 := pdfInt(lx.token())
	_, ok2 := pdfInt(lx.token())
	if kw, _ := lx.token().(pdfKeyword); !ok1 || !ok2 || kw != "obj" {
		return nil
	}
	obj, err := lx.object(0)
	d, ok := obj.(pdfDict)
	if err != nil || !ok || d["Type"] != pdfName("ObjStm") {
		return nil
	}
	if ref, ok := d["Length"].(pdfRef); ok {
		d["Length"] = x.indirectNumber(ref)
	}
	raw, ok := streamData(lx, d)
	if !ok {
		return nil
	}
	in := &countingReader{r: bytes.NewReader(raw)}
	r, ok := decodeStream(in, d)
	if !ok {
		return nil
	}
	_, err = io.Copy(io.Discard, &partReader{r: r, in: in.count, file: expansion, part: fmt.Sprintf("object stream %d", num)})
	if xe := (*expansionError)(nil); errors.As(err, &xe) {
		return xe
	}
	return nil
}

// indirectNumber returns the number object ref points at ("12 0 obj 345
// endobj"), or nil.
func (x *xrefCheck) indirectNumber(ref pdfRef) any {
	off, ok := x.offset(ref.num)
	if !ok {
		return nil
	}
	lx := &pdfLexer{data: x.data, pos: off}
	num, ok1 := pdfInt(lx.token())
	_, ok2 := pdfInt(lx.token())
	if kw, _ := lx.token().(pdfKeyword); !ok1 || !ok2 || kw != "obj" || num != ref.num {
		return nil
	}
	if n, ok := lx.token().(float64); ok {
		return n
	}
	return nil
}

// checkDeclaredCounts scans the raw bytes for /Columns and /N values the
// library would allocate or loop on. Stream dictionaries are never
// compressed, so a plain scan sees them.
func checkDeclaredCounts(data []byte) error {
	limits := []struct {
		key string
		max float64
	}{{"/Columns", 1 << 20}, {"/N", 1 << 20}}
	for _, lim := range limits {
		key := []byte(lim.key)
		for off := 0; ; {
			i := bytes.Index(data[off:], key)
			if i < 0 {
				break
			}
			at := off + i + len(key)
			off = at
			if at < len(data) && !isPDFSpace(data[at]) && !isPDFDelim(data[at]) {
				continue // a longer name, such as /Names
			}
			lx := &pdfLexer{data: data, pos: at}
			if n, ok := lx.token().(float64); ok && (n > lim.max || n < 0) {
				return fmt.Errorf("%s %.0f is out of range", lim.key, n)
			}
		}
	}
	return nil
}

// findStartXref finds the offset after the last "startxref" in the final
// 100 bytes, where the library looks for it.
func findStartXref(data []byte) (int, bool) {
	tail := data[max(0, len(data)-100):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, false
	}
	lx := &pdfLexer{data: tail, pos: i + len("startxref")}
	off, ok := pdfInt(lx.token())
	if !ok || off < 0 || off >= len(data) {
		return 0, false
	}
	return off, true
}

// xrefEntry is one cross-reference entry as the library stores it.
type xrefEntry struct {
	typ       int  // 0 free, 1 in the file, 2 in an object stream
	container int  // the object stream, for type 2
	zeroPtr   bool // the library treats the slot as empty and lets older sections fill it
}

type xrefCheck struct {
	data       []byte
	maxObjects int
	entries    map[int]xrefEntry
	// offsets[num] is 1 + the file offset of object num, 0 if unknown. A
	// slice, not a map: a table may list millions of objects, and object
	// numbers are bounded by maxObjects.
	offsets []int32
}

// set records an entry unless a newer section already did, like the
// library.
func (x *xrefCheck) set(num int, e xrefEntry) {
	if old, ok := x.entries[num]; !ok || old.zeroPtr {
		x.entries[num] = e
	}
}

// setOffset records where object num is unless a newer section already
// did.
func (x *xrefCheck) setOffset(num, off int) {
	if num < 0 || num >= x.maxObjects || off < 0 || off >= len(x.data) || off >= math.MaxInt32 {
		return
	}
	if num >= len(x.offsets) {
		x.offsets = append(x.offsets, make([]int32, num+1-len(x.offsets))...)
	}
	if x.offsets[num] == 0 {
		x.offsets[num] = int32(off + 1)
	}
}

// offset returns where object num is, if a section said.
func (x *xrefCheck) offset(num int) (int, bool) {
	if num < 0 || num >= len(x.offsets) || x.offsets[num] == 0 {
		return 0, false
	}
	return int(x.offsets[num]) - 1, true
}

func (x *xrefCheck) checkRange(start, n int) error {
	if start < 0 || n < 0 || start+n > x.maxObjects {
		return fmt.Errorf("a cross-reference section declares objects %d to %d", start, start+n)
	}
	return nil
}

// section checks the cross-reference section at off and returns the offset
// of the previous one, or -1.
func (x *xrefCheck) section(off int) (int, error) {
	if off >= len(x.data) {
		return -1, nil
	}
	lx := &pdfLexer{data: x.data, pos: off}
	switch tok := lx.token().(type) {
	case pdfKeyword:
		if tok == "xref" {
			return x.table(lx)
		}
	case float64:
		lx.pos = off
		return x.stream(lx)
	}
	return -1, nil
}

// table checks a classic "xref" table and returns its trailer's /Prev.
func (x *xrefCheck) table(lx *pdfLexer) (int, error) {
	for {
		tok := lx.token()
		if kw, ok := tok.(pdfKeyword); ok && kw == "trailer" {
			break
		}
		start, ok1 := pdfInt(tok)
		n, ok2 := pdfInt(lx.token())
		if !ok1 || !ok2 {
			return -1, nil
		}
		if err := x.checkRange(start, n); err != nil {
			return -1, err
		}
		for i := range n {
			off, gen, kw := lx.token(), lx.token(), lx.token()
			if off == nil || gen == nil || kw == nil {
				return -1, nil
			}
			if o, ok := pdfInt(off); ok && kw == pdfKeyword("n") {
				x.setOffset(start+i, o)
			}
		}
	}
	trailer, err := lx.object(0)
	if err != nil {
		return -1, nil
	}
	return prevOffset(trailer), nil
}

func prevOffset(dict any) int {
	d, ok := dict.(pdfDict)
	if !ok {
		return -1
	}
	if prev, ok := pdfInt(d["Prev"]); ok && prev >= 0 {
		return prev
	}
	return -1
}

// stream checks a cross-reference stream ("n g obj << /Type /XRef ... >>
// stream ...") and returns its /Prev.
func (x *xrefCheck) stream(lx *pdfLexer) (int, error) {
	_, ok1 := pdfInt(lx.token())
	_, ok2 := pdfInt(lx.token())
	if kw, _ := lx.token().(pdfKeyword); !ok1 || !ok2 || kw != "obj" {
		return -1, nil
	}
	obj, err := lx.object(0)
	d, ok := obj.(pdfDict)
	if err != nil || !ok || d["Type"] != pdfName("XRef") {
		return -1, nil
	}
	size, ok := pdfInt(d["Size"])
	if !ok {
		return -1, nil
	}
	if err := x.checkRange(0, size); err != nil {
		return -1, err
	}
	index := []int{0, size}
	if arr, ok := d["Index"].(pdfArray); ok {
		index = index[:0]
		for _, v := range arr {
			n, ok := pdfInt(v)
			if !ok {
				return -1, nil
			}
			index = append(index, n)
		}
	}
	if len(index)%2 != 0 {
		return -1, nil
	}
	for i := 0; i < len(index); i += 2 {
		if err := x.checkRange(index[i], index[i+1]); err != nil {
			return -1, err
		}
	}
	var w []int
	if arr, ok := d["W"].(pdfArray); ok {
		for _, v := range arr {
			n, ok := pdfInt(v)
			if !ok || n < 0 || n > 8 {
				return -1, fmt.Errorf("cross-reference stream field width %v is out of range", v)
			}
			w = append(w, n)
		}
	}
	if len(w) < 3 {
		return -1, nil
	}
	raw, ok := streamData(lx, d)
	if !ok {
		return -1, nil
	}
	rows, ok := decodeStream(bytes.NewReader(raw), d)
	if !ok {
		return -1, nil
	}
	x.streamEntries(rows, index, w)
	return prevOffset(d), nil
}

// streamEntries records the entries of a decoded cross-reference stream.
func (x *xrefCheck) streamEntries(data io.Reader, index, w []int) {
	width := w[0] + w[1] + w[2]
	row := make([]byte, width)
	field := func(b []byte) int {
		v := 0
		for _, c := range b {
			v = v<<8 | int(c)
		}
		return v
	}
	for i := 0; i < len(index); i += 2 {
		start, n := index[i], index[i+1]
		for j := 0; j < n; j++ {
			if _, err := io.ReadFull(data, row); err != nil {
				return
			}
			typ := 1
			if w[0] > 0 {
				typ = field(row[:w[0]])
			}
			v2 := field(row[w[0] : w[0]+w[1]])
			v3 := field(row[w[0]+w[1] : width])
			num := start + j
			switch typ {
			case 0:
				x.set(num, xrefEntry{typ: 0})
			case 1:
				x.set(num, xrefEntry{typ: 1, zeroPtr: num == 0 && v3&0xFFFF == 0})
				x.setOffset(num, v2)
			case 2:
				x.set(num, xrefEntry{typ: 2, container: v2, zeroPtr: num == 0})
			}
		}
	}
}

// streamData returns the raw bytes of the stream whose dictionary lx has
// just read, if its /Length is a direct number (as the standard requires
// for cross-reference streams).
func streamData(lx *pdfLexer, d pdfDict) ([]byte, bool) {
	if kw, _ := lx.token().(pdfKeyword); kw != "stream" {
		return nil, false
	}
	pos := lx.pos
	if pos < len(lx.data) && lx.data[pos] == '\r' {
		pos++
	}
	if pos < len(lx.data) && lx.data[pos] == '\n' {
		pos++
	}
	length, ok := pdfInt(d["Length"])
	if !ok || length < 0 || pos+length > len(lx.data) {
		return nil, false
	}
	return lx.data[pos : pos+length], true
}

// decodeStream applies the filters the library supports (FlateDecode with
// an optional PNG Up predictor, ASCII85Decode) to the raw bytes of a
// cross-reference or object stream. Reads are bounded by the caller: the
// rows a cross-reference stream needs, a partReader for an object stream.
func decodeStream(raw io.Reader, d pdfDict) (io.Reader, bool) {
	var filters []pdfName
	switch f := d["Filter"].(type) {
	case nil:
	case pdfName:
		filters = []pdfName{f}
	case pdfArray:
		for _, v := range f {
			name, ok := v.(pdfName)
			if !ok {
				return nil, false
			}
			filters = append(filters, name)
		}
	default:
		return nil, false
	}
	parms := d["DecodeParms"]
	r := raw
	for i, f := range filters {
		p := parms
		if arr, ok := parms.(pdfArray); ok {
			p = nil
			if i < len(arr) {
				p = arr[i]
			}
		}
		switch f {
		case "FlateDecode":
			zr, err := zlib.NewReader(r)
			if err != nil {
				return nil, false
			}
			r = zr
			if pd, ok := p.(pdfDict); ok && pd["Predictor"] != nil {
				pred, _ := pdfInt(pd["Predictor"])
				columns, _ := pdfInt(pd["Columns"])
				if pred != 12 || columns < 0 || columns > 1<<20 {
					return nil, false
				}
				r = &pngUpDecoder{r: r, prev: make([]byte, columns+1), cur: make([]byte, columns+1)}
			}
		case "ASCII85Decode":
			r = ascii85.NewDecoder(&ascii85Cleaner{r: r})
		default:
			return nil, false
		}
	}
	return r, true
}

// pngUpDecoder undoes the PNG "Up" predictor, the one the library
// supports for cross-reference streams.
type pngUpDecoder struct {
	r         io.Reader
	prev, cur []byte
	pending   []byte
}

func (p *pngUpDecoder) Read(b []byte) (int, error) {
	if len(p.pending) == 0 {
		if _, err := io.ReadFull(p.r, p.cur); err != nil {
			return 0, err
		}
		if p.cur[0] != 2 {
			return 0, errors.New("bad PNG predictor row")
		}
		for i := 1; i < len(p.cur); i++ {
			p.prev[i] += p.cur[i]
		}
		p.pending = p.prev[1:]
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

// ascii85Cleaner drops whitespace and stops at the "~>" end marker, which
// encoding/ascii85 does not understand.
type ascii85Cleaner struct {
	r   io.Reader
	eof bool
}

func (a *ascii85Cleaner) Read(p []byte) (int, error) {
	if a.eof {
		return 0, io.EOF
	}
	n, err := a.r.Read(p)
	out := 0
	for i := 0; i < n; i++ {
		c := p[i]
		if c == '~' {
			a.eof = true
			break
		}
		if isPDFSpace(c) {
			continue
		}
		p[out] = c
		out++
	}
	if a.eof && out == 0 {
		return 0, io.EOF
	}
	return out, err
}
