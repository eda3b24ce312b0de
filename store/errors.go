package store

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The server maps each code to one HTTP
// status in one place; the message is safe to show to users.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	ERATELIMITED  = "rate_limited"
	EUNAVAILABLE  = "unavailable"
)

// Error is an application error with a code and a message meant for users.
// Internal details stay in wrapped errors that are logged, never shown.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// an *Error get a generic message so internal text never leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Sentinel errors for conditions callers test with errors.Is.
var (
	// ErrLocked means another process (a running llmops serve) holds the data dir.
	ErrLocked = errors.New("data dir in use by a running llmops serve; use --server URL")
	// ErrForeignDB means the database file exists but was not written by llmops.
	ErrForeignDB = errors.New("not an llmops database")
	// ErrNewerSchema means the database was written by a newer llmops.
	ErrNewerSchema = errors.New("database schema is newer than this llmops binary")
	// ErrClosed is returned by writes after the store or a writer was closed.
	ErrClosed = errors.New("store closed")
)
