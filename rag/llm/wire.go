package llm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// wire carries what go-openai cannot: the temperature to send (it omits a
// zero temperature, which judges depend on) and the Retry-After header of
// the answer (its errors do not expose headers). One wire serves one
// attempt; it travels in the request's context and is only touched from
// the goroutine that sends the request.
type wire struct {
	temperature *float32

	retryAfter    time.Duration // capped and scaled; 0 when absent
	retryAfterRaw time.Duration // as the server said, for messages
}

type wireKey struct{}

// wireDoer is the http client go-openai sends through.
type wireDoer struct{ c *http.Client }

func (d wireDoer) Do(req *http.Request) (*http.Response, error) {
	w, _ := req.Context().Value(wireKey{}).(*wire)
	if w != nil && w.temperature != nil {
		if err := setTemperature(req, *w.temperature); err != nil {
			return nil, err
		}
	}
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	if w != nil {
		w.retryAfterRaw = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		w.retryAfter = scaleRetryAfter(min(w.retryAfterRaw, maxRetryAfter))
	}
	return resp, nil
}

// setTemperature rewrites req's JSON body with "temperature": t.
func setTemperature(req *http.Request, t float32) error {
	if req.Body == nil {
		return nil
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return err
	}
	fields["temperature"] = json.RawMessage(strconv.FormatFloat(float64(t), 'g', -1, 32))
	if body, err = json.Marshal(fields); err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// scaleRetryAfter turns the server's seconds into retryAfterUnits.
func scaleRetryAfter(d time.Duration) time.Duration {
	return time.Duration(float64(d) / float64(time.Second) * float64(retryAfterUnit))
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(min(secs, 1<<20)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(d, 0)
}
