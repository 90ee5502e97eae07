package fakevoice_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
	"github.com/iddv/timmybot/test/daveinterop"
	"github.com/iddv/timmybot/test/fakevoice"
)

// The whole connection against an independent DAVE implementation: the bot
// (voice.Conn with a dave.Session) talks to the fake voice server over TLS
// websocket and UDP; behind the fake, davetest's gateway is the external
// sender and delivery service, and @snazzah/davey (under Node) is the other
// member of the channel, which decrypts what the bot sends.
const (
	e2eChannel = 1090123456789012345
	botUser    = 104694319306248192
	daveyUser  = 290926798626357250
)

// bridge is the fake's DAVE handler: it relays the bot's messages to the
// gateway simulator, runs davey's side synchronously, and returns what the
// gateway has for the bot.
type bridge struct {
	mu     sync.Mutex
	gw     *davetest.Gateway
	davey  *daveinterop.Davey
	joined bool
	errs   []error
}

func (b *bridge) SessionStarted(_, _ string) []fakevoice.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var toBot []fakevoice.Message
	if b.joined {
		// A new voice session: the gateway saw the old one leave.
		ds, err := b.gw.Disconnect(botUser)
		b.fail(err)
		toBot = b.run(ds)
	}
	b.joined = true
	return append(toBot, b.run(b.gw.Connect(botUser))...)
}

func (b *bridge) HandleClientMessage(_ string, m fakevoice.Message) []fakevoice.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	ds, err := b.gw.Handle(botUser, dave.Message{Op: m.Op, JSON: m.JSON, Binary: m.Binary})
	b.fail(err)
	return b.run(ds)
}

// run delivers until nothing is left: davey's messages to davey (its
// replies back into the gateway), the bot's collected for the fake to send.
// The fake sends the bot its real session description, so the gateway's
// is skipped.
func (b *bridge) run(queue []davetest.Delivery) []fakevoice.Message {
	var toBot []fakevoice.Message
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if d.To == botUser {
			if d.Msg.Op != dave.OpSessionDescription {
				toBot = append(toBot, fakevoice.Message{Op: d.Msg.Op, JSON: d.Msg.JSON, Binary: d.Msg.Binary})
			}
			continue
		}
		replies, err := b.davey.HandleMessage(d.Msg)
		b.fail(err)
		for _, r := range replies {
			more, err := b.gw.Handle(daveyUser, r)
			b.fail(err)
			queue = append(queue, more...)
		}
	}
	return toBot
}

func (b *bridge) fail(err error) {
	if err != nil {
		b.errs = append(b.errs, err)
	}
}

func (b *bridge) errors() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]error(nil), b.errs...)
}

// startDavey runs the davey driver, as the interop tests do: skipped
// locally without Node or davey, a failure in CI.
func startDavey(t *testing.T) *daveinterop.Driver {
	t.Helper()
	missing := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s unavailable: %v", what, err)
		}
		t.Skipf("%s unavailable (run npm ci): %v", what, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node", err)
	}
	if out, err := exec.Command(node, "-e", "require.resolve('@snazzah/davey')").CombinedOutput(); err != nil {
		missing("@snazzah/davey", fmt.Errorf("%v: %s", err, out))
	}
	d, err := daveinterop.StartDriver(t.Context(), node, "../daveinterop")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// daveWorld is a fake voice server whose channel already holds davey.
func daveWorld(t *testing.T) (*fakevoice.Server, *bridge) {
	t.Helper()
	gw, err := davetest.NewGateway(e2eChannel)
	if err != nil {
		t.Fatal(err)
	}
	b := &bridge{gw: gw, davey: daveinterop.NewDavey(startDavey(t), daveyUser, e2eChannel)}
	b.mu.Lock()
	b.run(gw.Connect(daveyUser))
	b.mu.Unlock()
	srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: dave.ProtocolVersion, Handler: b})
	return srv, b
}

func connectBot(t *testing.T, srv *fakevoice.Server) (*voice.Conn, *dave.Session) {
	t.Helper()
	sess, err := dave.NewSession(dave.Config{UserID: botUser, ChannelID: e2eChannel})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := voice.Connect(ctx, voice.Config{
		Params: voice.Params{
			GuildID: "41771983423143937", ChannelID: strconv.FormatUint(e2eChannel, 10), UserID: strconv.FormatUint(botUser, 10),
			SessionID: "session-1", Token: "token-1", Endpoint: srv.Endpoint(),
		},
		E2EE: sess, TLSConfig: srv.TLSConfig(), Pacer: fastPacer,
	})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, sess
}

// listener has davey decrypt the frames the fake received, in order and
// as they arrive: davey drops an epoch's keys once its group moves on.
type listener struct {
	b    *bridge
	srv  *fakevoice.Server
	done [][]byte
}

// decryptUpTo waits for n frames and decrypts those not yet decrypted.
func (l *listener) decryptUpTo(t *testing.T, n int) {
	t.Helper()
	if err := l.srv.WaitFrames(waitCtx(t), n); err != nil {
		t.Fatal(err)
	}
	got := l.srv.Frames()[:n]
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	for i := len(l.done); i < n; i++ {
		plain, err := l.b.davey.Decrypt(botUser, got[i].Payload)
		if err != nil {
			t.Fatalf("davey could not decrypt frame %d (%d bytes): %v", i, len(got[i].Payload), err)
		}
		l.done = append(l.done, plain)
	}
}

// TestDAVEWithDavey: connect, DAVE handshake with davey, 10 s of frames
// that davey decrypts, across a forced reconnect (a resume keeps the group;
// a new session makes a new one).
func TestDAVEWithDavey(t *testing.T) {
	tests := []struct {
		name         string
		brk          func(srv *fakevoice.Server)
		until        string
		wantIdentify int
	}{
		{"no reconnect", nil, "", 1},
		{"4015 resume", func(srv *fakevoice.Server) { srv.CloseConnections(4015) }, "resume", 1},
		{"4006 new session and group", func(srv *fakevoice.Server) { srv.CloseConnections(4006) }, "identify", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, b := daveWorld(t)
			conn, sess := connectBot(t, srv)
			l := &listener{b: b, srv: srv}
			src := &frames{n: 500}
			if tt.brk != nil {
				src.hooks = map[int]func(){250: func() {
					l.decryptUpTo(t, 250)
					before := srv.Count(tt.until)
					tt.brk(srv)
					if err := srv.WaitEvent(waitCtx(t), tt.until, before+1); err != nil {
						t.Error(err)
					}
				}}
			}
			if err := conn.Play(waitCtx(t), src); err != nil {
				t.Fatalf("Play: %v", err)
			}
			l.decryptUpTo(t, 505)
			if diff := cmp.Diff(wantPayloads(500), l.done); diff != "" {
				t.Fatalf("davey's plaintext (-want +got):\n%s", diff)
			}
			checkRTP(t, srv.Frames())
			if errs := b.errors(); len(errs) > 0 {
				t.Errorf("gateway or davey errors: %v", errors.Join(errs...))
			}
			if n := srv.Count("identify"); n != tt.wantIdentify {
				t.Errorf("%d identifies, want %d", n, tt.wantIdentify)
			}
			if sess.ProtocolVersion() != dave.ProtocolVersion || b.gw.Epoch() == 0 {
				t.Errorf("protocol version %d at gateway epoch %d", sess.ProtocolVersion(), b.gw.Epoch())
			}
		})
	}
}
