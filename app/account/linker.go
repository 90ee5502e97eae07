package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/internal/oauthhttp"
	"github.com/iddv/timmybot/app/music"
)

// stateLifetime is how long an authorization URL stays usable.
const stateLifetime = 10 * time.Minute

// Config is what a Linker needs.
type Config struct {
	// Providers are the services' descriptions; a service missing or
	// without a ClientID is "not set up".
	Providers map[Service]Provider
	Tokens    TokenStore
	// Flows keeps the flows under way between Start and Complete; share
	// one store when another process serves the callback.
	// Default: a MemoryFlows on Now.
	Flows PendingFlows
	// RedirectURI is the callback's address as registered with every
	// provider: the web front's public URL + CallbackPath.
	RedirectURI string
	Notifier    Notifier
	// SignedIn returns the Discord user signed in to the web front in the
	// request's browser, if any; a callback from a browser signed in as
	// someone else than the user who asked for the link is refused.
	// Default: nobody is ever signed in.
	SignedIn func(*http.Request) (music.UserID, bool)
	// HTTPClient talks to the providers. Default: a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// CallbackPath is where providers send the browser back.
const CallbackPath = "/link/callback"

// Linker runs the link flow. Flows under way (state, PKCE verifier, user)
// are kept by Config.Flows.
type Linker struct {
	cfg Config

	// refreshes runs one token refresh per link at a time.
	refreshes flights
}

// New checks cfg and builds the Linker.
func New(cfg Config) (*Linker, error) {
	if cfg.Tokens == nil || cfg.Notifier == nil {
		return nil, errors.New("account linking needs a token store and a notifier")
	}
	if u, err := url.Parse(cfg.RedirectURI); err != nil || u.Host == "" {
		return nil, fmt.Errorf("the redirect URI must be an absolute URL, got %q", cfg.RedirectURI)
	}
	if cfg.SignedIn == nil {
		cfg.SignedIn = func(*http.Request) (music.UserID, bool) { return "", false }
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Flows == nil {
		cfg.Flows = NewMemoryFlows(cfg.Now)
	}
	return &Linker{cfg: cfg}, nil
}

// provider returns the service's provider or says it is not set up.
func (l *Linker) provider(service Service) (Provider, error) {
	if err := service.Validate(); err != nil {
		return Provider{}, err
	}
	p, ok := l.cfg.Providers[service]
	if !ok || !p.Configured() {
		return Provider{}, music.Errorf(music.EINVALID, "Linking %s is not set up on this bot.", service.Title())
	}
	return p, nil
}

// Start begins a link of the user's account at service and returns the
// authorization URL to open, usable once within stateLifetime.
func (l *Linker) Start(ctx context.Context, user music.UserID, service Service) (string, error) {
	if err := user.Validate(); err != nil {
		return "", err
	}
	p, err := l.provider(service)
	if err != nil {
		return "", err
	}
	state, verifier := rand.Text(), rand.Text()+rand.Text()
	// An earlier URL of the same link stops working: one flow each.
	flow := Flow{State: state, User: user, Service: service, Verifier: verifier, Expires: l.cfg.Now().Add(stateLifetime)}
	if err := l.cfg.Flows.Put(ctx, flow); err != nil {
		return "", fmt.Errorf("keeping the link flow: %w", err)
	}
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {p.ClientID},
		"redirect_uri":          {l.cfg.RedirectURI},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	if len(p.Scopes) > 0 {
		q.Set("scope", strings.Join(p.Scopes, " "))
	}
	for k, v := range p.AuthParams {
		q[k] = v
	}
	return p.AuthURL + "?" + q.Encode(), nil
}

// errFlow is what the callback page says of a state it cannot use.
var errFlow = music.Errorf(music.EINVALID, "This link is not valid: it was used already, it expired (links last 10 minutes), or it was not made for you. Run /link again in Discord.")

// take removes and returns the flow of state, if it is usable by browser.
func (l *Linker) take(ctx context.Context, state string, browser music.UserID, signedIn bool) (Flow, error) {
	f, ok, err := l.cfg.Flows.Take(ctx, state) // single use, even when refused below
	if err != nil {
		return Flow{}, fmt.Errorf("reading the link flow: %w", err)
	}
	if !ok || !l.cfg.Now().Before(f.Expires) || (signedIn && browser != f.User) {
		return Flow{}, errFlow
	}
	return f, nil
}

// Complete finishes the flow of state with the provider's code: it trades
// the code for tokens, names the account, stores the link and tells the
// user in Discord. browser is the user signed in to the web front, if any.
func (l *Linker) Complete(ctx context.Context, state, code string, browser music.UserID, signedIn bool) (Link, error) {
	f, err := l.take(ctx, state, browser, signedIn)
	if err != nil {
		return Link{}, err
	}
	p, err := l.provider(f.Service)
	if err != nil {
		return Link{}, err
	}
	tok, scopes, err := l.exchange(ctx, p, code, f.Verifier)
	if err != nil {
		return Link{}, err
	}
	name, err := l.accountName(ctx, p, tok.AccessToken)
	if err != nil {
		return Link{}, err
	}
	link := Link{User: f.User, Service: f.Service, AccountName: name, Scopes: scopes, LinkedAt: l.cfg.Now().UTC()}
	if err := l.cfg.Tokens.Save(ctx, link, tok); err != nil {
		return Link{}, err
	}
	msg := fmt.Sprintf("Your %s account **%s** is now linked to TimmyBot. /account shows it, /unlink removes it.", f.Service.Title(), name)
	if err := l.cfg.Notifier.DirectMessage(ctx, f.User, msg); err != nil {
		l.cfg.Logger.Warn("confirming a link", slog.String("service", string(f.Service)), slog.Any("err", err))
	}
	return link, nil
}

// errProvider is what the user sees when a provider refuses or fails.
func errProvider(service Service) error {
	return music.Errorf(music.EUNAVAILABLE, "%s did not accept the link. Run /link again in Discord.", service.Title())
}

// tokenAnswer is a token endpoint's answer (RFC 6749 section 5.1).
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
}

// exchange trades the code and the PKCE verifier for tokens and the scopes
// granted.
func (l *Linker) exchange(ctx context.Context, p Provider, code, verifier string) (Token, []string, error) {
	ans, tok, err := l.grant(ctx, p, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {l.cfg.RedirectURI},
		"code_verifier": {verifier},
	})
	if err != nil {
		l.cfg.Logger.Warn("exchanging a code", slog.String("service", string(p.Service)), slog.Any("err", err))
		return Token{}, nil, errProvider(p.Service)
	}
	scopes := strings.Fields(ans.Scope)
	if ans.Scope == "" { // RFC 6749: omitted means as requested
		scopes = p.Scopes
	}
	return tok, scopes, nil
}

// grant asks p's token endpoint for tokens, authenticated as its client,
// and returns the answer and the tokens in it.
func (l *Linker) grant(ctx context.Context, p Provider, form url.Values) (tokenAnswer, Token, error) {
	form.Set("client_id", p.ClientID)
	if p.SecretInBody && p.ClientSecret != "" {
		form.Set("client_secret", p.ClientSecret)
	}
	var ans tokenAnswer
	if err := l.post(ctx, p, p.TokenURL, form, &ans); err != nil {
		return tokenAnswer{}, Token{}, err
	}
	if ans.AccessToken == "" || !strings.EqualFold(ans.TokenType, "bearer") {
		return tokenAnswer{}, Token{}, errors.New("the answer has no bearer token")
	}
	tok := Token{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken}
	if ans.ExpiresIn > 0 {
		tok.Expiry = l.cfg.Now().Add(time.Duration(ans.ExpiresIn) * time.Second).UTC()
	}
	return ans, tok, nil
}

// accountName reads the account's name from the user-info endpoint.
func (l *Linker) accountName(ctx context.Context, p Provider, accessToken string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.UserInfoURL, nil)
	if err != nil {
		return "", fmt.Errorf("building the user-info request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	var info any
	if err := l.do(req, &info); err != nil {
		l.cfg.Logger.Warn("reading the linked account", slog.String("service", string(p.Service)), slog.Any("err", err))
		return "", errProvider(p.Service)
	}
	name := field(info, p.AccountNameField)
	if name == "" {
		name = "(no name)"
	}
	return music.Truncate(name, 100), nil
}

// post sends a form to one of p's endpoints, authenticated as its client.
func (l *Linker) post(ctx context.Context, p Provider, endpoint string, form url.Values, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !p.SecretInBody && p.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	return l.do(req, into)
}

// do sends req to a provider and decodes its JSON answer.
func (l *Linker) do(req *http.Request, into any) error {
	return oauthhttp.Do(l.cfg.HTTPClient, req, into)
}

// Links lists the user's links.
func (l *Linker) Links(ctx context.Context, user music.UserID) ([]Link, error) {
	return l.cfg.Tokens.Links(ctx, user)
}

// Unlink deletes the user's link to service and revokes its token where
// the provider can. revoked is false when the provider has no revocation
// endpoint or refused: the user should remove the access there.
func (l *Linker) Unlink(ctx context.Context, user music.UserID, service Service) (revoked bool, err error) {
	if err := checkKey(user, service); err != nil {
		return false, err
	}
	_, tok, loadErr := l.cfg.Tokens.Load(ctx, user, service)
	if err := l.cfg.Tokens.Delete(ctx, user, service); err != nil {
		return false, err
	}
	if loadErr != nil {
		l.cfg.Logger.Warn("unlinking: the token could not be read to revoke it", slog.String("service", string(service)), slog.Any("err", loadErr))
		return false, nil
	}
	return l.revoke(ctx, service, tok), nil
}

// revoke asks the provider to revoke the token and reports whether it did.
func (l *Linker) revoke(ctx context.Context, service Service, tok Token) bool {
	p, ok := l.cfg.Providers[service]
	if !ok || p.RevokeURL == "" {
		return false
	}
	// Revoking the refresh token ends the access tokens made from it too.
	secret := tok.RefreshToken
	if secret == "" {
		secret = tok.AccessToken
	}
	if err := l.post(ctx, p, p.RevokeURL, url.Values{"token": {secret}}, nil); err != nil {
		l.cfg.Logger.Warn("revoking a token", slog.String("service", string(service)), slog.Any("err", err))
		return false
	}
	return true
}

// ForgetMe deletes every link of the user, revoking their tokens where it
// can, and returns the links it deleted.
func (l *Linker) ForgetMe(ctx context.Context, user music.UserID) ([]Link, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	tokens := map[Service]Token{}
	for _, service := range Services {
		if _, tok, err := l.cfg.Tokens.Load(ctx, user, service); err == nil {
			tokens[service] = tok
		}
	}
	links, err := l.cfg.Tokens.DeleteAll(ctx, user)
	if err != nil {
		return nil, err
	}
	for service, tok := range tokens {
		l.revoke(ctx, service, tok)
	}
	return links, nil
}
