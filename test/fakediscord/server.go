package fakediscord

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Options configure a Server. Zero values get Discord-like defaults.
type Options struct {
	// Token is the bot token without the "Bot " prefix. Default: "fake-bot-token".
	Token string
	// ApplicationID is the bot's application snowflake. Default: a new snowflake.
	ApplicationID string
	// BotUserID is the bot user's snowflake. Default: ApplicationID, as for
	// every application created since 2019.
	BotUserID string
	// BotUsername is the bot user's name. Default: "TimmyBot".
	BotUsername string
	// HeartbeatInterval is sent in HELLO. Default: 41.25 s, Discord's value;
	// tests that count heartbeats make it short.
	HeartbeatInterval time.Duration
	// InteractionTimeout is how long after dispatch an interaction may be
	// acknowledged. Default: 3 s, Discord's window.
	InteractionTimeout time.Duration
	// VoiceEndpoint, when set, makes the gateway answer a voice state update
	// (op 4) that joins a channel with VOICE_STATE_UPDATE and
	// VOICE_SERVER_UPDATE dispatches naming this endpoint (host:port, no
	// scheme, as Discord sends it). Empty: op 4 is only recorded.
	VoiceEndpoint string
	// OAuth configures the OAuth2 routes. Zero: they refuse every client
	// and redirect URI.
	OAuth OAuth
}

// replayLimit bounds the dispatches a session keeps for RESUME; a client
// that missed more must identify again, as with Discord.
const replayLimit = 1024

// Server is a running fake Discord. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	http   *httptest.Server
	wsURL  string
	upgr   websocket.Upgrader
	nextID atomic.Uint64

	// connWG tracks gateway connection goroutines so Close can wait for them.
	connWG sync.WaitGroup

	stopped chan struct{} // closed by Close; ends every wait

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every state change
	closed   bool
	conns    map[*gwConn]struct{}
	sessions map[string]*session
	guilds   []*guildState // in join order
	left     []string
	commands map[string][]ApplicationCommand // by guild ID; "" is global
	pending  map[string]*interaction         // by interaction ID
	byToken  map[string]*interaction         // by interaction token
	messages map[string]*record              // by message ID
	channels map[string]*channelState        // by channel ID
	dmByUser map[string]string               // user ID → DM channel ID
	stats    Stats
	idents   []Identify
	voice    []VoiceStateRequest
	unknown  []string
	// restErrors are the Discord errors REST requests got.
	restErrors []RESTError
	faults     []*Fault // armed, in injection order
	// gatewayHold, when set, holds new gateway connections before the
	// websocket handshake until it is closed (HoldGateway).
	gatewayHold <-chan struct{}
	// refuseIdentify, when non-zero, is the close code the next IDENTIFY
	// gets (RefuseNextIdentify).
	refuseIdentify int

	// OAuth2 (oauth.go)
	users        map[string]User       // by user ID
	signedIn     string                // the user whose consent authorize gets
	redirectURIs []string              // registered
	codes        map[string]oauthGrant // by authorization code
	tokens       map[string]oauthGrant // by access token
}

// Stats counts gateway and REST traffic for assertions.
type Stats struct {
	Connections     int // websocket connections accepted
	Identifies      int // IDENTIFY payloads accepted
	Resumes         int // RESUME payloads that resumed a session
	FailedResumes   int // RESUME payloads answered with INVALID_SESSION
	Heartbeats      int // HEARTBEAT payloads received
	Dispatches      int // dispatch (op 0) payloads sent, replays included
	Replayed        int // dispatches sent again on RESUME
	Interactions    int // interactions dispatched
	Callbacks       int // interaction callbacks accepted
	LateCallbacks   int // callbacks rejected for arriving after the window
	RESTRequests    int // REST requests received, rejected ones included
	Unauthorized    int // REST requests rejected with 401
	Faults          int // REST requests failed by an injected Fault
	ClientErrors    int // REST requests answered with a Discord error, 401 and unknown routes aside
	ClosedWithCode  int // connections the fake closed with a gateway close code
	Held            int // requests and gateway handshakes held (Fault.Hold, HoldGateway)
	Authorizations  int // authorize requests that redirected back with a code
	AuthorizeErrors int // authorize requests that redirected back with an error
	TokenGrants     int // codes exchanged for access tokens
}

// New starts a fake Discord on 127.0.0.1 and closes it when tb's test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := newServer(opts)
	tb.Cleanup(s.Close)
	return s
}

func newServer(opts Options) *Server {
	s := &Server{
		stopped:  make(chan struct{}),
		changed:  make(chan struct{}),
		conns:    make(map[*gwConn]struct{}),
		sessions: make(map[string]*session),
		commands: make(map[string][]ApplicationCommand),
		pending:  make(map[string]*interaction),
		byToken:  make(map[string]*interaction),
		messages: make(map[string]*record),
		channels: make(map[string]*channelState),
		dmByUser: make(map[string]string),
		users:    make(map[string]User),
		codes:    make(map[string]oauthGrant),
		tokens:   make(map[string]oauthGrant),
		upgr:     websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
	}
	if opts.Token == "" {
		opts.Token = "fake-bot-token"
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = s.NewID()
	}
	if opts.BotUserID == "" {
		opts.BotUserID = opts.ApplicationID
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "TimmyBot"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.InteractionTimeout <= 0 {
		opts.InteractionTimeout = 3 * time.Second
	}
	s.opts = opts
	s.redirectURIs = slices.Clone(opts.OAuth.RedirectURIs)
	s.http = httptest.NewServer(s.routes())
	s.wsURL = "ws" + strings.TrimPrefix(s.http.URL, "http")
	return s
}

// URL is the base URL of the fake, such as http://127.0.0.1:40123. REST
// requests for https://discord.com/api/... go to URL()+"/api/...".
func (s *Server) URL() string { return s.http.URL }

// GatewayURL is the websocket URL that GET /gateway and READY hand out.
func (s *Server) GatewayURL() string { return s.wsURL }

// Token is the bot token (without "Bot ") the fake accepts.
func (s *Server) Token() string { return s.opts.Token }

// ApplicationID is the bot's application ID.
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// BotUserID is the bot user's ID.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// Close stops the server: gateway connections are closed abruptly and Close
// waits for their goroutines. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stopped)
	for c := range s.conns {
		c.abort()
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.http.Close()
	s.connWG.Wait()
}

// NewID returns a fresh snowflake (Discord's 64-bit, time-ordered ID) as a
// decimal string.
func (s *Server) NewID() string {
	const discordEpochMs = 1420070400000
	ms := uint64(time.Now().UnixMilli() - discordEpochMs)
	return strconv.FormatUint(ms<<22|s.nextID.Add(1)&0x3fffff, 10)
}

// Stats returns the traffic counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Identifies returns every accepted IDENTIFY payload, oldest first.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.idents...)
}

// UnknownRoutes returns "METHOD /path" for every REST request that matched
// no route the fake implements.
func (s *Server) UnknownRoutes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unknown...)
}

// Await blocks until cond returns true or ctx ends. cond is evaluated after
// every change of the fake's state (a connection, a payload, a REST call), so
// tests wait for the bot without sleeping or polling. cond may call the
// Server's accessors.
func (s *Server) Await(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-s.stopped:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("awaiting fake discord state: %w", ctx.Err())
		}
	}
}

// notifyLocked wakes every Await. The caller holds s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
