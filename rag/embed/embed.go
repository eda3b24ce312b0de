// Package embed turns text into vectors for the vector half of hybrid
// retrieval. It holds the Embedder interface, the embedded default (Local,
// a latent semantic model learned from the corpus itself, pure Go, no
// network), and RRF, the rank fusion used to combine vector and BM25
// results. An OpenAI-compatible client lives in embed/remote.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Model identifies the vectors an embedder makes. It is stored with every
// vector, and queries must use the same model as the index: two models with
// the same Dim still make incomparable vectors.
type Model struct {
	Name    string
	Version string
	Dim     int
}

// ID is the canonical "name@version/dim" form, for storage keys and logs.
func (m Model) ID() string { return fmt.Sprintf("%s@%s/%d", m.Name, m.Version, m.Dim) }

// Embedder turns texts into L2-normalised vectors of Model().Dim.
type Embedder interface {
	Model() Model
	// EmbedDocuments embeds passages for the index, one vector per text,
	// in order.
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	// EmbedQuery embeds a search query. It may weight terms differently
	// from EmbedDocuments, so always use it for queries.
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// Sentinel errors.
var (
	// ErrBadModel means serialised model data is corrupt, truncated or of
	// an unknown format version.
	ErrBadModel = errors.New("embed: invalid model data")
	// ErrDimension means vectors of the wrong dimension were produced or
	// supplied.
	ErrDimension = errors.New("embed: dimension mismatch")
)

// Normalize scales v to unit L2 length in place and reports whether it
// could (a zero or non-finite vector cannot be normalised).
func Normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return false
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return true
}
