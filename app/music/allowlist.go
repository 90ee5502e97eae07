package music

import (
	"context"
	"time"
	"unicode/utf8"
)

// MaxReasonLen bounds the free text of an access request.
const MaxReasonLen = 500 // runes

// Approval records that an owner approved a guild.
type Approval struct {
	Guild      GuildID
	ApprovedBy UserID
	ApprovedAt time.Time
}

// AccessRequest is a guild's pending request to be served.
type AccessRequest struct {
	Guild       GuildID
	GuildName   string
	RequestedBy UserID
	Reason      string
	RequestedAt time.Time
}

// Validate checks an access request before it is stored.
func (r AccessRequest) Validate() error {
	if err := r.Guild.Validate(); err != nil {
		return err
	}
	if err := r.RequestedBy.Validate(); err != nil {
		return err
	}
	if !utf8.ValidString(r.Reason) || !utf8.ValidString(r.GuildName) {
		return Errorf(EINVALID, "The request must be valid UTF-8.")
	}
	if utf8.RuneCountInString(r.Reason) > MaxReasonLen {
		return Errorf(EINVALID, "The reason is too long (at most %d characters).", MaxReasonLen)
	}
	if utf8.RuneCountInString(r.GuildName) > 100 {
		return Errorf(EINVALID, "The server name is too long.")
	}
	return nil
}

// AllowlistStore keeps the guilds the owners approved and the pending
// requests of the others.
//
// Errors: EINVALID for bad IDs, ENOTFOUND when revoking a guild that is not
// approved, ECONFLICT when an approved guild requests access,
// EUNAVAILABLE when the backend cannot be reached.
type AllowlistStore interface {
	IsApproved(ctx context.Context, guild GuildID) (bool, error)
	// Approve approves a guild and removes its pending request, if any.
	// Approving an approved guild is not an error.
	Approve(ctx context.Context, a Approval) error
	Revoke(ctx context.Context, guild GuildID) error
	// Approved lists approved guilds, oldest approval first.
	Approved(ctx context.Context) ([]Approval, error)
	// RequestAccess records or replaces the guild's pending request.
	RequestAccess(ctx context.Context, r AccessRequest) error
	// Requests lists pending requests, oldest first.
	Requests(ctx context.Context) ([]AccessRequest, error)
}
