package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Vectors are stored as IEEE half floats behind a one-byte format tag.
// Retrieval is insensitive to the ~5e-4 relative rounding (the local model
// is int8 already), and half the bytes mean half the pages: at 100k chunks
// of 256 dimensions that is ~60 MiB of the file mapped in to load the
// vector index instead of ~136 MiB.
const vectorFloat16 = 1

// EncodeVector stores a vector as a format tag and little-endian halves.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 1+2*len(v))
	b[0] = vectorFloat16
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[1+2*i:], toHalf(x))
	}
	return b
}

// DecodeVector reads a vector written by EncodeVector (or an untagged
// float32 one, the first format) into a new slice.
func DecodeVector(b []byte) []float32 { return decodeVectorInto(nil, b) }

// decodeVectorInto is DecodeVector into dst's memory when it is large
// enough.
func decodeVectorInto(dst []float32, b []byte) []float32 {
	if len(b)%2 == 1 && b[0] == vectorFloat16 {
		v := slices.Grow(dst[:0], (len(b)-1)/2)[:(len(b)-1)/2]
		for i := range v {
			v[i] = fromHalf(binary.LittleEndian.Uint16(b[1+2*i:]))
		}
		return v
	}
	v := slices.Grow(dst[:0], len(b)/4)[:len(b)/4]
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// ToHalf and FromHalf convert between float32 and the half floats
// vectors are stored as; the vector index holds the same halves, so what
// it ranks is exactly what the store keeps.
func ToHalf(f float32) uint16 { return toHalf(f) }

// FromHalf converts IEEE 754 binary16 to float32 exactly.
func FromHalf(h uint16) float32 { return fromHalf(h) }

// toHalf converts to IEEE 754 binary16, rounding to nearest even;
// out-of-range values saturate to ±Inf and tiny ones become subnormal or 0.
func toHalf(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int32(bits>>23) & 0xff
	mant := bits & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // too large
		return sign | 0x7c00
	case exp-127 >= -14: // normal half
		e := uint32(exp-127+15) << 10
		m := mant >> 13
		round := mant & 0x1fff
		h := e | m
		if round > 0x1000 || (round == 0x1000 && m&1 == 1) {
			h++ // may carry into the exponent, which is still correct
		}
		return sign | uint16(h)
	case exp-127 >= -25: // subnormal half
		mant |= 0x800000
		shift := uint32(-14-(exp-127)) + 13
		m := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && m&1 == 1) {
			m++
		}
		return sign | uint16(m)
	}
	return sign
}

// fromHalf converts IEEE 754 binary16 to float32 exactly.
func fromHalf(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: normalise.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// CountVectors returns how many vectors model has.
func (s *Store) CountVectors(ctx context.Context, model string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketVectors).Bucket([]byte(model)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// VectorWrite is one vector for PutVectors, made from the chunk as it was
// when its document was last updated at DocUpdated.
type VectorWrite struct {
	ChunkID    string
	DocUpdated time.Time
	Vec        []float32
}

// PutVectors stores vectors of model for existing chunks (the re-embed job
// writes a new model's vectors beside the active ones). A vector whose
// document was deleted or updated since it was computed is skipped: it
// was made from text that is gone, and the job's catch-up embeds the new
// text instead. It returns how many vectors it stored.
func (s *Store) PutVectors(ctx context.Context, model string, writes []VectorWrite) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketVectors).CreateBucketIfNotExists([]byte(model))
		if err != nil {
			return err
		}
		b.FillPercent = appendFill
		var doc *Document
		for _, w := range writes {
			docID, _, _ := cutLast(w.ChunkID, '-')
			if doc == nil || doc.ID != docID {
				if doc, err = documentByID(tx, []byte(docID)); ErrorCode(err) == ENOTFOUND {
					doc = nil
					continue
				} else if err != nil {
					return err
				}
			}
			if !doc.UpdatedAt.Equal(w.DocUpdated) || tx.Bucket(bucketChunks).Get([]byte(w.ChunkID)) == nil {
				continue
			}
			if err := b.Put([]byte(w.ChunkID), EncodeVector(w.Vec)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// DeleteVectorModel drops all vectors and the stored model of model ID.
func (s *Store) DeleteVectorModel(ctx context.Context, model string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if string(tx.Bucket(bucketMeta).Get(metaActiveModel)) == model {
			return Errorf(ECONFLICT, "model %s is in use", model)
		}
		if tx.Bucket(bucketVectors).Bucket([]byte(model)) != nil {
			if err := tx.Bucket(bucketVectors).DeleteBucket([]byte(model)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketEmbedModels).Delete([]byte(model)); err != nil {
			return err
		}
		return tx.Bucket(bucketModelBlobs).Delete([]byte(model))
	})
}

// EmbedModel records an embedding model: what made the vectors, and for
// models learned from the corpus, how big that corpus was.
type EmbedModel struct {
	ID        string    `json:"id"` // name@version/dim
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Dim       int       `json:"dim"`
	Kind      string    `json:"kind"`             // "local" (learned from the corpus) or "remote"
	Trained   int       `json:"trained,omitzero"` // chunks the local model was trained on
	CreatedAt time.Time `json:"created_at"`
}

// PutEmbedModel stores a model's record and, for local models, its bytes.
func (s *Store) PutEmbedModel(ctx context.Context, m EmbedModel, blob []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if m.CreatedAt.IsZero() {
			m.CreatedAt = s.now().UTC()
		}
		if err := putJSON(tx.Bucket(bucketEmbedModels), []byte(m.ID), m); err != nil {
			return err
		}
		if blob != nil {
			return tx.Bucket(bucketModelBlobs).Put([]byte(m.ID), blob)
		}
		return nil
	})
}

// LoadEmbedModel returns a stored model's record and bytes (nil for remote).
func (s *Store) LoadEmbedModel(ctx context.Context, id string) (*EmbedModel, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var m EmbedModel
	var blob []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if ok, err := getJSON(tx.Bucket(bucketEmbedModels), []byte(id), &m); err != nil {
			return err
		} else if !ok {
			return Errorf(ENOTFOUND, "embedding model %s not found", id)
		}
		if b := tx.Bucket(bucketModelBlobs).Get([]byte(id)); b != nil {
			blob = append([]byte(nil), b...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return &m, blob, nil
}

// ActiveEmbedModel returns the model ID queries and new documents use
// ("" before the first ingestion).
func (s *Store) ActiveEmbedModel(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var id string
	err := s.db.View(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(metaActiveModel))
		return nil
	})
	return id, err
}

// SwapEmbedModel makes model the active one, atomically. Every chunk must
// already have a vector of model, or the swap is refused: retrieval would
// silently miss the chunks without one.
func (s *Store) SwapEmbedModel(ctx context.Context, actor Actor, model string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		old := string(meta.Get(metaActiveModel))
		if old == model {
			return nil
		}
		if tx.Bucket(bucketEmbedModels).Get([]byte(model)) == nil {
			return Errorf(ENOTFOUND, "embedding model %s not found", model)
		}
		vecs := tx.Bucket(bucketVectors).Bucket([]byte(model))
		missing := 0
		err := tx.Bucket(bucketChunks).ForEach(func(k, _ []byte) error {
			if vecs == nil || vecs.Get(k) == nil {
				missing++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if missing > 0 {
			return Errorf(ECONFLICT, "model %s lacks vectors for %d chunks", model, missing)
		}
		if err := meta.Put(metaActiveModel, []byte(model)); err != nil {
			return err
		}
		// Every document's vectors are now the new model's.
		docs := tx.Bucket(bucketDocuments)
		var updated []Document
		err = docs.ForEach(func(_, v []byte) error {
			var d Document
			if err := decode(v, &d); err != nil {
				return err
			}
			if d.EmbedModel != model {
				d.EmbedModel = model
				updated = append(updated, d)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range updated {
			if err := putJSON(docs, []byte(updated[i].ID), &updated[i]); err != nil {
				return err
			}
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "embedding_model", ResourceID: model, Before: old, After: model})
	})
}

// ChunkConfig is a versioned chunking configuration; chunks record the
// version they were made with. Config is the chunker's own JSON, which the
// store does not interpret.
type ChunkConfig struct {
	Version   int             `json:"version"`
	Config    json.RawMessage `json:"config"`
	CreatedAt time.Time       `json:"created_at"`
	CreatedBy string          `json:"created_by"`
}

// CurrentChunkConfig returns the newest chunking config, or nil if none
// was saved yet.
func (s *Store) CurrentChunkConfig(ctx context.Context) (*ChunkConfig, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var cfg *ChunkConfig
	err := s.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bucketChunkConfigs).Cursor().Last()
		if v == nil {
			return nil
		}
		cfg = new(ChunkConfig)
		return decode(v, cfg)
	})
	return cfg, err
}

// SaveChunkConfig stores config as a new version unless it equals the
// current one, and returns the version in force.
func (s *Store) SaveChunkConfig(ctx context.Context, actor Actor, config json.RawMessage) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	version := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChunkConfigs)
		k, v := b.Cursor().Last()
		if v != nil {
			var cur ChunkConfig
			if err := decode(v, &cur); err != nil {
				return err
			}
			if jsonEqual(cur.Config, config) {
				version = cur.Version
				return nil
			}
			version = int(binary.BigEndian.Uint64(k))
		}
		version++
		cfg := ChunkConfig{Version: version, Config: config, CreatedAt: s.now().UTC(), CreatedBy: actor.String()}
		if err := putJSON(b, encodeVersion(version), cfg); err != nil {
			return err
		}
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "create", Resource: "chunk_config", ResourceID: fmt.Sprint(version), After: string(config)})
	})
	return version, err
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// ForEachDocumentVector calls fn with every vector of model and the
// document its chunk belongs to, from one read transaction. Unlike
// ForEachChunkVector it never reads chunk text, so loading the vector
// index touches only the vector pages of the file: at 100k chunks that is
// the difference between ~100 MiB and ~500 MiB of the database mapped in.
// vec is reused from call to call: fn must copy what it keeps (a new
// slice per vector was 1 GB of garbage while loading 1M vectors).
func (s *Store) ForEachDocumentVector(ctx context.Context, model string, fn func(d *Document, chunkID string, vec []float32) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		vecs := tx.Bucket(bucketVectors).Bucket([]byte(model))
		if vecs == nil {
			return nil
		}
		docs := tx.Bucket(bucketDocuments)
		var doc *Document
		var vec []float32
		rel := scanReleaser{tx: tx}
		defer rel.done()
		return vecs.ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rel.tick()
			id := string(k)
			docID, _, ok := cutLast(id, '-')
			if !ok {
				return fmt.Errorf("malformed chunk ID %q", id)
			}
			if doc == nil || doc.ID != docID {
				var d Document
				if found, err := getJSON(docs, []byte(docID), &d); err != nil {
					return err
				} else if !found {
					doc = nil
					return nil // a vector whose document is gone: skip it
				}
				doc = &d
			}
			vec = decodeVectorInto(vec, v)
			return fn(doc, id, vec)
		})
	})
}

func cutLast(s string, sep byte) (before, after string, found bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// ForEachChunkVector calls fn with every chunk, its document and its vector
// under model (nil if it has none), from one read transaction. It is how
// the vector index is loaded at start-up.
func (s *Store) ForEachChunkVector(ctx context.Context, model string, fn func(d *Document, c *Chunk, vec []float32) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		vecs := tx.Bucket(bucketVectors).Bucket([]byte(model))
		var doc *Document
		rel := scanReleaser{tx: tx}
		defer rel.done()
		return tx.Bucket(bucketChunks).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rel.tick()
			var ch Chunk
			if err := decode(v, &ch); err != nil {
				return err
			}
			if doc == nil || doc.ID != ch.DocumentID {
				var err error
				if doc, err = documentByID(tx, []byte(ch.DocumentID)); err != nil {
					return err
				}
			}
			var vec []float32
			if vecs != nil {
				if raw := vecs.Get(k); raw != nil {
					vec = DecodeVector(raw)
				}
			}
			return fn(doc, &ch, vec)
		})
	})
}
