package fakevoice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave/frame"
	"github.com/iddv/timmybot/app/voice/transport"
	"github.com/iddv/timmybot/app/voice/voicetest"
	"github.com/iddv/timmybot/test/fakevoice"
)

// daveE2EE is an E2EE layer with a fixed DAVE sender ratchet, standing in
// for the DAVE session; it records what the gateway hands it and answers
// messages with reply.
type daveE2EE struct {
	seen  chan int // opcode of each handled message, when non-nil
	mu    sync.Mutex
	enc   *frame.Encryptor
	got   []voice.Message
	reset int
	reply func(voice.Message) []voice.Message
}

var senderSecret = bytes.Repeat([]byte{0x5E}, frame.BaseSecretSize)

func newDAVE(t testing.TB) *daveE2EE {
	r, err := frame.NewRatchet(senderSecret)
	if err != nil {
		t.Fatal(err)
	}
	return &daveE2EE{enc: frame.NewEncryptor(r)}
}

func (d *daveE2EE) MaxProtocolVersion() int { return 1 }
func (d *daveE2EE) Ready() bool             { return true }
func (d *daveE2EE) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reset++
}
func (d *daveE2EE) HandleMessage(m voice.Message) ([]voice.Message, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, m)
	if d.seen != nil {
		d.seen <- m.Op
	}
	if d.reply != nil {
		return d.reply(m), nil
	}
	return nil, nil
}
func (d *daveE2EE) EncryptOpus(dst, opus []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.enc.EncryptOpus(dst, opus)
}
func (d *daveE2EE) messages() []voice.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]voice.Message(nil), d.got...)
}

func params(srv *fakevoice.Server) voice.Params {
	return voice.Params{
		GuildID: "41771983423143937", ChannelID: "127121515262115840", UserID: "104694319306248192",
		SessionID: "session-1", Token: "token-1", Endpoint: srv.Endpoint(),
	}
}

func connect(t *testing.T, srv *fakevoice.Server, e2ee voice.E2EE) *voice.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := voice.Connect(ctx, voice.Config{
		Params: params(srv), E2EE: e2ee, TLSConfig: srv.TLSConfig(), Pacer: voicetest.FastPacer,
		MoveGrace: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// decryptAll removes the DAVE layer of received frames, in order.
func decryptAll(t *testing.T, got []fakevoice.Frame) [][]byte {
	t.Helper()
	r, err := frame.NewRatchet(senderSecret)
	if err != nil {
		t.Fatal(err)
	}
	dec := frame.NewDecryptor(nil)
	dec.TransitionToRatchet(r)
	var out [][]byte
	for i, f := range got {
		plain, err := dec.Decrypt(nil, f.Payload)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, plain)
	}
	return out
}

// wantPayloads is n numbered frames then five silence frames.
func wantPayloads(n int) [][]byte {
	var want [][]byte
	for i := range n {
		want = append(want, voicetest.OpusFrame(i))
	}
	for range 5 {
		want = append(want, frame.Silence)
	}
	return want
}

// checkRTP checks that frames of one SSRC run on in sequence and time.
func checkRTP(t *testing.T, got []fakevoice.Frame) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		prev, f := got[i-1], got[i]
		if f.SSRC != prev.SSRC {
			continue
		}
		if f.Sequence != prev.Sequence+1 || f.Timestamp != prev.Timestamp+transport.FrameSamples {
			t.Fatalf("frame %d: sequence %d timestamp %d after %d %d", i, f.Sequence, f.Timestamp, prev.Sequence, prev.Timestamp)
		}
	}
}

// TestPlayTenSeconds sends 10 s of frames (500) through DAVE and each
// transport mode; the fake decrypts them intact and in order.
func TestPlayTenSeconds(t *testing.T) {
	tests := []struct {
		name  string
		modes []string
		want  string
	}{
		{"aes-256-gcm preferred", []string{transport.ModeXChaCha20Poly1305, transport.ModeAES256GCM}, transport.ModeAES256GCM},
		{"xchacha20 when alone", []string{transport.ModeXChaCha20Poly1305, "xsalsa20_poly1305_lite_rtpsize"}, transport.ModeXChaCha20Poly1305},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakevoice.Start(t, fakevoice.Config{Modes: tt.modes, RequireDAVE: true, DAVEProtocolVersion: 1})
			dave := newDAVE(t)
			conn := connect(t, srv, dave)
			if conn.State() != voice.StateReady {
				t.Fatalf("state after Connect: %v", conn.State())
			}
			src := &voicetest.Frames{N: 500}
			if err := conn.Play(waitCtx(t), src); err != nil {
				t.Fatalf("Play: %v", err)
			}
			if !src.Closed() {
				t.Error("Play did not close its source")
			}
			if err := srv.WaitFrames(waitCtx(t), 505); err != nil {
				t.Fatal(err)
			}
			got := srv.Frames()
			if diff := cmp.Diff(wantPayloads(500), decryptAll(t, got)); diff != "" {
				t.Fatalf("payloads (-want +got):\n%s", diff)
			}
			checkRTP(t, got)
			// Silence goes out without DAVE; everything else is a protocol frame.
			for i, f := range got[:500] {
				if !frame.IsProtocolFrame(f.Payload) {
					t.Fatalf("frame %d is not a DAVE protocol frame", i)
				}
			}
			if srv.Count("select_protocol "+tt.want) != 1 || srv.Count("identify") != 1 {
				t.Errorf("events %q, want one identify and select_protocol %s", srv.Events(), tt.want)
			}
			if err := srv.WaitEvent(waitCtx(t), "speaking 0", 1); err != nil {
				t.Fatal(err)
			}
			if srv.Count("speaking 1") != 1 || srv.BadPackets() != 0 {
				t.Errorf("speaking on %d times, %d bad packets", srv.Count("speaking 1"), srv.BadPackets())
			}
			// The E2EE layer saw the session description with the DAVE version.
			var desc struct {
				Version int `json:"dave_protocol_version"`
			}
			msgs := dave.messages()
			if len(msgs) == 0 || msgs[0].Op != voice.OpSessionDescription || json.Unmarshal(msgs[0].JSON, &desc) != nil || desc.Version != 1 {
				t.Errorf("E2EE messages %+v, want the session description with version 1", msgs)
			}
		})
	}
}

func TestPassthroughWhenDAVEIsNotRequired(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{})
	conn := connect(t, srv, nil)
	if err := conn.Play(waitCtx(t), &voicetest.Frames{N: 20}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFrames(waitCtx(t), 25); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, f := range srv.Frames() {
		got = append(got, f.Payload)
	}
	if diff := cmp.Diff(wantPayloads(20), got); diff != "" {
		t.Fatalf("payloads (-want +got):\n%s", diff)
	}
}

// Since March 2026 Discord closes non-DAVE connections with 4017: the
// connection must end at once, without a reconnect loop.
func TestDAVERequiredIsFinal(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := voice.Connect(ctx, voice.Config{Params: params(srv), TLSConfig: srv.TLSConfig()})
	if !errors.Is(err, voice.ErrDAVERequired) {
		t.Fatalf("Connect: %v, %v; want ErrDAVERequired", conn, err)
	}
	if n := srv.Count("identify"); n != 1 {
		t.Errorf("%d identifies, want 1", n)
	}
}

// playAcross plays n frames and runs brk at frame k; it returns the frames
// the server got, after checking they are all there, in order.
func playAcross(t *testing.T, srv *fakevoice.Server, conn *voice.Conn, n, k int, brk func()) []fakevoice.Frame {
	t.Helper()
	src := &voicetest.Frames{N: n, Hooks: map[int]func(){k: brk}}
	if err := conn.Play(waitCtx(t), src); err != nil {
		t.Fatalf("Play: %v", err)
	}
	if err := srv.WaitFrames(waitCtx(t), n+5); err != nil {
		t.Fatal(err)
	}
	got := srv.Frames()
	if diff := cmp.Diff(wantPayloads(n), decryptAll(t, got)); diff != "" {
		t.Fatalf("payloads (-want +got):\n%s", diff)
	}
	checkRTP(t, got)
	return got
}

func ssrcs(got []fakevoice.Frame) []uint32 {
	var out []uint32
	for _, f := range got {
		if len(out) == 0 || out[len(out)-1] != f.SSRC {
			out = append(out, f.SSRC)
		}
	}
	return out
}

// TestReconnects breaks the connection in the middle of a stream; the
// frame source waits until the client has reconnected (the server saw the
// resume or the new identify), so the frames in flight meet the new
// session deterministically.
func TestReconnects(t *testing.T) {
	tests := []struct {
		name         string
		brk          func(srv *fakevoice.Server)
		until        string // event that shows the client reconnected
		wantIdentify int
		wantResume   int
		wantSSRCs    int
	}{
		{"4015 resumes", func(srv *fakevoice.Server) { srv.CloseConnections(4015) }, "resume", 1, 1, 1},
		{"drop resumes", func(srv *fakevoice.Server) { srv.DropConnections() }, "resume", 1, 1, 1},
		{"4006 starts a new session", func(srv *fakevoice.Server) { srv.CloseConnections(4006) }, "identify", 2, 0, 2},
		{"4009 starts a new session", func(srv *fakevoice.Server) { srv.CloseConnections(4009) }, "identify", 2, 0, 2},
		{"failed resume starts a new session", func(srv *fakevoice.Server) {
			srv.ForgetSessions()
			srv.DropConnections()
		}, "identify", 2, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1})
			dave := newDAVE(t)
			conn := connect(t, srv, dave)
			got := playAcross(t, srv, conn, 100, 50, func() {
				before := srv.Count(tt.until)
				tt.brk(srv)
				if err := srv.WaitEvent(waitCtx(t), tt.until, before+1); err != nil {
					t.Error(err)
				}
			})
			if n := srv.Count("identify"); n != tt.wantIdentify {
				t.Errorf("%d identifies, want %d (events %q)", n, tt.wantIdentify, srv.Events())
			}
			if n := srv.Count("resume"); n != tt.wantResume {
				t.Errorf("%d resumes, want %d", n, tt.wantResume)
			}
			// The only numbered message so far was the session description.
			if n := srv.Count("resume seq_ack 1"); n != tt.wantResume {
				t.Errorf("%d resumes acknowledged sequence 1, want %d (events %q)", n, tt.wantResume, srv.Events())
			}
			if n := len(ssrcs(got)); n != tt.wantSSRCs {
				t.Errorf("frames came from %d SSRCs, want %d", n, tt.wantSSRCs)
			}
			if conn.State() != voice.StateReady {
				t.Errorf("state %v after the reconnect", conn.State())
			}
		})
	}
}

func TestDisconnected4014(t *testing.T) {
	t.Run("no update: the connection ends", func(t *testing.T) {
		srv := fakevoice.Start(t, fakevoice.Config{})
		conn := connect(t, srv, nil)
		srv.CloseConnections(4014)
		select {
		case <-conn.Done():
		case <-waitCtx(t).Done():
			t.Fatal("connection did not end after 4014")
		}
		if !errors.Is(conn.Err(), voice.ErrDisconnected) || conn.State() != voice.StateClosed {
			t.Fatalf("err %v state %v, want ErrDisconnected, closed", conn.Err(), conn.State())
		}
		if n := srv.Count("identify") + srv.Count("resume"); n != 1 {
			t.Errorf("%d identifies and resumes, want 1", n)
		}
		if err := conn.Play(waitCtx(t), &voicetest.Frames{N: 1}); !errors.Is(err, voice.ErrDisconnected) {
			t.Errorf("Play on an ended connection: %v", err)
		}
	})
	t.Run("update within the grace: the connection moves", func(t *testing.T) {
		srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1})
		next := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1})
		conn := connect(t, srv, newDAVE(t))
		srv.CloseConnections(4014)
		conn.Update(voice.Update{Token: "token-2", Endpoint: next.Endpoint()})
		if err := next.WaitEvent(waitCtx(t), "select_protocol "+transport.ModeAES256GCM, 1); err != nil {
			t.Fatal(err)
		}
		// Frames continue on the new server; the DAVE stream continues too.
		src := &voicetest.Frames{N: 30}
		if err := conn.Play(waitCtx(t), src); err != nil {
			t.Fatal(err)
		}
		if err := next.WaitFrames(waitCtx(t), 35); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantPayloads(30), decryptAll(t, next.Frames())); diff != "" {
			t.Fatalf("payloads (-want +got):\n%s", diff)
		}
		if next.Count("identify") != 1 || srv.Count("resume") != 0 {
			t.Errorf("new server events %q, old %q", next.Events(), srv.Events())
		}
	})
}

func TestUpdateMovesTheConnection(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{})
	next := fakevoice.Start(t, fakevoice.Config{})
	conn := connect(t, srv, nil)
	// An update that changes nothing (a mute, say) leaves the session be;
	// the frames below then show it is still the first session.
	conn.Update(voice.Update{SessionID: "session-1", Token: "token-1"})
	if err := conn.Play(waitCtx(t), &voicetest.Frames{N: 3}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFrames(waitCtx(t), 8); err != nil {
		t.Fatal(err)
	}
	conn.Update(voice.Update{Token: "token-2", Endpoint: next.Endpoint()})
	if err := next.WaitEvent(waitCtx(t), "select_protocol "+transport.ModeAES256GCM, 1); err != nil {
		t.Fatal(err)
	}
	if err := conn.Play(waitCtx(t), &voicetest.Frames{N: 10}); err != nil {
		t.Fatal(err)
	}
	if err := next.WaitFrames(waitCtx(t), 15); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("resume") + srv.Count("identify"); n != 1 {
		t.Errorf("old server saw %d sessions, want 1", n)
	}
}

// dave relays DAVE messages both ways and acknowledges numbered messages.
func TestDAVERelayAndSeqAck(t *testing.T) {
	handled := make(chan fakevoice.Message, 4)
	srv := fakevoice.Start(t, fakevoice.Config{
		RequireDAVE: true, DAVEProtocolVersion: 1, HeartbeatInterval: 20,
		Handler: handlerFunc(func(_ string, m fakevoice.Message) []fakevoice.Message {
			handled <- m
			return nil
		}),
	})
	dave := newDAVE(t)
	dave.reply = func(m voice.Message) []voice.Message {
		switch m.Op {
		case voice.OpDAVEExternalSender:
			return []voice.Message{{Op: voice.OpDAVEKeyPackage, Binary: []byte("key package")}}
		case voice.OpDAVEPrepareEpoch:
			return []voice.Message{{Op: voice.OpDAVETransitionReady, JSON: json.RawMessage(`{"transition_id":7}`)}}
		}
		return nil
	}
	connect(t, srv, dave)
	srv.Send(fakevoice.Message{Op: voice.OpDAVEExternalSender, Binary: []byte("external sender")})
	srv.Send(fakevoice.Message{Op: voice.OpDAVEPrepareEpoch, JSON: json.RawMessage(`{"protocol_version":1,"epoch":1}`)})
	srv.ClientsConnect("1090123456789012345")

	want := []fakevoice.Message{
		{Op: voice.OpDAVEKeyPackage, Binary: []byte("key package")},
		{Op: voice.OpDAVETransitionReady, JSON: json.RawMessage(`{"transition_id":7}`)},
	}
	for i, w := range want {
		select {
		case got := <-handled:
			if diff := cmp.Diff(w, got); diff != "" {
				t.Fatalf("relayed message %d (-want +got):\n%s", i, diff)
			}
		case <-waitCtx(t).Done():
			t.Fatalf("message %d not relayed; events %q", i, srv.Events())
		}
	}
	// Numbered so far: session description 1, ops 25, 24, 11 → 4.
	if err := srv.WaitEvent(waitCtx(t), "heartbeat 4", 1); err != nil {
		t.Fatal(err)
	}
	var ops []int
	for _, m := range dave.messages() {
		ops = append(ops, m.Op)
	}
	if diff := cmp.Diff([]int{voice.OpSessionDescription, voice.OpDAVEExternalSender, voice.OpDAVEPrepareEpoch, voice.OpClientsConnect}, ops); diff != "" {
		t.Errorf("E2EE saw ops (-want +got):\n%s", diff)
	}
	if got := dave.messages()[1].Binary; !bytes.Equal(got, []byte("external sender")) {
		t.Errorf("binary payload %q", got)
	}
}

// handlerFunc handles client messages and starts sessions with nothing.
type handlerFunc func(string, fakevoice.Message) []fakevoice.Message

func (f handlerFunc) SessionStarted(string, string) []fakevoice.Message { return nil }

func (f handlerFunc) HandleClientMessage(id string, m fakevoice.Message) []fakevoice.Message {
	return f(id, m)
}

func TestConnectValidatesParams(t *testing.T) {
	_, err := voice.Connect(context.Background(), voice.Config{Params: voice.Params{GuildID: "1"}})
	if err == nil || !strings.Contains(err.Error(), "missing user ID") {
		t.Fatalf("Connect with missing params: %v", err)
	}
}

// A server that stops acknowledging heartbeats is a dead connection: the
// client resumes on a new one.
func TestMissedHeartbeatAckResumes(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{HeartbeatInterval: 10, IgnoreHeartbeats: true})
	connect(t, srv, nil)
	if err := srv.WaitEvent(waitCtx(t), "resume", 1); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("identify"); n != 1 {
		t.Errorf("%d identifies, want 1", n)
	}
}

// gappy yields frame 0, a gap of empty frames, frame 1, then ends.
type gappy struct{ calls int }

func (g *gappy) ProvideOpusFrame() ([]byte, error) {
	g.calls++
	switch {
	case g.calls == 1:
		return voicetest.OpusFrame(0), nil
	case g.calls <= 9:
		return nil, nil
	case g.calls == 10:
		return voicetest.OpusFrame(1), nil
	}
	return nil, io.EOF
}

func (g *gappy) Close() error { return nil }

func TestSilenceAfterGapAndAtEnd(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{})
	conn := connect(t, srv, nil)
	if err := conn.Play(waitCtx(t), &gappy{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFrames(waitCtx(t), 12); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, f := range srv.Frames() {
		got = append(got, f.Payload)
	}
	want := [][]byte{voicetest.OpusFrame(0)}
	for range 5 {
		want = append(want, frame.Silence)
	}
	want = append(want, wantPayloads(2)[1:]...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("payloads (-want +got):\n%s", diff)
	}
}

// endless never ends; it counts frames served.
type endless struct {
	mu sync.Mutex
	n  int
}

func (e *endless) ProvideOpusFrame() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	return voicetest.OpusFrame(e.n), nil
}

func (e *endless) Close() error { return nil }

func TestPlayEndsWithTheConnection(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{})
	conn := connect(t, srv, nil)
	played := make(chan error, 1)
	go func() { played <- conn.Play(context.Background(), &endless{}) }()
	if err := srv.WaitFrames(waitCtx(t), 10); err != nil {
		t.Fatal(err)
	}
	if err := conn.Play(waitCtx(t), &voicetest.Frames{N: 1}); !errors.Is(err, voice.ErrBusy) {
		t.Errorf("second Play: %v, want ErrBusy", err)
	}
	srv.CloseConnections(4017)
	select {
	case err := <-played:
		if !errors.Is(err, voice.ErrDAVERequired) {
			t.Errorf("Play: %v, want ErrDAVERequired", err)
		}
	case <-waitCtx(t).Done():
		t.Fatal("Play did not return after the connection ended")
	}
	if n := srv.Count("identify") + srv.Count("resume"); n != 1 {
		t.Errorf("%d sessions after 4017, want 1", n)
	}
}

func TestCloseStopsPlay(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{})
	conn := connect(t, srv, nil)
	played := make(chan error, 1)
	go func() { played <- conn.Play(context.Background(), &endless{}) }()
	if err := srv.WaitFrames(waitCtx(t), 5); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := <-played; !errors.Is(err, voice.ErrClosed) {
		t.Errorf("Play after Close: %v, want ErrClosed", err)
	}
	if conn.State() != voice.StateClosed {
		t.Errorf("state %v", conn.State())
	}
}

func TestClientsTracking(t *testing.T) {
	srv := fakevoice.Start(t, fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1})
	dave := newDAVE(t)
	dave.seen = make(chan int, 8)
	conn := connect(t, srv, dave)
	// wait consumes handled opcodes up to op; the connection updates its
	// client set before it hands the message on.
	wait := func(op int) {
		t.Helper()
		for {
			select {
			case got := <-dave.seen:
				if got == op {
					return
				}
			case <-waitCtx(t).Done():
				t.Fatalf("opcode %d never reached the E2EE layer", op)
			}
		}
	}
	srv.ClientsConnect("300", "100", "200")
	wait(voice.OpClientsConnect)
	srv.ClientDisconnect("100")
	wait(voice.OpClientDisconnect)
	if diff := cmp.Diff([]string{"200", "300"}, conn.Clients()); diff != "" {
		t.Errorf("clients (-want +got):\n%s", diff)
	}
	// A new session forgets them: the gateway announces the channel again.
	srv.CloseConnections(4006)
	if err := srv.WaitEvent(waitCtx(t), "select_protocol "+transport.ModeAES256GCM, 2); err != nil {
		t.Fatal(err)
	}
	wait(voice.OpSessionDescription)
	if got := conn.Clients(); len(got) != 0 {
		t.Errorf("clients after a new session: %v", got)
	}
}

// A voice server that accepts the websocket and then stays silent at one
// handshake step fails each attempt after the step's deadline; after five
// such attempts in a row the connection gives up, whether it was still
// connecting or resuming after a drop.
func TestSilentHandshakeStepFails(t *testing.T) {
	const deadline = 50 * time.Millisecond
	tests := []struct {
		name   string
		step   fakevoice.Step
		resume bool // go silent only after a first session was Ready
		event  string
	}{
		{"no HELLO", fakevoice.StepHello, false, "identify"},
		{"no READY", fakevoice.StepReady, false, "identify"},
		{"no SESSION_DESCRIPTION", fakevoice.StepSessionDescription, false, "select_protocol aead_aes256_gcm_rtpsize"},
		{"no RESUMED", fakevoice.StepResumed, true, "resume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakevoice.Start(t, fakevoice.Config{})
			cfg := voice.Config{Params: params(srv), TLSConfig: srv.TLSConfig(), Pacer: voicetest.FastPacer, HandshakeTimeout: deadline}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var err error
			if tt.resume {
				conn, cerr := voice.Connect(ctx, cfg)
				if cerr != nil {
					t.Fatalf("Connect: %v", cerr)
				}
				defer conn.Close()
				srv.Withhold(tt.step)
				srv.DropConnections()
				select {
				case <-conn.Done():
				case <-ctx.Done():
					t.Fatalf("the connection kept resuming against a silent server (events %q)", srv.Events())
				}
				err = conn.Err()
			} else {
				srv.Withhold(tt.step)
				_, err = voice.Connect(ctx, cfg)
			}
			if !errors.Is(err, voice.ErrHandshakeTimeout) || !strings.Contains(err.Error(), "giving up after 5 attempts") {
				t.Fatalf("error %v, want five handshake timeouts", err)
			}
			if n := srv.Count(tt.event); n < 5 {
				t.Errorf("%d %q events, want one per attempt (events %q)", n, tt.event, srv.Events())
			}
		})
	}
}

// Once the handshake is complete its deadline no longer applies: a session
// that stays Ready well past it is not cut.
func TestHandshakeDeadlineEndsWithTheHandshake(t *testing.T) {
	const deadline = 20 * time.Millisecond
	srv := fakevoice.Start(t, fakevoice.Config{HeartbeatInterval: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := voice.Connect(ctx, voice.Config{Params: params(srv), TLSConfig: srv.TLSConfig(), Pacer: voicetest.FastPacer, HandshakeTimeout: deadline})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer conn.Close()
	// Three heartbeats take fifteen deadlines.
	if err := srv.WaitFor(ctx, func(s *fakevoice.Server) bool { return heartbeats(s) >= 3 }); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("identify") + srv.Count("resume"); n != 1 || conn.State() != voice.StateReady {
		t.Errorf("%d sessions, state %v after fifteen deadlines; want the first session still Ready (events %q)", n, conn.State(), srv.Events())
	}
}

func heartbeats(s *fakevoice.Server) int {
	n := 0
	for _, e := range s.Events() {
		if strings.HasPrefix(e, "heartbeat ") {
			n++
		}
	}
	return n
}
