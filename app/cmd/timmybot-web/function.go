package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/web"
	"github.com/iddv/timmybot/app/web/lambdaurl"
)

// lookupFunc reads one configuration variable; ok is false when unset.
type lookupFunc func(key string) (value string, ok bool)

// config is the function's environment.
type config struct {
	AllowlistTable string
	ApplicationID  string
	Owners         []music.UserID
	PublicURL      string // "" is the Function URL the first event arrives at
	DiscordURL     string
	DynamoEndpoint string // a local DynamoDB-compatible server instead of AWS
	// ARNs of the secrets.
	ClientSecretARN, WebSecretARN, TokenARN string
	// Account linking, all optional: the secret of the providers' OAuth
	// clients, the prefix and KMS key of the secrets holding linked
	// accounts (both or neither), the table whose link flows the callback
	// takes and the one (the same, in AWS) holding linked accounts'
	// records. With the clients' secret, all the others are needed.
	LinkClientsARN, LinkSecretPrefix, LinkKMSKeyID, LinkFlowsTable, LinkRecordsTable string
	// LinkProviderURL stands in for every provider's host (tests).
	LinkProviderURL string
	SecretsEndpoint string // a local Secrets Manager-compatible server instead of AWS
}

func loadConfig(lookup lookupFunc) (config, error) {
	get := func(key string) string {
		v, _ := lookup(key)
		return strings.TrimSpace(v)
	}
	c := config{
		AllowlistTable:   get("TIMMYBOT_TABLE_ALLOWLIST"),
		ApplicationID:    get("DISCORD_APPLICATION_ID"),
		PublicURL:        get("TIMMYBOT_PUBLIC_URL"),
		DiscordURL:       get("TIMMYBOT_DISCORD_API_URL"),
		DynamoEndpoint:   get("TIMMYBOT_DYNAMODB_ENDPOINT"),
		ClientSecretARN:  get("DISCORD_CLIENT_SECRET_ARN"),
		WebSecretARN:     get("TIMMYBOT_WEB_SECRET_ARN"),
		TokenARN:         get("DISCORD_TOKEN_ARN"),
		LinkClientsARN:   get("TIMMYBOT_LINK_CLIENTS_ARN"),
		LinkSecretPrefix: get("TIMMYBOT_LINK_SECRET_PREFIX"),
		LinkKMSKeyID:     get("TIMMYBOT_LINK_KMS_KEY_ID"),
		LinkFlowsTable:   get("TIMMYBOT_LINK_FLOWS_TABLE"),
		LinkRecordsTable: get("TIMMYBOT_LINK_RECORDS_TABLE"),
		LinkProviderURL:  get("TIMMYBOT_LINK_PROVIDER_URL"),
		SecretsEndpoint:  get("TIMMYBOT_SECRETSMANAGER_ENDPOINT"),
	}
	var missing []string
	for _, v := range []struct{ key, value string }{
		{"TIMMYBOT_TABLE_ALLOWLIST", c.AllowlistTable}, {"DISCORD_APPLICATION_ID", c.ApplicationID},
		{"DISCORD_CLIENT_SECRET_ARN", c.ClientSecretARN}, {"TIMMYBOT_WEB_SECRET_ARN", c.WebSecretARN}, {"DISCORD_TOKEN_ARN", c.TokenARN},
	} {
		if v.value == "" {
			missing = append(missing, v.key)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%s: not set", strings.Join(missing, ", "))
	}
	if err := music.UserID(c.ApplicationID).Validate(); err != nil {
		return c, fmt.Errorf("DISCORD_APPLICATION_ID: must be the application's numeric ID, got %q", c.ApplicationID)
	}
	if (c.LinkSecretPrefix == "") != (c.LinkKMSKeyID == "") {
		return c, fmt.Errorf("TIMMYBOT_LINK_SECRET_PREFIX and TIMMYBOT_LINK_KMS_KEY_ID: set both or neither")
	}
	if c.LinkClientsARN != "" {
		for _, v := range []struct{ key, value string }{
			{"TIMMYBOT_LINK_SECRET_PREFIX", c.LinkSecretPrefix}, {"TIMMYBOT_LINK_FLOWS_TABLE", c.LinkFlowsTable}, {"TIMMYBOT_LINK_RECORDS_TABLE", c.LinkRecordsTable},
		} {
			if v.value == "" {
				missing = append(missing, v.key)
			}
		}
		if len(missing) > 0 {
			return c, fmt.Errorf("TIMMYBOT_LINK_CLIENTS_ARN is set, so account linking needs %s: not set", strings.Join(missing, ", "))
		}
	}
	if c.LinkProviderURL != "" {
		if _, err := url.Parse(c.LinkProviderURL); err != nil {
			return c, fmt.Errorf("TIMMYBOT_LINK_PROVIDER_URL: %w", err)
		}
	}
	for _, id := range strings.Split(get("TIMMYBOT_OWNER_IDS"), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if err := music.UserID(id).Validate(); err != nil {
			return c, fmt.Errorf("TIMMYBOT_OWNER_IDS: %q is not a Discord user ID (comma-separated numeric IDs expected)", id)
		}
		c.Owners = append(c.Owners, music.UserID(id))
	}
	return c, nil
}

// function serves Function URL events with the web front, and the
// callback of account linking when it is set up.
type function struct {
	cfg      web.Config
	link     *account.Config // nil: linking is not set up; RedirectURI is set on the first event
	once     sync.Once
	front    http.Handler
	frontErr error
}

// linkStores are what completing a link writes to: the linked accounts and
// the flows under way that /link started in the bot.
type linkStores struct {
	tokens account.TokenStore
	flows  account.PendingFlows
}

// start reads the configuration and the secrets and makes the notifier;
// the web front itself is built on the first event, whose domain is the
// Function URL when no public URL is configured (the function cannot be
// told its own URL: the URL is made after the function).
func start(ctx context.Context, lookup lookupFunc, open func(context.Context, config) (deps, error), log *slog.Logger) (*function, error) {
	c, err := loadConfig(lookup)
	if err != nil {
		return nil, err
	}
	d, err := open(ctx, c)
	if err != nil {
		return nil, err
	}
	values := make(map[string]string, 3)
	for _, s := range []struct{ name, arn string }{
		{"DISCORD_CLIENT_SECRET_ARN", c.ClientSecretARN}, {"TIMMYBOT_WEB_SECRET_ARN", c.WebSecretARN}, {"DISCORD_TOKEN_ARN", c.TokenARN},
	} {
		v, err := d.secret(ctx, s.arn)
		if err != nil {
			return nil, fmt.Errorf("%s: reading the secret: %w", s.name, err)
		}
		values[s.name] = v
	}
	if len(values["TIMMYBOT_WEB_SECRET_ARN"]) < web.MinSecretLen {
		return nil, fmt.Errorf("TIMMYBOT_WEB_SECRET_ARN: the secret must have at least %d characters", web.MinSecretLen)
	}
	messenger, err := discord.NewMessenger(values["DISCORD_TOKEN_ARN"], c.DiscordURL, log)
	if err != nil {
		return nil, fmt.Errorf("DISCORD_TOKEN_ARN: %w", err)
	}
	fn := &function{cfg: web.Config{
		PublicURL: c.PublicURL, Secret: []byte(values["TIMMYBOT_WEB_SECRET_ARN"]),
		ApplicationID: c.ApplicationID, ClientSecret: values["DISCORD_CLIENT_SECRET_ARN"], DiscordURL: c.DiscordURL,
		Owners: c.Owners, Allowlist: d.allowlist, Notifier: messenger,
		Logger: log.With(slog.String("component", "web")),
	}}
	if c.LinkClientsARN != "" {
		if fn.link, err = linkConfig(ctx, c, d, messenger, log); err != nil {
			return nil, err
		}
	}
	return fn, nil
}

// linkConfig reads the providers' clients and opens the link stores.
func linkConfig(ctx context.Context, c config, d deps, notifier account.Notifier, log *slog.Logger) (*account.Config, error) {
	raw, err := d.secret(ctx, c.LinkClientsARN)
	if err != nil {
		return nil, fmt.Errorf("TIMMYBOT_LINK_CLIENTS_ARN: reading the secret: %w", err)
	}
	clients, err := account.ParseClients(raw)
	if err != nil {
		return nil, fmt.Errorf("TIMMYBOT_LINK_CLIENTS_ARN: %w", err)
	}
	base, _ := url.Parse(c.LinkProviderURL) // checked by loadConfig
	providers := account.Providers()
	for service, p := range providers {
		if c.LinkProviderURL != "" {
			p = account.Rebase(p, base)
		}
		p.ClientID, p.ClientSecret = clients[service].ID, clients[service].Secret
		providers[service] = p
	}
	stores, err := d.linking(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("opening the link stores: %w", err)
	}
	return &account.Config{
		Providers: providers, Tokens: stores.tokens, Flows: stores.flows, Notifier: notifier,
		Logger: log.With(slog.String("component", "account")),
	}, nil
}

func (f *function) handle(ctx context.Context, e events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	f.once.Do(func() {
		cfg := f.cfg
		if cfg.PublicURL == "" {
			cfg.PublicURL = "https://" + e.RequestContext.DomainName
		}
		front, err := web.New(cfg)
		if err != nil {
			f.frontErr = fmt.Errorf("building the web front: %w", err)
			return
		}
		cfg.Logger.Info("web front", slog.String("url", cfg.PublicURL), slog.String("redirect_uri", front.RedirectURI()))
		f.front = front
		if f.link == nil {
			return
		}
		link := *f.link
		link.RedirectURI, link.SignedIn = account.RedirectURI(cfg.PublicURL), front.SignedIn
		linker, err := account.New(link)
		if err != nil {
			f.frontErr = fmt.Errorf("building account linking: %w", err)
			return
		}
		link.Logger.Info("account linking", slog.String("redirect_uri", link.RedirectURI))
		mux := http.NewServeMux()
		mux.Handle("GET "+account.CallbackPath, linker)
		mux.Handle("/", front)
		f.front = mux
	})
	if f.frontErr != nil {
		return events.LambdaFunctionURLResponse{}, f.frontErr
	}
	return lambdaurl.Serve(ctx, f.front, e)
}
