// Package account owns "bring your own premium" account linking: the domain
// of a link between a Discord user and their Spotify, YouTube or SoundCloud
// account, the TokenStore port that keeps each link's OAuth tokens, a local
// TokenStore that seals them with AES-GCM in its own bbolt file, the
// providers' descriptions (as data, so tests point them at fakes), the
// PendingFlows port that keeps flows under way between /link and the
// callback, which may run in another process (MemoryFlows here; the
// DynamoDB one is in app/dynamostore), and the Linker: the OAuth 2.0 authorization-code flow with PKCE (S256) from the
// authorization URL to the callback page, access tokens kept valid by
// refreshing them, unlinking and forgetting a user's links.
//
// Refresh: Linker.AccessToken renews a token within two minutes of its
// expiry. Providers differ in what they do with the refresh token used
// (SoundCloud's are single-use, Spotify may or may not send a new one,
// Google keeps it), so a refresh stores what it got only while the stored
// refresh token is still the one it used (TokenStore.UpdateToken). In one
// process one refresh per link runs at a time and callers share it; across
// processes the compare-and-swap decides, and the loser uses the winner's
// tokens. A refresh token the provider refuses (invalid_grant: revoked, or
// spent by a racing process) marks the link broken unless the store holds
// a newer one, and the user is told once, by a direct message.
//
// It does not own the Discord commands that start these (app/discord), how a
// user is messaged (a Notifier), where the files live or where the key comes
// from (the binary's configuration), the user's other data (/forget-me
// deletes that through the music stores), nor reading a user's library.
//
// No token, authorization code, PKCE verifier or state is ever written to a
// log line, an error or a page.
package account

import (
	"context"
	"slices"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Service is a music service a user can link.
type Service string

// The services a user can link.
const (
	Spotify    Service = "spotify"
	YouTube    Service = "youtube"
	SoundCloud Service = "soundcloud"
)

// Services lists every service, in the order the commands offer them.
var Services = []Service{Spotify, YouTube, SoundCloud}

// Validate reports a service that does not exist as invalid input.
func (s Service) Validate() error {
	if !slices.Contains(Services, s) {
		return music.Errorf(music.EINVALID, "%q is not a service TimmyBot links: use spotify, youtube or soundcloud.", music.Truncate(string(s), 20))
	}
	return nil
}

// Title is the service's name as people write it.
func (s Service) Title() string {
	switch s {
	case Spotify:
		return "Spotify"
	case YouTube:
		return "YouTube"
	case SoundCloud:
		return "SoundCloud"
	}
	return string(s)
}

// Link is one linked account: what a user may see about it.
type Link struct {
	User        music.UserID `json:"user"`
	Service     Service      `json:"service"`
	AccountName string       `json:"account_name"`
	Scopes      []string     `json:"scopes"`
	LinkedAt    time.Time    `json:"linked_at"`
	// Broken marks a link whose tokens no longer work (revoked at the
	// provider, say); the user has to link again.
	Broken bool `json:"broken"`
}

// Token is a link's OAuth tokens. It is secret: never log or show it.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
}

// TokenStore keeps links and their tokens. Save takes the whole Link with
// its Token so that one write stores both: there is never a link without
// tokens nor tokens without the link that says whose they are.
type TokenStore interface {
	// Save stores the link and its tokens, replacing an earlier link of the
	// same user and service.
	Save(ctx context.Context, link Link, tok Token) error
	// Load returns the link and its tokens, a music.ENOTFOUND error when
	// there is none.
	Load(ctx context.Context, user music.UserID, service Service) (Link, Token, error)
	// Links lists the user's links, without tokens, in service order.
	Links(ctx context.Context, user music.UserID) ([]Link, error)
	// Delete removes the link and its tokens, music.ENOTFOUND when there
	// is none.
	Delete(ctx context.Context, user music.UserID, service Service) error
	// DeleteAll removes every link of the user and returns what it removed.
	DeleteAll(ctx context.Context, user music.UserID) ([]Link, error)
	// UpdateToken replaces the link's tokens with tok only while the
	// stored refresh token is still prevRefresh, and clears Broken: the
	// compare-and-swap that keeps a rotated refresh token when two
	// refreshes race. ErrTokenChanged when another write came first,
	// music.ENOTFOUND when there is no link.
	UpdateToken(ctx context.Context, user music.UserID, service Service, prevRefresh string, tok Token) error
	// MarkBroken marks the link broken, keeping its tokens for revocation,
	// and reports whether it was working until now, so that the user is
	// told once. music.ENOTFOUND when there is no link.
	MarkBroken(ctx context.Context, user music.UserID, service Service) (changed bool, err error)
}

// ErrTokenChanged is UpdateToken's answer when the stored tokens are no
// longer the ones the caller refreshed: another refresh stored first.
var ErrTokenChanged = music.Errorf(music.ECONFLICT, "The account's tokens changed while they were being refreshed.")

// Notifier sends a direct message to a user; the bot implements it.
type Notifier interface {
	DirectMessage(ctx context.Context, user music.UserID, text string) error
}

func checkKey(user music.UserID, service Service) error {
	if err := user.Validate(); err != nil {
		return err
	}
	return service.Validate()
}

func notLinked(service Service) error {
	return music.Errorf(music.ENOTFOUND, "No %s account is linked.", service.Title())
}
