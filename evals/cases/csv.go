package cases

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readCSV reads a CSV file with a header row. Each record is numbered by
// the physical line it starts on, so quoted cells spanning lines do not
// shift the numbers of later records.
func readCSV(data []byte, c *collector) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // a short or long row is one invalid line, not a failed file
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return ErrNoCases
	}
	if err != nil {
		return fmt.Errorf("reading the header row: %w", err)
	}
	keys := make([]string, len(header))
	hasQuestion := false
	var found []string
	for i, h := range header {
		h = strings.TrimSpace(h)
		keys[i] = normKey(h)
		hasQuestion = hasQuestion || isQuestionKey(keys[i])
		if h != "" {
			found = append(found, fmt.Sprintf("%q", h))
		}
	}
	if !hasQuestion {
		cols := strings.Join(found, ", ")
		if cols == "" {
			cols = "none"
		}
		return fmt.Errorf("the header row has no question column (want one of %s; found %s)",
			strings.Join(aliases[fieldQuestion], ", "), cols)
	}

	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
			// The reader resumes after the broken record.
			c.invalid(pe.StartLine, "invalid CSV: "+pe.Err.Error())
			continue
		}
		if err != nil {
			return err
		}
		if blankRecord(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			c.invalid(line, fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header)))
			continue
		}
		fields := make(map[string]value, len(rec))
		for i, cell := range rec {
			if _, dup := fields[keys[i]]; dup || keys[i] == "" {
				continue // the first of two same-named columns wins
			}
			fields[keys[i]] = value{key: strings.TrimSpace(header[i]), cell: cell}
		}
		if err := c.add(line, fields); err != nil {
			return err
		}
	}
}

// blankRecord: a row of empty cells (",,,") counts as a blank line.
func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
