package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/rag"
	"llmops/rag/chunk"
	"llmops/rag/guard/pii"
	"llmops/store"
	"llmops/store/schema"
	"llmops/ui"
)

// documentJSON is a document as the API lists it.
type documentJSON struct {
	store.Document
	Stale bool `json:"stale"`
}

func (s *Server) toDocumentJSON(d store.Document) documentJSON {
	return documentJSON{Document: d, Stale: s.isStale(d)}
}

// isStale flags documents whose own date (or, lacking one, their last
// upload) is older than Config.StaleAfter.
func (s *Server) isStale(d store.Document) bool {
	return s.now().Sub(freshnessDate(d)) > s.cfg.StaleAfter
}

func freshnessDate(d store.Document) time.Time {
	if t, err := time.Parse("2006-01-02", d.LastUpdated); err == nil {
		return t
	}
	return d.UpdatedAt
}

func (s *Server) handleDocumentList(c echo.Context) error {
	docs, err := s.store.ListDocuments(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]documentJSON, len(docs))
	for i, d := range docs {
		out[i] = s.toDocumentJSON(d)
	}
	stats, err := s.kb.Stats(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"documents": out, "stats": map[string]any{
		"documents": stats.Documents, "chunks": stats.Chunks, "vectors": stats.Vectors, "embed_model": stats.Model, "job": stats.Job,
	}})
}

func (s *Server) handleDocumentGet(c echo.Context) error {
	doc, chunks, err := s.store.Document(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if chunks == nil {
		chunks = []store.Chunk{}
	}
	return c.JSON(http.StatusOK, map[string]any{"document": s.toDocumentJSON(*doc), "chunks": chunks})
}

func (s *Server) handleDocumentDelete(c echo.Context) error {
	if _, err := s.kb.Delete(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// uploadFiles reads a multipart upload: the files under "files" (or any
// file field) and metadata fields that apply to all of them. Metadata is
// held to rag's limits as each field arrives, so a bad upload is refused
// before anything is parsed; other non-file fields are skipped unread.
func uploadFiles(c echo.Context) ([]rag.File, error) {
	r := c.Request()
	if !strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		return nil, store.Errorf(store.EINVALID, "send the files as multipart/form-data in a field named files")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "malformed multipart body: %v", err)
	}
	var files []rag.File
	var meta rag.Meta
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, uploadReadError(err)
		}
		if name := partFileName(part); name != "" {
			f := rag.File{Name: cleanName(name)}
			if err := f.Validate(); err != nil {
				return nil, err
			}
			if f.Data, err = io.ReadAll(part); err != nil {
				return nil, uploadReadError(err)
			}
			part.Close()
			files = append(files, f)
			continue
		}
		if err := readMetaField(part, &meta); err != nil {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, store.Errorf(store.EINVALID, "no files in the upload: send them in a multipart field named files")
	}
	for i := range files {
		files[i].Meta = meta
	}
	return files, nil
}

// metaFields are the upload's metadata fields, by form name.
var metaFields = map[string]func(*rag.Meta, string){
	"title":           func(m *rag.Meta, v string) { m.Title = v },
	"category":        func(m *rag.Meta, v string) { m.Category = v },
	"product_version": func(m *rag.Meta, v string) { m.ProductVersion = v },
	"tags":            func(m *rag.Meta, v string) { m.Tags = strings.Split(v, ",") },
	"source_url":      func(m *rag.Meta, v string) { m.SourceURL = v },
	"last_updated":    func(m *rag.Meta, v string) { m.LastUpdated = v },
}

// readMetaField sets one metadata field of m from part and checks m. It
// reads at most rag.MaxMetaFieldBytes: a longer field is refused, with
// the limit it breaks when the part read already shows which.
func readMetaField(part *multipart.Part, m *rag.Meta) error {
	set, ok := metaFields[part.FormName()]
	if !ok {
		if _, err := io.Copy(io.Discard, part); err != nil {
			return uploadReadError(err)
		}
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(part, rag.MaxMetaFieldBytes+1))
	if err != nil {
		return uploadReadError(err)
	}
	over := len(data) > rag.MaxMetaFieldBytes
	set(m, strings.TrimSpace(string(data[:min(len(data), rag.MaxMetaFieldBytes)])))
	if err := m.Validate(); err != nil {
		return err
	}
	if over {
		return store.Errorf(store.EINVALID, "%s: at most %d bytes", part.FormName(), rag.MaxMetaFieldBytes)
	}
	return nil
}

func uploadReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return store.Errorf(store.ETOOLARGE, "upload is larger than the %s limit", sizeText(mbe.Limit))
	}
	return store.Errorf(store.EINVALID, "could not read the upload: %v", err)
}

// partFileName is the file name a client gave, with its folders:
// multipart.Part.FileName keeps only the base name, which would collapse
// docs/a/README.md and docs/b/README.md into one document.
func partFileName(part *multipart.Part) string {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if err != nil {
		return part.FileName()
	}
	return params["filename"]
}

// cleanName makes a client's file name a safe relative name: forward
// slashes, no "..", no leading slash or drive. It is only ever a label
// (the document's source), never a path we open.
func cleanName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if len(name) >= 2 && name[1] == ':' {
		name = name[2:] // a Windows drive letter
	}
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" || name == "." {
		return "upload"
	}
	return name
}

// uploadSummary is the JSON answer to an upload.
type uploadSummary struct {
	Results []rag.FileResult             `json:"results"`
	Counts  map[schema.IngestOutcome]int `json:"counts"`
}

func summarize(results []rag.FileResult) uploadSummary {
	counts := map[schema.IngestOutcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
	}
	return uploadSummary{Results: results, Counts: counts}
}

// handleDocumentUpload ingests the uploaded files. With Accept:
// application/x-ndjson it streams one progress event per line as each file
// moves through parse → chunk → embed → index, then the summary.
func (s *Server) handleDocumentUpload(c echo.Context) error {
	files, err := uploadFiles(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	actor := principalOf(c).actor
	if !strings.Contains(c.Request().Header.Get("Accept"), "application/x-ndjson") {
		return c.JSON(http.StatusOK, summarize(s.ingest(ctx, actor, files, nil)))
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, f := range files {
		_ = enc.Encode(rag.Progress{File: f.Name, Stage: rag.StageQueued})
	}
	w.Flush()
	// Ingest reports under the knowledge base's writer lock, so it must
	// never wait on this client: events go through a channel big enough
	// for every event of the upload, and only this goroutine writes.
	events := make(chan rag.Progress, 8*len(files)+8)
	done := make(chan []rag.FileResult, 1)
	go func() {
		done <- s.ingest(ctx, actor, files, func(p rag.Progress) {
			select {
			case events <- p:
			default: // a client this far behind misses a stage, not a result
			}
		})
	}()
	rc := http.NewResponseController(w)
	for {
		select {
		case p := <-events:
			_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			_ = enc.Encode(p)
			w.Flush()
		case results := <-done:
			for len(events) > 0 {
				_ = enc.Encode(<-events)
			}
			_ = enc.Encode(map[string]any{"summary": summarize(results)})
			return nil
		}
	}
}

func (s *Server) handleKnowledgeReembed(c echo.Context) error {
	job := s.kb.Reembed(fmt.Sprintf("requested by %s", principalOf(c).actor))
	return c.JSON(http.StatusAccepted, job.Status())
}

// Pages.

func (s *Server) knowledgeRows(docs []store.Document) []ui.DocumentRow {
	rows := make([]ui.DocumentRow, len(docs))
	for i, d := range docs {
		rows[i] = ui.DocumentRow{ID: d.ID, Title: d.Title, Source: d.Source, Format: d.Format, Category: d.Category,
			ProductVersion: d.ProductVersion, Tags: d.Tags, Size: d.Size, Chunks: d.Chunks, Tokens: d.Tokens, Model: d.EmbedModel,
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, LastUpdated: d.LastUpdated, Stale: s.isStale(d)}
	}
	return rows
}

func (s *Server) handleKnowledgePage(c echo.Context) error {
	ctx := c.Request().Context()
	docs, err := s.store.ListDocuments(ctx)
	if err != nil {
		return err
	}
	stats, err := s.kb.Stats(ctx)
	if err != nil {
		return err
	}
	p := ui.Knowledge{Chrome: chrome(c, "Knowledge", "knowledge"), Now: s.now(), Rows: s.knowledgeRows(docs),
		Chunks: stats.Chunks, Model: stats.Model, CanEdit: principalOf(c).role.Allows(store.RoleEditor),
		StaleDays: int(s.cfg.StaleAfter / (24 * time.Hour)), MaxUpload: sizeText(s.cfg.MaxUploadBytes), Notice: noticeText(c.QueryParam("notice"))}
	if stats.Job != nil {
		p.Job = &ui.JobView{State: stats.Job.State, Reason: stats.Job.Reason, From: stats.Job.From, To: stats.Job.To,
			Done: stats.Job.Done, Total: stats.Job.Total, Error: stats.Job.Error}
	}
	return render(c, http.StatusOK, ui.KnowledgePage(p))
}

func (s *Server) handleDocumentPage(c echo.Context) error {
	doc, chunks, err := s.store.Document(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	cfg := s.kb.Chunking()
	p := ui.DocumentPage{Chrome: chrome(c, doc.Title, "knowledge"), Now: s.now(), Doc: s.knowledgeRows([]store.Document{*doc})[0],
		CanEdit: principalOf(c).role.Allows(store.RoleEditor), MaxTokens: cfg.MaxTokens, Notice: noticeText(c.QueryParam("notice")),
		PII: piiSummary(doc)}
	for _, ch := range chunks {
		row := ui.ChunkRow{ID: ch.ID, Index: ch.Index, Text: ch.Text, Headings: ch.Headings, Page: ch.Page, Kind: ch.Kind,
			Tokens: ch.Tokens, Flags: chunk.Flags(chunk.Chunk{Text: ch.Text, Headings: ch.Headings, Kind: ch.Kind, Tokens: ch.Tokens}, cfg)}
		if f := ch.Flag; f != nil {
			row.Guard = &ui.GuardFlag{Reason: f.Reason, Match: f.Match, Rules: f.Rules, Held: f.Held(), ApprovedBy: f.ApprovedBy}
			if f.ApprovedAt != nil {
				row.Guard.ApprovedAt = *f.ApprovedAt
			}
			if f.Held() {
				p.Held++
			}
		}
		p.Chunks = append(p.Chunks, row)
	}
	return render(c, http.StatusOK, ui.DocumentView(p))
}

// handleDocumentApprove approves a document's held chunks: all of them,
// or the one named by chunk_id. Held chunks (text that addresses the
// assistant, flagged by rag/guard) stay out of widget answers until then.
func (s *Server) handleDocumentApprove(c echo.Context) error {
	var body struct {
		ChunkID string `json:"chunk_id"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
	}
	n, err := s.store.ApproveChunks(c.Request().Context(), principalOf(c).actor, c.Param("id"), body.ChunkID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"approved": n})
}

// handleDocumentApproveForm is the document page's Approve button (one
// chunk when the form names it, else every held chunk).
func (s *Server) handleDocumentApproveForm(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.store.ApproveChunks(c.Request().Context(), principalOf(c).actor, id, c.FormValue("chunk")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/knowledge/"+url.PathEscape(id)+"?notice=chunks-approved")
}

func (s *Server) handleDocumentDeleteForm(c echo.Context) error {
	if _, err := s.kb.Delete(c.Request().Context(), principalOf(c).actor, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/knowledge?notice=document-deleted")
}

func (s *Server) handleKnowledgeReembedForm(c echo.Context) error {
	s.kb.Reembed(fmt.Sprintf("requested by %s", principalOf(c).actor))
	return c.Redirect(http.StatusSeeOther, "/knowledge?notice=reembed-started")
}

// cancelReembed stops a running re-embed job; the active model stays.
func (s *Server) cancelReembed() (*rag.JobStatus, error) {
	job := s.kb.CurrentJob()
	if job == nil || job.Status().State != schema.JobRunning {
		return nil, store.Errorf(store.ENOTFOUND, "no re-embed job is running")
	}
	job.Cancel()
	job.Wait()
	st := job.Status()
	return &st, nil
}

func (s *Server) handleKnowledgeReembedCancel(c echo.Context) error {
	st, err := s.cancelReembed()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) handleKnowledgeReembedCancelForm(c echo.Context) error {
	if _, err := s.cancelReembed(); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/knowledge?notice=reembed-cancelled")
}

// piiSummary says what personal data ingestion found in doc, "" when none.
func piiSummary(doc *store.Document) string {
	if len(doc.PII) == 0 {
		return ""
	}
	var parts []string
	for _, t := range pii.Types {
		if n := doc.PII[string(t)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
	}
	out := "Personal data found: " + strings.Join(parts, ", ")
	if doc.PIIRedacted {
		return out + " (redacted before indexing)"
	}
	return out + " (indexed as written; Guardrails can redact documents)"
}
