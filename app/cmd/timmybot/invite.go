package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/web"
)

// invite prints the URL that adds the bot to a server.
func invite(lookup lookupFunc, stdout io.Writer) error {
	c, err := loadConfig(lookup, false)
	if err != nil {
		return configError{err}
	}
	appID := c.applicationID()
	if appID == "" {
		return configError{fmt.Errorf("set DISCORD_APPLICATION_ID (Developer Portal → your application → General Information → Application ID) or DISCORD_TOKEN")}
	}
	fmt.Fprintln(stdout, web.InviteURL(appID, ""))
	return nil
}

// applicationID is the configured application ID, or the one in the token.
func (c config) applicationID() string {
	if c.ApplicationID != "" {
		return c.ApplicationID
	}
	return applicationIDFromToken(c.Token)
}

// applicationIDFromToken decodes the bot's user ID, which a bot token
// carries base64-encoded before its first dot and which equals the
// application ID. It returns "" for anything that is not such a token.
func applicationIDFromToken(token string) string {
	first, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(first, "="))
	if err != nil {
		return ""
	}
	if music.UserID(raw).Validate() != nil {
		return ""
	}
	return string(raw)
}
