package server

import (
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
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
			return store.Errorf(store.EINVALID, "malformed JSON: want an object, got %s", jsonValueKind(typ.Value))
		}
		return store.Errorf(store.EINVALID, "%s: want %s, got %s", clip(typ.Field, maxEchoRunes), jsonTypeOf(typ.Type), jsonValueKind(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return store.Errorf(store.EINVALID, "unknown field %s", clip(strings.TrimPrefix(err.Error(), "json: unknown field "), maxEchoRunes))
	}
	return store.Errorf(store.EINVALID, "malformed JSON: %v", err)
}

// maxEchoRunes bounds what an error message repeats of a client's input
// (a field name), so a huge one is not sent back whole.
const maxEchoRunes = 64

// jsonTypeOf names the JSON type a Go type decodes from, in the words a
// client knows: the Go type is ours, and says nothing to them.
func jsonTypeOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string" // time.Time and the like
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// jsonValueKind turns encoding/json's description of the value it found
// ("string", "number 1.5", "object") into words for a message.
func jsonValueKind(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "a boolean"
	case "array":
		return "an array"
	case "object":
		return "an object"
	case "null":
		return "null"
	}
	return clip(v, maxEchoRunes) // "number 1.5"
}

// clip shortens s to n characters and an ellipsis.
func clip(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
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
