// Package schema is the one definition of what llmops records and
// reports: the attribute keys of traces and spans, span names and kinds,
// and the status values of traces, ingested files, re-embed jobs and eval
// runs. Writers and readers (rag, evals, server, ui) share these names
// instead of agreeing on string literals.
//
// Attribute keys are flat and OpenTelemetry-shaped, so monitoring can map
// them one to one onto OTLP: the GenAI semantic-convention name where one
// exists (gen_ai.request.model, gen_ai.usage.input_tokens, ...), llmops.*
// for what is ours. No key is also the prefix of another's namespace.
//
// The package imports only the standard library: ui may import it, and
// it never imports store.
package schema
