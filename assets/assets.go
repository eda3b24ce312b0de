// Package assets embeds the static files the UI serves (CSS, JS, vendored
// front-end libraries) and serves them under content-hashed URLs, so
// browsers cache them forever and a new build never serves stale files.
package assets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// vendor/axe is left out: only the browser tests load it.
//
//go:embed *.css *.js favicon.svg vendor/VERSIONS vendor/htmx vendor/uplot
var files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

type manifest struct {
	urls   map[string]string // "app.css" → "/static/app.3f2a1b9c0d.css"
	byPath map[string]string // "app.3f2a1b9c0d.css" → "app.css"
}

// load hashes every embedded file once; the files are compiled in, so the
// result never changes while the process runs.
var load = sync.OnceValue(func() manifest {
	m := manifest{urls: map[string]string{}, byPath: map[string]string{}}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		m.urls[name] = Prefix + hashed
		m.byPath[hashed] = name
		return nil
	})
	return m
})

// URL returns the content-hashed URL of an embedded file such as "app.css".
// An unknown name returns a URL that 404s, which tests catch.
func URL(name string) string {
	if u, ok := load().urls[name]; ok {
		return u
	}
	return Prefix + "missing/" + name
}

// Handler serves embedded files by their hashed names with immutable
// caching; unhashed names are not served, so every URL is versioned.
func Handler() http.Handler {
	m := load()
	modTime := time.Unix(0, 0)
	return http.StripPrefix(Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := m.byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		data, err := files.ReadFile(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeContent(w, r, name, modTime, bytes.NewReader(data))
	}))
}

// Read returns an embedded file's bytes by its plain name, for the few
// files served under a fixed URL (the chat widget's /widget.js must keep
// one address that help sites embed).
func Read(name string) ([]byte, error) { return files.ReadFile(name) }
