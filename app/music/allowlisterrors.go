package music

// NotApproved is the error of revoking a guild that is not approved.
func NotApproved() *Error { return Errorf(ENOTFOUND, "That server is not approved.") }

// AlreadyApproved is the error of an approved guild requesting access.
func AlreadyApproved() *Error { return Errorf(ECONFLICT, "That server is approved already.") }
