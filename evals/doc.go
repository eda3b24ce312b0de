// Package evals will hold test sets, the eval runner, retrieval and answer
// metrics, run comparison and the CI gate. It depends on rag and store;
// see ARCHITECTURE.md.
package evals
