package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// EncodeVector stores a vector as little-endian float32s.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector reads a vector written by EncodeVector into a new slice.
func DecodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// ForEachVector calls fn with every vector of model (chunk ID and vector),
// from one read transaction. The slice passed to fn is fn's to keep.
func (s *Store) ForEachVector(ctx context.Context, model string, fn func(chunkID string, vec []float32) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVectors).Bucket([]byte(model))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(string(k), DecodeVector(v))
		})
	})
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

// PutVectors stores vectors of model for existing chunks (the re-index job
// writes a new model's vectors beside the active ones). Chunks deleted
// meanwhile are skipped.
func (s *Store) PutVectors(ctx context.Context, model string, ids []string, vecs [][]float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketVectors).CreateBucketIfNotExists([]byte(model))
		if err != nil {
			return err
		}
		chunks := tx.Bucket(bucketChunks)
		for i, id := range ids {
			if chunks.Get([]byte(id)) == nil {
				continue
			}
			if err := b.Put([]byte(id), EncodeVector(vecs[i])); err != nil {
				return err
			}
		}
		return nil
	})
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
		return s.writeAudit(tx, AuditEvent{Actor: actor, Action: "update", Resource: "embedding_model", ResourceID: model, Before: old, After: model})
	})
}

// ListEmbedModels returns every stored model record.
func (s *Store) ListEmbedModels(ctx context.Context) ([]EmbedModel, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []EmbedModel
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEmbedModels).ForEach(func(_, v []byte) error {
			var m EmbedModel
			if err := decode(v, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
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

// ForEachChunkVector calls fn with every chunk, its document and its vector
// under model (nil if it has none), from one read transaction. It is how
// the vector index is loaded at start-up.
func (s *Store) ForEachChunkVector(ctx context.Context, model string, fn func(d *Document, c *Chunk, vec []float32) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		vecs := tx.Bucket(bucketVectors).Bucket([]byte(model))
		var doc *Document
		return tx.Bucket(bucketChunks).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
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
