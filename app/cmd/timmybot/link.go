package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/library"
	"github.com/iddv/timmybot/app/source/links"
	"github.com/iddv/timmybot/app/source/mirror"
	"github.com/iddv/timmybot/app/web"
)

// lateBinding lets the account linker reach the bot and the web front,
// which are built after it (the bot needs the linker for its commands).
// Both are set before the HTTP server starts, and the linker uses them only
// from the callback that server serves.
type lateBinding struct {
	bot   *discord.Bot
	front *web.Handler
}

func (l *lateBinding) DirectMessage(ctx context.Context, user music.UserID, text string) error {
	return l.bot.DirectMessage(ctx, user, text)
}

func (l *lateBinding) signedIn(r *http.Request) (music.UserID, bool) {
	if l.front == nil {
		return "", false
	}
	return l.front.SignedIn(r)
}

// accountLinker opens the token file and builds the linker when a service
// is set up; nil (the commands say linking is not set up) otherwise, and in
// AWS mode, where tokens do not belong on the task's disk.
func accountLinker(c config, late *lateBinding, log *slog.Logger) (*account.Linker, func(), error) {
	var services []string
	for service, p := range c.LinkProviders {
		if p.Configured() {
			services = append(services, string(service))
		}
	}
	slices.Sort(services)
	if len(services) == 0 {
		return nil, func() {}, nil
	}
	if c.awsMode() {
		log.Warn("account linking off: tokens are kept only by the embedded store for now")
		return nil, func() {}, nil
	}
	key := c.TokenKey
	if key == nil {
		var err error
		if key, err = web.LoadOrCreateKey(filepath.Join(c.DataDir, "token.key")); err != nil {
			return nil, nil, configError{fmt.Errorf("TIMMYBOT_TOKEN_KEY is unset and the key file in TIMMYBOT_DATA_DIR cannot be used: %w", err)}
		}
	}
	tokens, err := account.OpenLocalTokens(filepath.Join(c.DataDir, "tokens.db"), key)
	if err != nil {
		return nil, nil, configError{fmt.Errorf("TIMMYBOT_TOKEN_KEY: %w", err)}
	}
	redirectURI := account.RedirectURI(c.PublicURL)
	linker, err := account.New(account.Config{
		Providers:   c.LinkProviders,
		Tokens:      tokens,
		RedirectURI: redirectURI,
		Notifier:    late,
		SignedIn:    late.signedIn,
		Logger:      log.With(slog.String("component", "account")),
	})
	if err != nil {
		tokens.Close()
		return nil, nil, configError{fmt.Errorf("TIMMYBOT_PUBLIC_URL: account linking: %w", err)}
	}
	log.Info("account linking", slog.String("services", strings.Join(services, ",")), slog.String("redirect_uri", redirectURI))
	return linker, func() { _ = tokens.Close() }, nil
}

// userLibrary reads linked users' libraries at the providers' APIs (the
// same stand-in as linking's in tests) with the linker's tokens, Spotify's
// recordings mirrored by finder; none when linking is off.
func userLibrary(c config, linker *account.Linker, finder *mirror.Mirror) (discord.Library, error) {
	if linker == nil {
		return nil, nil
	}
	apis := map[account.Service]string{}
	for service, p := range c.LinkProviders {
		if p.Configured() {
			apis[service] = p.APIURL
		}
	}
	lib, err := library.New(library.Config{Tokens: linker, APIURLs: apis, Finder: finder, MaxTracks: links.DefaultMaxTracks})
	if err != nil {
		return nil, fmt.Errorf("reading users' libraries: %w", err)
	}
	return lib, nil
}

// accounts is the bot's view of the linker: none when it is off (a nil
// *account.Linker in the interface would not compare equal to nil).
func accounts(l *account.Linker) discord.Accounts {
	if l == nil {
		return nil
	}
	return l
}
