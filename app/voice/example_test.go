package voice_test

import (
	"context"
	"log"
	"time"

	"github.com/iddv/timmybot/app/voice"
)

// silence is a FrameProvider of one second of Opus silence.
type silence struct{ left int }

func (s *silence) ProvideOpusFrame() ([]byte, error) {
	if s.left == 0 {
		return nil, nil
	}
	s.left--
	return []byte{0xF8, 0xFF, 0xFE}, nil
}

func (s *silence) Close() error { return nil }

// The main gateway adapter hands over what VOICE_STATE_UPDATE and
// VOICE_SERVER_UPDATE carried; the DAVE session goes in Config.E2EE.
func ExampleConnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := voice.Connect(ctx, voice.Config{Params: voice.Params{
		GuildID:   "41771983423143937",
		ChannelID: "127121515262115840",
		UserID:    "104694319306248192",
		SessionID: "session id from VOICE_STATE_UPDATE",
		Token:     "token from VOICE_SERVER_UPDATE",
		Endpoint:  "sweetwater-12345.discord.media:2048",
	}})
	if err != nil {
		log.Print(err)
		return
	}
	defer conn.Close()
	// A later VOICE_SERVER_UPDATE moves the connection:
	//	conn.Update(voice.Update{Token: token, Endpoint: endpoint})
	if err := conn.Play(context.Background(), &silence{left: 50}); err != nil {
		log.Print(err)
	}
}
