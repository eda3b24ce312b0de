// Package metrics holds the pure scoring functions of llmops evals:
// retrieval metrics over a ranked list of IDs, token-overlap and embedding
// metrics of an answer against a reference, and the statistics that turn
// per-case scores into run means, confidence intervals and paired
// comparisons.
//
// Every per-case metric returns (value, ok). ok=false means the metric does
// not apply to the case (no relevant IDs, an empty reference, k < 1) and
// the value is 0: callers leave such a case out of the mean rather than
// counting it as a zero. No function returns NaN.
//
// Retrieval metrics take ranked, the retrieved IDs best first, and rels,
// the judged IDs with their relevance grade. An ID is relevant when its
// grade is > 0; grades ≤ 0 and unjudged IDs earn nothing. ranked should be
// deduplicated with Dedupe; if it is not, a repeated ID earns credit only
// at its first position (later copies still occupy their ranks), so no
// metric exceeds 1.
//
// docs/METRICS.md is the user-facing reference for the formulas and for
// the metric keys the eval runner builds on top of these functions.
package metrics
