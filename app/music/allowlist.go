package music

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"
)

// MaxReasonLen bounds the free text of an access request.
const MaxReasonLen = 500 // runes

// MaxGuildNameLen bounds the guild name stored with an access request.
const MaxGuildNameLen = 100 // runes

// MaxAskers bounds the askers a request keeps with their reasons, so that a
// request stays one small record however many members ask; later askers are
// only counted.
const MaxAskers = 25

// NotifyOwnersEvery is the least time between two messages to the owners
// about one guild's request.
const NotifyOwnersEvery = 6 * time.Hour

// Approval records that an owner approved a guild.
type Approval struct {
	Guild      GuildID
	ApprovedBy UserID
	ApprovedAt time.Time
}

// Asker is one member's part of an access request.
type Asker struct {
	User   UserID
	Reason string
	At     time.Time
}

// AccessRequest is a guild's pending request to be served: one per guild,
// shared by every member who asked.
type AccessRequest struct {
	Guild     GuildID
	GuildName string
	// Askers are the first MaxAskers members who asked, oldest first.
	Askers []Asker
	// Asks counts every ask, those beyond Askers included.
	Asks int
	// NotifiedAt is when the owners were last told of the request.
	NotifiedAt time.Time
}

// FirstAskedAt is when the request was made.
func (r AccessRequest) FirstAskedAt() time.Time {
	if len(r.Askers) == 0 {
		return time.Time{}
	}
	return r.Askers[0].At
}

// Ask is one member asking for a guild to be served.
type Ask struct {
	Guild     GuildID
	GuildName string
	Asker
}

// Validate checks an ask before it is stored.
func (a Ask) Validate() error {
	if err := a.Guild.Validate(); err != nil {
		return err
	}
	if err := a.User.Validate(); err != nil {
		return err
	}
	if !utf8.ValidString(a.Reason) || !utf8.ValidString(a.GuildName) {
		return Errorf(EINVALID, "The request must be valid UTF-8.")
	}
	if utf8.RuneCountInString(a.Reason) > MaxReasonLen {
		return Errorf(EINVALID, "The reason is too long (at most %d characters).", MaxReasonLen)
	}
	if utf8.RuneCountInString(a.GuildName) > MaxGuildNameLen {
		return Errorf(EINVALID, "The server name is too long.")
	}
	return nil
}

// Asked is the outcome of an ask.
type Asked struct {
	// Request is the guild's request with the ask added.
	Request AccessRequest
	// NotifyOwners is set on the ask that should tell the owners: the first,
	// and the first one NotifyOwnersEvery or more after they were last told.
	NotifyOwners bool
}

// AddAsk returns r with ask added; r is the guild's pending request, the
// zero AccessRequest when there is none. Both stores change requests only
// through AddAsk, so that they agree on every rule: a member who asked
// already gets AlreadyRequested; an ask beyond MaxAskers is counted, not
// kept (so a repeat ask past the cap counts again); the newest non-empty
// guild name wins; and the owners are told at most once per
// NotifyOwnersEvery, NotifiedAt recording when.
func (r AccessRequest) AddAsk(ask Ask) (Asked, error) {
	if err := ask.Validate(); err != nil {
		return Asked{}, err
	}
	if slices.ContainsFunc(r.Askers, func(a Asker) bool { return a.User == ask.User }) {
		return Asked{}, AlreadyRequested()
	}
	r.Guild = ask.Guild
	if ask.GuildName != "" {
		r.GuildName = ask.GuildName
	}
	ask.At = ask.At.UTC()
	if len(r.Askers) < MaxAskers {
		r.Askers = append(slices.Clip(r.Askers), ask.Asker)
	}
	r.Asks++
	notify := r.NotifiedAt.IsZero() || !ask.At.Before(r.NotifiedAt.Add(NotifyOwnersEvery))
	if notify {
		r.NotifiedAt = ask.At
	}
	return Asked{Request: r, NotifyOwners: notify}, nil
}

// WithoutAsker returns r without user's part and reports whether user had
// one: the rule of AllowlistStore.ForgetAsker, which both stores share.
// The user's ask no longer counts (Asks drops by one); the guild's name
// and the last notification stay, being the guild's. Asks past MaxAskers
// were counted, never kept, so they name nobody and stay counted. A
// request left with no asker (see Abandoned) has nobody to stand for it.
func (r AccessRequest) WithoutAsker(user UserID) (AccessRequest, bool) {
	i := slices.IndexFunc(r.Askers, func(a Asker) bool { return a.User == user })
	if i < 0 {
		return r, false
	}
	r.Askers = slices.Delete(slices.Clone(r.Askers), i, i+1)
	r.Asks = max(r.Asks-1, len(r.Askers))
	return r, true
}

// Abandoned reports whether a request that WithoutAsker changed has no
// asker left: the stores delete it, as if the guild had never asked, rather
// than keep a request that names nobody.
func (r AccessRequest) Abandoned() bool { return len(r.Askers) == 0 }

// Decline records that an owner declined a guild's pending request, and
// why; it stands until the guild asks again or is approved.
type Decline struct {
	Guild      GuildID
	DeclinedBy UserID
	Reason     string
	DeclinedAt time.Time
}

// Validate checks a decline before it is stored.
func (d Decline) Validate() error {
	if err := d.Guild.Validate(); err != nil {
		return err
	}
	if err := d.DeclinedBy.Validate(); err != nil {
		return err
	}
	if !utf8.ValidString(d.Reason) {
		return Errorf(EINVALID, "The reason must be valid UTF-8.")
	}
	if utf8.RuneCountInString(d.Reason) > MaxReasonLen {
		return Errorf(EINVALID, "The reason is too long (at most %d characters).", MaxReasonLen)
	}
	return nil
}

// GuildAccess is where one guild stands with the owners: at most one of its
// fields is set, none for a guild that never asked (or was revoked).
type GuildAccess struct {
	Approval *Approval
	Request  *AccessRequest
	Decline  *Decline
}

// AllowlistStore keeps the guilds the owners approved, the pending
// requests of the others and the requests the owners declined.
//
// Errors: EINVALID for bad IDs, ENOTFOUND when revoking a guild that is not
// approved or declining one without a pending request, ECONFLICT when an
// approved guild requests access or a member asks twice, EUNAVAILABLE when
// the backend cannot be reached.
type AllowlistStore interface {
	IsApproved(ctx context.Context, guild GuildID) (bool, error)
	// Approve approves a guild and removes its pending request, if any.
	// Approving an approved guild is not an error.
	Approve(ctx context.Context, a Approval) error
	Revoke(ctx context.Context, guild GuildID) error
	// Approved lists approved guilds, oldest approval first.
	Approved(ctx context.Context) ([]Approval, error)
	// RequestAccess adds ask to the guild's pending request, creating the
	// request when there is none, as AccessRequest.AddAsk does. Concurrent
	// asks are all recorded.
	RequestAccess(ctx context.Context, ask Ask) (Asked, error)
	// Requests lists pending requests, oldest first.
	Requests(ctx context.Context) ([]AccessRequest, error)
	// Decline replaces the guild's pending request by d. A declined guild
	// that asks again starts a new request.
	Decline(ctx context.Context, d Decline) error
	// Access tells where one guild stands.
	Access(ctx context.Context, guild GuildID) (GuildAccess, error)
	// ForgetAsker removes user's part from every pending request, as
	// AccessRequest.WithoutAsker does, deletes each request that leaves
	// Abandoned, and returns how many requests it changed (deleted ones
	// included). Approvals and declines keep no asker, so they stay.
	// Running it again changes nothing; the user may ask again afterwards.
	ForgetAsker(ctx context.Context, user UserID) (int, error)
}
