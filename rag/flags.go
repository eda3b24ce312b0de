package rag

import (
	"context"
	"fmt"
	"time"

	"llmops/rag/guard"
	"llmops/rag/index"
	"llmops/store"
)

// flagOf checks a chunk's text and headings with rag/guard and returns
// its flag, or nil when nothing matched.
func flagOf(c *store.Chunk, now time.Time) *store.ChunkFlag {
	text := c.Text
	for _, h := range c.Headings {
		text += "\n" + h
	}
	fs := guard.Check(text)
	if fs == nil {
		return nil
	}
	f := &store.ChunkFlag{Reason: guard.Reason(fs), Match: fs[0].Match, Guard: guard.Version, FlaggedAt: now}
	for _, x := range fs {
		f.Rules = append(f.Rules, x.Rule)
	}
	return f
}

// recheckFlags checks every stored chunk with the current rules when the
// store's chunks were checked with an older rule set (or never: data from
// before flags existed), or always when force is set (llmops reindex).
// Flags are written in bounded batches; approvals survive when a chunk is
// flagged for the same rules again.
func (kb *KnowledgeBase) recheckFlags(ctx context.Context, force bool) error {
	v, err := kb.st.GuardVersion(ctx)
	if err != nil {
		return err
	}
	if v >= guard.Version && !force {
		return nil
	}
	start := time.Now()
	old, err := kb.st.ChunkFlags(ctx)
	if err != nil {
		return err
	}
	var updates []store.FlagUpdate
	n, flagged := 0, 0
	now := time.Now().UTC()
	err = kb.st.ForEachChunk(ctx, func(_ *store.Document, c *store.Chunk) error {
		n++
		f := flagOf(c, now)
		if f != nil {
			flagged++
		}
		if _, had := old[c.ID]; f != nil || had {
			updates = append(updates, store.FlagUpdate{ChunkID: c.ID, Flag: f})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check chunks for text addressing the assistant: %w", err)
	}
	if err := kb.st.UpdateChunkFlags(ctx, guard.Version, updates); err != nil {
		return err
	}
	if n > 0 {
		kb.log.Info("chunks checked for text addressing the assistant", "guard_version", guard.Version, "from_version", v,
			"chunks", n, "flagged", flagged, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// withoutHeld runs search and, when the filter asks for it (publishable
// keys), drops the chunks held by a flag, asking the index for more hits
// (up to 8× n) when some were dropped, so a held chunk costs a public
// answer nothing but itself.
func (kb *KnowledgeBase) withoutHeld(ctx context.Context, n int, f index.Filter, search func(int, index.Filter) ([]index.Hit, error)) ([]index.Hit, error) {
	if !f.ExcludeHeld || n <= 0 {
		f.ExcludeHeld = false
		return search(n, f)
	}
	f.ExcludeHeld = false
	for m := n; ; m *= 2 {
		hits, err := search(m, f)
		if err != nil || len(hits) == 0 {
			return hits, err
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		held, err := kb.st.HeldChunks(ctx, ids)
		if err != nil {
			return nil, err
		}
		keep := make([]index.Hit, 0, len(hits))
		for _, h := range hits {
			if !held[h.ID] {
				keep = append(keep, h)
			}
		}
		if len(keep) >= n || len(hits) < m || m >= 8*n {
			return keep[:min(n, len(keep))], nil
		}
	}
}
