package rag

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"llmops/rag/parse"
	"llmops/store"
)

func TestMetaValidate(t *testing.T) {
	t.Parallel()
	tags := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("tag%d", i)
		}
		return out
	}
	tests := []struct {
		name string
		meta Meta
		want string // in the error; "" for valid
	}{
		{"empty", Meta{}, ""},
		{"at the limits", Meta{
			Title: strings.Repeat("é", MaxTitleRunes), Category: strings.Repeat("c", MaxCategoryRunes),
			ProductVersion: strings.Repeat("5", MaxProductVersionRunes), LastUpdated: "2026-03-02",
			SourceURL: "HTTPS://help.example.com/" + strings.Repeat("p", MaxSourceURLRunes-25),
			Tags:      append(tags(MaxTags-1), " ", "TAG0", "tag1 ", strings.Repeat("ü", MaxTagRunes)),
		}, ""},
		{"title", Meta{Title: strings.Repeat("é", MaxTitleRunes+1)}, "title: at most 300 characters"},
		{"title counted after trimming", Meta{Title: "  " + strings.Repeat("x", MaxTitleRunes) + "\n"}, ""},
		{"category", Meta{Category: strings.Repeat("c", 5_000_000)}, "category: at most 100 characters"},
		{"product version", Meta{ProductVersion: strings.Repeat("5", MaxProductVersionRunes+1)}, "product_version: at most 64 characters"},
		{"last updated", Meta{LastUpdated: strings.Repeat("2", MaxLastUpdatedRunes+1)}, "last_updated: at most 64 characters"},
		{"source URL length", Meta{SourceURL: "https://x.example/" + strings.Repeat("p", MaxSourceURLRunes)}, "source_url: at most 2048 characters"},
		{"source URL scheme", Meta{SourceURL: "javascript:alert(1)"}, "source_url: must be an http:// or https:// URL"},
		{"source URL without host", Meta{SourceURL: "https:///path"}, "source_url: must be"},
		{"relative source URL", Meta{SourceURL: "/docs/a"}, "source_url: must be"},
		{"too many tags", Meta{Tags: tags(MaxTags + 1)}, "tags: at most 20 distinct tags"},
		{"two million tags", Meta{Tags: tags(2_000_000)}, "tags: at most 20 distinct tags"},
		{"duplicates are one tag", Meta{Tags: append(tags(MaxTags), "TAG3", " tag4", "tag5")}, ""},
		{"long tag", Meta{Tags: []string{"ok", strings.Repeat("ü", MaxTagRunes+1)}}, "tags: each tag at most 64 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.meta.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tt.want != "" && (store.ErrorCode(err) != store.EINVALID || !strings.Contains(store.ErrorMessage(err), tt.want)):
				t.Errorf("got %v, want an invalid error containing %q", err, tt.want)
			}
			if err != nil && len(store.ErrorMessage(err)) > 200 {
				t.Errorf("message is %d bytes long", len(store.ErrorMessage(err)))
			}
		})
	}
	if err := (File{Name: strings.Repeat("d/", MaxSourceRunes/2) + "a.md"}).Validate(); !strings.Contains(fmt.Sprint(err), "file name: at most 1024") {
		t.Errorf("long file name: got %v", err)
	}
}

// TestFileMetaLimits: a file's own metadata meets the same limits after
// parsing; an FAQ's gathered tags and categories are clipped instead.
func TestFileMetaLimits(t *testing.T) {
	t.Parallel()
	list := func(prefix string, n int, sep string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("%s%02d", prefix, i)
		}
		return strings.Join(items, sep)
	}
	md := func(front string) string { return "---\n" + front + "\n---\n\n# Title\n\nSome text.\n" }
	tests := []struct {
		name, file, data string
		want             string // in the error; "" for valid
	}{
		{"front matter at the limits", "a.md", md("title: T\ntags: [" + list("t", MaxTags, ", ") + "]\nsource_url: https://x.example/a"), ""},
		{"front matter tags", "a.md", md("tags: [" + list("t", 10_000, ", ") + "]"), "metadata in the file: tags: at most 20 distinct tags"},
		{"front matter tags as lines", "a.md", md("tags:\n- " + list("t", MaxTags+1, "\n- ")), "tags: at most 20"},
		{"front matter title", "a.md", md("title: " + strings.Repeat("x", 5000)), "metadata in the file: title: at most 300 characters"},
		{"front matter category", "a.md", md("category: " + strings.Repeat("x", 101)), "category: at most 100"},
		{"front matter product version", "a.md", md("product_version: " + strings.Repeat("x", 65)), "product_version: at most 64"},
		{"front matter source URL", "a.md", md("source_url: ftp://x.example/a"), "source_url: must be"},
		{"front matter other value", "a.md", md("description: " + strings.Repeat("x", MaxMetaValueRunes+1)), "description: at most 2000 characters"},
		{"front matter key", "a.md", md(strings.Repeat("k", MaxMetaKeyRunes+1) + ": v"), "each key at most 64 characters"},
		{"front matter keys", "a.md", md(list("key", MaxMetaKeys+1, ": v\n") + ": v"), "at most 32 keys (it has 33)"},
		{"html meta tags", "a.html", `<html><head><meta name="tags" content="` + list("t", 30, ",") + `"></head><body><h1>T</h1><p>Text.</p></body></html>`, "tags: at most 20"},
		{"faq csv tags are clipped", "faq.csv", "question,answer,tags,category\n" + faqRows(40), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pd, err := parse.Parse(context.Background(), tt.file, []byte(tt.data), parse.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			err = checkFileMeta(pd)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want valid", err)
			case tt.want != "" && (store.ErrorCode(err) != store.EINVALID || !strings.Contains(store.ErrorMessage(err), tt.want)):
				t.Fatalf("got %v, want an invalid error containing %q", err, tt.want)
			}
			if pd.Format != parse.CSV {
				return
			}
			tags := strings.Split(pd.Meta["tags"], ",")
			if len(tags) != MaxTags || tags[0] != "tag00" || tags[MaxTags-1] != "tag19" {
				t.Errorf("FAQ tags = %v, want the first %d", tags, MaxTags)
			}
			if c := pd.Meta["category"]; utf8.RuneCountInString(c) > MaxCategoryRunes || !strings.HasPrefix(c, "category00,category01,") || strings.HasSuffix(c, ",") {
				t.Errorf("FAQ category = %q, want the leading categories within %d characters", c, MaxCategoryRunes)
			}
		})
	}
}

// faqRows is an FAQ whose every row has its own tag and category, and one
// tag too long to keep.
func faqRows(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Q?,A.,%s,\n", strings.Repeat("x", MaxTagRunes+1))
	for i := range n {
		fmt.Fprintf(&b, "Question %d?,Answer %d.,tag%02d,category%02d\n", i, i, i, i)
	}
	return b.String()
}

func TestClipTitle(t *testing.T) {
	t.Parallel()
	if got := ClipTitle("  Short  "); got != "Short" {
		t.Errorf("got %q", got)
	}
	got := ClipTitle(strings.Repeat("é", 1000))
	if n := utf8.RuneCountInString(got); n != MaxTitleRunes || (Meta{Title: got}).Validate() != nil {
		t.Errorf("clipped title has %d characters", n)
	}
}
