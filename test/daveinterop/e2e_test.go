package daveinterop

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
	"github.com/iddv/timmybot/app/voice/voicetest"
	"github.com/iddv/timmybot/test/fakevoice"
)

// The whole path: the bot's voice connection (voice.Conn with its DAVE
// session) dials the fake voice server, whose DAVE role is the davetest
// gateway; a davey member sits in the same channel in process and decrypts
// what the bot sends over UDP.

const (
	botID   = 104694319306248192
	daveyID = 104694319306248193
)

func TestVoiceConnectionWithDavey(t *testing.T) {
	tests := []struct {
		name  string
		brk   func(srv *fakevoice.Server)
		until string // event that shows the client reconnected
	}{
		{"resume after a dropped websocket", func(srv *fakevoice.Server) { srv.DropConnections() }, "resume"},
		{"new session after 4006", func(srv *fakevoice.Server) { srv.CloseConnections(4006) }, "identify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drv := startDriver(t)
			d := NewDavey(drv, daveyID, channelID)
			ch, err := fakevoice.NewDAVEChannel(channelID, botID, d)
			if err != nil {
				t.Fatal(err)
			}
			srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1, Handler: ch})

			session, err := dave.NewSession(dave.Config{UserID: botID, ChannelID: channelID})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			conn, err := voice.Connect(ctx, voice.Config{
				Params: voice.Params{
					GuildID: "41771983423143937", ChannelID: strconv.FormatUint(channelID, 10), UserID: strconv.FormatUint(botID, 10),
					SessionID: "session-1", Token: "token-1", Endpoint: srv.Endpoint(),
				},
				E2EE: session, TLSConfig: srv.TLSConfig(), Pacer: voicetest.FastPacer,
			})
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer conn.Close()

			// Ten seconds of audio; at frame k the connection breaks.
			const n, k = 500, 250
			// davey decrypts what has arrived, as a receiving client would
			// while the frames are current.
			decrypted := 0
			decryptUpTo := func(end int) {
				t.Helper()
				got := srv.Frames()
				for i := decrypted; i < end; i++ {
					f := got[i]
					var plain []byte
					var err error
					ch.Locked(func(*davetest.Network) { plain, err = d.Decrypt(botID, f.Payload) })
					if err != nil {
						t.Fatalf("davey decrypting frame %d: %v", i, err)
					}
					if i < n && bytes.Contains(f.Payload, voicetest.OpusFrame(i)) {
						t.Fatalf("frame %d crossed the wire unencrypted", i)
					}
					want := voicetest.OpusFrame(i)
					if i >= n {
						want = []byte{0xF8, 0xFF, 0xFE}
					}
					if !bytes.Equal(plain, want) {
						t.Fatalf("frame %d decrypted to %x, want %x", i, plain, want)
					}
				}
				decrypted = end
			}

			src := &voicetest.Frames{N: n, Hooks: map[int]func(){k: func() {
				if err := srv.WaitFrames(ctx, k); err != nil {
					t.Error(err)
					return
				}
				decryptUpTo(k)
				before := srv.Count(tt.until)
				tt.brk(srv)
				if err := srv.WaitEvent(ctx, tt.until, before+1); err != nil {
					t.Error(err)
				}
			}}}
			if err := conn.Play(ctx, src); err != nil {
				t.Fatalf("Play: %v", err)
			}
			if err := srv.WaitFrames(ctx, n+5); err != nil {
				t.Fatal(err)
			}
			decryptUpTo(n + 5)

			for _, err := range ch.Errors() {
				t.Errorf("DAVE: %v", err)
			}
			var st State
			ch.Locked(func(*davetest.Network) { st, err = d.State() })
			if err != nil {
				t.Fatal(err)
			}
			if ep := session.LatestEpoch(); ep == nil || st.Epoch == nil || ep.Number != *st.Epoch ||
				fmt.Sprintf("%x", ep.Authenticator) != st.EpochAuthenticator {
				t.Errorf("bot and davey disagree on the epoch: bot %+v, davey %+v", ep, st)
			}
		})
	}
}
