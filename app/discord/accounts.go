package discord

import (
	"context"
	"fmt"
	"strings"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/music"
)

// Accounts links users' music accounts; *account.Linker implements it.
type Accounts interface {
	Start(ctx context.Context, user music.UserID, service account.Service) (authURL string, err error)
	Links(ctx context.Context, user music.UserID) ([]account.Link, error)
	Unlink(ctx context.Context, user music.UserID, service account.Service) (revoked bool, err error)
	ForgetMe(ctx context.Context, user music.UserID) ([]account.Link, error)
}

var _ Accounts = (*account.Linker)(nil)

// Requesters are the guilds' queues seen across guilds, for /forget-me;
// both stores implement it, and storetest holds them to one behaviour.
type Requesters interface {
	// ForgetRequester clears RequestedBy of every entry user queued, in
	// every guild's queue, and returns how many entries it changed: the
	// tracks keep their place and play as before, naming nobody.
	// Autoplay's entries are no user's and stay. Running it again changes
	// nothing.
	ForgetRequester(ctx context.Context, user music.UserID) (int, error)
}

// errNoLinking answers the account commands on a bot without linking.
var errNoLinking = music.Errorf(music.EINVALID, "Account linking is not set up on this bot.")

// accountCommands are /link, /account, /unlink and /forget-me: a user's
// own business, so they run anywhere, DMs included. /forget-me works
// without linking too: it deletes the user's playlists and settings, and
// their name on queued tracks and access requests, then.
func (h *Handlers) accountCommands() []Command {
	var services []string
	for _, s := range account.Services {
		services = append(services, string(s))
	}
	serviceOpt := Option{Name: "service", Description: "The music service", Type: String, Required: true, Choices: services}
	return []Command{
		{Name: "link", Description: "Link your Spotify, YouTube or SoundCloud account", Access: Everyone, Run: h.link, Options: []Option{serviceOpt}},
		{Name: "account", Description: "Show the music accounts you linked", Access: Everyone, Run: h.accountList},
		{Name: "unlink", Description: "Unlink a music account and delete its tokens", Access: Everyone, Run: h.unlink, Options: []Option{serviceOpt}},
		{Name: "forget-me", Description: "Delete everything TimmyBot keeps for you: account links, tokens, playlists, settings", Access: Everyone, Run: h.forgetMe},
	}
}

func (h *Handlers) link(ctx context.Context, r *Request) (Reply, error) {
	if h.Accounts == nil {
		return Reply{}, errNoLinking
	}
	service := account.Service(r.String("service"))
	authURL, err := h.Accounts.Start(ctx, r.User, service)
	if err != nil {
		return Reply{}, err
	}
	return ephemeral("Open this link within 10 minutes to link your %s account; it works once and only for you, so do not share it:\n<%s>", service.Title(), authURL), nil
}

func (h *Handlers) accountList(ctx context.Context, r *Request) (Reply, error) {
	if h.Accounts == nil {
		return Reply{}, errNoLinking
	}
	links, err := h.Accounts.Links(ctx, r.User)
	if err != nil {
		return Reply{}, fmt.Errorf("listing links: %w", err)
	}
	if len(links) == 0 {
		return ephemeral("You have linked no music account. /link links one."), nil
	}
	var b strings.Builder
	b.WriteString("Your linked accounts:")
	for _, l := range links {
		scopes := "none"
		if len(l.Scopes) > 0 {
			scopes = "`" + strings.Join(l.Scopes, "`, `") + "`"
		}
		fmt.Fprintf(&b, "\n• **%s**: %s, since %s; access: %s", l.Service.Title(), escapeMarkdown(l.AccountName), l.LinkedAt.UTC().Format("2006-01-02"), scopes)
		if l.Broken {
			b.WriteString(" (no longer works: /link it again)")
		}
	}
	return ephemeral("%s", b.String()), nil
}

func (h *Handlers) unlink(ctx context.Context, r *Request) (Reply, error) {
	if h.Accounts == nil {
		return Reply{}, errNoLinking
	}
	service := account.Service(r.String("service"))
	revoked, err := h.Accounts.Unlink(ctx, r.User, service)
	if err != nil {
		return Reply{}, err
	}
	if revoked {
		return ephemeral("Your %s account is unlinked: its tokens are deleted and %s revoked them.", service.Title(), service.Title()), nil
	}
	return ephemeral("Your %s account is unlinked and its tokens are deleted. To end TimmyBot's access at %s as well, remove it in your %s account's settings.", service.Title(), service.Title(), service.Title()), nil
}

// forgotten is what /forget-me deleted.
type forgotten struct {
	links     []account.Link
	playlists int
	settings  bool
	// queued counts the queue entries that named the user, requests the
	// access requests they had a part in.
	queued, requests int
}

// forgetMe deletes everything the bot keeps about the user: account links
// and their tokens (when linking is set up), saved playlists and settings,
// their name on the tracks they queued, in any guild (the queues, and the
// played tracks the players keep for /previous), and their part in
// pending access requests. Each deletion is idempotent, so after a
// failure running it again finishes the job.
func (h *Handlers) forgetMe(ctx context.Context, r *Request) (Reply, error) {
	var f forgotten
	var err error
	if h.Accounts != nil {
		if f.links, err = h.Accounts.ForgetMe(ctx, r.User); err != nil {
			return Reply{}, fmt.Errorf("forgetting a user's account links: %w", err)
		}
	}
	if h.Playlists != nil {
		if f.playlists, err = h.Playlists.DeletePlaylists(ctx, r.User); err != nil {
			return Reply{}, fmt.Errorf("forgetting a user's playlists: %w", err)
		}
	}
	if h.Preferences != nil {
		if f.settings, err = h.Preferences.DeletePreferences(ctx, r.User); err != nil {
			return Reply{}, fmt.Errorf("forgetting a user's settings: %w", err)
		}
	}
	if h.audio != nil {
		// First, so that a /previous meanwhile cannot queue the name again.
		if err := h.audio.forgetRequester(ctx, r.User); err != nil {
			return Reply{}, fmt.Errorf("forgetting who queued a user's played tracks: %w", err)
		}
	}
	if h.Requesters != nil {
		if f.queued, err = h.Requesters.ForgetRequester(ctx, r.User); err != nil {
			return Reply{}, fmt.Errorf("forgetting who queued a user's tracks: %w", err)
		}
	}
	if h.Allowlist != nil {
		if f.requests, err = h.Allowlist.ForgetAsker(ctx, r.User); err != nil {
			return Reply{}, fmt.Errorf("forgetting a user's access requests: %w", err)
		}
	}
	return ephemeral("%s", forgetText(f)), nil
}

// forgetText says what /forget-me deleted. Queued tracks and access
// requests are named only when there were some: most users have neither.
func forgetText(f forgotten) string {
	if len(f.links) == 0 && f.playlists == 0 && !f.settings && f.queued == 0 && f.requests == 0 {
		return "TimmyBot kept no account link, playlist, settings, queued track or access request of yours: there was nothing to delete."
	}
	var b strings.Builder
	b.WriteString("Deleted everything TimmyBot kept for you:")
	if len(f.links) == 0 {
		b.WriteString("\n• no account links")
	} else {
		var names []string
		for _, l := range f.links {
			names = append(names, l.Service.Title()+" ("+escapeMarkdown(l.AccountName)+")")
		}
		fmt.Fprintf(&b, "\n• %d account %s and %s tokens: %s", len(f.links), plural(len(f.links), "link", "links"), plural(len(f.links), "its", "their"), strings.Join(names, ", "))
	}
	fmt.Fprintf(&b, "\n• %d saved %s", f.playlists, plural(f.playlists, "playlist", "playlists"))
	if f.settings {
		b.WriteString("\n• your settings")
	} else {
		b.WriteString("\n• no settings (you had saved none)")
	}
	if f.queued > 0 {
		fmt.Fprintf(&b, "\n• your name on %d queued %s in the queue", f.queued, plural(f.queued, "track, which stays", "tracks, which stay"))
	}
	if f.requests > 0 {
		fmt.Fprintf(&b, "\n• your part in %d access %s", f.requests, plural(f.requests, "request", "requests"))
	}
	return b.String()
}
