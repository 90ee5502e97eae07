package music

// NotApproved is the error of revoking a guild that is not approved.
func NotApproved() *Error { return Errorf(ENOTFOUND, "That server is not approved.") }

// AlreadyApproved is the error of an approved guild requesting access.
func AlreadyApproved() *Error { return Errorf(ECONFLICT, "That server is approved already.") }

// AlreadyRequested is the error of a member asking again while their ask is
// pending.
func AlreadyRequested() *Error {
	return Errorf(ECONFLICT, "You already asked for TimmyBot on this server; your request is pending with the owners.")
}

// NoRequest is the error of declining a guild that has no pending request.
func NoRequest() *Error { return Errorf(ENOTFOUND, "That server has no pending request.") }
