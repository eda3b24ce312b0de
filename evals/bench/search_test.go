package bench

import (
	"encoding/json"
	"slices"
	"testing"

	sampledata "llmops/sample-data"
)

// TestSearchSmall builds a 300-chunk corpus, checks the report's JSON
// shape, and reuses the data dir on a second run instead of building
// again.
func TestSearchSmall(t *testing.T) {
	vocab, err := sampledata.Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := SearchOptions{Dir: dir, Chunks: 300, Queries: 10, Vocab: vocab, Seed: 1}
	rep, err := Search(t.Context(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chunks < 300 || rep.Built == 0 {
		t.Errorf("got %d chunks, built in %s; want at least 300, built", rep.Chunks, rep.Built)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(top), []string{"chunks", "peak_rss_mib", "pipelines", "rss_anon_mib", "rss_file_mib", "rss_mib"}; !slices.Equal(got, want) {
		t.Errorf("JSON keys: got %q, want %q\n%s", got, want, data)
	}
	var pipes map[string]map[string]float64
	if err := json.Unmarshal(top["pipelines"], &pipes); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(pipes), []string{"bm25", "hybrid", "hybrid+rerank", "vector"}; !slices.Equal(got, want) {
		t.Errorf("pipelines: got %q, want %q", got, want)
	}
	for name, p := range pipes {
		if got := keys(p); !slices.Equal(got, []string{"p50_ms", "p95_ms"}) || p["p50_ms"] <= 0 || p["p95_ms"] < p["p50_ms"] {
			t.Errorf("%s: got %v, want positive p50_ms ≤ p95_ms", name, p)
		}
	}

	again, err := Search(t.Context(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Built != 0 || again.Chunks != rep.Chunks {
		t.Errorf("second run: built in %s, %d chunks; want the %d chunks reused", again.Built, again.Chunks, rep.Chunks)
	}
}
