package server

import (
	"context"
	"time"
)

// releaseMappedEvery is how often a running server drops the database
// pages its reads touched from its resident set (store.ReleaseMapped):
// queries read the chunks they return through bbolt's memory map, and
// over hours on a 1M-chunk corpus those pages would add up to the whole
// file in the process's RSS. The page cache keeps them; a read after a
// release faults a page back in (about a microsecond).
const releaseMappedEvery = time.Minute

// releaseMapped runs store.ReleaseMapped every releaseMappedEvery until
// ctx ends.
func (s *Server) releaseMapped(ctx context.Context) {
	t := time.NewTicker(releaseMappedEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.store.ReleaseMapped(); err != nil {
			s.log.Warn("releasing mapped database pages failed", "err", err)
		}
	}
}
