package store

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// idGen hands out ULIDs: 48-bit millisecond time + 80 random bits, Crockford
// base32, so IDs sort by creation time and bbolt keys stay mostly sequential
// (random keys are ~8x slower to insert). Monotonic entropy keeps IDs made in
// the same millisecond ordered too.
var idGen = struct {
	sync.Mutex
	entropy *ulid.MonotonicEntropy
}{entropy: ulid.Monotonic(rand.Reader, 0)}

// MaxIDLen is longer than any ID NewID makes (26 characters): an ID a
// client sends that is longer cannot exist, and is refused as invalid
// rather than looked up and repeated back in a "not found".
const MaxIDLen = 64

// NewID returns a new time-sortable ID.
func NewID() string { return NewIDAt(time.Now()) }

// NewIDAt returns a new ID whose time part is t.
func NewIDAt(t time.Time) string {
	idGen.Lock()
	defer idGen.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), idGen.entropy)
	if err != nil {
		// Monotonic entropy overflows only after 2^80 IDs in one
		// millisecond, or when t moves backwards past the last ID; fall back
		// to fresh randomness, which keeps IDs unique if not ordered.
		id = ulid.MustNew(ulid.Timestamp(t), rand.Reader)
	}
	return id.String()
}

// IDTime returns the creation time encoded in an ID made by NewID.
func IDTime(id string) (time.Time, bool) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}, false
	}
	return ulid.Time(u.Time()), true
}

// idFloor returns the smallest ID NewIDAt can make at t's millisecond, so
// keys of IDs made at or after t sort at or after it. ok is false when t is
// outside what an ID can hold (before 1970 or after the year 10889).
func idFloor(t time.Time) (id string, ok bool) {
	if t.Before(time.UnixMilli(0)) || t.After(ulid.Time(ulid.MaxTime())) {
		return "", false
	}
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(t)); err != nil {
		return "", false
	}
	return u.String(), true
}
