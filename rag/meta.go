package rag

import (
	"iter"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"llmops/rag/parse"
	"llmops/store"
)

// Limits of document metadata, wherever it comes from: upload form
// fields, CLI flags, the sample manifest, or a file's own front matter,
// HTML <meta> tags or document properties. Every document lands in the
// document list, the filters and the keyword index, so one runaway value
// would slow all of them. Lengths are in characters, after trimming.
const (
	MaxTitleRunes          = 300
	MaxCategoryRunes       = 100
	MaxProductVersionRunes = 64
	MaxTags                = 20 // distinct tags, after trimming, lower-casing and de-duplicating
	MaxTagRunes            = 64
	MaxSourceURLRunes      = 2048 // and it must be an http or https URL
	MaxLastUpdatedRunes    = 64
	MaxSourceRunes         = 1024 // a file's name or path, which is the document's source

	// A file's other metadata (front matter keys, HTML <meta> names,
	// DOCX properties) is kept on the document as given.
	MaxMetaKeys       = 32
	MaxMetaKeyRunes   = 64
	MaxMetaValueRunes = 2000

	// MaxMetaFieldBytes bounds one metadata field as sent, before trimming
	// and splitting: more than any valid value needs, so a reader may stop
	// there and refuse.
	MaxMetaFieldBytes = 16 << 10
)

// Meta is document metadata given at upload (form fields, the sample-data
// manifest, CLI flags). Empty fields fall back to the file's own metadata.
type Meta struct {
	Title          string   `json:"title,omitempty"`
	Category       string   `json:"category,omitempty"`
	ProductVersion string   `json:"product_version,omitempty"`
	Tags           []string `json:"tags,omitempty"`
	SourceURL      string   `json:"source_url,omitempty"`
	LastUpdated    string   `json:"last_updated,omitempty"`
}

func (m Meta) empty() bool {
	return m.Title == "" && m.Category == "" && m.ProductVersion == "" && len(m.Tags) == 0 && m.SourceURL == "" && m.LastUpdated == ""
}

// Validate checks m against the limits above. Its error is EINVALID and
// names the field (as the upload form spells it) and the limit.
func (m Meta) Validate() error {
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"title", m.Title, MaxTitleRunes},
		{"category", m.Category, MaxCategoryRunes},
		{"product_version", m.ProductVersion, MaxProductVersionRunes},
		{"source_url", m.SourceURL, MaxSourceURLRunes},
		{"last_updated", m.LastUpdated, MaxLastUpdatedRunes},
	} {
		if err := checkText(f.name, f.value, f.max); err != nil {
			return err
		}
	}
	if err := checkSourceURL(m.SourceURL); err != nil {
		return err
	}
	return checkTags(slices.Values(m.Tags))
}

// Validate checks a file's name and the metadata given with it.
func (f File) Validate() error {
	if tooLong(f.Name, MaxSourceRunes) {
		return store.Errorf(store.EINVALID, "file name: at most %d characters", MaxSourceRunes)
	}
	return f.Meta.Validate()
}

// tooLong reports whether s, trimmed, has more than max characters,
// without counting a huge string when its byte length already decides.
func tooLong(s string, max int) bool {
	s = strings.TrimSpace(s)
	return len(s) > max && (len(s) > max*utf8.UTFMax || utf8.RuneCountInString(s) > max)
}

func checkText(field, value string, max int) error {
	if tooLong(value, max) {
		return store.Errorf(store.EINVALID, "%s: at most %d characters", field, max)
	}
	return nil
}

func checkSourceURL(raw string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
		return store.Errorf(store.EINVALID, "source_url: must be an http:// or https:// URL")
	}
	return nil
}

// checkTags counts distinct tags as store.NormalizeTags would keep them,
// and stops at the first one over a limit: a list of millions costs no
// more than the first MaxTags+1 distinct tags in it.
func checkTags(tags iter.Seq[string]) error {
	seen := make(map[string]bool, MaxTags+1)
	for t := range tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if tooLong(t, MaxTagRunes) {
			return store.Errorf(store.EINVALID, "tags: each tag at most %d characters (%q is longer)", MaxTagRunes, clipRunes(t, 20))
		}
		seen[strings.ToLower(t)] = true
		if len(seen) > MaxTags {
			return store.Errorf(store.EINVALID, "tags: at most %d distinct tags", MaxTags)
		}
	}
	return nil
}

// ClipTitle shortens a title made from data rather than typed by a
// person (a corpus's titles, a document's first words) to MaxTitleRunes,
// so it passes Validate.
func ClipTitle(title string) string {
	title = strings.TrimSpace(title)
	if !tooLong(title, MaxTitleRunes) {
		return title
	}
	return strings.TrimSpace(clipRunes(title, MaxTitleRunes-1))
}

// clipRunes shortens s to n characters and an ellipsis, for quoting
// client input in a message.
func clipRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// fileMetaKeys are the keys of a file's own metadata that set a document
// field, and so meet that field's limit.
var fileMetaKeys = map[string]int{
	"title": MaxTitleRunes, "category": MaxCategoryRunes, "product_version": MaxProductVersionRunes,
	"source_url": MaxSourceURLRunes, "last_updated": MaxLastUpdatedRunes,
}

// checkFileMeta holds a parsed file's own metadata to the limits, after
// parsing (rag/parse reads whatever the file says; the rules are ours).
// The categories and tags of an FAQ are gathered from its rows, so no one
// wrote the list: it is clipped to the limits rather than failed. Every
// other value is the file's author's, and a bad one fails the file.
func checkFileMeta(pd *parse.Document) error {
	if pd.Format == parse.CSV || pd.Format == parse.JSON {
		clipGathered(pd.Meta, "tags", MaxTags, MaxTagRunes, 0)
		clipGathered(pd.Meta, "category", 0, MaxCategoryRunes, MaxCategoryRunes)
	}
	fail := func(err error) error {
		return store.Errorf(store.EINVALID, "metadata in the file: %s", store.ErrorMessage(err))
	}
	if len(pd.Meta) > MaxMetaKeys {
		return fail(store.Errorf(store.EINVALID, "at most %d keys (it has %d)", MaxMetaKeys, len(pd.Meta)))
	}
	// Sorted, so a file with two bad keys always names the same one.
	for _, k := range slices.Sorted(maps.Keys(pd.Meta)) {
		v := pd.Meta[k]
		if tooLong(k, MaxMetaKeyRunes) {
			return fail(store.Errorf(store.EINVALID, "each key at most %d characters", MaxMetaKeyRunes))
		}
		var err error
		switch max, ok := fileMetaKeys[k]; {
		case k == "tags":
			err = checkTags(strings.SplitSeq(v, ","))
		case ok:
			err = checkText(k, v, max)
		default:
			err = checkText(k, v, MaxMetaValueRunes)
		}
		if err == nil && k == "source_url" {
			err = checkSourceURL(v)
		}
		if err != nil {
			return fail(err)
		}
	}
	return nil
}

// clipGathered keeps the leading items of a comma-separated list in meta
// that fit: each at most itemRunes characters, at most maxItems of them
// (0: any number), and the joined list at most totalRunes (0: any).
func clipGathered(meta map[string]string, key string, maxItems, itemRunes, totalRunes int) {
	v, ok := meta[key]
	if !ok {
		return
	}
	var kept []string
	total := 0 // characters of the joined list so far
	for item := range strings.SplitSeq(v, ",") {
		n := utf8.RuneCountInString(item)
		if n > itemRunes {
			continue
		}
		if len(kept) > 0 {
			n++ // the comma
		}
		if maxItems > 0 && len(kept) == maxItems || totalRunes > 0 && total+n > totalRunes {
			break
		}
		kept = append(kept, item)
		total += n
	}
	if len(kept) == 0 {
		delete(meta, key)
		return
	}
	meta[key] = strings.Join(kept, ",")
}
