package store

import (
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"slices"
)

// Rollups are stored in a compact binary form rather than JSON: the
// 30-day dashboard merges thousands of them, and decoding JSON maps
// (sketch bins, knowledge gaps) was most of its time. addEncoded merges a
// stored rollup straight into an accumulator, allocating only for new
// gap questions.

// rollupCodecVersion 2 appends the guard counts to version 1's record;
// a version 1 record (written before schema 19 rebuilt the rollups)
// reads as having none.
const rollupCodecVersion = 2

var errRollupCodec = errors.New("rollup: malformed record")

func (r *Rollup) counters() []*int64 {
	return []*int64{&r.Requests, &r.Errors, &r.Cancelled, &r.Fallbacks, &r.Escalations, &r.Answered, &r.Hallucinated,
		&r.TokensIn, &r.TokensOut, &r.Grounded, &r.Up, &r.Down, &r.EmptyRetrievals, &r.WeakRetrievals}
}

// encode writes r in the binary form.
func (r *Rollup) encode() []byte {
	b := make([]byte, 0, 128+8*len(r.Latency.Bins)+8*len(r.TTFT.Bins)+64*len(r.Gaps))
	b = append(b, rollupCodecVersion)
	for _, p := range r.counters() {
		b = binary.AppendVarint(b, *p)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.CostUSD))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.GroundednessSum))
	for _, s := range []*Sketch{&r.Latency, &r.TTFT} {
		b = binary.AppendVarint(b, s.Zero)
		keys := slices.Sorted(maps.Keys(s.Bins))
		b = binary.AppendUvarint(b, uint64(len(keys)))
		prev := int64(0)
		for _, k := range keys {
			b = binary.AppendVarint(b, int64(k)-prev)
			b = binary.AppendVarint(b, s.Bins[k])
			prev = int64(k)
		}
	}
	qs := slices.Sorted(maps.Keys(r.Gaps))
	b = binary.AppendUvarint(b, uint64(len(qs)))
	for _, q := range qs {
		b = binary.AppendUvarint(b, uint64(len(q)))
		b = append(b, q...)
		b = binary.AppendVarint(b, r.Gaps[q])
	}
	b = binary.AppendVarint(b, r.GuardBlocks)
	names := slices.Sorted(maps.Keys(r.Guards))
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		c := r.Guards[name]
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
		b = binary.AppendVarint(b, c.Flagged)
		b = binary.AppendVarint(b, c.Redacted)
		b = binary.AppendVarint(b, c.Blocked)
	}
	return b
}

// addEncoded merges a record written by encode into r.
func (r *Rollup) addEncoded(b []byte) error {
	if len(b) == 0 || b[0] < 1 || b[0] > rollupCodecVersion {
		return errRollupCodec
	}
	version := b[0]
	b = b[1:]
	varint := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	float := func() float64 {
		if len(b) < 8 {
			b = nil
			return 0
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		return v
	}
	for _, p := range r.counters() {
		*p += varint()
	}
	r.CostUSD += float()
	r.GroundednessSum += float()
	for _, s := range []*Sketch{&r.Latency, &r.TTFT} {
		s.Zero += varint()
		n := uvarint()
		if n > uint64(len(b)) {
			return errRollupCodec
		}
		if n > 0 && s.Bins == nil {
			s.Bins = make(map[int32]int64, n)
		}
		k := int64(0)
		for range n {
			k += varint()
			if s.Bins[int32(k)] += varint(); s.Bins[int32(k)] == 0 {
				delete(s.Bins, int32(k))
			}
		}
	}
	// entries reads a count, then that many entries: a length-prefixed
	// name and what each reads after it. An entry takes a byte at least,
	// so a count or a length past the record's end is corrupt: false.
	entries := func(each func(name string)) bool {
		n := uvarint()
		if n > uint64(len(b)) {
			return false
		}
		for range n {
			l := uvarint()
			if l > uint64(len(b)) {
				return false
			}
			name := string(b[:l])
			b = b[l:]
			each(name)
		}
		return true
	}
	gaps := entries(func(q string) {
		c := varint()
		if r.Gaps == nil {
			r.Gaps = map[string]int64{}
		}
		if r.Gaps[q] += c; r.Gaps[q] == 0 {
			delete(r.Gaps, q)
		}
	})
	if !gaps {
		return errRollupCodec
	}
	if version >= 2 {
		r.GuardBlocks += varint()
		if !entries(func(name string) { r.addGuard(name, GuardCounts{varint(), varint(), varint()}) }) {
			return errRollupCodec
		}
	}
	if b == nil {
		return errRollupCodec
	}
	return nil
}
