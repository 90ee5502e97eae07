package spotify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// accessToken returns the cached app token or requests a new one. The lock
// is held across the request so that concurrent callers share one.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.AccountsURL+"/api/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("building a spotify token request: %w", err)
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("requesting a spotify token: %w: %w", music.Errorf(music.EUNAVAILABLE, "Spotify cannot be reached right now; try again later."), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", fmt.Errorf("reading a spotify token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The body names the error ("invalid_client"), never the secret.
		return "", fmt.Errorf("requesting a spotify token: HTTP %d %s: %w", resp.StatusCode, music.Truncate(string(body), 200),
			music.Errorf(music.EUNAVAILABLE, "Spotify refused the bot's credentials; the bot owner needs to check its Spotify app."))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("decoding a spotify token: %w", music.Errorf(music.EUNAVAILABLE, "Spotify answered the bot's sign-in strangely; try again later."))
	}
	c.token = tok.AccessToken
	c.expires = c.now().Add(time.Duration(tok.ExpiresIn)*time.Second - tokenMargin)
	return c.token, nil
}

// forgetToken drops token if it is still the cached one, after Spotify
// refused it before its time.
func (c *Client) forgetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}
