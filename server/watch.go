package server

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"llmops/rag"
	"llmops/store"
	"llmops/store/schema"
)

// watchFolder keeps the knowledge base in step with a folder: new and
// changed files are ingested, removed ones deleted. It polls (size and
// modification time) rather than using OS notifications: it is simple,
// works on network and container mounts, and content hashes make a
// spurious re-read cost nothing but the read. Only regular files inside
// the folder are read, never more than the parser accepts.
func (s *Server) watchFolder(ctx context.Context) {
	dir, err := filepath.Abs(s.cfg.WatchDir)
	if err != nil {
		s.log.Error("watch: bad folder", "dir", s.cfg.WatchDir, "err", err)
		return
	}
	type stamp struct {
		size int64
		mod  time.Time
	}
	// Documents from an earlier run count as seen with an unknown stamp:
	// the first scan re-checks them and removes those whose file is gone.
	seen := map[string]stamp{}
	// Entries that are not documents (links, FIFOs, devices: see
	// rag.ReadFolderFile), so each is reported once, not every scan.
	skipped := map[string]stamp{}
	if docs, err := s.store.ListDocuments(ctx); err == nil {
		for _, d := range docs {
			if strings.HasPrefix(d.Source, dir+string(filepath.Separator)) {
				seen[d.Source] = stamp{size: -1}
			}
		}
	}
	actor := store.Actor{Kind: store.ActorSystem, Name: "watch " + dir}
	// --watch may name a link to a folder: WalkDir follows its root only
	// with a trailing separator (links inside the folder are not followed).
	walkRoot := dir
	if l, err := os.Lstat(dir); err == nil && l.Mode()&fs.ModeSymlink != 0 {
		walkRoot += string(filepath.Separator)
	}
	tick := time.NewTicker(s.cfg.WatchInterval)
	defer tick.Stop()
	for {
		current := map[string]stamp{}
		var changed []rag.File
		skippedNow := map[string]stamp{}
		walkErr := false // a folder we could not read must not look like deleted files
		_ = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return filepath.SkipAll
			}
			if err != nil {
				walkErr = true
				s.log.Warn("watch: cannot read", "path", path, "err", err)
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") && path != dir && path != walkRoot {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				walkErr = true
				return nil
			}
			st := stamp{info.Size(), info.ModTime()}
			if old, ok := seen[path]; ok && old == st {
				current[path] = st
				return nil
			}
			if old, ok := skipped[path]; ok && old == st {
				skippedNow[path] = st
				return nil
			}
			data, err := rag.ReadFolderFile(dir, path, s.cfg.MaxUploadBytes)
			var refused *store.Error
			if errors.As(err, &refused) {
				// Reported once, until the entry changes.
				s.log.Warn("watch: skipped", "file", path, "reason", refused.Message)
				if refused.Code == store.ETOOLARGE {
					current[path] = st // kept, like a file that fails to parse
				} else {
					// Not a document (a link, a FIFO, a device): left out
					// of current, so a document it was before is removed.
					skippedNow[path] = st
				}
				return nil
			}
			if err != nil {
				walkErr = true
				s.log.Warn("watch: cannot read", "file", path, "err", err)
				if old, ok := seen[path]; ok {
					current[path] = old // keep it; retry next scan
				}
				return nil
			}
			current[path] = st
			changed = append(changed, rag.File{Name: path, Data: data})
			return nil
		})
		if len(changed) > 0 {
			for _, r := range s.ingest(ctx, actor, changed, nil) {
				if outcome := r.Outcome; outcome == schema.IngestFailed {
					// Marked seen: a broken file is retried when it changes,
					// not every scan.
					s.log.Warn("watch: ingest failed", "file", r.Name, "err", r.Error)
				} else if outcome != schema.IngestUnchanged {
					s.log.Info("watch: ingested", "file", r.Name, "outcome", r.Outcome, "chunks", r.Chunks)
				}
			}
		}
		for path := range seen {
			if _, ok := current[path]; ok {
				continue
			}
			if walkErr || ctx.Err() != nil {
				current[path] = seen[path] // unsure whether it is gone: keep it
				continue
			}
			if doc, err := s.store.DocumentBySource(ctx, path); err == nil {
				if _, err := s.kb.Delete(ctx, actor, doc.ID); err != nil {
					s.log.Warn("watch: delete failed", "file", path, "err", err)
				} else {
					s.log.Info("watch: removed", "file", path)
				}
			}
		}
		seen, skipped = current, skippedNow
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
