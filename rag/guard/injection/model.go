package injection

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// The model file: magic, format version, settings, threshold, bias, the
// training figures, then the weight table's non-zero entries (a uvarint
// count, then per entry the uvarint gap from the previous index and the
// weight as an int16 of one scale), and a CRC-32 of everything before
// it. Little endian throughout. A table of 2^20 entries of which some
// 60,000 are non-zero fits in about 200 KB; the rest are features no
// training text had, and must stay zero (hashing them onto trained
// weights is noise that grows with a text's length).
var magic = [8]byte{'l', 'l', 'm', 'i', 'n', 'j', 0, 0}

const fileVersion = 1

// header is the fixed part of the file.
type header struct {
	Magic            [8]byte
	Version          uint16
	Features         uint16
	Bits             uint8
	CharMin, CharMax uint8
	Flags            uint8 // 1: segments, 2: sentence negatives, 4: tails
	Threshold, Bias  float64
	Examples         uint32
	Injections       uint32
	CVF1, CVPrec     float64
	CVRecall         float64
	Scale            float64 // weight = int16 × Scale
	L2, MinPrecision float64 // training settings, to retrain it
	Epochs, Folds    uint16
	_                uint32
}

// quantise rounds w to int16 steps of one scale, as the file stores
// them, so a trained model scores exactly as its file does.
func quantise(w []float64) []float32 {
	s := quantScale(w)
	out := make([]float32, len(w))
	for i, x := range w {
		out[i] = float32(float64(int16(math.Round(x/s))) * s)
	}
	return out
}

func quantScale(w []float64) float64 {
	m := 0.0
	for _, x := range w {
		m = max(m, math.Abs(x))
	}
	if m == 0 {
		return 1
	}
	return m / math.MaxInt16
}

// MarshalBinary encodes m as the model file.
func (m *Model) MarshalBinary() ([]byte, error) {
	w64 := make([]float64, len(m.weights))
	for i, x := range m.weights {
		w64[i] = float64(x)
	}
	s := quantScale(w64)
	h := header{
		Magic: magic, Version: fileVersion, Features: uint16(m.features), Bits: m.bits,
		CharMin: m.charMin, CharMax: m.charMax, Flags: b2u(m.segments) | 2*b2u(m.info.SentenceNegatives) | 4*b2u(m.tails), Threshold: m.threshold, Bias: m.bias,
		Examples: uint32(m.info.Examples), Injections: uint32(m.info.Injections),
		CVF1: m.info.CVF1, CVPrec: m.info.CVPrec, CVRecall: m.info.CVRecall, Scale: s,
		L2: m.info.L2, MinPrecision: m.info.MinPrecision, Epochs: uint16(m.info.Epochs), Folds: uint16(m.info.Folds),
	}
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		return nil, err
	}
	var nz int
	for _, x := range w64 {
		if int16(math.Round(x/s)) != 0 {
			nz++
		}
	}
	b.Write(binary.AppendUvarint(nil, uint64(nz)))
	prev := 0
	for i, x := range w64 {
		q := int16(math.Round(x / s))
		if q == 0 {
			continue
		}
		b.Write(binary.AppendUvarint(nil, uint64(i-prev)))
		b.Write(binary.LittleEndian.AppendUint16(nil, uint16(q)))
		prev = i
	}
	if err := binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE(b.Bytes())); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalBinary decodes a model file written by MarshalBinary.
func (m *Model) UnmarshalBinary(data []byte) error {
	var h header
	hs := binary.Size(h)
	if len(data) < hs+4 {
		return errors.New("model file too short")
	}
	if got, want := crc32.ChecksumIEEE(data[:len(data)-4]), binary.LittleEndian.Uint32(data[len(data)-4:]); got != want {
		return errors.New("model file checksum mismatch")
	}
	if err := binary.Read(bytes.NewReader(data[:hs]), binary.LittleEndian, &h); err != nil {
		return err
	}
	switch {
	case h.Magic != magic:
		return errors.New("not an injection model file")
	case h.Version != fileVersion:
		return fmt.Errorf("model file version %d; this build reads %d", h.Version, fileVersion)
	case h.Bits < 8 || h.Bits > 22 || h.CharMin < 1 || h.CharMax < h.CharMin || h.CharMax > 8:
		return errors.New("model file settings out of range")
	case FeatureSet(h.Features)&^allFeatures != 0:
		return fmt.Errorf("model file uses unknown features %#x", h.Features)
	}
	n := 1 << h.Bits
	w := make([]float32, n)
	body := data[hs : len(data)-4]
	nz, k := binary.Uvarint(body)
	if k <= 0 || nz > uint64(n) {
		return errors.New("model file: bad weight count")
	}
	body = body[k:]
	at := 0
	for e := uint64(0); e < nz; e++ {
		gap, k := binary.Uvarint(body)
		if k <= 0 || len(body) < k+2 || gap > uint64(n) || at+int(gap) >= n || e > 0 && gap == 0 {
			return errors.New("model file: bad weight entry")
		}
		at += int(gap)
		w[at] = float32(float64(int16(binary.LittleEndian.Uint16(body[k:]))) * h.Scale)
		body = body[k+2:]
	}
	if len(body) != 0 {
		return fmt.Errorf("model file: %d bytes after the weights", len(body))
	}
	*m = Model{
		features: FeatureSet(h.Features), bits: h.Bits, segments: h.Flags&1 != 0, charMin: h.CharMin, charMax: h.CharMax,
		threshold: h.Threshold, bias: h.Bias, weights: w, tails: h.Flags&1 != 0 && h.Flags&4 != 0,
		info: Info{
			Features: FeatureSet(h.Features).String(), Segments: h.Flags&1 != 0, SentenceNegatives: h.Flags&2 != 0, Tails: h.Flags&1 != 0 && h.Flags&4 != 0, Bits: int(h.Bits), CharMin: int(h.CharMin), CharMax: int(h.CharMax),
			Threshold: h.Threshold, Examples: int(h.Examples), Injections: int(h.Injections),
			CVF1: h.CVF1, CVPrec: h.CVPrec, CVRecall: h.CVRecall,
			L2: h.L2, MinPrecision: h.MinPrecision, Epochs: int(h.Epochs), Folds: int(h.Folds),
		},
	}
	return nil
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
