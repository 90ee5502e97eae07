package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/coder/websocket"

	"github.com/iddv/timmybot/app/voice/transport"
)

// next is what the run loop does after a session ends.
type next int

const (
	nextResume     next = iota // reconnect and resume the session
	nextNewSession             // reconnect and identify anew
	nextWaitMove               // wait for an Update, then identify anew
	nextFinal                  // end the connection
)

// errMoved ends a session because an Update moved the connection.
var errMoved = errors.New("voice: moved by an update")

// errNoHeartbeatAck ends a session whose server stopped acknowledging.
var errNoHeartbeatAck = errors.New("voice: heartbeat not acknowledged")

// classify maps the error that ended a session to what comes next, per the
// voice close codes: 4014 means disconnected (a move starts that way too),
// 4015 a crashed server to resume on, 4006 and 4009 a session to start
// anew, 4017 a channel that requires DAVE; the other 40xx codes are the
// client's fault or Discord's refusal and are final. Drops without a close
// code resume.
func classify(err error) (next, error) {
	if errors.Is(err, errMoved) {
		return nextNewSession, err
	}
	code := int(websocket.CloseStatus(err))
	var reason string
	if ce := (websocket.CloseError{}); errors.As(err, &ce) {
		reason = ce.Reason
	}
	switch code {
	case 4014:
		return nextWaitMove, ErrDisconnected
	case 4017:
		return nextFinal, ErrDAVERequired
	case 4003, 4006, 4009:
		return nextNewSession, &CloseError{Code: code, Reason: reason}
	case 4001, 4002, 4004, 4005, 4011, 4012, 4016, 4020, 4021, 4022:
		return nextFinal, &CloseError{Code: code, Reason: reason}
	}
	return nextResume, err
}

// run owns the connection: it runs sessions one after another until the
// connection is closed or ends.
func (c *Conn) run(ctx context.Context) {
	defer close(c.done)
	// The HTTP transport finishes abandoned dials in the background and
	// pools them; this cancels and closes them.
	defer c.httpClient.CloseIdleConnections()
	resume := false
	// failures counts attempts in a row that never became Ready; flaps,
	// sessions in a row that were Ready only briefly. Both slow reconnects
	// down, so that a server that keeps dropping the bot is not hammered.
	failures, flaps := 0, 0
	for {
		select {
		case u := <-c.updates:
			if c.applyUpdate(u) {
				resume = false
			}
		default:
		}
		if !resume {
			c.dropSession()
		}
		reached, err := c.runSession(ctx, resume)
		c.leaveReady()
		if ctx.Err() != nil {
			c.finish(ErrClosed)
			return
		}
		if reached {
			failures = 0
			if time.Since(c.readyAt) < stableSession {
				flaps++
			} else {
				flaps = 0
			}
		}
		what, ferr := classify(err)
		c.log.Info("voice session ended", slog.Any("err", err), slog.Bool("was_ready", reached))
		switch what {
		case nextFinal:
			c.finish(ferr)
			return
		case nextWaitMove:
			if !c.waitForUpdate(ctx) {
				c.finish(ferr)
				return
			}
			resume = false
			continue
		case nextNewSession:
			// A move, or a resume the server refused: identify at once.
			if errors.Is(err, errMoved) || resume {
				resume = false
				continue
			}
		case nextResume:
			resume = c.lastMedia != nil
		}
		if !reached {
			failures++
		}
		if failures >= maxFailures {
			c.finish(fmt.Errorf("voice: giving up after %d attempts: %w", failures, ferr))
			return
		}
		if !sleepCtx(ctx, backoff(max(failures, flaps))) {
			c.finish(ErrClosed)
			return
		}
	}
}

// backoff is the wait before reconnecting after n troubled attempts in a
// row: none for the first, then doubling from firstBackoff.
func backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return min(firstBackoff<<(n-2), maxBackoff)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// waitForUpdate waits MoveGrace for an Update that changes something after
// a 4014 close.
func (c *Conn) waitForUpdate(ctx context.Context) bool {
	t := time.NewTimer(c.moveGrace)
	defer t.Stop()
	for {
		select {
		case u := <-c.updates:
			if c.applyUpdate(u) {
				return true
			}
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// dropSession forgets the voice session before identifying anew.
func (c *Conn) dropSession() {
	if c.lastMedia != nil {
		c.lastMedia.udp.Close()
		c.lastMedia = nil
	}
	c.seq = -1
	c.e2ee.Reset()
	c.mu.Lock()
	clear(c.clients)
	c.mu.Unlock()
}

// trackClients keeps the set of users in the channel from opcodes 11
// and 13.
func (c *Conn) trackClients(m inbound) error {
	switch m.op {
	case OpClientsConnect:
		var d clientsConnectData
		if err := decodeData(m, &d); err != nil {
			return err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, id := range d.UserIDs {
			c.clients[id] = struct{}{}
		}
	case OpClientDisconnect:
		var d clientDisconnectData
		if err := decodeData(m, &d); err != nil {
			return err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.clients, d.UserID)
	}
	return nil
}

func (c *Conn) leaveReady() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateReady {
		c.readyCh = make(chan struct{})
	}
	c.state = StateReconnecting
	c.media.Store(nil)
	c.send = nil
}

func (c *Conn) enterReady(m *media, send func(int, any) error) {
	c.readyAt = time.Now()
	c.mu.Lock()
	if c.state != StateReady {
		close(c.readyCh)
	}
	c.state = StateReady
	c.media.Store(m)
	c.send = send
	c.mu.Unlock()
	if c.speaking.Load() {
		if err := send(opSpeaking, speakingPayload(true, m.ssrc)); err != nil {
			c.log.Debug("sending speaking", slog.Any("err", err))
		}
	}
}

func (c *Conn) finish(err error) {
	if c.lastMedia != nil {
		c.lastMedia.udp.Close()
		c.lastMedia = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = StateClosed
	c.err = err
}

// session is the state of one websocket connection.
type session struct {
	c      *Conn
	ws     *websocket.Conn
	ctx    context.Context
	acked  bool
	ticker *time.Ticker
	// pending is the transport between Ready and the session description.
	pending *media
	hello   bool
	reached bool
}

// awaiting names the handshake message the session waits for next, "" once
// the handshake is complete.
func (s *session) awaiting(resume bool) string {
	switch {
	case !s.hello:
		return "HELLO"
	case s.reached:
		return ""
	case resume:
		return "RESUMED"
	case s.pending == nil:
		return "READY"
	}
	return "SESSION_DESCRIPTION"
}

// runSession dials the voice gateway, identifies or resumes, and serves the
// session until it ends. reached reports whether it became Ready.
func (c *Conn) runSession(ctx context.Context, resume bool) (reached bool, err error) {
	p := c.params
	dialCtx, cancelDial := context.WithTimeout(ctx, dialTimeout)
	ws, _, err := websocket.Dial(dialCtx, fmt.Sprintf("wss://%s/?v=%d", p.Endpoint, gatewayVersion), &websocket.DialOptions{HTTPClient: c.httpClient})
	cancelDial()
	if err != nil {
		return false, fmt.Errorf("voice: dialing gateway: %w", err)
	}
	ws.SetReadLimit(maxMessageSize)
	sctx, cancel := context.WithCancel(ctx)
	s := &session{c: c, ws: ws, ctx: sctx, acked: true}
	msgs := make(chan inbound)
	readErr := make(chan error, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		readErr <- s.readLoop(msgs)
	}()
	defer func() {
		cancel()
		ws.CloseNow()
		<-readerDone
		if s.ticker != nil {
			s.ticker.Stop()
		}
		if s.pending != nil && s.pending != c.lastMedia {
			s.pending.udp.Close()
		}
	}()

	if resume {
		err = s.send(opResume, resumeData{ServerID: p.GuildID, SessionID: p.SessionID, Token: p.Token, SeqAck: c.seq})
	} else {
		err = s.send(opIdentify, identifyData{
			ServerID: p.GuildID, UserID: p.UserID, SessionID: p.SessionID, Token: p.Token,
			MaxDAVEProtocolVersion: c.e2ee.MaxProtocolVersion(),
		})
	}
	if err != nil {
		return false, err
	}
	step := s.awaiting(resume)
	stepDeadline := time.NewTimer(c.handshake)
	defer stepDeadline.Stop()
	for {
		var heartbeat <-chan time.Time
		if s.ticker != nil {
			heartbeat = s.ticker.C
		}
		select {
		case m := <-msgs:
			if m.seq >= 0 {
				c.seq = m.seq
			}
			if err := s.handle(m); err != nil {
				ws.Close(websocket.StatusNormalClosure, "")
				return s.reached, err
			}
			if next := s.awaiting(resume); next != step {
				step = next
				if step == "" {
					stepDeadline.Stop()
				} else {
					stepDeadline.Reset(c.handshake)
				}
			}
		case <-stepDeadline.C:
			// No close handshake: a silent server would not answer it.
			return s.reached, fmt.Errorf("%w: no %s within %v", ErrHandshakeTimeout, step, c.handshake)
		case <-heartbeat:
			if !s.acked {
				return s.reached, errNoHeartbeatAck
			}
			s.acked = false
			if err := s.send(opHeartbeat, heartbeatData{T: time.Now().UnixMilli(), SeqAck: c.seq}); err != nil {
				return s.reached, err
			}
		case u := <-c.updates:
			if c.applyUpdate(u) {
				ws.Close(websocket.StatusNormalClosure, "moving")
				return s.reached, errMoved
			}
		case err := <-readErr:
			return s.reached, err
		case <-ctx.Done():
			ws.Close(websocket.StatusNormalClosure, "")
			return s.reached, ctx.Err()
		}
	}
}

// readLoop decodes messages until the websocket fails. Malformed messages
// are logged and skipped.
func (s *session) readLoop(out chan<- inbound) error {
	for {
		typ, data, err := s.ws.Read(s.ctx)
		if err != nil {
			return err
		}
		var m inbound
		if typ == websocket.MessageBinary {
			m, err = decodeBinary(data)
		} else {
			m, err = decodeText(data)
		}
		if err != nil {
			s.c.log.Warn("voice gateway message", slog.Any("err", err))
			continue
		}
		select {
		case out <- m:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
}

// send writes a text message with a write deadline.
func (s *session) send(op int, d any) error {
	b, err := encodeText(op, d)
	if err != nil {
		return err
	}
	return s.write(websocket.MessageText, b)
}

func (s *session) write(typ websocket.MessageType, b []byte) error {
	ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
	defer cancel()
	if err := s.ws.Write(ctx, typ, b); err != nil {
		return fmt.Errorf("voice: writing to gateway: %w", err)
	}
	return nil
}

// handle acts on one server message. An error ends the session.
func (s *session) handle(m inbound) error {
	c := s.c
	switch {
	case m.op == opHello:
		var d helloData
		if err := decodeData(m, &d); err != nil {
			return err
		}
		interval := time.Duration(d.HeartbeatInterval * float64(time.Millisecond))
		if interval < time.Millisecond || interval > time.Hour {
			return fmt.Errorf("%w: heartbeat interval %v", errBadFrame, d.HeartbeatInterval)
		}
		if s.ticker != nil {
			s.ticker.Stop()
		}
		s.ticker = time.NewTicker(interval)
		s.hello = true
	case m.op == opHeartbeatAck:
		s.acked = true
	case m.op == opReady:
		var d readyData
		if err := decodeData(m, &d); err != nil {
			return err
		}
		return s.ready(d)
	case m.op == OpSessionDescription:
		return s.sessionDescription(m)
	case m.op == opResumed:
		if c.lastMedia == nil {
			return fmt.Errorf("%w: resumed without a session", errBadFrame)
		}
		s.reached = true
		c.log.Info("voice session resumed")
		c.enterReady(c.lastMedia, s.send)
	case isE2EEOp(m.op):
		if err := c.trackClients(m); err != nil {
			c.log.Warn("voice gateway message", slog.Any("err", err))
		}
		s.toE2EE(m)
	}
	return nil
}

// ready opens the UDP transport, discovers the external address and
// selects the protocol.
func (s *session) ready(d readyData) error {
	mode, err := transport.ChooseMode(d.Modes)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(d.IP)
	if err != nil {
		return fmt.Errorf("%w: ready ip: %w", errBadFrame, err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, discoveryTimeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "udp", netip.AddrPortFrom(addr, d.Port).String())
	if err != nil {
		return fmt.Errorf("voice: opening UDP: %w", err)
	}
	udp := conn.(*net.UDPConn)
	external, err := discover(ctx, udp, d.SSRC)
	if err != nil {
		udp.Close()
		return err
	}
	if s.pending != nil {
		s.pending.udp.Close()
	}
	s.pending = &media{udp: udp, ssrc: d.SSRC}
	return s.send(opSelectProtocol, selectProtocolData{
		Protocol: "udp",
		Data:     selectProtocolAddr{Address: external.Addr().String(), Port: external.Port(), Mode: mode},
	})
}

// sessionDescription completes the transport with the secret key, hands
// the description to the E2EE layer and makes the connection Ready.
func (s *session) sessionDescription(m inbound) error {
	if s.pending == nil {
		return fmt.Errorf("%w: session description before ready", errBadFrame)
	}
	var d sessionDescriptionData
	if err := decodeData(m, &d); err != nil {
		return err
	}
	key, err := d.key()
	if err != nil {
		return err
	}
	ciph, err := transport.NewCipher(d.Mode, key)
	if err != nil {
		return err
	}
	med := s.pending
	s.pending = nil
	med.pk = transport.NewPacketizer(ciph, med.ssrc, uint16(rand.Uint32()), rand.Uint32())
	c := s.c
	if c.lastMedia != nil && c.lastMedia != med {
		c.lastMedia.udp.Close()
	}
	c.lastMedia = med
	s.toE2EE(m)
	s.reached = true
	c.log.Info("voice session ready", slog.String("mode", d.Mode), slog.Int("dave_protocol_version", d.DAVEProtocolVersion))
	c.enterReady(med, s.send)
	return nil
}

// toE2EE hands a message to the E2EE layer and sends its replies.
func (s *session) toE2EE(m inbound) {
	msg := Message{Op: m.op, JSON: m.data, Binary: m.bin}
	replies, err := s.c.e2ee.HandleMessage(msg)
	if err != nil {
		s.c.log.Warn("end-to-end encryption message", slog.Int("op", m.op), slog.Any("err", err))
	}
	for _, r := range replies {
		if err := s.sendMessage(r); err != nil {
			s.c.log.Warn("sending end-to-end encryption message", slog.Int("op", r.Op), slog.Any("err", err))
			return
		}
	}
}

func (s *session) sendMessage(r Message) error {
	if r.Binary != nil {
		b, err := encodeBinary(r.Op, r.Binary)
		if err != nil {
			return err
		}
		return s.write(websocket.MessageBinary, b)
	}
	d := r.JSON
	if d == nil {
		d = json.RawMessage("null")
	}
	return s.send(r.Op, d)
}

// discover runs IP discovery: a few requests until a response arrives.
func discover(ctx context.Context, udp *net.UDPConn, ssrc uint32) (netip.AddrPort, error) {
	req := transport.AppendDiscoveryRequest(nil, ssrc)
	buf := make([]byte, 1500)
	var lastErr error
	for range 3 {
		deadline := time.Now().Add(time.Second)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if err := udp.SetDeadline(deadline); err != nil {
			return netip.AddrPort{}, fmt.Errorf("voice: IP discovery: %w", err)
		}
		if _, err := udp.Write(req); err != nil {
			return netip.AddrPort{}, fmt.Errorf("voice: IP discovery: %w", err)
		}
		for {
			n, err := udp.Read(buf)
			if err != nil {
				lastErr = err
				break
			}
			got, addr, err := transport.ParseDiscoveryResponse(buf[:n])
			if err != nil || got != ssrc {
				continue // not our answer; voice packets may arrive too
			}
			if err := udp.SetDeadline(time.Time{}); err != nil {
				return netip.AddrPort{}, fmt.Errorf("voice: IP discovery: %w", err)
			}
			return addr, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return netip.AddrPort{}, fmt.Errorf("voice: IP discovery: %w", lastErr)
}
