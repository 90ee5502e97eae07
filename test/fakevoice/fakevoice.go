// Package fakevoice is a fake Discord voice server for tests: a TLS
// websocket voice gateway (version 8) with its own CA, and a UDP socket on
// loopback. It says hello, answers identify with ready (SSRC, address,
// modes), IP discovery, select protocol with a session description carrying
// a fresh secret key, acknowledges heartbeats, resumes sessions, announces
// clients, relays the DAVE opcodes to and from a pluggable Handler, and
// closes connections on the test's cue (4006, 4014, 4015, 4017, drops) or
// goes silent at a handshake step.
// It decrypts the RTP packets it receives with the session's transport key
// and records the frames in order.
//
// It uses gorilla/websocket, not the client's websocket library, so that
// the two ends of a test do not share framing code.
package fakevoice

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/iddv/timmybot/app/voice/transport"
)

// Opcodes the fake speaks.
const (
	opIdentify           = 0
	opSelectProtocol     = 1
	opReady              = 2
	opHeartbeat          = 3
	opSessionDescription = 4
	opSpeaking           = 5
	opHeartbeatAck       = 6
	opResume             = 7
	opHello              = 8
	opResumed            = 9
	opClientsConnect     = 11
	opClientDisconnect   = 13
)

// Step is a handshake message the fake can withhold (see Withhold).
type Step int

// Handshake steps.
const (
	StepNone               Step = 0 // withhold nothing
	StepHello              Step = opHello
	StepReady              Step = opReady
	StepSessionDescription Step = opSessionDescription
	StepResumed            Step = opResumed
)

// Message is a DAVE message: JSON is a text message's "d", Binary the
// payload after the opcode of a binary message.
type Message struct {
	Op     int
	JSON   json.RawMessage
	Binary []byte
}

// Handler sits behind the fake voice gateway for DAVE, as the gateway's
// external sender and delivery service: SessionStarted is called once a new
// session has its session description (not on resumes) and returns what to
// send that client next (clients connect, external sender...);
// HandleClientMessage receives what the client sends (23 and 31 as text, 26
// and 28 as binary) and returns what to send back to that client. Calls are
// serialised per connection, not across connections.
type Handler interface {
	SessionStarted(sessionID, userID string) []Message
	HandleClientMessage(sessionID string, m Message) []Message
}

// Config configures the fake.
type Config struct {
	// Modes offered in ready. Default: both rtpsize AEAD modes.
	Modes []string
	// RequireDAVE closes with 4017 an identify whose
	// max_dave_protocol_version is below 1.
	RequireDAVE bool
	// DAVEProtocolVersion is the highest version the fake agrees to in the
	// session description. Default 0.
	DAVEProtocolVersion int
	// HeartbeatInterval in milliseconds, sent as a float. Default 1000.
	HeartbeatInterval float64
	// Handler receives the client's DAVE messages. Optional.
	Handler Handler
	// IgnoreHeartbeats leaves heartbeats unacknowledged, as a server that
	// silently died would.
	IgnoreHeartbeats bool
}

// Frame is one received, transport-decrypted RTP payload.
type Frame struct {
	SSRC      uint32
	Sequence  uint16
	Timestamp uint32
	Payload   []byte
}

// Server is a running fake voice server.
type Server struct {
	cfg  Config
	http *httptest.Server
	udp  *net.UDPConn
	done chan struct{}

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every recorded change
	sessions map[string]*voiceSession
	ssrcs    map[uint32]*voiceSession
	conns    []*wsConn
	nextSSRC uint32
	withhold Step
	frames   []Frame
	events   []string
	badRTP   int
}

type voiceSession struct {
	id     string
	token  string
	ssrc   uint32
	cipher *transport.Cipher
	dave   int
	// seq numbers the session's messages; it runs on across resumes, as
	// version 8's buffered resume needs.
	seq atomic.Int32
}

type wsConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	session *voiceSession
	userID  string
	// withhold is the step at which the connection goes silent for good.
	withhold Step
	silent   bool
}

// Start runs a fake voice server until the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if len(cfg.Modes) == 0 {
		cfg.Modes = []string{transport.ModeAES256GCM, transport.ModeXChaCha20Poly1305}
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 1000
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("fakevoice: %v", err)
	}
	s := &Server{
		cfg: cfg, udp: udp, done: make(chan struct{}),
		changed:  make(chan struct{}),
		sessions: make(map[string]*voiceSession),
		ssrcs:    make(map[uint32]*voiceSession),
		nextSSRC: 1000,
	}
	go s.serveUDP()
	s.http = httptest.NewTLSServer(http.HandlerFunc(s.serveWS))
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.http.CloseClientConnections()
	s.http.Close()
	s.udp.Close()
	<-s.done
}

// Endpoint is the host:port a VOICE_SERVER_UPDATE would carry.
func (s *Server) Endpoint() string { return strings.TrimPrefix(s.http.URL, "https://") }

// TLSConfig trusts the fake's own CA.
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.http.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// CertificatePEM is the server's certificate in PEM, for a client in another
// process to trust (SSL_CERT_FILE).
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.http.Certificate().Raw})
}

// Frames returns the frames received so far.
func (s *Server) Frames() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames)
}

// Events returns what clients did so far: "identify", "resume",
// "select_protocol <mode>", "speaking <n>", "heartbeat <seq_ack>", and
// "op <n>" for DAVE messages.
func (s *Server) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Count returns how many events equal e.
func (s *Server) Count(e string) int {
	n := 0
	for _, got := range s.Events() {
		if got == e {
			n++
		}
	}
	return n
}

// BadPackets returns how many UDP packets failed to parse or decrypt.
func (s *Server) BadPackets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badRTP
}

// WaitFor waits until cond holds on the server's state, re-checking on every
// recorded change, or until ctx ends.
func (s *Server) WaitFor(ctx context.Context, cond func(s *Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fakevoice: waiting: %w (events %q, %d frames)", ctx.Err(), s.Events(), len(s.Frames()))
		}
	}
}

// WaitEvent waits until event e has happened n times.
func (s *Server) WaitEvent(ctx context.Context, e string, n int) error {
	return s.WaitFor(ctx, func(s *Server) bool { return s.Count(e) >= n })
}

// WaitFrames waits until n frames have arrived.
func (s *Server) WaitFrames(ctx context.Context, n int) error {
	return s.WaitFor(ctx, func(s *Server) bool { return len(s.Frames()) >= n })
}

// changedLocked wakes waiters; s.mu must be held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) event(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	s.changedLocked()
}

// CloseConnections closes every open gateway connection with code.
func (s *Server) CloseConnections(code int) {
	for _, c := range s.openConns() {
		c.closeWith(code)
	}
}

// DropConnections cuts every open gateway connection without a close
// frame, as a network failure does (the client sees 1006).
func (s *Server) DropConnections() {
	for _, c := range s.openConns() {
		c.ws.NetConn().Close()
	}
}

// Withhold makes connections opened from now on go silent when the fake
// would send step: they send nothing more but heartbeat acknowledgements
// and stay open, as a voice server whose session setup hangs does, so that
// only a handshake deadline can tell. StepNone ends that for later
// connections.
func (s *Server) Withhold(step Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withhold = step
}

// ForgetSessions makes later resumes fail with 4006.
func (s *Server) ForgetSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// Send sends a DAVE message to every open connection, with a sequence
// number as version 8 does.
func (s *Server) Send(m Message) {
	for _, c := range s.openConns() {
		if err := c.sendMessage(m); err != nil {
			s.event("send error")
		}
	}
}

// ClientsConnect announces users who joined the channel (opcode 11).
func (s *Server) ClientsConnect(userIDs ...string) {
	d, _ := json.Marshal(map[string]any{"user_ids": userIDs})
	s.Send(Message{Op: opClientsConnect, JSON: d})
}

// ClientDisconnect announces a user who left the channel (opcode 13).
func (s *Server) ClientDisconnect(userID string) {
	d, _ := json.Marshal(map[string]any{"user_id": userID})
	s.Send(Message{Op: opClientDisconnect, JSON: d})
}

func (s *Server) openConns() []*wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.conns)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != "8" {
		http.Error(w, "voice gateway version 8 only", http.StatusBadRequest)
		return
	}
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	c := &wsConn{ws: ws, withhold: s.withhold}
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.conns = slices.DeleteFunc(s.conns, func(o *wsConn) bool { return o == c })
		s.mu.Unlock()
		ws.Close()
	}()
	// Discord sends the interval with a decimal point (13750.0).
	interval := json.Number(strconv.FormatFloat(s.cfg.HeartbeatInterval, 'f', 1, 64))
	if err := c.writeJSON(opHello, map[string]any{"heartbeat_interval": interval, "v": 8}, false); err != nil {
		return
	}
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			if len(data) < 1 {
				c.closeWith(4002)
				return
			}
			s.fromClient(c, Message{Op: int(data[0]), Binary: data[1:]})
			continue
		}
		var f struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			c.closeWith(4002)
			return
		}
		if !s.handleText(c, f.Op, f.D) {
			return
		}
	}
}

// handleText handles one client text message; false ends the connection.
func (s *Server) handleText(c *wsConn, op int, d json.RawMessage) bool {
	switch op {
	case opIdentify:
		return s.identify(c, d)
	case opResume:
		return s.resume(c, d)
	case opSelectProtocol:
		return s.selectProtocol(c, d)
	case opHeartbeat:
		var hb struct {
			T      int64 `json:"t"`
			SeqAck *int  `json:"seq_ack"`
		}
		if json.Unmarshal(d, &hb) != nil || hb.SeqAck == nil {
			c.closeWith(4002)
			return false
		}
		s.event("heartbeat " + strconv.Itoa(*hb.SeqAck))
		if s.cfg.IgnoreHeartbeats {
			return true
		}
		return c.writeJSON(opHeartbeatAck, map[string]any{"t": hb.T}, false) == nil
	case opSpeaking:
		var sp struct {
			Speaking int `json:"speaking"`
		}
		if json.Unmarshal(d, &sp) != nil {
			c.closeWith(4002)
			return false
		}
		s.event("speaking " + strconv.Itoa(sp.Speaking))
		return true
	}
	if c.session == nil {
		c.closeWith(4003)
		return false
	}
	s.fromClient(c, Message{Op: op, JSON: d})
	return true
}

func (s *Server) identify(c *wsConn, d json.RawMessage) bool {
	var id struct {
		ServerID  string `json:"server_id"`
		UserID    string `json:"user_id"`
		SessionID string `json:"session_id"`
		Token     string `json:"token"`
		MaxDAVE   *int   `json:"max_dave_protocol_version"`
	}
	if json.Unmarshal(d, &id) != nil || id.ServerID == "" || id.UserID == "" || id.SessionID == "" || id.Token == "" || id.MaxDAVE == nil {
		c.closeWith(4002)
		return false
	}
	s.event("identify")
	if c.session != nil {
		c.closeWith(4005)
		return false
	}
	if s.cfg.RequireDAVE && *id.MaxDAVE < 1 {
		c.closeWith(4017)
		return false
	}
	s.mu.Lock()
	s.nextSSRC++
	vs := &voiceSession{id: id.SessionID, token: id.Token, ssrc: s.nextSSRC, dave: min(*id.MaxDAVE, s.cfg.DAVEProtocolVersion)}
	s.sessions[vs.id] = vs
	s.mu.Unlock()
	c.setSession(vs)
	c.userID = id.UserID
	port := s.udp.LocalAddr().(*net.UDPAddr).Port
	return c.writeJSON(opReady, map[string]any{
		"ssrc": vs.ssrc, "ip": "127.0.0.1", "port": port, "modes": s.cfg.Modes,
		"heartbeat_interval": 1, // documented as erroneous; clients ignore it
	}, false) == nil
}

func (s *Server) resume(c *wsConn, d json.RawMessage) bool {
	var r struct {
		ServerID  string `json:"server_id"`
		SessionID string `json:"session_id"`
		Token     string `json:"token"`
		SeqAck    *int   `json:"seq_ack"`
	}
	if json.Unmarshal(d, &r) != nil || r.SeqAck == nil {
		c.closeWith(4002)
		return false
	}
	s.event("resume")
	s.event("resume seq_ack " + strconv.Itoa(*r.SeqAck))
	s.mu.Lock()
	vs := s.sessions[r.SessionID]
	s.mu.Unlock()
	if vs == nil || vs.token != r.Token || vs.cipher == nil {
		c.closeWith(4006)
		return false
	}
	c.setSession(vs)
	return c.writeJSON(opResumed, nil, false) == nil
}

func (s *Server) selectProtocol(c *wsConn, d json.RawMessage) bool {
	var sp struct {
		Protocol string `json:"protocol"`
		Data     struct {
			Address string `json:"address"`
			Port    int    `json:"port"`
			Mode    string `json:"mode"`
		} `json:"data"`
	}
	if json.Unmarshal(d, &sp) != nil || c.session == nil {
		c.closeWith(4002)
		return false
	}
	if sp.Protocol != "udp" {
		c.closeWith(4012)
		return false
	}
	if !slices.Contains(s.cfg.Modes, sp.Data.Mode) {
		c.closeWith(4016)
		return false
	}
	if _, err := netip.ParseAddr(sp.Data.Address); err != nil || sp.Data.Port == 0 {
		c.closeWith(4002)
		return false
	}
	s.event("select_protocol " + sp.Data.Mode)
	key := make([]byte, transport.KeySize)
	rand.Read(key)
	ciph, err := transport.NewCipher(sp.Data.Mode, key)
	if err != nil {
		c.closeWith(4016)
		return false
	}
	s.mu.Lock()
	c.session.cipher = ciph
	s.ssrcs[c.session.ssrc] = c.session
	s.mu.Unlock()
	keyInts := make([]int, len(key))
	for i, b := range key {
		keyInts[i] = int(b)
	}
	if err := c.writeJSON(opSessionDescription, map[string]any{
		"mode": sp.Data.Mode, "secret_key": keyInts, "dave_protocol_version": c.session.dave,
	}, true); err != nil {
		return false
	}
	if s.cfg.Handler == nil {
		return true
	}
	return c.sendAll(s.cfg.Handler.SessionStarted(c.session.id, c.userID)) == nil
}

// fromClient records a DAVE message and relays it to the handler.
func (s *Server) fromClient(c *wsConn, m Message) {
	s.event("op " + strconv.Itoa(m.Op))
	if s.cfg.Handler == nil || c.session == nil {
		return
	}
	_ = c.sendAll(s.cfg.Handler.HandleClientMessage(c.session.id, m))
}

func (c *wsConn) sendAll(ms []Message) error {
	for _, m := range ms {
		if err := c.sendMessage(m); err != nil {
			return err
		}
	}
	return nil
}

func (c *wsConn) sendMessage(m Message) error {
	if m.Binary != nil {
		c.writeMu.Lock()
		defer c.writeMu.Unlock()
		if c.session == nil {
			return errNoSession
		}
		if c.silent {
			return nil
		}
		b := binary.BigEndian.AppendUint16(nil, uint16(c.session.seq.Add(1)))
		b = append(b, byte(m.Op))
		b = append(b, m.Binary...)
		return c.ws.WriteMessage(websocket.BinaryMessage, b)
	}
	return c.writeJSON(m.Op, m.JSON, true)
}

// setSession is called by the connection's reader; writers from other
// goroutines read the session under writeMu.
func (c *wsConn) setSession(vs *voiceSession) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.session = vs
}

var errNoSession = errors.New("fakevoice: numbered message before identify")

// writeJSON sends a text message; numbered messages carry "seq".
func (c *wsConn) writeJSON(op int, d any, numbered bool) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.withhold != StepNone && Step(op) == c.withhold {
		c.silent = true
	}
	if c.silent && op != opHeartbeatAck {
		return nil
	}
	msg := map[string]any{"op": op, "d": d}
	if numbered {
		if c.session == nil {
			return errNoSession
		}
		msg["seq"] = c.session.seq.Add(1)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (c *wsConn) closeWith(code int) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	msg := websocket.FormatCloseMessage(code, "fakevoice")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.ws.NetConn().Close()
}

// serveUDP answers IP discovery and records RTP frames.
func (s *Server) serveUDP() {
	defer close(s.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := buf[:n]
		if ssrc, err := transport.ParseDiscoveryRequest(pkt); err == nil {
			s.udp.WriteToUDPAddrPort(transport.AppendDiscoveryResponse(nil, ssrc, from), from)
			continue
		}
		s.record(pkt)
	}
}

func (s *Server) record(pkt []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(pkt) < transport.HeaderSize {
		s.badRTP++
		return
	}
	vs := s.ssrcs[binary.BigEndian.Uint32(pkt[8:])]
	if vs == nil {
		s.badRTP++
		return
	}
	p, err := vs.cipher.Open(nil, pkt)
	if err != nil {
		s.badRTP++
		return
	}
	s.frames = append(s.frames, Frame{SSRC: p.Header.SSRC, Sequence: p.Header.Sequence, Timestamp: p.Header.Timestamp, Payload: p.Payload})
	s.changedLocked()
}
