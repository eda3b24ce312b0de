package judge

import (
	"errors"

	"llmops/store"
)

// Sentinel errors, for errors.Is.
var (
	// ErrJudgeFailed means the judge model answered, but no score could be
	// read from its answer (for per-sentence verdicts: not a verdict on
	// every sentence). The error wrapping it holds a clipped copy. Its
	// code is EUNAVAILABLE: the judge, not the request, is at fault.
	ErrJudgeFailed = &store.Error{Code: store.EUNAVAILABLE, Message: "judge output could not be parsed"}
	// ErrNotApplicable means the metric does not apply to its inputs (no
	// answer sentences, nothing cited, no reference answer); no model was
	// asked.
	ErrNotApplicable = errors.New("judge metric not applicable")
)
