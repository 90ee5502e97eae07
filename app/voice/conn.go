package voice

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/voice/transport"
)

// Params identify a voice session. SessionID comes from the main gateway's
// VOICE_STATE_UPDATE, Token and Endpoint (host:port, no scheme) from its
// VOICE_SERVER_UPDATE; GuildID is the server_id the voice gateway expects.
type Params struct {
	GuildID   string
	ChannelID string // for logs; the E2EE layer is built for the channel
	UserID    string
	SessionID string
	Token     string
	Endpoint  string
}

func (p Params) validate() error {
	for _, f := range []struct{ name, v string }{
		{"guild ID", p.GuildID}, {"user ID", p.UserID}, {"session ID", p.SessionID},
		{"token", p.Token}, {"endpoint", p.Endpoint},
	} {
		if f.v == "" {
			return fmt.Errorf("voice: missing %s", f.name)
		}
	}
	return nil
}

// Update carries what a later VOICE_STATE_UPDATE or VOICE_SERVER_UPDATE
// changed; empty fields keep their value. A VOICE_SERVER_UPDATE whose
// endpoint is null means Discord is allocating a new voice server: pass
// nothing and wait for the one that names it.
type Update struct {
	SessionID string
	Token     string
	Endpoint  string
}

// Config configures a connection.
type Config struct {
	Params
	// E2EE is the end-to-end encryption layer, normally the DAVE session.
	// Default: passthrough (DAVE protocol version 0), which Discord refuses
	// with close code 4017.
	E2EE E2EE
	// TLSConfig verifies the voice server. Default: the system roots.
	TLSConfig *tls.Config
	// Logger receives connection events. Default: discard.
	Logger *slog.Logger
	// Pacer returns the ticks that pace frames and a function that stops
	// them; each tick's value is the time it was due. Default: a 20 ms
	// time.Ticker of the connection's own. A Clock's Pacer paces many
	// connections with one timer, their sends spread over the frame
	// interval: what a process with many connections wants. Tests feed
	// their own channel. Ticks must keep coming while Play runs: it looks
	// at its context and the connection when one comes.
	Pacer func() (ticks <-chan time.Time, stop func())
	// OnFrameSent, when set, is called after each frame Play sends with how
	// late the send finished after its tick was due. It runs on Play's
	// goroutine and must return at once. Default: none.
	OnFrameSent func(late time.Duration)
	// MoveGrace is how long a connection closed with 4014 (disconnected,
	// which is also how a move starts) waits for an Update before it ends.
	// Default: 5 s.
	MoveGrace time.Duration
	// HandshakeTimeout is how long each step of a session's handshake may
	// take: HELLO, then READY (RESUMED on a resume), then
	// SESSION_DESCRIPTION, each counted from the step before. A server that
	// accepts the websocket and then stays silent fails the attempt.
	// Default: 10 s.
	HandshakeTimeout time.Duration
}

// FrameProvider is the audio source Play sends: the audio engine implements
// it.
type FrameProvider interface {
	// ProvideOpusFrame returns the next 20 ms Opus frame (48 kHz, stereo).
	// An empty frame means nothing to send on this tick; io.EOF ends the
	// stream. It must return quickly: it is called on the pacing tick.
	ProvideOpusFrame() ([]byte, error)
	// Close releases the source. Play calls it when it returns.
	Close() error
}

// State is a connection's state as the player sees it.
type State int

// States. A connection starts Connecting, is Ready while media can flow,
// Reconnecting while it resumes or starts a new session, and Closed at the
// end. Play sends nothing unless the state is Ready.
const (
	StateConnecting State = iota
	StateReady
	StateReconnecting
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateReady:
		return "ready"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Final errors. A connection that ends for another reason reports a
// *CloseError or the error of its last attempt.
var (
	ErrDAVERequired = errors.New("voice: the channel requires DAVE end-to-end encryption (close 4017)")
	ErrDisconnected = errors.New("voice: disconnected from the channel (close 4014)")
	ErrClosed       = errors.New("voice: connection closed")
	ErrBusy         = errors.New("voice: already playing")
)

// ErrHandshakeTimeout ends an attempt whose server did not send the next
// handshake message within Config.HandshakeTimeout. It counts as a failed
// attempt; the error of the last one is wrapped in the final error.
var ErrHandshakeTimeout = errors.New("voice: handshake timed out")

// CloseError is a voice gateway close code that ended the connection.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("voice: gateway closed the connection: %d %s", e.Code, e.Reason)
}

// Timing constants.
const (
	frameInterval    = 20 * time.Millisecond
	silenceFrames    = 5
	dialTimeout      = 10 * time.Second
	writeTimeout     = 5 * time.Second
	discoveryTimeout = 5 * time.Second
	defaultMoveGrace = 5 * time.Second
	defaultHandshake = 10 * time.Second
	maxFailures      = 5
	stableSession    = 10 * time.Second
	firstBackoff     = 500 * time.Millisecond
	maxBackoff       = 8 * time.Second
	maxMessageSize   = 1 << 20
)

// opusSilence is the Opus silence frame.
var opusSilence = []byte{0xF8, 0xFF, 0xFE}

// Conn is a voice connection. It keeps itself connected (resuming or
// starting new sessions as Discord's close codes say) until Close or a
// final close code.
type Conn struct {
	// What every frame reads comes first, to share a line of memory.
	// media is the transport, nil unless StateReady; written under mu,
	// read without it on every frame.
	media    atomic.Pointer[media]
	e2ee     E2EE
	onSent   func(late time.Duration)
	speaking atomic.Bool

	playing    atomic.Bool // held by the one Play call allowed at a time
	log        *slog.Logger
	httpClient *http.Client
	pacer      func() (<-chan time.Time, func())
	moveGrace  time.Duration
	handshake  time.Duration

	cancel  context.CancelFunc
	done    chan struct{}
	updates chan Update

	// Owned by the run goroutine.
	params    Params
	seq       int    // last sequence number received, -1 for none
	lastMedia *media // the session's transport, kept for resumes
	readyAt   time.Time

	mu      sync.Mutex
	state   State
	readyCh chan struct{} // closed on entering StateReady
	err     error
	send    func(op int, d any) error
	clients map[string]struct{} // user IDs in the channel, from opcodes 11 and 13
}

// media is one session's UDP transport.
type media struct {
	pk   transport.Packetizer
	udp  *net.UDPConn
	ssrc uint32
}

// Connect opens a voice connection and returns once media can flow, or
// with the error that prevented it. ctx bounds only the connecting; the
// connection lives until Close.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.Params.validate(); err != nil {
		return nil, err
	}
	c := newConn(cfg)
	c.httpClient = newHTTPClient(cfg.TLSConfig)
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	ready := c.readyCh
	go c.run(runCtx)
	select {
	case <-ready:
		return c, nil
	case <-c.done:
		return nil, c.Err()
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("voice: connecting: %w", ctx.Err())
	}
}

// newConn applies cfg's defaults to a connection that has not started.
func newConn(cfg Config) *Conn {
	c := &Conn{
		log:       cfg.Logger,
		e2ee:      cfg.E2EE,
		pacer:     cfg.Pacer,
		onSent:    cfg.OnFrameSent,
		moveGrace: cfg.MoveGrace,
		handshake: cfg.HandshakeTimeout,
		done:      make(chan struct{}),
		updates:   make(chan Update, 1),
		params:    cfg.Params,
		seq:       -1,
		readyCh:   make(chan struct{}),
		clients:   make(map[string]struct{}),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With(slog.String("guild", cfg.GuildID), slog.String("channel", cfg.ChannelID))
	if c.e2ee == nil {
		c.e2ee = passthrough{}
	}
	if c.pacer == nil {
		c.pacer = newTicker
	}
	if c.onSent == nil {
		c.onSent = func(time.Duration) {}
	}
	if c.moveGrace <= 0 {
		c.moveGrace = defaultMoveGrace
	}
	if c.handshake <= 0 {
		c.handshake = defaultHandshake
	}
	return c
}

// Media is a UDP transport agreed beforehand, for OpenMedia: what a voice
// session's ready and session description would otherwise say.
type Media struct {
	UDP  *net.UDPConn // connected to the receiver; the connection closes it
	SSRC uint32
	Mode string // a transport mode, as in the session description
	Key  []byte // the transport's secret key
}

// OpenMedia returns a connection that is Ready at once and sends over m,
// with no voice gateway: Play paces, encrypts and sends exactly as on a
// connection from Connect, but nothing reconnects and no speaking flag is
// sent. Discord needs Connect; this is for measuring the media path and for
// receivers that agree on keys by other means. cfg's Params, TLSConfig,
// MoveGrace and HandshakeTimeout are not used.
func OpenMedia(cfg Config, m Media) (*Conn, error) {
	ciph, err := transport.NewCipher(m.Mode, m.Key)
	if err != nil {
		return nil, fmt.Errorf("voice: media transport: %w", err)
	}
	c := newConn(cfg)
	med := &media{udp: m.UDP, ssrc: m.SSRC, pk: transport.NewPacketizer(ciph, m.SSRC, uint16(rand.Uint32()), rand.Uint32())}
	c.lastMedia = med
	c.enterReady(med, nil)
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		<-runCtx.Done()
		c.leaveReady()
		c.finish(ErrClosed)
	}()
	return c, nil
}

// newTicker paces with a 20 ms time.Ticker of the connection's own.
func newTicker() (<-chan time.Time, func()) {
	t := time.NewTicker(frameInterval)
	return t.C, t.Stop
}

// newHTTPClient is the websocket dialer's client. Its timeouts bound the
// dials the transport finishes in the background after a cancelled attempt.
func newHTTPClient(tlsConfig *tls.Config) *http.Client {
	dialer := &net.Dialer{Timeout: dialTimeout}
	return &http.Client{Transport: &http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: dialTimeout,
	}}
}

// Close ends the connection and waits for its goroutines.
func (c *Conn) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// Done is closed when the connection has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it lives.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// State returns the connection's current state.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Clients returns the IDs of the other users in the channel, as the voice
// gateway announced them (clients connect and disconnect), sorted.
func (c *Conn) Clients() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.clients))
}

// Update hands the connection a new session ID, token or endpoint, as a
// later VOICE_STATE_UPDATE or VOICE_SERVER_UPDATE carries them. An update
// that changes any of them moves the connection: it starts a new session
// with them; one that changes nothing is ignored.
func (c *Conn) Update(u Update) {
	for {
		select {
		case c.updates <- u:
			return
		default:
		}
		// Replace an update not yet taken: the latest wins.
		select {
		case old := <-c.updates:
			u = mergeUpdate(old, u)
		default:
		}
	}
}

func mergeUpdate(old, u Update) Update {
	if u.SessionID == "" {
		u.SessionID = old.SessionID
	}
	if u.Token == "" {
		u.Token = old.Token
	}
	if u.Endpoint == "" {
		u.Endpoint = old.Endpoint
	}
	return u
}

// applyUpdate takes an update into the params and reports whether it
// changed any: an update that repeats what the connection has (a voice
// state update for a mute, say) must not move it.
func (c *Conn) applyUpdate(u Update) bool {
	old := c.params
	if u.SessionID != "" {
		c.params.SessionID = u.SessionID
	}
	if u.Token != "" {
		c.params.Token = u.Token
	}
	if u.Endpoint != "" {
		c.params.Endpoint = u.Endpoint
	}
	return c.params != old
}

// Play sends src's frames, one per 20 ms tick, until src ends (io.EOF,
// then Play returns nil), src fails, ctx ends or the connection ends; it
// notices the last two on its next tick. It then sends five silence frames
// and clears the speaking flag. Play closes
// src. While the connection is not Ready, or the E2EE layer not ready, it
// pulls no frames: a reconnect pauses the stream instead of losing it.
//
// Pacing lives here, once: the audio engine only has to have the next frame
// when asked.
func (c *Conn) Play(ctx context.Context, src FrameProvider) error {
	defer func() {
		if err := src.Close(); err != nil {
			c.log.Warn("closing frame source", slog.Any("err", err))
		}
	}()
	if !c.playing.CompareAndSwap(false, true) {
		return ErrBusy
	}
	defer c.playing.Store(false)
	ticks, stop := c.pacer()
	defer stop()
	s := &sender{c: c}
	unwatch := context.AfterFunc(ctx, func() { s.cancelled.Store(true) })
	defer unwatch()
	err := c.stream(ctx, ticks, src, s)
	if c.Err() != nil {
		return c.Err()
	}
	// The closing silence goes out on the next five ticks, if the
	// connection is Ready for them; a reconnect makes a gap anyway, and
	// waiting for it would keep a cancelled Play from returning.
	for range silenceFrames {
		select {
		case <-c.done:
			return c.Err()
		case s.due = <-ticks:
		}
		m := c.readyMedia()
		if m == nil {
			break
		}
		s.send(m, opusSilence)
	}
	c.setSpeaking(false)
	return err
}

// stream is Play's main loop; it returns the reason the stream ended.
// The stream waits on its ticks alone, and looks at ctx and the connection
// when one comes, so it stops within a tick. A wait on one channel is
// cheaper than a select on three, and flags in memory the tick touches
// anyway are cheaper than looking at two more channels: with a thousand
// streams, every line of memory a tick touches is a cache miss.
func (c *Conn) stream(ctx context.Context, ticks <-chan time.Time, src FrameProvider, s *sender) error {
	gap := 0 // silence frames still due after a gap in the stream
	for {
		s.due = <-ticks
		if s.cancelled.Load() {
			return ctx.Err()
		}
		m := c.readyMedia()
		if m == nil {
			// Not Ready: reconnecting, or ended (the media goes before
			// the connection ends).
			if closed(c.done) {
				return c.Err()
			}
			continue
		}
		if !c.e2ee.Ready() {
			continue
		}
		if !c.speaking.Load() {
			c.setSpeaking(true)
		}
		if s.held != nil {
			// A held frame goes out before the source is asked again.
			s.send(m, s.held)
			continue
		}
		frame, err := src.ProvideOpusFrame()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("voice: frame source: %w", err)
		}
		if len(frame) == 0 {
			// Silence after a gap keeps the receivers' Opus decoders from
			// interpolating into the next sound.
			if gap > 0 {
				s.send(m, opusSilence)
				gap--
			}
			continue
		}
		gap = silenceFrames
		s.send(m, frame)
	}
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// readyMedia returns the transport while the connection is Ready.
func (c *Conn) readyMedia() *media { return c.media.Load() }

// setSpeaking records the flag and tells the gateway, if connected; a new
// session repeats it once Ready.
func (c *Conn) setSpeaking(on bool) {
	c.speaking.Store(on)
	c.mu.Lock()
	send, m := c.send, c.media.Load()
	c.mu.Unlock()
	if send == nil || m == nil {
		return
	}
	if err := send(opSpeaking, speakingPayload(on, m.ssrc)); err != nil {
		c.log.Debug("sending speaking", slog.Any("err", err))
	}
}

func speakingPayload(on bool, ssrc uint32) speakingData {
	d := speakingData{SSRC: ssrc}
	if on {
		d.Speaking = speakingMicrophone
	}
	return d
}

// sender holds Play's reusable buffers.
type sender struct {
	c   *Conn
	pkt []byte
	// held is a frame to send again once the session is back (see send).
	held    []byte
	heldBuf []byte
	// due is when the tick being served was due.
	due time.Time
	// cancelled is set once Play's context is done.
	cancelled atomic.Bool
}

// send encrypts and writes one frame. A frame that could not go out
// because the session is changing is held for the next tick: encryption
// failed while the E2EE layer has no keys (a new group is forming), or the
// transport closed (a new session is starting). Other failures drop the
// frame; UDP promises no delivery anyway.
func (s *sender) send(m *media, frame []byte) {
	pkt, err := s.packet(m, frame)
	if err != nil {
		if !s.c.e2ee.Ready() {
			s.hold(frame)
			return
		}
		s.c.log.Warn("encrypting frame", slog.Any("err", err))
		s.held = nil
		return
	}
	_, err = m.udp.Write(pkt)
	switch {
	case errors.Is(err, net.ErrClosed):
		s.hold(frame)
	case err != nil:
		s.c.log.Debug("writing frame", slog.Any("err", err))
		s.held = nil
	default:
		s.held = nil
		if !s.due.IsZero() {
			s.c.onSent(time.Since(s.due))
		}
	}
}

func (s *sender) hold(frame []byte) {
	s.heldBuf = append(s.heldBuf[:0], frame...)
	s.held = s.heldBuf
}

// packet builds the packet for frame: end-to-end encryption (silence
// excepted), then RTP and transport encryption. The end-to-end frame is
// made where the packet's payload goes and sealed there, so each frame's
// bytes pass through one buffer.
func (s *sender) packet(m *media, frame []byte) ([]byte, error) {
	pkt := slices.Grow(s.pkt[:0], transport.HeaderSize)[:transport.HeaderSize]
	if isSilence(frame) {
		pkt = append(pkt, frame...)
	} else {
		var err error
		if pkt, err = s.c.e2ee.EncryptOpus(pkt, frame); err != nil {
			return nil, err
		}
	}
	s.pkt = m.pk.Packet(pkt)
	return s.pkt, nil
}

func isSilence(frame []byte) bool {
	return len(frame) == 3 && frame[0] == 0xF8 && frame[1] == 0xFF && frame[2] == 0xFE
}
