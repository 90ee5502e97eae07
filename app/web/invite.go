package web

import (
	"fmt"
	"net/url"

	"github.com/iddv/timmybot/app/music"
)

// InvitePermissions is the minimal permission set the bot asks for: View
// Channel, Send Messages, Embed Links, Connect, Speak.
const InvitePermissions = 1<<10 | 1<<11 | 1<<14 | 1<<20 | 1<<21

// InviteURL is the link that adds the bot with application ID appID to a
// server: to guild only when guild is set, to one the user picks otherwise.
func InviteURL(appID string, guild music.GuildID) string {
	q := url.Values{
		"client_id":   {appID},
		"permissions": {fmt.Sprint(InvitePermissions)},
		"scope":       {"bot applications.commands"},
	}
	if guild != "" {
		q.Set("guild_id", string(guild))
		q.Set("disable_guild_select", "true")
	}
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}
