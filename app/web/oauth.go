package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/iddv/timmybot/app/internal/oauthhttp"
	"github.com/iddv/timmybot/app/music"
)

// Permission bits of a guild member (Discord's "Permissions" reference).
const (
	permAdministrator = 1 << 3
	permManageGuild   = 1 << 5
)

// discordOAuth is the OAuth 2.0 client of Discord's authorization-code
// flow with PKCE, and the two user endpoints the pages read.
type discordOAuth struct {
	base         string // https://discord.com
	clientID     string
	clientSecret string
	redirectURI  string
	client       *http.Client
}

// authorizeURL is where the browser signs in.
func (d *discordOAuth) authorizeURL(state, verifier string) string {
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {d.clientID},
		"scope":                 {"identify guilds"},
		"state":                 {state},
		"redirect_uri":          {d.redirectURI},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	return d.base + "/oauth2/authorize?" + q.Encode()
}

// token is what the code exchange returns.
type token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// exchange trades a code for an access token.
func (d *discordOAuth) exchange(ctx context.Context, code, verifier string) (token, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {d.redirectURI},
		"code_verifier": {verifier},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/api/v10/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return token{}, fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(d.clientID, d.clientSecret)
	var t token
	if err := d.do(req, &t); err != nil {
		return token{}, fmt.Errorf("exchanging the code: %w", err)
	}
	if t.AccessToken == "" || !strings.EqualFold(t.TokenType, "Bearer") {
		return token{}, fmt.Errorf("exchanging the code: the answer has no bearer token")
	}
	return t, nil
}

// discordUser is the part of GET /users/@me the pages use.
type discordUser struct {
	ID         music.UserID `json:"id"`
	Username   string       `json:"username"`
	GlobalName string       `json:"global_name"`
}

// discordGuild is one entry of GET /users/@me/guilds.
type discordGuild struct {
	ID          music.GuildID `json:"id"`
	Name        string        `json:"name"`
	Owner       bool          `json:"owner"`
	Permissions string        `json:"permissions"`
}

// manages reports whether the user may manage the guild: Manage Server,
// or what implies it (being its owner, or an administrator).
func (g discordGuild) manages() bool {
	p, err := strconv.ParseUint(g.Permissions, 10, 64)
	return g.Owner || (err == nil && p&(permManageGuild|permAdministrator) != 0)
}

func (d *discordOAuth) me(ctx context.Context, accessToken string) (discordUser, error) {
	var u discordUser
	if err := d.get(ctx, accessToken, "/api/v10/users/@me", &u); err != nil {
		return discordUser{}, fmt.Errorf("reading the signed-in user: %w", err)
	}
	if err := u.ID.Validate(); err != nil {
		return discordUser{}, fmt.Errorf("reading the signed-in user: %w", err)
	}
	return u, nil
}

// managedGuilds lists the user's guilds that they manage.
func (d *discordOAuth) managedGuilds(ctx context.Context, accessToken string) ([]discordGuild, error) {
	var all []discordGuild
	if err := d.get(ctx, accessToken, "/api/v10/users/@me/guilds", &all); err != nil {
		return nil, fmt.Errorf("listing the user's servers: %w", err)
	}
	var out []discordGuild
	for _, g := range all {
		if g.manages() && g.ID.Validate() == nil {
			out = append(out, g)
		}
	}
	return out, nil
}

func (d *discordOAuth) get(ctx context.Context, accessToken, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return d.do(req, into)
}

// do sends req and decodes a JSON answer. Errors carry the status and
// Discord's error code, never the request's body or headers.
func (d *discordOAuth) do(req *http.Request, into any) error {
	err := oauthhttp.Do(d.client, req, into)
	if serr, ok := errors.AsType[*oauthhttp.StatusError](err); ok {
		return fmt.Errorf("discord answered %s (%q)", serr.Status, serr.Code)
	}
	return err
}
