package fakediscord_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/iddv/timmybot/test/fakediscord"
)

// frame is a gateway payload as a raw client sees it.
type frame struct {
	Op int             `json:"op"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
	D  json.RawMessage `json:"d"`
}

func (f frame) event() string {
	if f.T == nil {
		return ""
	}
	return *f.T
}

func (f frame) seq() int64 {
	if f.S == nil {
		return 0
	}
	return *f.S
}

// rawClient is a hand-driven gateway client for protocol tests.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, srv *fakediscord.Server, query string) *rawClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(srv.GatewayURL()+"/?"+query, nil)
	if err != nil {
		t.Fatalf("dialing the gateway: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return &rawClient{t: t, ws: ws}
}

// connect dials with API v10 and consumes HELLO.
func connect(t *testing.T, srv *fakediscord.Server) *rawClient {
	t.Helper()
	c := dial(t, srv, "v=10&encoding=json")
	if hello := c.read(); hello.Op != 10 {
		t.Fatalf("first payload op %d, want HELLO (10)", hello.Op)
	}
	return c
}

func (c *rawClient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("sending %v: %v", v, err)
	}
}

func (c *rawClient) read() frame {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("reading a payload: %v", err)
	}
	return f
}

func (c *rawClient) next() (frame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	mt, msg, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	if mt == websocket.BinaryMessage {
		zr, err := zlib.NewReader(bytes.NewReader(msg))
		if err != nil {
			return frame{}, err
		}
		if msg, err = io.ReadAll(zr); err != nil {
			return frame{}, err
		}
	}
	var f frame
	return f, json.Unmarshal(msg, &f)
}

// closeCode reads until the server closes and returns the close code.
func (c *rawClient) closeCode() int {
	c.t.Helper()
	for {
		_, err := c.next()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

func identifyPayload(token string, intents int, compress bool) map[string]any {
	return map[string]any{"op": 2, "d": map[string]any{
		"token": token, "intents": intents, "compress": compress,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"},
	}}
}

// identify sends IDENTIFY and returns READY's session ID after reading READY
// and one GUILD_CREATE per guild.
func (c *rawClient) identify(srv *fakediscord.Server, guilds int) string {
	c.t.Helper()
	c.send(identifyPayload("Bot "+srv.Token(), 1|1<<7, false))
	ready := c.read()
	if ready.event() != "READY" || ready.seq() != 1 {
		c.t.Fatalf("got %s seq %d, want READY seq 1", ready.event(), ready.seq())
	}
	var r struct {
		SessionID        string `json:"session_id"`
		ResumeGatewayURL string `json:"resume_gateway_url"`
	}
	if err := json.Unmarshal(ready.D, &r); err != nil {
		c.t.Fatal(err)
	}
	if r.ResumeGatewayURL != srv.GatewayURL() {
		c.t.Errorf("resume_gateway_url = %q, want %q", r.ResumeGatewayURL, srv.GatewayURL())
	}
	for range guilds {
		if f := c.read(); f.event() != "GUILD_CREATE" {
			c.t.Fatalf("got %s, want GUILD_CREATE", f.event())
		}
	}
	return r.SessionID
}

func TestGatewayCloseCodes(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	good := identifyPayload("Bot "+srv.Token(), 1, false)
	tests := []struct {
		name  string
		query string
		send  []any // sent after HELLO; a string goes out as a raw text frame
		want  int
	}{
		{name: "wrong token", send: []any{identifyPayload("Bot nope", 1, false)}, want: fakediscord.CloseAuthFailed},
		{name: "unknown opcode", send: []any{map[string]any{"op": 99, "d": nil}}, want: fakediscord.CloseUnknownOpcode},
		{name: "presence before identify", send: []any{map[string]any{"op": 3, "d": map[string]any{}}}, want: fakediscord.CloseNotAuthenticated},
		{name: "not json", send: []any{"hello?"}, want: fakediscord.CloseDecodeError},
		{name: "payload over 4096 bytes", send: []any{strings.Repeat(" ", 4097)}, want: fakediscord.CloseDecodeError},
		{name: "identify without intents", send: []any{map[string]any{"op": 2, "d": map[string]any{"token": srv.Token()}}}, want: fakediscord.CloseDecodeError},
		{name: "privileged intent", send: []any{identifyPayload(srv.Token(), 1<<15, false)}, want: fakediscord.CloseDisallowedIntents},
		{name: "identify twice", send: []any{good, good}, want: fakediscord.CloseAlreadyAuth},
		{name: "over 120 payloads a minute", send: append([]any{good}, presences(120)...), want: fakediscord.CloseRateLimited},
		{name: "old API version", query: "v=6&encoding=json", want: fakediscord.CloseInvalidAPIVersion},
		{name: "etf encoding", query: "v=10&encoding=etf", want: fakediscord.CloseDecodeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.query == "" {
				tt.query = "v=10&encoding=json"
			}
			c := dial(t, srv, tt.query)
			for _, p := range tt.send {
				if raw, ok := p.(string); ok {
					if err := c.ws.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				c.send(p)
			}
			if got := c.closeCode(); got != tt.want {
				t.Errorf("close code = %d, want %d", got, tt.want)
			}
		})
	}
}

func presences(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"op": 3, "d": map[string]any{"status": "online", "activities": []any{}, "afk": false, "since": nil}}
	}
	return out
}

func TestGatewayHelloAndHeartbeat(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{HeartbeatInterval: 1234 * time.Millisecond})
	c := dial(t, srv, "v=9&encoding=json")
	hello := c.read()
	var h struct {
		HeartbeatInterval int64 `json:"heartbeat_interval"`
	}
	if err := json.Unmarshal(hello.D, &h); err != nil || hello.Op != 10 || h.HeartbeatInterval != 1234 {
		t.Fatalf("HELLO = op %d %s (%v), want op 10 with heartbeat_interval 1234", hello.Op, hello.D, err)
	}
	c.send(map[string]any{"op": 1, "d": nil})
	if ack := c.read(); ack.Op != 11 {
		t.Errorf("answer to a heartbeat: op %d, want 11", ack.Op)
	}
	if got := srv.Stats().Heartbeats; got != 1 {
		t.Errorf("heartbeats counted = %d, want 1", got)
	}
}

func TestGatewayResumeReplaysMissedDispatches(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	first := srv.AddGuild(fakediscord.Guild{})
	c := connect(t, srv)
	sessionID := c.identify(srv, 1) // READY is 1, GUILD_CREATE 2

	srv.DropConnection()
	ctx := testContext(t)
	if err := srv.Await(ctx, func(s *fakediscord.Server) bool { return !s.Connected() }); err != nil {
		t.Fatal(err)
	}
	missed := srv.AddGuild(fakediscord.Guild{}) // sequence 3, while the client is away

	c2 := connect(t, srv)
	c2.send(map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + srv.Token(), "session_id": sessionID, "seq": 2}})
	var got []string
	for len(got) < 2 {
		f := c2.read()
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(f.D, &d)
		got = append(got, f.event()+" "+d.ID+" "+strconv.FormatInt(f.seq(), 10))
	}
	want := []string{"GUILD_CREATE " + missed.ID + " 3", "RESUMED  4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after RESUME (-want +got):\n%s", diff)
	}
	st := srv.Stats()
	if st.Resumes != 1 || st.Replayed != 1 || st.Identifies != 1 {
		t.Errorf("stats = %+v, want 1 resume, 1 replayed dispatch, 1 identify", st)
	}
	if first.ID == missed.ID {
		t.Fatal("AddGuild reused an ID")
	}
}

func TestGatewayResumeFailures(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	c := connect(t, srv)
	sessionID := c.identify(srv, 0)
	srv.DropConnection()

	resume := func(token, session string, seq int) map[string]any {
		return map[string]any{"op": 6, "d": map[string]any{"token": token, "session_id": session, "seq": seq}}
	}
	t.Run("unknown session is invalid and not resumable", func(t *testing.T) {
		c := connect(t, srv)
		c.send(resume(srv.Token(), "no-such-session", 1))
		f := c.read()
		if f.Op != 9 || string(f.D) != "false" {
			t.Errorf("got op %d d=%s, want INVALID_SESSION false", f.Op, f.D)
		}
		c.identify(srv, 0) // the connection stays usable for IDENTIFY
	})
	t.Run("sequence from the future", func(t *testing.T) {
		c := connect(t, srv)
		c.send(resume(srv.Token(), sessionID, 99))
		if got := c.closeCode(); got != fakediscord.CloseInvalidSeq {
			t.Errorf("close code = %d, want %d", got, fakediscord.CloseInvalidSeq)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		c := connect(t, srv)
		c.send(resume("Bot nope", sessionID, 1))
		if got := c.closeCode(); got != fakediscord.CloseAuthFailed {
			t.Errorf("close code = %d, want %d", got, fakediscord.CloseAuthFailed)
		}
	})
	if got := srv.Stats().FailedResumes; got != 1 {
		t.Errorf("failed resumes = %d, want 1", got)
	}
}

func TestGatewayInvalidSessionAndReconnect(t *testing.T) {
	tests := []struct {
		name      string
		resumable bool
	}{{name: "not resumable", resumable: false}, {name: "resumable", resumable: true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakediscord.New(t, fakediscord.Options{})
			c := connect(t, srv)
			sessionID := c.identify(srv, 0)
			srv.InvalidateSession(tt.resumable)
			f := c.read()
			if f.Op != 9 || string(f.D) != map[bool]string{true: "true", false: "false"}[tt.resumable] {
				t.Fatalf("got op %d d=%s, want INVALID_SESSION %v", f.Op, f.D, tt.resumable)
			}
			c.send(map[string]any{"op": 6, "d": map[string]any{"token": srv.Token(), "session_id": sessionID, "seq": 1}})
			f = c.read()
			if tt.resumable && f.event() != "RESUMED" {
				t.Errorf("resuming a resumable invalidated session: got op %d %s, want RESUMED", f.Op, f.event())
			}
			if !tt.resumable && (f.Op != 9 || string(f.D) != "false") {
				t.Errorf("resuming a forgotten session: got op %d %s, want INVALID_SESSION false", f.Op, f.D)
			}
		})
	}
	t.Run("reconnect", func(t *testing.T) {
		srv := fakediscord.New(t, fakediscord.Options{})
		c := connect(t, srv)
		c.identify(srv, 0)
		srv.Reconnect()
		if f := c.read(); f.Op != 7 {
			t.Errorf("got op %d, want RECONNECT (7)", f.Op)
		}
	})
}

func TestGatewayCompressesLargeDispatches(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	channels := make([]fakediscord.Channel, 40)
	for i := range channels {
		channels[i] = fakediscord.Channel{Name: strings.Repeat("c", 20), Type: fakediscord.ChannelText}
	}
	g := srv.AddGuild(fakediscord.Guild{Channels: channels})
	c := connect(t, srv)
	c.send(identifyPayload(srv.Token(), 1, true))
	if f := c.read(); f.event() != "READY" {
		t.Fatalf("got %s, want READY", f.event())
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	mt, msg, err := c.ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if mt != websocket.BinaryMessage {
		t.Fatalf("a %d-byte GUILD_CREATE came as message type %d, want binary (zlib)", len(msg), mt)
	}
	zr, err := zlib.NewReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		T string `json:"t"`
		D struct {
			ID       string `json:"id"`
			Channels []any  `json:"channels"`
		} `json:"d"`
	}
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if f.T != "GUILD_CREATE" || f.D.ID != g.ID || len(f.D.Channels) != 40 {
		t.Errorf("decompressed %s for guild %s with %d channels, want GUILD_CREATE for %s with 40", f.T, f.D.ID, len(f.D.Channels), g.ID)
	}
}

func TestGatewayVoiceStateUpdate(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{VoiceEndpoint: "127.0.0.1:4444"})
	g := srv.AddGuild(fakediscord.Guild{})
	voiceChannel := g.Channels[1].ID
	c := connect(t, srv)
	sessionID := c.identify(srv, 1)

	c.send(map[string]any{"op": 4, "d": map[string]any{"guild_id": g.ID, "channel_id": voiceChannel, "self_mute": false, "self_deaf": true}})
	var state struct {
		GuildID   string  `json:"guild_id"`
		ChannelID *string `json:"channel_id"`
		UserID    string  `json:"user_id"`
		SessionID string  `json:"session_id"`
		SelfDeaf  bool    `json:"self_deaf"`
	}
	f := c.read()
	if f.event() != "VOICE_STATE_UPDATE" {
		t.Fatalf("got %s, want VOICE_STATE_UPDATE", f.event())
	}
	if err := json.Unmarshal(f.D, &state); err != nil {
		t.Fatal(err)
	}
	if state.GuildID != g.ID || state.ChannelID == nil || *state.ChannelID != voiceChannel || state.UserID != srv.BotUserID() || state.SessionID != sessionID || !state.SelfDeaf {
		t.Errorf("VOICE_STATE_UPDATE = %s", f.D)
	}
	var server struct {
		Token, GuildID, Endpoint string
	}
	f = c.read()
	if f.event() != "VOICE_SERVER_UPDATE" {
		t.Fatalf("got %s, want VOICE_SERVER_UPDATE", f.event())
	}
	if err := json.Unmarshal(f.D, &server); err != nil {
		t.Fatal(err)
	}

	c.send(map[string]any{"op": 4, "d": map[string]any{"guild_id": g.ID, "channel_id": nil}})
	f = c.read()
	if err := json.Unmarshal(f.D, &state); err != nil || f.event() != "VOICE_STATE_UPDATE" || state.ChannelID != nil {
		t.Errorf("after leaving: %s %s, want VOICE_STATE_UPDATE with a null channel", f.event(), f.D)
	}

	want := []fakediscord.VoiceStateRequest{
		{SessionID: sessionID, GuildID: g.ID, ChannelID: voiceChannel, SelfDeaf: true, Token: server.Token, Endpoint: "127.0.0.1:4444"},
		{SessionID: sessionID, GuildID: g.ID},
	}
	if diff := cmp.Diff(want, srv.VoiceStateRequests()); diff != "" {
		t.Errorf("voice state requests (-want +got):\n%s", diff)
	}
	if server.Token == "" {
		t.Error("VOICE_SERVER_UPDATE carried no token")
	}
}

// TestMoveBot: a move sends the bot's new voice state, under its own
// session, and a new voice server; a move of a bot in no channel, or to a
// channel that is not voice, is an error.
func TestMoveBot(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{VoiceEndpoint: "127.0.0.1:4444"})
	g := srv.AddGuild(fakediscord.Guild{Channels: []fakediscord.Channel{
		{Name: "general", Type: fakediscord.ChannelText},
		{Name: "Lounge", Type: fakediscord.ChannelVoice},
		{Name: "Stage", Type: fakediscord.ChannelVoice},
	}})
	c := connect(t, srv)
	sessionID := c.identify(srv, 1)
	stage := g.Channels[2].ID
	if err := srv.MoveBot(g.ID, stage, "127.0.0.1:5555"); err == nil {
		t.Error("moved a bot that is in no voice channel")
	}
	c.send(map[string]any{"op": 4, "d": map[string]any{"guild_id": g.ID, "channel_id": g.Channels[1].ID}})
	c.read() // VOICE_STATE_UPDATE
	first := c.read()
	if err := srv.MoveBot(g.ID, g.Channels[0].ID, "127.0.0.1:5555"); err == nil {
		t.Error("moved the bot to a text channel")
	}
	if err := srv.MoveBot(g.ID, stage, "127.0.0.1:5555"); err != nil {
		t.Fatal(err)
	}
	var state struct {
		ChannelID string `json:"channel_id"`
		UserID    string `json:"user_id"`
		SessionID string `json:"session_id"`
	}
	if f := c.read(); f.event() != "VOICE_STATE_UPDATE" || json.Unmarshal(f.D, &state) != nil {
		t.Fatalf("got %s %s, want VOICE_STATE_UPDATE", f.event(), f.D)
	}
	if state.ChannelID != stage || state.UserID != srv.BotUserID() || state.SessionID != sessionID {
		t.Errorf("VOICE_STATE_UPDATE = %+v, want the bot in %s under session %s", state, stage, sessionID)
	}
	var server, before struct{ Token, Endpoint string }
	f := c.read()
	if f.event() != "VOICE_SERVER_UPDATE" || json.Unmarshal(f.D, &server) != nil || json.Unmarshal(first.D, &before) != nil {
		t.Fatalf("got %s %s, want VOICE_SERVER_UPDATE", f.event(), f.D)
	}
	if server.Endpoint != "127.0.0.1:5555" || server.Token == "" || server.Token == before.Token {
		t.Errorf("VOICE_SERVER_UPDATE = %+v, want the new endpoint and a new token (the first was %q)", server, before.Token)
	}
}

func TestGatewayDispatchesFollowIntents(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	voiceChannel := g.Channels[1].ID
	user := srv.NewID()
	if err := srv.SetVoiceState(g.ID, user, voiceChannel); err != nil {
		t.Fatal(err)
	}

	guildsOnly := connect(t, srv)
	guildsOnly.send(identifyPayload(srv.Token(), 1<<0, false))
	voiceOnly := connect(t, srv)
	voiceOnly.send(identifyPayload(srv.Token(), 1<<7, false))
	var gc struct {
		VoiceStates []struct {
			UserID    string `json:"user_id"`
			ChannelID string `json:"channel_id"`
		} `json:"voice_states"`
	}
	for _, f := range []frame{guildsOnly.read(), guildsOnly.read()} {
		if f.event() == "GUILD_CREATE" {
			if err := json.Unmarshal(f.D, &gc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(gc.VoiceStates) != 1 || gc.VoiceStates[0].UserID != user || gc.VoiceStates[0].ChannelID != voiceChannel {
		t.Errorf("GUILD_CREATE voice states = %+v, want %s in %s", gc.VoiceStates, user, voiceChannel)
	}
	if f := voiceOnly.read(); f.event() != "READY" {
		t.Fatalf("voice-only session got %s first, want READY", f.event())
	}

	if err := srv.SetVoiceState(g.ID, user, ""); err != nil {
		t.Fatal(err)
	}
	srv.RemoveGuild(g.ID)
	// A heartbeat's ACK comes after anything dispatched before it, so the
	// frames up to the ACK are everything each session was sent.
	upToAck := func(c *rawClient) []string {
		c.send(map[string]any{"op": 1, "d": nil})
		var got []string
		for f := c.read(); f.Op != 11; f = c.read() {
			got = append(got, f.event())
		}
		return got
	}
	if diff := cmp.Diff([]string{"GUILD_DELETE"}, upToAck(guildsOnly)); diff != "" {
		t.Errorf("GUILDS session got (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"VOICE_STATE_UPDATE"}, upToAck(voiceOnly)); diff != "" {
		t.Errorf("GUILD_VOICE_STATES session got (-want +got):\n%s", diff)
	}

	if err := srv.SetVoiceState(g.ID, user, voiceChannel); err == nil {
		t.Error("SetVoiceState in a guild the bot left: no error")
	}
	other := srv.AddGuild(fakediscord.Guild{})
	if err := srv.SetVoiceState(other.ID, user, other.Channels[0].ID); err == nil {
		t.Error("SetVoiceState into a text channel: no error")
	}
}

func TestGatewaySendLimitSparesHeartbeats(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	c := connect(t, srv)
	c.identify(srv, 0)
	for range 150 {
		c.send(map[string]any{"op": 1, "d": 1})
		if f := c.read(); f.Op != 11 {
			t.Fatalf("got op %d, want a heartbeat ACK", f.Op)
		}
	}
}

func TestGatewayRefusesTheNextIdentify(t *testing.T) {
	for _, code := range []int{fakediscord.CloseAuthFailed, fakediscord.CloseInvalidIntents, fakediscord.CloseDisallowedIntents} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := fakediscord.New(t, fakediscord.Options{})
			srv.RefuseNextIdentify(code)
			refused := connect(t, srv)
			refused.send(identifyPayload("Bot "+srv.Token(), 1, false))
			if got := refused.closeCode(); got != code {
				t.Errorf("close code = %d, want %d", got, code)
			}
			// Only the next one: a second IDENTIFY gets READY.
			if ready := connect(t, srv); ready.identify(srv, 0) == "" {
				t.Error("the IDENTIFY after the refused one got no session")
			}
		})
	}
}

func TestHeldRequestsWaitForTheirRelease(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	release := make(chan struct{})
	srv.InjectFault(fakediscord.Fault{Route: "GET /gateway", Status: http.StatusServiceUnavailable, Hold: release})
	srv.HoldGateway(release)
	type result struct {
		status int
		err    error
	}
	rest := make(chan result, 1)
	go func() {
		resp, err := http.Get(srv.URL() + "/api/v10/gateway")
		if err != nil {
			rest <- result{err: err}
			return
		}
		resp.Body.Close()
		rest <- result{status: resp.StatusCode}
	}()
	gateway := make(chan error, 1)
	go func() {
		ws, _, err := websocket.DefaultDialer.Dial(srv.GatewayURL()+"/?v=10&encoding=json", nil)
		if err == nil {
			ws.Close()
		}
		gateway <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Held == 2 }); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-rest:
		t.Fatalf("the held request was answered before its release: %+v", r)
	case err := <-gateway:
		t.Fatalf("the held handshake finished before its release: %v", err)
	default:
	}
	close(release)
	if r := <-rest; r.err != nil || r.status != http.StatusServiceUnavailable {
		t.Errorf("released request = %+v, want the fault's 503", r)
	}
	if err := <-gateway; err != nil {
		t.Errorf("released handshake: %v", err)
	}
}
