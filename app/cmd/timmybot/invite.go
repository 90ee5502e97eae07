package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/iddv/timmybot/app/music"
)

// invitePermissions is the minimal permission set: View Channel, Send
// Messages, Embed Links, Connect, Speak.
const invitePermissions = 1<<10 | 1<<11 | 1<<14 | 1<<20 | 1<<21

// invite prints the URL that adds the bot to a server.
func invite(lookup lookupFunc, stdout io.Writer) error {
	c, err := loadConfig(lookup, false)
	if err != nil {
		return configError{err}
	}
	appID := c.ApplicationID
	if appID == "" {
		appID = applicationIDFromToken(c.Token)
	}
	if appID == "" {
		return configError{fmt.Errorf("set DISCORD_APPLICATION_ID (Developer Portal → your application → General Information → Application ID) or DISCORD_TOKEN")}
	}
	fmt.Fprintln(stdout, inviteURL(appID))
	return nil
}

func inviteURL(appID string) string {
	q := url.Values{
		"client_id":   {appID},
		"permissions": {fmt.Sprint(invitePermissions)},
		"scope":       {"bot applications.commands"},
	}
	return "https://discord.com/oauth2/authorize?" + q.Encode()
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
