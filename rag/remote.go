package rag

import "llmops/rag/embed/remote"

// newRemote connects the configured embeddings API.
func newRemote(r RemoteEmbedding) (*remote.Remote, error) {
	return remote.New(remote.Options{BaseURL: r.BaseURL, APIKey: r.APIKey, Model: r.Model})
}
