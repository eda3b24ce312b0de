package retrieve

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RemoteReranker calls a reranking API of the common shape that Cohere,
// Jina, Voyage, vLLM, Infinity and Text Embeddings Inference's
// Cohere-compatible route share:
//
//	POST {"model", "query", "documents": [...], "top_n"}
//	→ {"results": [{"index", "relevance_score"}, ...]}
//
// It retries 429 (waiting as Retry-After says, within bounds), 5xx and
// connection failures with exponential backoff; an attempt that times out
// is not retried, since the next one would most likely time out too.
type RemoteReranker struct {
	URL    string // the endpoint, e.g. https://api.jina.ai/v1/rerank
	APIKey string // sent as a Bearer token when set
	Model  string
	// TopN is the top_n asked for; 0 asks for every candidate. Candidates
	// the API does not return follow the ones it does, in fused order.
	TopN       int
	Timeout    time.Duration // per attempt (default 10 s)
	MaxRetries int           // retries after the first attempt (default 2; negative: none)
	Client     *http.Client  // default: a client with no timeout of its own

	backoff time.Duration // first retry's wait, doubling (default 500 ms); tests shorten it
}

const (
	defaultRemoteTimeout = 10 * time.Second
	defaultRemoteRetries = 2
	defaultBackoff       = 500 * time.Millisecond
	maxRetryAfter        = 10 * time.Second // a longer wait is a failure now, not a retry
	maxRerankResponse    = 8 << 20
)

type rerankRequest struct {
	Model     string   `json:"model,omitempty"`
	Query     string   `json:"query"`
	Documents []string `json:"documents"`
	TopN      int      `json:"top_n"`
}

type rerankResponse struct {
	Results []struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevance_score"`
	} `json:"results"`
}

// RemoteError is a reranking API's refusal: its status and the start of
// its body.
type RemoteError struct {
	Status int
	Body   string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("rerank API: %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
}

// Rerank sends the candidates' text (title, headings, chunk) to the API
// and orders them by its relevance scores.
func (r *RemoteReranker) Rerank(ctx context.Context, query string, hits []Hit) ([]Hit, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	req := rerankRequest{Model: r.Model, Query: query, Documents: make([]string, len(hits)), TopN: len(hits)}
	if r.TopN > 0 {
		req.TopN = min(r.TopN, len(hits))
	}
	for i := range hits {
		req.Documents[i] = passage(&hits[i])
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res, err := r.post(ctx, body)
	if err != nil {
		return nil, err
	}
	return orderByResults(hits, res)
}

// passage is the text of a hit as the keyword index sees it.
func passage(h *Hit) string {
	var b strings.Builder
	if h.Document != nil && h.Document.Title != "" {
		b.WriteString(h.Document.Title)
		b.WriteString("\n")
	}
	for _, hd := range h.Chunk.Headings {
		if h.Document == nil || hd != h.Document.Title {
			b.WriteString(hd)
			b.WriteString("\n")
		}
	}
	b.WriteString(h.Chunk.Text)
	return b.String()
}

// post sends body, retrying what is worth retrying.
func (r *RemoteReranker) post(ctx context.Context, body []byte) (*rerankResponse, error) {
	retries := cmp.Or(r.MaxRetries, defaultRemoteRetries)
	wait := cmp.Or(r.backoff, defaultBackoff)
	for attempt := 0; ; attempt++ {
		res, retryAfter, err := r.attempt(ctx, body)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var re *RemoteError
		retryable := errors.As(err, &re) && (re.Status == http.StatusTooManyRequests || re.Status >= 500) ||
			!errors.As(err, &re) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errBadResponse)
		if !retryable || attempt >= retries {
			return nil, err
		}
		d := wait << attempt
		if retryAfter > 0 {
			if retryAfter > maxRetryAfter {
				return nil, err
			}
			d = retryAfter
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

var errBadResponse = errors.New("rerank API: malformed response")

// attempt makes one request under the per-attempt timeout. retryAfter is
// the server's Retry-After, when it sent one.
func (r *RemoteReranker) attempt(ctx context.Context, body []byte) (res *rerankResponse, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(r.Timeout, defaultRemoteTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.APIKey)
	}
	client := r.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("rerank API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, parseRetryAfter(resp.Header.Get("Retry-After")), &RemoteError{Status: resp.StatusCode, Body: strings.TrimSpace(string(snippet))}
	}
	var out rerankResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRerankResponse)).Decode(&out); err != nil {
		if ctx.Err() != nil {
			return nil, 0, fmt.Errorf("rerank API: %w", ctx.Err())
		}
		return nil, 0, fmt.Errorf("%w: %v", errBadResponse, err)
	}
	return &out, 0, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unreadable.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return max(time.Duration(s)*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), time.Millisecond)
	}
	return 0
}

// orderByResults puts the hits the API scored first, by its score, then
// the rest in the order given.
func orderByResults(hits []Hit, res *rerankResponse) ([]Hit, error) {
	type scored struct {
		i     int
		score float64
	}
	seen := make([]bool, len(hits))
	var ranked []scored
	for _, r := range res.Results {
		if r.Index < 0 || r.Index >= len(hits) || seen[r.Index] {
			return nil, fmt.Errorf("%w: result index %d for %d documents", errBadResponse, r.Index, len(hits))
		}
		seen[r.Index] = true
		ranked = append(ranked, scored{r.Index, r.RelevanceScore})
	}
	slices.SortStableFunc(ranked, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	out := make([]Hit, 0, len(hits))
	for _, s := range ranked {
		h := hits[s.i]
		h.Score = s.score
		out = append(out, h)
	}
	for i, h := range hits {
		if !seen[i] {
			h.Score = 0
			out = append(out, h)
		}
	}
	return out, nil
}
