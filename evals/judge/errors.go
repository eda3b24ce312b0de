package judge

import "errors"

// Sentinel errors, for errors.Is.
var (
	// ErrJudgeFailed means the judge model answered, but no score could be
	// read from its answer. The error wrapping it holds a clipped copy.
	ErrJudgeFailed = errors.New("judge output unusable")
	// ErrNotApplicable means the metric does not apply to its inputs (no
	// answer sentences, nothing cited, no reference answer); no model was
	// asked.
	ErrNotApplicable = errors.New("judge metric not applicable")
)
