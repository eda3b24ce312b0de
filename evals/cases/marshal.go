package cases

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"

	"llmops/store"
)

// Marshal writes cases as JSON Lines, one store.EvalCase per line: the
// export format, which Parse reads back unchanged.
func Marshal(cases []store.EvalCase) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, ec := range cases {
		if enc.Encode(ec) != nil {
			// Only a NaN or infinite grade fails to encode; drop those.
			ec.Relevance = finiteGrades(ec.Relevance)
			_ = enc.Encode(ec)
		}
	}
	return b.Bytes()
}

func finiteGrades(m map[string]float64) map[string]float64 {
	m = maps.Clone(m)
	maps.DeleteFunc(m, func(_ string, g float64) bool { return math.IsNaN(g) || math.IsInf(g, 0) })
	return m
}
