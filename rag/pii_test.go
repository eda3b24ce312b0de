package rag_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"llmops/rag"
	"llmops/store"
)

// TestIngestPII: personal data in a document is counted on the document
// and, with redaction on, replaced before the chunks are stored and
// indexed; with it off the text stays as uploaded.
func TestIngestPII(t *testing.T) {
	t.Parallel()
	doc := "# Contact\n\nWrite to anna.schmidt@example.com or call +49 30 1234 5678. Refunds go to DE89 3704 0044 0532 0130 00.\n"
	for _, redact := range []bool{false, true} {
		dir := t.TempDir()
		ctx := context.Background()
		st, err := store.Open(ctx, dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		kb, err := rag.Open(ctx, st, rag.Options{IndexDir: filepath.Join(dir, "index"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			RedactPII: func() bool { return redact }})
		if err != nil {
			t.Fatal(err)
		}
		res := kb.Ingest(ctx, store.Actor{Kind: store.ActorCLI, Name: "test"}, []rag.File{{Name: "contact.md", Data: []byte(doc)}}, nil)
		if len(res) != 1 || res[0].Error != "" {
			t.Fatalf("ingest: %+v", res)
		}
		d, chunks, err := st.Document(ctx, res[0].DocumentID)
		if err != nil {
			t.Fatal(err)
		}
		if d.PII["EMAIL"] != 1 || d.PII["PHONE"] != 1 || d.PII["IBAN"] != 1 || d.PIIRedacted != redact {
			t.Errorf("redact %v: document PII %v redacted %v", redact, d.PII, d.PIIRedacted)
		}
		var all strings.Builder
		for _, c := range chunks {
			all.WriteString(c.Text)
		}
		if got := strings.Contains(all.String(), "anna.schmidt@example.com"); got == redact {
			t.Errorf("redact %v: chunks hold the address = %v", redact, got)
		}
		if redact && !strings.Contains(all.String(), "<EMAIL_1>") {
			t.Errorf("redacted chunks: %q", all.String())
		}
		kb.Close()
		st.Close()
	}
}
