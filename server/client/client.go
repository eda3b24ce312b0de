// Package client talks to a running llmops serve over its /api/v1 JSON API,
// for the CLI's --server URL mode (where the data dir is locked by the
// server) and for tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"llmops/store/schema"
)

// Client calls one llmops server with an API key.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// New returns a client for baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 0}}
}

// Error is an error answered by the server: {"error": {"code","message"}}.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Do sends a request and returns the response for status 2xx; other
// statuses become an *Error read from the body.
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readError(resp)
}

// readError decodes an error response.
func readError(resp *http.Response) error {
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(raw, &body) != nil || body.Error.Code == "" {
		return &Error{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(raw))}
	}
	return &Error{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
}

// Backup streams a hot backup of the server's database into w.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	resp, err := c.Do(ctx, http.MethodGet, "/api/v1/backup", nil, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup download cut after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("backup download has %d of %d bytes", n, resp.ContentLength)
	}
	return n, nil
}

// Upload is one file to ingest.
type Upload struct {
	Name string
	Data []byte
}

// FileResult mirrors the server's per-file ingest result.
type FileResult struct {
	Name       string               `json:"name"`
	Outcome    schema.IngestOutcome `json:"outcome"`
	DocumentID string               `json:"document_id"`
	Title      string               `json:"title"`
	Format     string               `json:"format"`
	Chunks     int                  `json:"chunks"`
	Error      string               `json:"error"`
	Millis     int64                `json:"ms"`
}

// Progress is one ingest event streamed by the server.
type Progress struct {
	File   string      `json:"file"`
	Stage  string      `json:"stage"`
	Result *FileResult `json:"result"`
}

// Ingest uploads files with metadata fields (category, product_version,
// tags, source_url) and calls onEvent for each progress event the server
// streams. It returns every file's result.
func (c *Client) Ingest(ctx context.Context, files []Upload, fields map[string]string, onEvent func(Progress)) ([]FileResult, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for k, v := range fields {
				if err := mw.WriteField(k, v); err != nil {
					return err
				}
			}
			for _, f := range files {
				w, err := mw.CreateFormFile("files", f.Name)
				if err != nil {
					return err
				}
				if _, err := w.Write(f.Data); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/v1/documents", pr)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, readError(resp)
	}
	var results []FileResult
	dec := json.NewDecoder(resp.Body)
	for {
		var line struct {
			Progress
			Summary *struct {
				Results []FileResult `json:"results"`
			} `json:"summary"`
		}
		if err := dec.Decode(&line); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return results, fmt.Errorf("read progress: %w", err)
		}
		if line.Summary != nil {
			results = line.Summary.Results
			continue
		}
		if onEvent != nil {
			onEvent(line.Progress)
		}
	}
	if len(results) != len(files) {
		return results, fmt.Errorf("server answered %d results for %d files (connection cut?)", len(results), len(files))
	}
	return results, nil
}

// JSON posts body as JSON to path and decodes the response into out.
func (c *Client) JSON(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodPost, path, bytes.NewReader(data), "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: malformed response: %w", path, err)
	}
	return nil
}

// Get reads path and decodes the JSON response into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	resp, err := c.Do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: malformed response: %w", path, err)
	}
	return nil
}

// Upload posts one file (in form field field) with text fields as
// multipart/form-data and decodes the JSON response into out.
func (c *Client) Upload(ctx context.Context, path, field, name string, data []byte, fields map[string]string, out any) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			return err
		}
	}
	w, err := mw.CreateFormFile(field, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodPost, path, &body, mw.FormDataContentType())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: malformed response: %w", path, err)
	}
	return nil
}
