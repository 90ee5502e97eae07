// Package music is TimmyBot's domain: tracks, per-guild queues, the server
// allowlist and its access requests, user preferences and saved playlists,
// and the store ports that adapters implement (QueueStore, AllowlistStore,
// PreferenceStore, PlaylistStore, TrackCache).
//
// It knows nothing of Discord, AWS, ffmpeg or any storage engine; adapters
// depend on it, never the other way round. Errors carry a Code so that the
// edge (the Discord router) can turn them into a message for the user without
// knowing which adapter failed.
package music

import (
	"errors"
	"fmt"
)

// Error codes. The edge maps them to user-facing text; EINTERNAL and
// EUNAVAILABLE are also logged, the others are the user's doing.
const (
	ECONFLICT    = "conflict"    // the state changed under the caller; retry may succeed
	EFORBIDDEN   = "forbidden"   // the caller may not do this
	EINTERNAL    = "internal"    // a bug or an unexpected failure
	EINVALID     = "invalid"     // bad input
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	EUNAVAILABLE = "unavailable" // a dependency (store, source) cannot be reached
)

// Error is a domain error: a machine-readable Code and a Message that is safe
// to show to a Discord user (no secrets, no internals).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("music error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side."
}
