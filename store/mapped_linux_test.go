package store_test

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"llmops/store"
)

// mappedKiB is the resident part of this process's map of path, from
// /proc/self/smaps.
func mappedKiB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[5] == path
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			total += kb
		}
	}
	return total
}

// TestScansReleaseMappedPages: a full scan leaves none of the database's
// pages in the process's resident set, ReleaseMapped drops what reads
// touched, and reads after either see the same data.
func TestScansReleaseMappedPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	actor := store.Actor{Kind: store.ActorSystem, Name: "test"}
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]string{}
	var ids []string
	for d := range 30 {
		var texts []string
		for range 10 {
			var b strings.Builder
			for range 300 {
				b.WriteString(strconv.FormatUint(rng.Uint64(), 36) + " ")
			}
			texts = append(texts, b.String()) // incompressible
		}
		res, err := s.CommitDocuments(ctx, actor, []store.DocumentWrite{docWrite("doc"+strconv.Itoa(d)+".md", "h"+strconv.Itoa(d), texts...)})
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range texts {
			id := store.ChunkID(res[0].Doc.ID, i)
			ids, want[id] = append(ids, id), text
		}
	}
	path := s.Path()

	refs, err := s.ChunksByID(ctx, ids[:200])
	if err != nil || len(refs) != 200 {
		t.Fatalf("ChunksByID: %d chunks, %v", len(refs), err)
	}
	if got := mappedKiB(t, path); got < 256 {
		t.Fatalf("reading 200 chunks left %d KiB of the map resident, want the pages read", got)
	}
	if err := s.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	if got := mappedKiB(t, path); got > 16 {
		t.Errorf("after ReleaseMapped %d KiB of the map are resident", got)
	}

	n := 0
	if err := s.ForEachChunk(ctx, func(_ *store.Document, c *store.Chunk) error {
		if c.Text != want[c.ID] {
			t.Errorf("chunk %s reads %q after a release", c.ID, c.Text[:20])
		}
		n++
		return nil
	}); err != nil || n != len(ids) {
		t.Fatalf("ForEachChunk: %d chunks, %v", n, err)
	}
	if got := mappedKiB(t, path); got > 16 {
		t.Errorf("after a full scan %d KiB of the map are resident", got)
	}
	n = 0
	if err := s.ForEachDocumentVector(ctx, "m@1/2", func(_ *store.Document, _ string, v []float32) error {
		if len(v) != 2 || v[0] < 0.59 || v[1] < 0.79 {
			t.Errorf("vector %v", v)
		}
		n++
		return nil
	}); err != nil || n != len(ids) {
		t.Fatalf("ForEachDocumentVector: %d vectors, %v", n, err)
	}
	if got := mappedKiB(t, path); got > 16 {
		t.Errorf("after loading vectors %d KiB of the map are resident", got)
	}

	// Reads by ID (a query's results) release every 256 chunks: 200 were
	// read above, 50 more stay under it, 50 more cross it.
	for i := range 2 {
		if _, err := s.ChunksByID(ctx, ids[200:250]); err != nil {
			t.Fatal(err)
		}
		if got := mappedKiB(t, path); i == 0 && got < 64 {
			t.Fatalf("before the release, %d KiB resident; want the pages read", got)
		}
	}
	if got := mappedKiB(t, path); got > 16 {
		t.Errorf("after 300 chunk reads %d KiB of the map are resident", got)
	}
}
