package daveinterop

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
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

// remote is the bot as the gateway sees it: what the gateway sends it is
// queued and goes out over the fake's websocket.
type remote struct {
	out []dave.Message
}

func (r *remote) UserID() uint64 { return botID }

func (r *remote) HandleMessage(m dave.Message) ([]dave.Message, error) {
	// The fake sends the real session description; the gateway's is for
	// in-process members.
	if m.Op != dave.OpSessionDescription {
		r.out = append(r.out, m)
	}
	return nil, nil
}

// bridge is the fake voice server's DAVE handler.
type bridge struct {
	mu        sync.Mutex
	net       *davetest.Network
	bot       *remote
	connected bool
}

var _ fakevoice.Handler = (*bridge)(nil)

func (b *bridge) drain() []fakevoice.Message {
	var out []fakevoice.Message
	for _, m := range b.bot.out {
		out = append(out, fakevoice.Message(m))
	}
	b.bot.out = nil
	return out
}

func (b *bridge) SessionStarted(_, userID string) []fakevoice.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	if userID != strconv.FormatUint(botID, 10) {
		return nil
	}
	// A new voice session is a new member: the old one leaves first.
	if b.connected {
		if err := b.net.Disconnect(botID); err != nil {
			b.net.MemberErrors[0] = append(b.net.MemberErrors[0], err)
		}
	}
	b.connected = true
	if err := b.net.Connect(b.bot); err != nil {
		b.net.MemberErrors[0] = append(b.net.MemberErrors[0], err)
	}
	return b.drain()
}

func (b *bridge) HandleClientMessage(_ string, m fakevoice.Message) []fakevoice.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	ds, err := b.net.GW.Handle(botID, dave.Message(m))
	if err != nil {
		b.net.MemberErrors[0] = append(b.net.MemberErrors[0], err)
		return nil
	}
	b.net.Enqueue(ds...)
	if err := b.net.Run(); err != nil {
		b.net.MemberErrors[0] = append(b.net.MemberErrors[0], err)
	}
	return b.drain()
}

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
			gw, err := davetest.NewGateway(channelID)
			if err != nil {
				t.Fatal(err)
			}
			br := &bridge{net: davetest.NewNetwork(gw), bot: &remote{}}
			srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1, Handler: br})
			d := NewDavey(drv, daveyID, channelID)
			br.mu.Lock()
			err = br.net.Connect(d)
			br.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}

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
				br.mu.Lock()
				defer br.mu.Unlock()
				got := srv.Frames()
				for i := decrypted; i < end; i++ {
					f := got[i]
					plain, err := d.Decrypt(botID, f.Payload)
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

			br.mu.Lock()
			defer br.mu.Unlock()
			for user, errs := range br.net.MemberErrors {
				t.Errorf("user %d: %v", user, errs)
			}
			st, err := d.State()
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
