package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

// decodeJSON reads one JSON object from the request body into v. Errors
// name the offending field or byte offset, so a client can fix its request.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		if dec.More() {
			return store.Errorf(store.EINVALID, "malformed JSON: unexpected data after the object")
		}
		return nil
	case errors.As(err, &mbe):
		return store.Errorf(store.ETOOLARGE, "request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return store.Errorf(store.EINVALID, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return store.Errorf(store.EINVALID, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syn):
		return store.Errorf(store.EINVALID, "malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return store.Errorf(store.EINVALID, "malformed JSON: want an object, got %s", typ.Value)
		}
		return store.Errorf(store.EINVALID, "field %q: want %s, got %s", typ.Field, typ.Type.String(), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return store.Errorf(store.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return store.Errorf(store.EINVALID, "malformed JSON: %v", err)
}

// parseForm parses a urlencoded or multipart form within the body limit.
func parseForm(c echo.Context) error {
	r := c.Request()
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return store.Errorf(store.ETOOLARGE, "form is larger than %d bytes", mbe.Limit)
	} else if err != nil {
		return store.Errorf(store.EINVALID, "malformed form: %v", err)
	}
	return nil
}
