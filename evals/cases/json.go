package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// readJSONArray reads a JSON array of objects; records are numbered by
// their position in the array. Broken JSON syntax fails the whole file,
// since nothing after it can be read reliably.
func readJSONArray(data []byte, c *collector) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("want a JSON array of objects (for one object per line, use the jsonl format)")
	}
	item := 0
	for dec.More() {
		item++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("item %d: invalid JSON: %w", item, err)
		}
		fields, err := decodeObject(raw)
		if err != nil {
			c.invalid(item, err.Error())
			continue
		}
		if err := c.add(item, fields); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); errors.Is(err, io.EOF) {
		return fmt.Errorf("invalid JSON: the array ends after item %d without a ']'", item)
	} else if err != nil {
		return fmt.Errorf("after item %d: invalid JSON: %w", item, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON array")
	}
	return nil
}
