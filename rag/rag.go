// Package rag holds the knowledge base and, later, the assistant: parsing
// (rag/parse), chunking (rag/chunk), embedding (rag/embed), the BM25 and
// vector indexes rebuilt from the store, ingestion, hybrid retrieval,
// reranking, answering and groundedness. It depends on store only.
package rag
