package fakediscord

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
const (
	opHeartbeat        = 1
	opIdentify         = 2
	opPresenceUpdate   = 3
	opVoiceStateUpdate = 4
	opResume           = 6
	opReconnect        = 7
	opRequestMembers   = 8
	opInvalidSession   = 9
	opHello            = 10
	opHeartbeatAck     = 11
)

// Gateway close codes the fake sends.
const (
	CloseUnknownOpcode     = 4001
	CloseDecodeError       = 4002
	CloseNotAuthenticated  = 4003
	CloseAuthFailed        = 4004
	CloseAlreadyAuth       = 4005
	CloseInvalidSeq        = 4007
	CloseRateLimited       = 4008
	CloseInvalidAPIVersion = 4012
	CloseInvalidIntents    = 4013
	CloseDisallowedIntents = 4014
)

// closeTexts are the reasons Discord sends with the close codes that
// RefuseNextIdentify can give.
var closeTexts = map[int]string{
	CloseAuthFailed:        "Authentication failed.",
	CloseInvalidIntents:    "Invalid intent(s).",
	CloseDisallowedIntents: "Disallowed intent(s).",
}

const (
	privilegedIntents     = 1<<1 | 1<<8 | 1<<15 // GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT
	compressThreshold     = 4096                // larger dispatches are zlib-compressed when the client asked
	maxClientPayload      = 4096                // Discord closes with 4002 on larger client payloads
	sendLimit             = 120                 // client payloads (heartbeats aside) per sendWindow, then 4008
	sendWindow            = 60 * time.Second
	gatewayWriteTimeout   = 5 * time.Second
	voiceServerTokenBytes = 8
	gatewaySessionIDBytes = 16
)

// Identify is an IDENTIFY payload the gateway accepted.
type Identify struct {
	Token          string            `json:"token"`
	Properties     map[string]string `json:"properties"`
	Compress       bool              `json:"compress"`
	LargeThreshold int               `json:"large_threshold"`
	Shard          *[2]int           `json:"shard,omitempty"`
	Intents        *int64            `json:"intents"`
}

// eventIntents maps the dispatches the fake sends to the gateway intent a
// session needs to receive them; absent events need none.
var eventIntents = map[string]int64{
	"GUILD_CREATE":       1 << 0, // GUILDS
	"GUILD_DELETE":       1 << 0,
	"VOICE_STATE_UPDATE": 1 << 7, // GUILD_VOICE_STATES
}

func (id Identify) intents() int64 {
	if id.Intents == nil {
		return 0
	}
	return *id.Intents
}

// VoiceStateRequest is a voice state update (op 4) the bot sent.
type VoiceStateRequest struct {
	SessionID string // gateway session that sent it
	GuildID   string
	ChannelID string // empty: leave the voice channel
	SelfMute  bool
	SelfDeaf  bool
	// Token and Endpoint are what VOICE_SERVER_UPDATE carried, when the fake
	// answered (Options.VoiceEndpoint set and ChannelID not empty).
	Token    string
	Endpoint string
}

// gwPayload is a client payload; clients send no sequence or event name.
type gwPayload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
}

// gwConn is one websocket connection. Writers hold wmu; a goroutine that
// needs both s.mu and wmu takes s.mu first and may release it while keeping
// wmu, so frames go out in sequence order without holding s.mu during I/O.
// Nobody takes s.mu while holding wmu.
type gwConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex

	sent []time.Time // client payloads within the last sendWindow; reader only

	// Guarded by Server.mu.
	sess     *session
	compress bool
}

type session struct {
	id    string
	ident Identify
	seq   int64
	log   []sentDispatch // for replay on RESUME, oldest first, bounded
	conn  *gwConn        // nil while the client is away
}

type sentDispatch struct {
	seq   int64
	frame []byte
}

// allowSend applies Discord's gateway send limit to a client payload
// received at now. Only the connection's reader calls it.
func (c *gwConn) allowSend(now time.Time) bool {
	cut := 0
	for cut < len(c.sent) && now.Sub(c.sent[cut]) >= sendWindow {
		cut++
	}
	c.sent = append(c.sent[cut:], now)
	return len(c.sent) <= sendLimit
}

// write sends one frame; the caller holds c.wmu.
func (c *gwConn) write(frame []byte, compress bool) error {
	if err := c.ws.SetWriteDeadline(time.Now().Add(gatewayWriteTimeout)); err != nil {
		return err
	}
	if !compress || len(frame) <= compressThreshold {
		return c.ws.WriteMessage(websocket.TextMessage, frame)
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(frame); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.BinaryMessage, buf.Bytes())
}

// writeAndUnlock sends frames in order and releases c.wmu, which the caller
// acquired. A failed write aborts the connection; its reader then cleans up.
func (c *gwConn) writeAndUnlock(frames [][]byte, compress bool) {
	defer c.wmu.Unlock()
	for _, f := range frames {
		if err := c.write(f, compress); err != nil {
			c.abort()
			return
		}
	}
}

// abort drops the TCP connection without a close frame.
func (c *gwConn) abort() { _ = c.ws.NetConn().Close() }

// closeWith sends a close frame with a gateway close code, then drops the
// connection, as Discord does.
func (c *gwConn) closeWith(code int, text string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(gatewayWriteTimeout))
	c.abort()
}

func controlFrame(op int, d any) []byte {
	b, err := json.Marshal(struct {
		Op int     `json:"op"`
		D  any     `json:"d"`
		S  *int64  `json:"s"`
		T  *string `json:"t"`
	}{Op: op, D: d})
	if err != nil {
		panic("fakediscord: encoding a control frame: " + err.Error()) // only constant shapes reach here
	}
	return b
}

func dispatchFrame(t string, seq int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+len(t)+48)
	b = append(b, `{"op":0,"s":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"t":"`...)
	b = append(b, t...)
	b = append(b, `","d":`...)
	b = append(b, data...)
	return append(b, '}')
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// sequenceLocked gives the next sequence number of sess to a dispatch, keeps
// the frame for replay and returns it. The caller holds s.mu.
func (s *Server) sequenceLocked(sess *session, t string, data []byte) []byte {
	sess.seq++
	frame := dispatchFrame(t, sess.seq, data)
	sess.log = append(sess.log, sentDispatch{seq: sess.seq, frame: frame})
	if len(sess.log) >= 2*replayLimit {
		sess.log = append([]sentDispatch(nil), sess.log[len(sess.log)-replayLimit:]...)
	}
	if sess.conn != nil {
		s.stats.Dispatches++
	}
	return frame
}

type outbox struct {
	c        *gwConn
	frames   [][]byte
	compress bool
}

// send locks each connection's writer while s.mu is still held (the caller
// holds it), releases s.mu and writes. It keeps frames in sequence order per
// connection without doing I/O under s.mu.
func (s *Server) sendAndUnlock(boxes []outbox) {
	for _, b := range boxes {
		b.c.wmu.Lock()
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, b := range boxes {
		b.c.writeAndUnlock(b.frames, b.compress)
	}
}

// dispatch sends an event to every identified session that subscribed to
// it; sessions whose client is away keep it for replay.
func (s *Server) dispatch(t string, d any) {
	s.dispatchJSON(t, mustJSON(d))
}

// dispatchJSON is dispatch for an encoded payload.
func (s *Server) dispatchJSON(t string, data []byte) {
	s.mu.Lock()
	boxes := make([]outbox, 0, len(s.sessions))
	need := eventIntents[t]
	for _, sess := range s.sessions {
		if need != 0 && sess.ident.intents()&need == 0 {
			continue // Discord sends only the events a session subscribed to
		}
		frame := s.sequenceLocked(sess, t, data)
		if sess.conn != nil {
			boxes = append(boxes, outbox{c: sess.conn, frames: [][]byte{frame}, compress: sess.conn.compress})
		}
	}
	s.sendAndUnlock(boxes)
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hold := s.gatewayHold
	s.mu.Unlock()
	if hold != nil && !s.hold(r, hold) {
		return
	}
	ws, err := s.upgr.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader already answered with an HTTP error
	}
	ws.SetReadLimit(1 << 20) // over-long payloads get Discord's 4002, not websocket's 1009
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.abort()
		return
	}
	s.connWG.Add(1)
	defer s.connWG.Done()
	s.conns[c] = struct{}{}
	s.stats.Connections++
	s.notifyLocked()
	s.mu.Unlock()
	defer s.dropConn(c)

	q := r.URL.Query()
	if v := q.Get("v"); v != "9" && v != "10" {
		s.closeConn(c, CloseInvalidAPIVersion, "Invalid API version.")
		return
	}
	if enc := q.Get("encoding"); enc != "" && enc != "json" {
		s.closeConn(c, CloseDecodeError, "Error while decoding payload.")
		return
	}
	c.wmu.Lock()
	c.writeAndUnlock([][]byte{controlFrame(opHello, map[string]any{
		"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds(),
		"_trace":             []string{`["fake-gateway",{"micros":0}]`},
	})}, false)
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if !s.handleGateway(c, msg) {
			return
		}
	}
}

// dropConn forgets a finished connection; its session stays resumable.
func (s *Server) dropConn(c *gwConn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil
	}
	s.notifyLocked()
	s.mu.Unlock()
	c.abort()
}

func (s *Server) closeConn(c *gwConn, code int, text string) {
	s.mu.Lock()
	s.stats.ClosedWithCode++
	s.notifyLocked()
	s.mu.Unlock()
	c.closeWith(code, text)
}

// handleGateway acts on one client payload; false ends the connection.
func (s *Server) handleGateway(c *gwConn, msg []byte) bool {
	var p gwPayload
	if len(msg) > maxClientPayload || json.Unmarshal(msg, &p) != nil {
		s.closeConn(c, CloseDecodeError, "Error while decoding payload.")
		return false
	}
	// Heartbeats are left out of the send limit so that tests can shorten
	// the heartbeat interval without tripping it.
	if p.Op != opHeartbeat && !c.allowSend(time.Now()) {
		s.closeConn(c, CloseRateLimited, "You are being rate limited.")
		return false
	}
	switch p.Op {
	case opHeartbeat:
		s.mu.Lock()
		s.stats.Heartbeats++
		c.wmu.Lock()
		s.notifyLocked()
		s.mu.Unlock()
		c.writeAndUnlock([][]byte{controlFrame(opHeartbeatAck, nil)}, false)
		return true
	case opIdentify:
		return s.identify(c, p.D)
	case opResume:
		return s.resume(c, p.D)
	case opVoiceStateUpdate:
		return s.voiceStateUpdate(c, p.D)
	case opPresenceUpdate, opRequestMembers:
		s.mu.Lock()
		authed := c.sess != nil
		s.mu.Unlock()
		if !authed {
			s.closeConn(c, CloseNotAuthenticated, "Not authenticated.")
		}
		return authed
	default:
		s.closeConn(c, CloseUnknownOpcode, "Unknown opcode.")
		return false
	}
}

// tokenMatches accepts the token with or without the "Bot " prefix: discordgo
// sends it prefixed and Discord accepts both in IDENTIFY and RESUME.
func (s *Server) tokenMatches(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == s.opts.Token
}

func (s *Server) identify(c *gwConn, raw json.RawMessage) bool {
	var id Identify
	if err := json.Unmarshal(raw, &id); err != nil || id.Intents == nil {
		s.closeConn(c, CloseDecodeError, "Error while decoding payload.")
		return false
	}
	if !s.tokenMatches(id.Token) {
		s.closeConn(c, CloseAuthFailed, closeTexts[CloseAuthFailed])
		return false
	}
	if *id.Intents&privilegedIntents != 0 {
		s.closeConn(c, CloseDisallowedIntents, closeTexts[CloseDisallowedIntents])
		return false
	}
	s.mu.Lock()
	refuse := s.refuseIdentify
	s.refuseIdentify = 0
	s.mu.Unlock()
	if refuse != 0 {
		s.closeConn(c, refuse, closeTexts[refuse])
		return false
	}
	id.Token = "" // never kept: tests print what they record
	s.mu.Lock()
	if c.sess != nil {
		s.mu.Unlock()
		s.closeConn(c, CloseAlreadyAuth, "Already authenticated.")
		return false
	}
	sess := &session{id: randomHex(gatewaySessionIDBytes), ident: id, conn: c}
	s.sessions[sess.id] = sess
	c.sess = sess
	c.compress = id.Compress
	s.stats.Identifies++
	s.idents = append(s.idents, id)

	frames := [][]byte{s.sequenceLocked(sess, "READY", mustJSON(s.readyPayload(sess)))}
	for _, g := range s.guilds {
		if id.intents()&eventIntents["GUILD_CREATE"] != 0 {
			frames = append(frames, s.sequenceLocked(sess, "GUILD_CREATE", mustJSON(s.guildPayload(g))))
		}
	}
	s.sendAndUnlock([]outbox{{c: c, frames: frames, compress: c.compress}})
	return true
}

func (s *Server) resume(c *gwConn, raw json.RawMessage) bool {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       *int64 `json:"seq"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		s.closeConn(c, CloseDecodeError, "Error while decoding payload.")
		return false
	}
	if !s.tokenMatches(r.Token) {
		s.closeConn(c, CloseAuthFailed, closeTexts[CloseAuthFailed])
		return false
	}
	s.mu.Lock()
	if c.sess != nil {
		s.mu.Unlock()
		s.closeConn(c, CloseAlreadyAuth, "Already authenticated.")
		return false
	}
	var seq int64
	if r.Seq != nil {
		seq = *r.Seq
	}
	sess := s.sessions[r.SessionID]
	if sess != nil && seq > sess.seq {
		s.mu.Unlock()
		s.closeConn(c, CloseInvalidSeq, "Invalid seq.")
		return false
	}
	if sess == nil || (len(sess.log) > 0 && seq < sess.log[0].seq-1) {
		s.stats.FailedResumes++
		c.wmu.Lock()
		s.notifyLocked()
		s.mu.Unlock()
		c.writeAndUnlock([][]byte{controlFrame(opInvalidSession, false)}, false)
		return true
	}
	if old := sess.conn; old != nil {
		old.sess = nil
		old.abort()
	}
	sess.conn = c
	c.sess = sess
	c.compress = sess.ident.Compress
	var frames [][]byte
	for _, d := range sess.log {
		if d.seq > seq {
			frames = append(frames, d.frame)
		}
	}
	s.stats.Resumes++
	s.stats.Replayed += len(frames)
	s.stats.Dispatches += len(frames)
	frames = append(frames, s.sequenceLocked(sess, "RESUMED", mustJSON(map[string]any{"_trace": []string{`["fake-gateway",{"micros":0}]`}})))
	s.sendAndUnlock([]outbox{{c: c, frames: frames, compress: c.compress}})
	return true
}

func (s *Server) voiceStateUpdate(c *gwConn, raw json.RawMessage) bool {
	var v struct {
		GuildID   string  `json:"guild_id"`
		ChannelID *string `json:"channel_id"`
		SelfMute  bool    `json:"self_mute"`
		SelfDeaf  bool    `json:"self_deaf"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		s.closeConn(c, CloseDecodeError, "Error while decoding payload.")
		return false
	}
	s.mu.Lock()
	sess := c.sess
	if sess == nil {
		s.mu.Unlock()
		s.closeConn(c, CloseNotAuthenticated, "Not authenticated.")
		return false
	}
	req := VoiceStateRequest{SessionID: sess.id, GuildID: v.GuildID, SelfMute: v.SelfMute, SelfDeaf: v.SelfDeaf}
	if v.ChannelID != nil {
		req.ChannelID = *v.ChannelID
	}
	g := s.guildLocked(v.GuildID)
	ch := s.channels[req.ChannelID]
	joinable := req.ChannelID == "" || (ch != nil && ch.guildID == v.GuildID && ch.typ == ChannelVoice)
	if s.opts.VoiceEndpoint == "" || g == nil || !joinable {
		s.voice = append(s.voice, req)
		s.notifyLocked()
		s.mu.Unlock()
		return true
	}
	vs := voiceState{channelID: req.ChannelID, sessionID: sess.id, selfMute: req.SelfMute, selfDeaf: req.SelfDeaf}
	s.setVoiceLocked(g, s.opts.BotUserID, vs)
	var frames [][]byte
	if sess.ident.intents()&eventIntents["VOICE_STATE_UPDATE"] != 0 {
		frames = append(frames, s.sequenceLocked(sess, "VOICE_STATE_UPDATE", mustJSON(s.voiceStatePayload(g, s.opts.BotUserID, vs, true))))
	}
	if req.ChannelID != "" {
		req.Token = randomHex(voiceServerTokenBytes)
		req.Endpoint = s.opts.VoiceEndpoint
		frames = append(frames, s.sequenceLocked(sess, "VOICE_SERVER_UPDATE", mustJSON(map[string]any{
			"token":    req.Token,
			"guild_id": g.ID,
			"endpoint": req.Endpoint,
		})))
	}
	s.voice = append(s.voice, req)
	s.sendAndUnlock([]outbox{{c: c, frames: frames, compress: c.compress}})
	return true
}

// VoiceStateRequests returns the voice state updates (op 4) received, oldest first.
func (s *Server) VoiceStateRequests() []VoiceStateRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]VoiceStateRequest(nil), s.voice...)
}

// DropConnection closes every gateway connection abruptly, without a close
// frame, as a network failure would. Sessions stay resumable: dispatches
// sent meanwhile are replayed when the client resumes.
func (s *Server) DropConnection() {
	s.mu.Lock()
	for c := range s.conns {
		c.abort()
	}
	s.mu.Unlock()
}

// InvalidateSession sends INVALID_SESSION (op 9) on every identified
// connection. When resumable is false the sessions are forgotten, so the
// client must identify again; either way the connection stays open for the
// client's next IDENTIFY or RESUME.
func (s *Server) InvalidateSession(resumable bool) {
	s.mu.Lock()
	var boxes []outbox
	for c := range s.conns {
		if c.sess == nil {
			continue
		}
		if !resumable {
			delete(s.sessions, c.sess.id)
		}
		c.sess.conn = nil
		c.sess = nil
		boxes = append(boxes, outbox{c: c, frames: [][]byte{controlFrame(opInvalidSession, resumable)}})
	}
	s.sendAndUnlock(boxes)
}

// HoldGateway keeps new gateway connections waiting before the websocket
// handshake until release is closed (or the client gives up), as a gateway
// that accepted the TCP connection and went silent. nil stops holding.
func (s *Server) HoldGateway(release <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gatewayHold = release
}

// RefuseNextIdentify makes the gateway close the connection of the next
// IDENTIFY with code, as Discord does when the token was reset after the
// bot fetched the gateway URL (CloseAuthFailed) or an intent is not enabled
// for the application (CloseInvalidIntents, CloseDisallowedIntents).
func (s *Server) RefuseNextIdentify(code int) {
	if _, ok := closeTexts[code]; !ok {
		panic("fakediscord: RefuseNextIdentify takes 4004, 4013 or 4014")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseIdentify = code
}

// Reconnect sends RECONNECT (op 7) on every connection; the client is
// expected to close it and resume on a new one.
func (s *Server) Reconnect() {
	s.mu.Lock()
	boxes := make([]outbox, 0, len(s.conns))
	for c := range s.conns {
		boxes = append(boxes, outbox{c: c, frames: [][]byte{controlFrame(opReconnect, nil)}})
	}
	s.sendAndUnlock(boxes)
}

// Connected reports whether a session has a live, identified connection.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		if sess.conn != nil {
			return true
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("fakediscord: encoding a payload: " + err.Error()) // payloads are built by this package
	}
	return b
}
