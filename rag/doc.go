// Package rag will hold the knowledge base and the assistant: parsers,
// chunking, embedders, the BM25 (bleve) and vector (chromem-go) indexes,
// hybrid retrieval with reciprocal rank fusion, reranking, answering and
// groundedness. It depends on store only; see ARCHITECTURE.md.
package rag
