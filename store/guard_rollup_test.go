package store

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"llmops/store/schema"

	bolt "go.etcd.io/bbolt"
)

// guardedAsk is a finished chat ask at at with the given guard verdicts.
func guardedAsk(at time.Time, verdicts map[string]string, blocked bool) *Trace {
	t := &Trace{ID: NewIDAt(at), Kind: schema.KindAsk, Name: "ask", Start: at, End: at.Add(40 * time.Millisecond), Status: schema.StatusOK,
		Attributes: map[string]any{schema.AttrChannel: schema.ChannelChat, schema.AttrGuards: verdicts}}
	if blocked {
		t.Status = schema.StatusFallback
		t.Attributes[schema.AttrGuardBlocked] = true
	}
	return t
}

// TestGuardCountsCommitWithTheTrace: the commit that stores a trace
// stores its guard counts; rewriting it (running, then finished with
// other verdicts) leaves only the final verdicts counted.
func TestGuardCountsCommitWithTheTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 12, 7, 9, 30, 15, 0, time.UTC)
	w := s.NewTraceWriter(TraceWriterOptions{})
	defer w.Close(ctx)

	tr := guardedAsk(at, map[string]string{"input.injection": schema.GuardFlagged}, false)
	tr.Status = schema.StatusRunning
	if err := w.Write(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	window := func() Rollup {
		t.Helper()
		r, _, _, err := s.Rollups(ctx, at.Add(-time.Hour), at.Add(time.Hour), RollupFilter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := window(); len(r.Guards) != 0 || r.GuardBlocks != 0 {
		t.Errorf("a running ask counted: %d blocks, %v", r.GuardBlocks, r.Guards)
	}

	done := *tr
	done.Attributes = map[string]any{schema.AttrChannel: schema.ChannelChat,
		schema.AttrGuards: map[string]string{"input.injection": schema.GuardBlocked, "input.pii": schema.GuardRedacted}, schema.AttrGuardBlocked: true}
	done.Status = schema.StatusFallback
	if err := w.Write(ctx, &done); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// One read transaction sees the trace and its counts together, in
	// the minute, hour and day rollups.
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTraces).Get([]byte(tr.ID)) == nil {
			t.Error("trace not stored")
		}
		for _, level := range []byte{levelMinute, levelHour, levelDay} {
			v := tx.Bucket(bucketRollups).Get(rollupKey(level, periodStart(level, at), RollupDims{Channel: schema.ChannelChat}))
			var r Rollup
			if err := r.addEncoded(v); err != nil {
				t.Errorf("level %c: %v", level, err)
				continue
			}
			want := map[string]GuardCounts{"input.injection": {Blocked: 1}, "input.pii": {Redacted: 1}}
			if !maps.Equal(r.Guards, want) || r.GuardBlocks != 1 || r.Fallbacks != 1 {
				t.Errorf("level %c: guards %v, %d blocks, %d fallbacks; want %v, 1, 1", level, r.Guards, r.GuardBlocks, r.Fallbacks, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The flag the running version had was taken out.
	if r := window(); r.Guards["input.injection"].Flagged != 0 {
		t.Errorf("the running version's flag is still counted: %v", r.Guards)
	}
}

func TestRollupCodecGuardCounts(t *testing.T) {
	t.Parallel()
	r := Rollup{Requests: 3, Fallbacks: 1, Gaps: map[string]int64{"how do i cancel": 1}, GuardBlocks: 1,
		Guards: map[string]GuardCounts{"input.pii": {Redacted: 2}, "input.injection": {Flagged: 1, Blocked: 1}}}
	r.Latency.Add(12, 3)
	var got Rollup
	if err := got.addEncoded(r.encode()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip: %+v, want %+v", got, r)
	}
	// Taking a record back out leaves nothing.
	got.merge(&r, -1)
	if len(got.Guards) != 0 || got.GuardBlocks != 0 {
		t.Errorf("after subtracting: %v, %d blocks", got.Guards, got.GuardBlocks)
	}

	// A version 1 record (before schema 19) reads with no guard counts:
	// it is version 2's without the two trailing zeros.
	old := Rollup{Requests: 2, Errors: 1, CostUSD: 0.25}
	v2 := old.encode()
	if !bytes.HasSuffix(v2, []byte{0, 0}) {
		t.Fatalf("version 2 of a rollup without guards ends % x", v2[len(v2)-2:])
	}
	v1 := append([]byte{1}, v2[1:len(v2)-2]...)
	var back Rollup
	if err := back.addEncoded(v1); err != nil || !reflect.DeepEqual(back, old) {
		t.Errorf("version 1 record: %+v, %v; want %+v", back, err, old)
	}
	for _, bad := range [][]byte{{3}, v2[:len(v2)-1]} {
		if err := new(Rollup).addEncoded(bad); err == nil {
			t.Errorf("addEncoded(% x) accepted a malformed record", bad)
		}
	}
}

// TestMigrationGuardCounts turns a database back to the schema before
// guard counts, with rollups that have none, and checks that opening it
// rebuilds them from the traces.
func TestMigrationGuardCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	version := migrationNamed(t, "monitoring: guard verdict counts")
	s, err := Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC)
	w := s.NewTraceWriter(TraceWriterOptions{})
	traces := []*Trace{
		guardedAsk(at, map[string]string{"input.injection": schema.GuardBlocked}, true),
		guardedAsk(at.Add(time.Minute), map[string]string{"input.pii": schema.GuardRedacted, "output.policy": schema.GuardFlagged}, false),
		guardedAsk(at.Add(25*time.Hour), map[string]string{"input.pii": schema.GuardRedacted}, false),
	}
	for _, tr := range traces {
		if err := w.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(metaSchemaVersion, encodeVersion(version-1)); err != nil {
			return err
		}
		// As schema 18 left them: version 1 records, no guard counts.
		b := tx.Bucket(bucketRollups)
		type put struct{ k, v []byte }
		var puts []put
		err := b.ForEach(func(k, v []byte) error {
			var r Rollup
			if err := r.addEncoded(v); err != nil {
				return err
			}
			r.Guards, r.GuardBlocks = nil, 0
			v2 := r.encode()
			puts = append(puts, put{bytes.Clone(k), append([]byte{1}, v2[1:len(v2)-2]...)})
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range puts {
			if err := b.Put(p.k, p.v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, dir, Options{NoSync: true})
	if err != nil {
		t.Fatalf("open schema %d: %v", version-1, err)
	}
	defer s.Close()
	got, _, _, err := s.Rollups(ctx, at.Add(-time.Hour), at.Add(48*time.Hour), RollupFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]GuardCounts{"input.injection": {Blocked: 1}, "input.pii": {Redacted: 2}, "output.policy": {Flagged: 1}}
	if !maps.Equal(got.Guards, want) || got.GuardBlocks != 1 || got.Requests != 3 {
		t.Errorf("after migration %d: %v, %d blocks, %d requests; want %v, 1, 3", version, got.Guards, got.GuardBlocks, got.Requests, want)
	}
	for _, err := range s.Check() {
		t.Errorf("consistency: %v", err)
	}
}
