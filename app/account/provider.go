package account

import (
	"net/url"
	"strconv"
	"strings"
)

// Provider describes one service's OAuth 2.0 endpoints and what TimmyBot
// asks of it. ClientID empty means the service is not set up on this bot.
type Provider struct {
	Service      Service
	ClientID     string
	ClientSecret string // "" for a public client, which PKCE alone protects
	AuthURL      string
	TokenURL     string
	RevokeURL    string // "" when the provider has no revocation endpoint
	// UserInfoURL answers with JSON whose AccountNameField (a dotted path,
	// numbers index arrays) names the account.
	UserInfoURL      string
	AccountNameField string
	// APIURL is the base of the provider's API, where a linked user's
	// library is read (the user-info endpoint is one of its paths).
	APIURL string
	Scopes []string
	// AuthParams are extra parameters of the authorization URL.
	AuthParams url.Values
	// SecretInBody sends the client's credentials in the token request's
	// form instead of HTTP Basic authentication.
	SecretInBody bool
}

// Configured reports whether the bot has a client for the service.
func (p Provider) Configured() bool { return p.ClientID != "" }

// Providers returns the real providers' descriptions, without clients.
func Providers() map[Service]Provider {
	return map[Service]Provider{
		Spotify: {
			Service:          Spotify,
			AuthURL:          "https://accounts.spotify.com/authorize",
			TokenURL:         "https://accounts.spotify.com/api/token",
			UserInfoURL:      "https://api.spotify.com/v1/me",
			AccountNameField: "display_name",
			APIURL:           "https://api.spotify.com",
			Scopes:           []string{"playlist-read-private", "playlist-read-collaborative", "user-library-read", "user-top-read"},
		},
		YouTube: {
			Service:          YouTube,
			AuthURL:          "https://accounts.google.com/o/oauth2/v2/auth",
			TokenURL:         "https://oauth2.googleapis.com/token",
			RevokeURL:        "https://oauth2.googleapis.com/revoke",
			UserInfoURL:      "https://www.googleapis.com/youtube/v3/channels?part=snippet&mine=true",
			AccountNameField: "items.0.snippet.title",
			APIURL:           "https://www.googleapis.com",
			Scopes:           []string{"https://www.googleapis.com/auth/youtube.readonly"},
			// Google returns a refresh token only for offline access.
			AuthParams: url.Values{"access_type": {"offline"}, "prompt": {"consent"}},
		},
		SoundCloud: {
			Service:          SoundCloud,
			AuthURL:          "https://secure.soundcloud.com/authorize",
			TokenURL:         "https://secure.soundcloud.com/oauth/token",
			UserInfoURL:      "https://api.soundcloud.com/me",
			AccountNameField: "username",
			APIURL:           "https://api.soundcloud.com",
			SecretInBody:     true,
		},
	}
}

// Rebase points every endpoint of p at base's scheme and host, keeping the
// paths: for a local fake of the providers, as tests and test deployments
// use.
func Rebase(p Provider, base *url.URL) Provider {
	for _, endpoint := range []*string{&p.AuthURL, &p.TokenURL, &p.RevokeURL, &p.UserInfoURL, &p.APIURL} {
		if *endpoint == "" {
			continue
		}
		if u, err := url.Parse(*endpoint); err == nil {
			u.Scheme, u.Host = base.Scheme, base.Host
			*endpoint = u.String()
		}
	}
	return p
}

// field reads a dotted path such as "items.0.snippet.title" from decoded
// JSON; "" when it is missing or not a string.
func field(v any, path string) string {
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			v = node[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return ""
			}
			v = node[i]
		default:
			return ""
		}
	}
	s, _ := v.(string)
	return s
}
