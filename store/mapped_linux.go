package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped advises the kernel that the mapped pages of the
// database up to tx's size are not needed (see mapped.go). The map is at
// least tx.Size() long and starts page-aligned; an error (there is none
// for a valid range) only means the pages stay resident.
func releaseMapped(tx *bolt.Tx) {
	if size := tx.Size(); size > 0 {
		syscall.Syscall(syscall.SYS_MADVISE, tx.DB().Info().Data, uintptr(size), syscall.MADV_DONTNEED)
	}
}
