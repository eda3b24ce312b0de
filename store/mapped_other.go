//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped is Linux-only (see mapped.go): elsewhere the pages stay
// mapped until the kernel reclaims them.
func releaseMapped(*bolt.Tx) {}
