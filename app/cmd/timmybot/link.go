package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/awstokens"
	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/library"
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

// accountLinker builds the linker when a service is set up, nil (the
// commands say linking is not set up) otherwise. Locally tokens are sealed
// in a file of the data directory; in AWS mode they are secrets under
// TIMMYBOT_LINK_SECRET_PREFIX, with their records and the flows under way
// in DynamoDB, where the web front's function completes the links.
func accountLinker(ctx context.Context, c config, st *stores, late *lateBinding, log *slog.Logger) (*account.Linker, func(), error) {
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
	cfg := account.Config{
		Providers:   c.LinkProviders,
		RedirectURI: account.RedirectURI(c.PublicURL),
		Notifier:    late,
		SignedIn:    late.signedIn,
		Logger:      log.With(slog.String("component", "account")),
	}
	closeTokens := func() {}
	if c.awsMode() {
		if c.LinkSecretPrefix == "" {
			log.Warn("account linking off: TIMMYBOT_LINK_SECRET_PREFIX and TIMMYBOT_LINK_KMS_KEY_ID are unset, and in AWS tokens are kept only as secrets")
			return nil, func() {}, nil
		}
		var err error
		if cfg.Tokens, cfg.Flows, err = awsLinkStores(ctx, c, st); err != nil {
			return nil, nil, err
		}
	} else {
		tokens, err := localTokens(c)
		if err != nil {
			return nil, nil, err
		}
		cfg.Tokens, closeTokens = tokens, func() { _ = tokens.Close() }
	}
	linker, err := account.New(cfg)
	if err != nil {
		closeTokens()
		return nil, nil, configError{fmt.Errorf("TIMMYBOT_PUBLIC_URL: account linking: %w", err)}
	}
	log.Info("account linking", slog.String("services", strings.Join(services, ",")), slog.String("redirect_uri", cfg.RedirectURI))
	return linker, closeTokens, nil
}

// localTokens opens the sealed token file with the configured key or one
// made in the data directory.
func localTokens(c config) (*account.LocalTokens, error) {
	key := c.TokenKey
	if key == nil {
		var err error
		if key, err = web.LoadOrCreateKey(filepath.Join(c.DataDir, "token.key")); err != nil {
			return nil, configError{fmt.Errorf("TIMMYBOT_TOKEN_KEY is unset and the key file in TIMMYBOT_DATA_DIR cannot be used: %w", err)}
		}
	}
	tokens, err := account.OpenLocalTokens(filepath.Join(c.DataDir, "tokens.db"), key)
	if err != nil {
		return nil, configError{fmt.Errorf("TIMMYBOT_TOKEN_KEY: %w", err)}
	}
	return tokens, nil
}

// awsLinkStores keeps tokens in Secrets Manager and links' records and
// flows in the preferences table.
func awsLinkStores(ctx context.Context, c config, st *stores) (account.TokenStore, account.PendingFlows, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the AWS configuration for linked accounts: %w", err)
	}
	sm := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if c.SecretsEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SecretsEndpoint)
		}
	})
	tokens, err := awstokens.New(awstokens.Config{Secrets: sm, Index: st.dynamo, Prefix: c.LinkSecretPrefix, KMSKeyID: c.LinkKMSKeyID})
	if err != nil {
		return nil, nil, configError{fmt.Errorf("TIMMYBOT_LINK_SECRET_PREFIX: %w", err)}
	}
	flows, err := dynamostore.NewLinkFlows(st.dynamoAPI, c.Tables.Preferences)
	if err != nil {
		return nil, nil, err
	}
	return tokens, flows, nil
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
	lib, err := library.New(library.Config{Tokens: linker, APIURLs: apis, Finder: finder, MaxTracks: c.MaxListTracks})
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
