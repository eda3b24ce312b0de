package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// readJSONL reads one JSON object per line.
func readJSONL(data []byte, c *collector) error {
	line := 0
	for len(data) > 0 {
		line++
		var ln []byte
		ln, data, _ = bytes.Cut(data, []byte("\n"))
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		fields, err := decodeObject(ln)
		if err != nil {
			c.invalid(line, err.Error())
			continue
		}
		if err := c.add(line, fields); err != nil {
			return err
		}
	}
	return nil
}

// decodeObject reads a JSON object into fields keyed by normalised names.
// When two keys fold to the same name, the first in byte order wins.
func decodeObject(raw []byte) (map[string]value, error) {
	if k := jsonKind(raw); k != "an object" {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("invalid JSON: %v", syntaxError(raw))
		}
		return nil, fmt.Errorf("want a JSON object, got %s", k)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	fields := make(map[string]value, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		nk := normKey(k)
		if _, dup := fields[nk]; dup || nk == "" {
			continue
		}
		fields[nk] = value{key: k, raw: m[k]}
	}
	return fields, nil
}

func syntaxError(raw []byte) error {
	var v any
	return json.Unmarshal(raw, &v)
}
