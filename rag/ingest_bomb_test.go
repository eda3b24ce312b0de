package rag_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"testing"

	"llmops/rag"
)

// TestBombsFailAloneAndSayWhy uploads a DOCX and a PDF that each expand a
// thousand times beside an ordinary file: the bombs fail with the reason
// the parser gives, the ordinary file lands.
func TestBombsFailAloneAndSayWhy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := open(t, t.TempDir())
	spaces := strings.Repeat(" ", 8<<20)

	var docx bytes.Buffer
	zw := zip.NewWriter(&docx)
	for name, body := range map[string]string{
		"[Content_Types].xml": `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>` + spaces + `</w:t></w:r></w:p></w:body></w:document>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	var z bytes.Buffer
	zl := zlib.NewWriter(&z)
	zl.Write([]byte("BT /F1 12 Tf 72 700 Td " + strings.Repeat("(x) Tj ", (8<<20)/7) + " ET"))
	zl.Close()
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", z.Len(), z.Bytes()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var pdf bytes.Buffer
	pdf.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, obj := range objects {
		offsets[i] = pdf.Len()
		fmt.Fprintf(&pdf, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	xref := pdf.Len()
	fmt.Fprintf(&pdf, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&pdf, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&pdf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)

	res := f.kb.Ingest(ctx, actor, []rag.File{
		{Name: "bomb.docx", Data: docx.Bytes()},
		{Name: "good.md", Data: []byte("# Good\n\nThis document is fine and has enough words to be a chunk.\n")},
		{Name: "bomb.pdf", Data: pdf.Bytes()},
	}, nil)
	want := map[string]string{
		"bomb.docx": "DOCX word/document.xml expands more than 100× (stopped at 4 MiB)",
		"bomb.pdf":  "PDF stream on page 1 expands more than 100× (stopped at 4 MiB)",
	}
	for _, r := range res {
		switch {
		case r.Name == "good.md" && r.Outcome != "created":
			t.Errorf("%s: %+v, want created", r.Name, r)
		case want[r.Name] != "" && (r.Outcome != "failed" || r.Error != want[r.Name]):
			t.Errorf("%s: %+v, want failed with %q", r.Name, r, want[r.Name])
		}
	}
	if st, _ := f.kb.Stats(ctx); st.Documents != 1 {
		t.Errorf("documents = %d, want 1", st.Documents)
	}
}
