package embed

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// The serialised model: a magic string and format version, the
// parameters, the vocabulary (length-prefixed, sorted), the global term
// weights, then the term and subword vectors as int8 rows with a float32
// scale each (see qmatrix). A 20k-term, 256-dimension model takes 6.5 MB.
const (
	codecMagic   = "llmops-lsa"
	codecVersion = 1
)

// MarshalBinary serialises the model for the caller to persist. The bytes
// are identical for identical models.
func (l *Local) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(codecMagic)
	b.WriteByte(codecVersion)
	w := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	f := func(v float64) { b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))) }
	w(uint64(l.dim))
	w(uint64(l.k))
	w(uint64(l.nDocs))
	w(uint64(l.buckets))
	f(l.sigmaExp)
	f(l.lsaShare)
	f(l.oovWeight)
	var flags uint64
	if l.skipFirst {
		flags |= 1
	}
	if l.entropy {
		flags |= 2
	}
	w(flags)
	w(uint64(len(l.terms)))
	for _, t := range l.terms {
		w(uint64(len(t)))
		b.WriteString(t)
	}
	for _, v := range l.idf {
		b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
	}
	if l.k > 0 {
		writeQuantized(&b, l.vecs)
		writeQuantized(&b, l.subword)
	}
	return b.Bytes(), nil
}

func writeQuantized(b *bytes.Buffer, m qmatrix) {
	row := make([]byte, 4+m.cols)
	for r := range m.rows() {
		binary.LittleEndian.PutUint32(row, math.Float32bits(m.scale[r]))
		for j, v := range m.q[r*m.cols : (r+1)*m.cols] {
			row[4+j] = byte(v)
		}
		b.Write(row)
	}
}

// LoadLocal restores a model written by MarshalBinary.
func LoadLocal(data []byte) (*Local, error) {
	r := &reader{b: data}
	if string(r.next(len(codecMagic))) != codecMagic {
		return nil, fmt.Errorf("%w: not an llmops-lsa model", ErrBadModel)
	}
	if v := r.next(1); len(v) != 1 || v[0] != codecVersion {
		return nil, fmt.Errorf("%w: unknown format version", ErrBadModel)
	}
	l := &Local{
		dim:     int(r.uvarint()),
		k:       int(r.uvarint()),
		nDocs:   int(r.uvarint()),
		buckets: int(r.uvarint()),
	}
	l.sigmaExp, l.lsaShare, l.oovWeight = r.float(), r.float(), r.float()
	flags := r.uvarint()
	l.skipFirst, l.entropy = flags&1 != 0, flags&2 != 0
	nTerms := r.uvarint()
	if r.err == nil && (l.dim <= 0 || l.dim > maxDim || l.k < 0 || l.k > l.dim ||
		l.buckets <= 0 || l.buckets > 1<<20 || nTerms > uint64(len(data))) {
		return nil, fmt.Errorf("%w: bad header", ErrBadModel)
	}
	l.terms = make([]string, 0, nTerms)
	l.index = make(map[string]int32, nTerms)
	for i := uint64(0); i < nTerms && r.err == nil; i++ {
		t := string(r.next(int(r.uvarint())))
		l.index[t] = int32(i)
		l.terms = append(l.terms, t)
	}
	l.idf = make([]float32, 0, nTerms)
	for i := uint64(0); i < nTerms && r.err == nil; i++ {
		l.idf = append(l.idf, math.Float32frombits(binary.LittleEndian.Uint32(r.next(4))))
	}
	if l.k > 0 {
		l.vecs = r.quantized(len(l.terms), l.k)
		l.subword = r.quantized(l.buckets, l.k)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadModel, len(r.b))
	}
	if l.entropy {
		l.oovIDF = 1 // a word seen once is fully concentrated
	} else {
		l.oovIDF = float32(idfOf(float64(l.nDocs), 1))
	}
	if len(l.terms) > 0 && l.k > 0 {
		var s float64
		for r := range l.vecs.rows() {
			var n float64
			for _, v := range l.vecs.q[r*l.k : (r+1)*l.k] {
				n += float64(v) * float64(v)
			}
			s += n * float64(l.vecs.scale[r]) * float64(l.vecs.scale[r])
		}
		l.termNorm = math.Sqrt(s / float64(len(l.terms)))
	}
	sum := sha256.Sum256(data)
	l.model = Model{Name: LocalName, Version: hex.EncodeToString(sum[:6]), Dim: l.dim}
	return l, nil
}

// reader consumes a byte slice, remembering the first error so callers
// check once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("%w: truncated", ErrBadModel)
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: truncated", ErrBadModel)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) float() float64 {
	b := r.next(8)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

func (r *reader) quantized(rows, k int) qmatrix {
	if r.err != nil || rows*(4+k) > len(r.b) {
		r.err = fmt.Errorf("%w: truncated", ErrBadModel)
		return qmatrix{}
	}
	m := qmatrix{cols: k, scale: make([]float32, rows), q: make([]int8, rows*k)}
	for i := range rows {
		row := r.next(4 + k)
		m.scale[i] = math.Float32frombits(binary.LittleEndian.Uint32(row))
		for j := range k {
			m.q[i*k+j] = int8(row[4+j])
		}
	}
	return m
}
