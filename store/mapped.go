package store

import bolt "go.etcd.io/bbolt"

// bbolt reads through a read-only shared memory map of the database file,
// and every page a read touches stays in this process's resident set
// (RssFile) until the kernel needs the memory back. A full scan touches
// the whole file: at 1M chunks, loading the vector index and the checks
// at start-up left 1.6 GiB of the 2.7 GiB file counted against the
// process (docs/BENCHMARKS.md, "Search at 1M chunks, measured"). Those
// pages are the page cache's, not the process's, but a container's memory
// limit and `ps` count them. So full scans drop the map's pages from the
// process's page tables every releaseEvery keys and when they end
// (madvise MADV_DONTNEED on Linux; a no-op elsewhere). That is safe at
// any moment for a read-only shared file mapping: a later read faults the
// page in again from the page cache, unchanged, and bbolt never writes
// through the map. It runs inside a read transaction, which holds bbolt's
// remap lock, so the map cannot move underneath.

// releaseEvery is how many keys a full scan reads between two releases:
// at most a few tens of MiB of the file are resident at once.
const releaseEvery = 1 << 15

// releaseChunkReads is how many chunks ChunksByID reads between two
// releases. Each read faults in a few pages (the chunk's, its document's,
// its flag lookup's), and the kernel maps up to 64 KiB of cached
// neighbours around each fault, so up to ~50 MiB stay resident between
// releases; without it, 880 queries of bench search at 100k chunks left
// 149 MiB of the file, with a release every 1,024 reads 71 MiB.
const releaseChunkReads = 256

// ReleaseMapped drops the database's pages from the process's memory map;
// they stay in the page cache, and reads fault them back in.
func (s *Store) ReleaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error {
		releaseMapped(tx)
		return nil
	})
}

// scanReleaser releases the map's pages every releaseEvery calls of tick
// and at done; a full scan calls tick once per key.
type scanReleaser struct {
	tx *bolt.Tx
	n  int
}

func (r *scanReleaser) tick() {
	if r.n++; r.n%releaseEvery == 0 {
		releaseMapped(r.tx)
	}
}

func (r *scanReleaser) done() { releaseMapped(r.tx) }
