// Package sampledata embeds the Rosterly sample knowledge base and its
// evaluation set, so llmops serve can load them into an empty data dir and
// tests and benchmarks can use them without touching the file system.
package sampledata

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed manifest.json docs evals
var files embed.FS

// FS returns the embedded folder: manifest.json, docs/, evals/.
func FS() fs.FS { return files }

// Document is one manifest entry: the authoritative metadata of a file
// under docs/.
type Document struct {
	ID             string   `json:"id"`
	Path           string   `json:"path"`
	Title          string   `json:"title"`
	Category       string   `json:"category"`
	ProductVersion string   `json:"product_version"`
	LastUpdated    string   `json:"last_updated"`
	Tags           []string `json:"tags"`
	Format         string   `json:"format"`
}

// Question is one case of the evaluation set. Unanswerable questions have
// no document IDs: the assistant must say the docs do not cover them.
type Question struct {
	ID              string   `json:"id"`
	Question        string   `json:"question"`
	ReferenceAnswer string   `json:"reference_answer"`
	DocumentIDs     []string `json:"document_ids"`
	Answerable      bool     `json:"answerable"`
	Category        string   `json:"category"`
	Difficulty      string   `json:"difficulty"`
}

// Manifest reads the document list.
func Manifest() ([]Document, error) {
	data, err := files.ReadFile("manifest.json")
	if err != nil {
		return nil, err
	}
	var docs []Document
	if err := json.Unmarshal(data, &docs); err != nil {
		return nil, fmt.Errorf("sample-data/manifest.json: %w", err)
	}
	return docs, nil
}

// Questions reads the evaluation set.
func Questions() ([]Question, error) {
	data, err := files.ReadFile("evals/questions.jsonl")
	if err != nil {
		return nil, err
	}
	var qs []Question
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var q Question
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return nil, fmt.Errorf("sample-data/evals/questions.jsonl:%d: %w", i+1, err)
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// Vocabulary returns the distinct lower-case words (3+ ASCII letters) of
// the sample Markdown documents, in first-seen order: the vocabulary
// synthetic benchmark corpora are drawn from.
func Vocabulary() ([]string, error) {
	seen := map[string]bool{}
	var words []string
	err := fs.WalkDir(files, "docs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(string(data)), func(r rune) bool { return r < 'a' || r > 'z' }) {
			if len(w) >= 3 && !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
		return nil
	})
	return words, err
}
