package rag

import (
	"fmt"
	"io/fs"

	sampledata "llmops/sample-data"
)

// SamplePrefix starts the name of every sample document, so llmops can
// tell them from the team's own.
const SamplePrefix = "sample-data/"

// SampleFiles returns the embedded Rosterly help centre as uploads with
// their manifest metadata, and each file's manifest ID (the IDs the
// sample eval set refers to).
func SampleFiles() ([]File, []string, error) {
	docs, err := sampledata.Manifest()
	if err != nil {
		return nil, nil, err
	}
	files := make([]File, 0, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		data, err := fs.ReadFile(sampledata.FS(), d.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("sample data %s: %w", d.Path, err)
		}
		files = append(files, File{Name: SamplePrefix + d.Path, Data: data, Meta: Meta{
			Title: d.Title, Category: d.Category, ProductVersion: d.ProductVersion, Tags: d.Tags, LastUpdated: d.LastUpdated,
		}})
		ids = append(ids, d.ID)
	}
	return files, ids, nil
}
