package dave_test

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave"
)

// A voice connection gets its end-to-end encryption from a Session made for
// the bot's user ID and the voice channel; the connection feeds it the DAVE
// gateway messages and encrypts every Opus frame through it.
func ExampleNewSession() {
	const botID, channelID = 104694319306248192, 127121515262115840
	session, err := dave.NewSession(dave.Config{UserID: botID, ChannelID: channelID, Logger: slog.Default()})
	if err != nil {
		return
	}
	conn, err := voice.Connect(context.Background(), voice.Config{
		Params: voice.Params{
			GuildID: "41771983423143937", ChannelID: strconv.FormatUint(channelID, 10), UserID: strconv.FormatUint(botID, 10),
			SessionID: "from VOICE_STATE_UPDATE", Token: "from VOICE_SERVER_UPDATE", Endpoint: "from VOICE_SERVER_UPDATE",
		},
		E2EE: session,
	})
	if err != nil {
		return
	}
	defer conn.Close()
	// Once media flows, users compare this code to verify the call.
	_ = session.PrivacyCode()
}
